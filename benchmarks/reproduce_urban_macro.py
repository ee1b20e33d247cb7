"""What an agent achieves on `urban_macro`, against the oracle bracket and the heuristics.

Run: `python -m oran_gym.benchmarks.reproduce_urban_macro [--seeds 5] [--timesteps 100000]`.
Writes `benchmarks/results/urban_macro.csv` (per run) and `urban_macro.json` (the table and the
command).

`urban_macro` has three interfering RUs, so no per-TTI oracle is exact: the queue-aware
`LocalSearchOracle` gives a feasible allocation of each TTI (a lower bound on the myopic optimum)
and the interference-free MILP relaxation a proven upper bound on it. Both are taken on the
oracle's own trajectory (the queues it inherits are the ones its play leaves), so the bracket is
`[local search's mean TTI reward, mean of the per-TTI upper bounds]`. MaskablePPO (the shipped
hyperparameters, prb mode, `NativeVecEnv`) and the heuristics are scored on the same held-out
episodes (channels and arrivals do not depend on the actions; the queues do).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oran_gym import ScenarioConfig
from oran_gym.evaluation import ci95_half_width, evaluate_policy

EVAL_SEED = 70_000


def run(seeds: int, timesteps: int, episodes: int, out_dir: Path, progress: bool) -> dict[str, Any]:
    from oran_gym.agents.maskable_ppo import EPISODE_TTIS, make_eval_env, train_maskable_ppo
    from oran_gym.baselines import LocalSearchOracle, OraclePolicy, make_policy

    t0 = time.perf_counter()
    cfg = ScenarioConfig.preset("urban_macro")
    env = make_eval_env(cfg)
    oracle = OraclePolicy(env, LocalSearchOracle(time_limit_s=60.0))
    bounds: list[float] = []
    plan = oracle.plan

    def recording_plan(e):
        alloc = plan(e)
        bounds.append(oracle.last_solution.upper_bound)
        return alloc

    oracle.plan = recording_plan  # type: ignore[method-assign]
    rows = []
    res = evaluate_policy(oracle, env, n_episodes=episodes, seed=EVAL_SEED, policy_name="local_search", progress=progress).per_tti
    rows.append({"agent": "oracle lower: LocalSearchOracle (queue-aware)", "seed": None, "mean_tti_reward": float(res["reward"].mean()),
                 "throughput_mbps": float(res["objective_mbps"].mean()) if "objective_mbps" in res else float("nan")})
    rows.append({"agent": "oracle upper: relaxed MILP bound (per TTI)", "seed": None, "mean_tti_reward": float(np.mean(bounds))})
    for name in ("slice_aware", "proportional_fair", "round_robin", "max_sinr"):
        res = evaluate_policy(make_policy(name, env), env, n_episodes=episodes, seed=EVAL_SEED).per_tti
        rows.append({"agent": name, "seed": None, "mean_tti_reward": float(res["reward"].mean())})
    for s in range(seeds):
        model, rec = train_maskable_ppo(cfg, seed=s, timesteps=timesteps)
        res = evaluate_policy(model, env, n_episodes=episodes, seed=EVAL_SEED, policy_name="maskable_ppo").per_tti
        rows.append({"agent": "MaskablePPO", "seed": s, "mean_tti_reward": float(res["reward"].mean()),
                     "train_time_s": rec["train_time_s"]})
        if progress:
            print(f"  MaskablePPO seed {s}: {rows[-1]['mean_tti_reward']:.2f} per TTI ({rec['train_time_s']:.0f} s)", flush=True)
    frame = pd.DataFrame(rows)
    lo = frame.loc[frame.agent.str.startswith("oracle lower"), "mean_tti_reward"].item()
    hi = frame.loc[frame.agent.str.startswith("oracle upper"), "mean_tti_reward"].item()
    table = []
    for agent, g in frame.groupby("agent", sort=False):
        r = g["mean_tti_reward"]
        mean = float(r.mean())
        table.append({"agent": agent, "runs": len(g), "mean_tti_reward": mean, "ci95": ci95_half_width(r) if len(g) > 1 else 0.0,
                      "gap_to_upper_pct": 100 * (hi - mean) / abs(hi), "gap_to_lower_pct": 100 * (lo - mean) / abs(lo)})
    out_dir.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out_dir / "urban_macro.csv", index=False)
    result = {
        "command": "python -m oran_gym.benchmarks.reproduce_urban_macro " + " ".join(sys.argv[1:]),
        "evaluation": f"{episodes} episodes x {EPISODE_TTIS} TTIs from seed {EVAL_SEED}, prb mode",
        "training": {"algorithm": "MaskablePPO (oran_gym/hyperparams/maskable_ppo.yml), NativeVecEnv", "seeds": seeds,
                     "timesteps": timesteps},
        "bracket": {"lower": lo, "upper": hi, "relative_width_pct": 100 * (hi - lo) / abs(hi)},
        "table": table, "wall_time_s": time.perf_counter() - t0,
    }
    (out_dir / "urban_macro.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    from oran_gym.benchmarks.argtypes import int_at_least

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int_at_least(1), default=5)
    parser.add_argument("--timesteps", type=int_at_least(1000), default=100_000)
    parser.add_argument("--episodes", type=int_at_least(1), default=10)
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.seeds, args.timesteps, args.episodes, args.out_dir, not args.no_progress)
    b = result["bracket"]
    print(f"oracle bracket: [{b['lower']:.2f}, {b['upper']:.2f}] per TTI ({b['relative_width_pct']:.1f} % wide)")
    for row in result["table"]:
        print(f"{row['agent']:>48}: {row['mean_tti_reward']:8.2f} +- {row['ci95']:.2f} per TTI, "
              f"{row['gap_to_upper_pct']:.1f} % below the upper bound")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
