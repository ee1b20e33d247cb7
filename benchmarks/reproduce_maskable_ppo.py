"""MaskablePPO beside the DQN, the SS-VAE, the heuristics and the MILP optimum (paper preset, prb mode).

Run: `python -m oran_gym.benchmarks.reproduce_maskable_ppo [--quick|--smoke] [--out-dir D]` (or
`oran-gym bench --only maskable_ppo`). Writes `maskable_ppo.json` and `maskable_ppo_runs.csv`.

1. A short Optuna study (TPE, median pruning) of MaskablePPO's hyperparameters on the native
   batched env, scored on evaluation seeds disjoint from the reported ones.
2. The best parameters trained from 3 seeds (5 in the full run).
3. Every agent scored by one loop (`oran_gym.evaluation.evaluate_policy`, masks passed) on the
   same evaluation TTIs as the DQN rows of `agents.json`: episodes of 10 TTIs seeded 10000,
   10001, ...; against the MILP optimum of each TTI: the reward gap and the throughput gap (%),
   QoS violations per TTI, each a mean with its 95 % CI across training seeds. The heuristics and
   the optimum run on the same TTIs here; the DQN and SS-VAE rows are read from `agents.json`
   (the DQN's on these TTIs, the SS-VAE's on its own 500 test TTIs), when present beside.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

import oran_gym  # noqa: F401
from oran_gym.benchmarks.bench_env import COMMITTED_RESULTS, default_results_dir, machine_info, script_main
from oran_gym.evaluation import ci95_half_width, evaluate_policy


def _gaps(per_tti: pd.DataFrame, optimum: pd.DataFrame) -> dict[str, float]:
    """The DQN's gap definitions (OracleGapCallback): relative gaps of the mean TTI reward and throughput."""
    opt_r, opt_t = optimum["reward"].mean(), optimum["objective_mbps"].mean()
    r, t = per_tti["reward"].mean(), per_tti["objective_mbps"].mean()
    return {"eval_reward": r, "reward_gap_pct": 100 * (opt_r - r) / abs(opt_r), "throughput_gap_pct": 100 * (opt_t - t) / opt_t,
            "throughput_gap_mbps": opt_t - t, "qos_violations_per_tti": per_tti["qos_violations"].mean(),
            "invalid_free": True}


