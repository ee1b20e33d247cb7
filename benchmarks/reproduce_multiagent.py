"""Multi-agent PPO on `multi_cell` (one slice-level xApp per RU, RLlib) against the exact optimum.

Run: `python -m oran_gym.benchmarks.reproduce_multiagent [--seeds N] [--iterations K]`. Writes
`benchmarks/results/multiagent.csv` (one row per policy, training seed and instance) and
`multiagent.json` (the summary with the command). Needs the `ray` and `multiagent` extras.

Training: `oran_gym.rllib.multiagent_ppo_config` on `parallel_env(config="multi_cell",
agents="ru", action_mode="slice")`, both shared-parameter PPO (one policy for the three RU agents,
their one-hot id in the observation) and independent PPO (IPPO, one policy per RU; skip it with
`--shared-only`), `--iterations` iterations of `--batch` env steps each, per training seed.

Evaluation: the first TTI after `reset(seed=s)`, s = 0..`--instances`-1, the instances of
`bench_multicell.py`, whose exact optima with interference (`ExactMultiCellOracle`) are in
`multicell_oracle.csv`; the trained policy acts deterministically (the mean of its Gaussian). On
the same TTIs: the slice baselines (equal split, demand-proportional, and the quotas of
`LocalSearchOracle`'s allocation: about the best quotas, under the same MAC scheduler), and
full-mode heuristics. Means per training seed, then the mean and 95 % CI over seeds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd

import oran_gym  # noqa: F401
from oran_gym.evaluation import ci95_half_width

RESULTS = Path(__file__).resolve().parent / "results"
ENV_CONFIG = {"config": "multi_cell", "agents": "ru", "action_mode": "slice"}


def _train(seed: int, iterations: int, batch: int, independent: bool, progress: bool):
    from oran_gym.rllib import multiagent_ppo_config, register_rllib_multiagent_env

    register_rllib_multiagent_env()
    config = (
        multiagent_ppo_config(ENV_CONFIG, shared_policy=not independent)
        .env_runners(num_env_runners=0)
        .training(train_batch_size=batch, minibatch_size=min(128, batch), num_epochs=5, lr=3e-4)
        .debugging(seed=seed)
    )
    algo = config.build_algo()
    returns = []
    for it in range(iterations):
        result = algo.train()
        returns.append(float(result["env_runners"].get("episode_return_mean", np.nan)))
        if progress:
            print(f"  seed {seed} iteration {it + 1}/{iterations}: episode return {returns[-1]:.1f}", flush=True)
    return algo, returns


def _act(algo, independent: bool, observations: dict) -> dict:
    """The policy's deterministic actions, clipped to the Box."""
    import torch
    from ray.rllib.core.columns import Columns

    actions = {}
    for agent, obs in observations.items():
        module = algo.get_module(agent if independent else "shared")
        out = module.forward_inference({Columns.OBS: torch.from_numpy(obs[None])})
        dist = module.get_inference_action_dist_cls().from_logits(out[Columns.ACTION_DIST_INPUTS])
        actions[agent] = np.clip(dist.to_deterministic().sample().numpy()[0], -1.0, 1.0).astype(np.float32)
    return actions


def _evaluate_ppo(algo, independent: bool, instances: int) -> list[float]:
    from oran_gym.multiagent import parallel_env

    env = parallel_env(**ENV_CONFIG)
    rewards = []
    for s in range(instances):
        obs, _ = env.reset(seed=s)
        _, _, _, _, infos = env.step(_act(algo, independent, obs))
        rewards.append(infos["ru_0"]["team_reward"])
    return rewards


def _evaluate_baselines(instances: int) -> dict[str, list[float]]:
    from oran_gym.baselines import SLICE_POLICIES, make_policy

    out: dict[str, list[float]] = {}
    slice_env = gym.make("ORANSlicing-v0", config="multi_cell", action_mode="slice")
    for name in ("equal_split", "demand_proportional", "oracle_quota"):
        policy = SLICE_POLICIES[name](slice_env)
        out[f"slice: {name}"] = []
        for s in range(instances):
            obs, _ = slice_env.reset(seed=s)
            _, reward, *_ = slice_env.step(policy.predict(obs)[0])
            out[f"slice: {name}"].append(float(reward))
    full_env = gym.make("ORANSlicing-v0", config="multi_cell", action_mode="full")
    for name in ("slice_aware", "proportional_fair", "max_sinr"):
        policy = make_policy(name, full_env)
        out[f"PRB heuristic: {name}"] = []
        for s in range(instances):
            obs, _ = full_env.reset(seed=s)
            _, reward, *_ = full_env.step(policy.predict(obs)[0])
            out[f"PRB heuristic: {name}"].append(float(reward))
    return out


