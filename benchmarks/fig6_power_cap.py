"""Why Fig. 6e stops rising at 40 dBm: what limits each PRB of the optimum, by RU power limit.

Run: `python -m oran_gym.benchmarks.fig6_power_cap [--instances N]`. Writes
`benchmarks/results/fig6_power_cap.json` (the table below with the command).

For every RU power limit of Fig. 6e (the paper preset otherwise) and the first TTI after
`env.reset(seed=s)`, s = 0..N-1, `MILPOracle` (the oracle of Fig. 6) solves the TTI, and each PRB
it uses is classed by what stops its rate from rising:

* `at_se_cap`: its rate equals its slice's spectral-efficiency cap times the PRB bandwidth
  (eqs. 5-6: more power cannot raise it);
* `at_prb_power_limit`: below that cap but at its slice's per-PRB power limit (eq. 13);
* `neither`: below both, so only the RU's power budget (eq. 11) holds it back.

When `neither` is 0, a higher RU limit cannot raise any PRB's rate, and the RU power the optimum
uses stays below the limit.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
from oran_gym.baselines import MILPOracle

import oran_gym  # noqa: F401
from oran_gym import evaluate_allocation
from oran_gym.allocation import scenario_arrays
from oran_gym.sim.params import unpack_params

RU_POWERS_DBM = (28.0, 31.0, 34.0, 37.0, 40.0, 43.0)  # Fig. 6e's grid


def classify(cfg, gains: np.ndarray, load: np.ndarray) -> dict[str, float]:
    """Solve one TTI with `MILPOracle` and class its used PRBs (counts), with the RU power used and the
    binding RU limit `min(P_b^max, fronthaul limit)` (W)."""
    alloc, _ = MILPOracle().solve(cfg, gains, load)
    m = evaluate_allocation(cfg, gains, alloc, load)
    params, ue_slice, _ = scenario_arrays(cfg)
    kp = unpack_params(params)  # the kernels' own limits: SE cap, per-PRB power, binding RU power
    se_cap = kp.se_max_bps_per_hz[ue_slice] * kp.prb_bandwidth_hz
    prb_limit_w = kp.prb_max_power_w[ue_slice]
    used = alloc.owner >= 0
    ue = alloc.owner[used]
    at_cap = np.isclose(m.prb_rate_bps[used], se_cap[ue], rtol=1e-9)
    at_power = ~at_cap & np.isclose(alloc.power_w[used], prb_limit_w[ue], rtol=1e-9)
    return {"prbs": int(used.size), "used": int(used.sum()), "at_se_cap": int(at_cap.sum()),
            "at_prb_power_limit": int(at_power.sum()), "neither": int((~at_cap & ~at_power).sum()),
            "ru_power_used_w": float(m.ru_power_w.sum()), "ru_limit_w": float(kp.ru_power_limit_w),
            "embb_rate_mbps": float(m.ue_rate_bps[ue_slice == 0].sum() / 1e6)}


def run(instances: int, powers_dbm=RU_POWERS_DBM) -> list[dict[str, float]]:
    """One row per RU power limit: PRB classes as shares of the used PRBs, means over the instances."""
    rows = []
    for p_dbm in powers_dbm:
        env = gym.make("ORANSlicing-v0", config="paper", action_mode="full", ru_max_power_dbm=p_dbm)
        u = env.unwrapped
        per = []
        for s in range(instances):
            env.reset(seed=s)
            per.append(classify(u.config, u.gains, u.offered_load_bps))
        used = sum(r["used"] for r in per)
        rows.append({
            "ru_max_power_dbm": p_dbm, "ru_limit_w": per[0]["ru_limit_w"],
            "ru_power_used_w": float(np.mean([r["ru_power_used_w"] for r in per])),
            "prbs_used_share": used / sum(r["prbs"] for r in per),
            **{k: sum(r[k] for r in per) / used for k in ("at_se_cap", "at_prb_power_limit", "neither")},
            "embb_rate_mbps": float(np.mean([r["embb_rate_mbps"] for r in per])),
        })
        env.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    from oran_gym.benchmarks.argtypes import int_at_least
    from oran_gym.benchmarks.bench_env import machine_info

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int_at_least(1), default=20, help="TTIs per RU power (seeds 0..N-1)")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args(argv)
    rows = run(args.instances)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    result = {"command": " ".join(["python -m oran_gym.benchmarks.fig6_power_cap", *(argv if argv is not None else sys.argv[1:])]),
              "machine": machine_info(), "instances": args.instances, "rows": rows}
    (args.out_dir / "fig6_power_cap.json").write_text(json.dumps(result, indent=2) + "\n")
    print("RU limit | used W | PRBs used | at SE cap | at PRB power limit | neither | eMBB Mbit/s")
    for r in rows:
        print(f"{r['ru_max_power_dbm']:g} dBm ({r['ru_limit_w']:.2f} W) | {r['ru_power_used_w']:.2f} | "
              f"{100 * r['prbs_used_share']:.0f} % | {100 * r['at_se_cap']:.0f} % | {100 * r['at_prb_power_limit']:.0f} % | "
              f"{100 * r['neither']:.0f} % | {r['embb_rate_mbps']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