def run(quick: bool = False, progress: bool = True, out_dir: Path | None = None, smoke: bool = False,
        command: str | None = None) -> dict[str, Any]:
    """The study, the training runs and the table; results under `out_dir`."""
    from oran_gym.agents.maskable_ppo import EVAL_SEED, best_params, make_eval_env, train_maskable_ppo, tune_maskable_ppo
    from oran_gym.baselines import make_policy

    t0 = time.perf_counter()
    trials, trial_steps = (2, 2_000) if smoke else (6, 20_000) if quick else (16, 40_000)
    seeds = [0, 1, 2] if (quick or smoke) else [0, 1, 2, 3, 4]
    timesteps = 2_000 if smoke else 60_000 if quick else 200_000
    episodes = 1 if smoke else 3 if quick else 10
    study = tune_maskable_ppo(n_trials=trials, timesteps=trial_steps, seed=0)
    params = best_params(study)
    if progress:
        print(f"  study: {len(study.trials)} trials, best mean TTI reward {study.best_value:.2f}: {params}", flush=True)
    env = make_eval_env("paper")
    optimum = evaluate_policy(make_policy("oracle", env), env, n_episodes=episodes, seed=EVAL_SEED).per_tti
    runs = []
    for s in seeds:
        model, rec = train_maskable_ppo("paper", seed=s, timesteps=timesteps, params=params)
        res = evaluate_policy(model, env, n_episodes=episodes, seed=EVAL_SEED, policy_name="maskable_ppo").per_tti
        row = {"agent": "MaskablePPO (tuned)", "seed": s, "timesteps": timesteps, "train_time_s": rec["train_time_s"],
               **_gaps(res, optimum)}
        runs.append(row)
        if progress:
            print(f"  seed {s}: reward gap {row['reward_gap_pct']:.1f} %, throughput gap {row['throughput_gap_pct']:.1f} %, "
                  f"QoS violations/TTI {row['qos_violations_per_tti']:.2f} ({rec['train_time_s']:.0f} s)", flush=True)
    for name in ("slice_aware", "proportional_fair", "round_robin", "max_sinr"):
        res = evaluate_policy(make_policy(name, env), env, n_episodes=episodes, seed=EVAL_SEED).per_tti
        runs.append({"agent": name, "seed": None, **_gaps(res, optimum)})
    runs.append({"agent": "MILP optimum", "seed": None, **_gaps(optimum, optimum)})
    frame = pd.DataFrame(runs)
    table = []
    for agent, g in frame.groupby("agent", sort=False):
        row = {"agent": agent, "runs": len(g), "evaluation": f"{episodes} x 10 TTIs from seed {EVAL_SEED}"}
        for m in ("reward_gap_pct", "throughput_gap_pct", "throughput_gap_mbps", "qos_violations_per_tti"):
            row[m] = float(g[m].mean())
            row[f"{m}_ci95"] = float(ci95_half_width(g[m])) if len(g) > 1 else 0.0
        table.append(row)
    # the DQN and SS-VAE rows of the committed agents benchmark (same gap definitions)
    agents_json = (out_dir or COMMITTED_RESULTS) / "agents.json"
    if not agents_json.exists():
        agents_json = COMMITTED_RESULTS / "agents.json"
    if agents_json.exists():
        ag = json.loads(agents_json.read_text())
        for r in ag.get("dqn", []):
            # agents.json keys its DQN rows by "variant" since issue 16 ("config" before)
            table.append({"agent": f"DQN ({r.get('variant', r.get('config', '?'))}, agents.json)", "runs": r.get("runs"),
                          "evaluation": "the same TTIs (OracleGapCallback, seed 10000)",
                          "reward_gap_pct": r.get("reward_gap_pct"), "reward_gap_pct_ci95": r.get("reward_gap_pct_ci95"),
                          "throughput_gap_pct": r.get("throughput_gap_pct"),
                          "throughput_gap_pct_ci95": r.get("throughput_gap_pct_ci95")})
        ssvae = [r for r in ag.get("ssvae_vs_labels", []) if r.get("labelled") == 2000]
        for r in ssvae:
            table.append({"agent": "SS-VAE (2000 labels, agents.json)", "runs": r.get("runs"),
                          "evaluation": f"its own {int(r.get('test_samples', 0))} test TTIs",
                          "reward_gap_pct": r.get("reward_gap_pct"), "reward_gap_pct_ci95": r.get("reward_gap_pct_ci95"),
                          "throughput_gap_pct": r.get("throughput_gap_pct"),
                          "throughput_gap_pct_ci95": r.get("throughput_gap_pct_ci95")})
    out_dir = out_dir or default_results_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out_dir / "maskable_ppo_runs.csv", index=False)
    result = {
        "command": command or "oran-gym bench --only maskable_ppo" + (" --smoke" if smoke else " --quick" if quick else " --full"),
        "machine": machine_info(),
        "study": {"trials": len(study.trials), "trial_timesteps": trial_steps, "best_value_mean_tti_reward": study.best_value,
                  "best_params": params, "eval_seed": 50_000},
        "training": {"seeds": seeds, "timesteps": timesteps, "env": "oran_gym.sb3.NativeVecEnv, paper preset, prb mode"},
        "table": table,
        "wall_s": time.perf_counter() - t0,
    }
    (out_dir / "maskable_ppo.json").write_text(json.dumps(result, indent=2, default=float) + "\n")
    return result


def summary_lines(result: dict[str, Any]) -> list[str]:
    """The table as text."""
    lines = [f"MaskablePPO study: {result['study']['trials']} trials; training {result['training']['timesteps']} steps x "
             f"{len(result['training']['seeds'])} seeds; gaps to the MILP optimum (mean +- 95 % CI across seeds):"]
    for r in result["table"]:
        ci = lambda k: f" +- {r[k + '_ci95']:.1f}" if r.get(k + "_ci95") else ""  # noqa: E731
        qos = f"  QoS violations/TTI {r['qos_violations_per_tti']:.2f}" if r.get("qos_violations_per_tti") is not None else ""
        lines.append(f"  {r['agent']:<32} reward gap {r['reward_gap_pct']:7.1f} %{ci('reward_gap_pct')}  throughput gap "
                     f"{r['throughput_gap_pct']:6.1f} %{ci('throughput_gap_pct')}{qos}")
    return lines


def main() -> None:
    """Command-line entry."""
    script_main("reproduce_maskable_ppo", __doc__, run, summary_lines)


if __name__ == "__main__":
    main()