def main(argv: list[str] | None = None) -> int:
    from oran_gym.benchmarks.argtypes import int_at_least

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int_at_least(1), default=3, help="training seeds")
    parser.add_argument("--iterations", type=int_at_least(1), default=30, help="PPO iterations per seed")
    parser.add_argument("--batch", type=int_at_least(10), default=1000, help="env steps per iteration")
    parser.add_argument("--instances", type=int_at_least(1), default=20, help="evaluation TTIs (env seeds 0..N-1)")
    parser.add_argument("--shared-only", action="store_true", help="train only the shared policy, not IPPO")
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    import ray

    t0 = time.perf_counter()
    rows = []
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        for independent in (False,) if args.shared_only else (False, True):
            label = "IPPO (one policy per RU)" if independent else "PPO, shared policy"
            for seed in range(args.seeds):
                algo, curve = _train(seed, args.iterations, args.batch, independent, not args.no_progress)
                try:
                    rewards = _evaluate_ppo(algo, independent, args.instances)
                finally:
                    algo.stop()
                rows += [{"policy": label, "seed": seed, "instance": s, "reward": r, "final_train_return": curve[-1]}
                         for s, r in enumerate(rewards)]
    finally:
        ray.shutdown()
    for name, rewards in _evaluate_baselines(args.instances).items():
        rows += [{"policy": name, "seed": 0, "instance": s, "reward": r} for s, r in enumerate(rewards)]
    oracle_csv = args.out_dir / "multicell_oracle.csv"
    optimum = None
    if oracle_csv.exists():
        oracle = pd.read_csv(oracle_csv).set_index("seed")
        if set(range(args.instances)) <= set(oracle.index):
            optimum = oracle.loc[list(range(args.instances))]
            for name, col in (("optimum (ExactMultiCellOracle)", "exact_value"), ("LocalSearchOracle", "local_search_value"),
                              ("relaxed MILP bound", "relaxed_bound")):
                rows += [{"policy": name, "seed": 0, "instance": s, "reward": float(optimum.loc[s, col])} for s in range(args.instances)]
    df = pd.DataFrame(rows)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out_dir / "multiagent.csv", index=False)
    summary = {}
    opt_mean = float(optimum["exact_value"].mean()) if optimum is not None else None
    for name, group in df.groupby("policy", sort=False):
        per_seed = group.groupby("seed")["reward"].mean().to_numpy()
        entry = {"mean_tti_reward": float(per_seed.mean()), "ci95": float(ci95_half_width(per_seed)) if per_seed.size > 1 else None,
                 "seeds": int(per_seed.size)}
        if opt_mean is not None:
            entry["gap_to_optimum"] = (opt_mean - entry["mean_tti_reward"]) / abs(opt_mean)
        summary[name] = entry
    result = {
        "command": "python -m oran_gym.benchmarks.reproduce_multiagent " + " ".join(argv if argv is not None else sys.argv[1:]),
        "env_config": ENV_CONFIG, "iterations": args.iterations, "batch": args.batch, "instances": args.instances,
        "optimum_proven_on": int(optimum["exact_proven"].sum()) if optimum is not None else None,
        "wall_s": time.perf_counter() - t0, "summary": summary,
    }
    (args.out_dir / "multiagent.json").write_text(json.dumps(result, indent=2) + "\n")
    for name, e in summary.items():
        ci = f" +- {e['ci95']:.2f} ({e['seeds']} seeds)" if e["ci95"] is not None else ""
        gap = f", gap to the optimum {100 * e['gap_to_optimum']:.1f} %" if "gap_to_optimum" in e else ""
        print(f"{name:>34}: {e['mean_tti_reward']:.2f}{ci} per TTI{gap}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
