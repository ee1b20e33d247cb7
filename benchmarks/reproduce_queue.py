"""What planning can be worth on the backlog model: myopic optimum vs the perfect-forecast bound.

Run: `python -m oran_gym.benchmarks.reproduce_queue [--instances N] [--horizon H] [--time-limit S]`.
Writes `benchmarks/results/queue_horizon.csv` (one row per instance) and `queue_horizon.json`
(the summary with the command).

For each instance (a seed, after `--warmup` TTIs of myopic play so that the FIFOs are not empty)
it takes the next H TTIs and compares

* the myopic optimum: `MILPOracle` with the FIFOs' status, TTI by TTI (each TTI's reward is
  optimal given the queues it inherits), played out in the env, and
* `HorizonBound`: the MILP over the H TTIs with every channel and arrival known in advance, a
  proven upper bound on what any policy earns over them (HiGHS's dual bound when its time limit
  stops it).

The gap `(bound - myopic) / |bound|` is then an upper bound on what planning (with a perfect
forecast) can add to myopic play over H TTIs. Both play the same TTIs: channels and arrivals do
not depend on the actions.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd

import oran_gym  # noqa: F401
from oran_gym.baselines import MILPOracle, OraclePolicy
from oran_gym.baselines.horizon import HorizonBound, future_of
from oran_gym.evaluation import ci95_half_width

SCENARIOS = {
    # the paper preset with queues: 10 eMBB UEs at 1 Mbit/s and 10 URLLC UEs at 256 kbit/s
    "paper_queue": {"config": "paper_queue"},
    # the same cell near capacity: eMBB at 3.2 Mbit/s per UE (400 packets/s)
    "paper_queue_loaded": {"config": "paper_queue", "embb_packet_rate_pps": 400.0},
}


def run(instances: int, horizon: int, warmup: int, time_limit_s: float, progress: bool = True) -> pd.DataFrame:
    """One row per (scenario, instance): myopic total, bound, gap, solve times."""
    from tqdm import tqdm

    rows = []
    jobs = [(name, seed) for name in SCENARIOS for seed in range(instances)]
    for name, seed in tqdm(jobs, desc="myopic vs horizon", disable=not progress):
        kwargs = dict(SCENARIOS[name])
        env = gym.make("ORANSlicing-v0", action_mode="full", episode_length_tti=warmup + horizon + 1, **kwargs)
        u = env.unwrapped
        obs, _ = env.reset(seed=seed)
        policy = OraclePolicy(env, MILPOracle())
        for _ in range(warmup):
            action, _ = policy.predict(obs)
            obs, *_ = env.step(action)
        gains, arrived = future_of(env, horizon)
        status = u.queue_status
        sol = HorizonBound(time_limit_s=time_limit_s).solve(u.config, gains, arrived, u.queue_bits, status.overflow_bits)
        myopic, solve_s, violations = 0.0, 0.0, 0
        play = copy.deepcopy(env)
        p2 = OraclePolicy(play, MILPOracle())
        o2 = play.unwrapped.last_observation
        for _ in range(horizon):
            action, _ = p2.predict(o2)
            o2, reward, _, _, info = play.step(action)
            myopic += reward
            solve_s += p2.last_solution.solve_time_s
            violations += info["violations"]["rate"] + info["violations"]["delay"]
        rows.append({
            "scenario": name, "seed": seed, "horizon_ttis": horizon, "backlog_bits_at_start": int(status.backlog_bits.sum()),
            "myopic_reward": myopic, "myopic_violations": violations, "bound": sol.upper_bound, "bound_incumbent": sol.value,
            "bound_proven_optimal": sol.proven_optimal, "gap": (sol.upper_bound - myopic) / abs(sol.upper_bound),
            "horizon_solve_s": sol.solve_time_s, "myopic_solve_s": solve_s,
        })
    return pd.DataFrame(rows)


def summarise(df: pd.DataFrame) -> dict:
    """Per scenario: mean gap with a 95 % CI, median, max, share proven, median solve times."""
    out = {}
    for name, g in df.groupby("scenario", sort=False):
        out[name] = {
            "instances": len(g), "mean_gap": float(g["gap"].mean()), "gap_ci95": ci95_half_width(g["gap"]),
            "median_gap": float(g["gap"].median()), "max_gap": float(g["gap"].max()),
            "mean_myopic_reward": float(g["myopic_reward"].mean()), "mean_bound": float(g["bound"].mean()),
            "proven_optimal": int(g["bound_proven_optimal"].sum()),
            "median_horizon_solve_s": float(g["horizon_solve_s"].median()),
            "median_myopic_solve_s_per_horizon": float(g["myopic_solve_s"].median()),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    from oran_gym.benchmarks.argtypes import int_at_least, positive_float

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int_at_least(1), default=10)
    parser.add_argument("--horizon", type=int_at_least(1), default=5, help="TTIs planned at once (H)")
    parser.add_argument("--warmup", type=int_at_least(0), default=5, help="TTIs of myopic play before each horizon")
    parser.add_argument("--time-limit", type=positive_float, default=30.0, help="HiGHS limit per horizon MILP, s")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    df = run(args.instances, args.horizon, args.warmup, args.time_limit, progress=not args.no_progress)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out_dir / "queue_horizon.csv", index=False)
    summary = {
        "command": "python -m oran_gym.benchmarks.reproduce_queue " + " ".join(argv if argv is not None else sys.argv[1:]),
        "scenarios": SCENARIOS, "horizon_ttis": args.horizon, "warmup_ttis": args.warmup, "time_limit_s": args.time_limit,
        "summary": summarise(df),
    }
    (args.out_dir / "queue_horizon.json").write_text(json.dumps(summary, indent=2) + "\n")
    for name, s in summary["summary"].items():
        print(f"{name}: gap (bound - myopic) / |bound| = {100 * s['mean_gap']:.2f} % +- {100 * s['gap_ci95']:.2f} "
              f"(median {100 * s['median_gap']:.2f} %, max {100 * s['max_gap']:.2f} %), {s['proven_optimal']}/{s['instances']} "
              f"bounds proven optimal, horizon MILP median {s['median_horizon_solve_s']:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
