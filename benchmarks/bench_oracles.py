"""Oracle solve time vs instance size, and every heuristic's optimality gap on the paper preset.

Run: `python benchmarks/bench_oracles.py [--quick]` (or `oran-gym bench`). Writes
`benchmarks/results/oracle_timing.csv`, `heuristic_gaps.csv`, `oracles.json` and `oracles.png`.

Gaps are paired per TTI: the env's channel and traffic do not depend on the actions taken, so with
the same seed every policy faces the same TTIs, and the MILP optimum of each TTI is the yardstick.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
from oran_gym.baselines import HEURISTICS, ExhaustiveSearchOracle, MILPOracle, make_policy, num_candidates
from oran_gym.benchmarks.bench_env import default_results_dir, machine_info

import oran_gym  # noqa: F401
from oran_gym import ScenarioConfig, evaluate_allocation
from oran_gym.evaluation import ci95_half_width
from oran_gym.sim.dynamics import NetworkState


def oracle_timing(quick: bool, progress: bool, smoke: bool = False) -> pd.DataFrame:
    """Median solve time of ESA and MILP over seeds, one dimension varied at a time."""
    from tqdm import tqdm

    paper = ScenarioConfig.preset("paper")
    seeds = range(1 if smoke else 3 if quick else 10)
    # the MILP around the paper preset (20 UEs, 25 PRBs, 3 levels) and beyond it
    ues = [4] if smoke else [4, 10, 20, 40] + ([] if quick else [80])
    prbs = [5] if smoke else [5, 10, 25, 50] + ([] if quick else [100])
    levels = [1] if smoke else [1, 2, 3, 4] + ([] if quick else [6])
    fr = {1: (1.0,), 2: (0.5, 1.0), 3: (0.25, 0.5, 1.0), 4: (0.125, 0.25, 0.5, 1.0), 6: (1 / 32, 1 / 16, 1 / 8, 0.25, 0.5, 1.0)}
    cases: list[tuple[str, str, ScenarioConfig]] = []
    for n in ues:
        cases.append(("milp", "num_ues", paper.replace(num_embb_ues=n // 2, num_urllc_ues=n - n // 2)))
    for n in prbs:
        cases.append(("milp", "num_prbs", paper.replace(num_prbs=n)))
    for n in levels:
        cases.append(("milp", "num_power_levels", paper.replace(power_level_fractions=fr[n])))
    # both oracles on instances small enough for the exhaustive search
    small = ScenarioConfig.preset("tiny")
    for m in [1, 2] if smoke else [1, 2, 3, 4, 5] if not quick else [1, 2, 3, 4]:
        for oracle in ("esa", "milp"):
            cases.append((oracle, "num_prbs (tiny: 4 UEs, 2 levels)", small.replace(num_prbs=m)))
    rows = []
    for oracle_name, varied, cfg in tqdm(cases, desc="oracle timing", disable=not progress):
        oracle = ExhaustiveSearchOracle(max_candidates=10**8) if oracle_name == "esa" else MILPOracle(time_limit_s=120.0)
        times, proven = [], []
        for s in seeds:
            net = NetworkState.initial(cfg, np.random.default_rng([99, s]))
            sol = oracle.solve_detailed(cfg, net.gain_lin, net.offered_load_bps)
            times.append(sol.solve_time_s)
            proven.append(sol.proven_optimal)
        rows.append(
            {
                "oracle": oracle_name,
                "varied": varied,
                "num_ues": cfg.num_ues,
                "num_prbs": cfg.num_prbs,
                "num_power_levels": cfg.num_power_levels,
                "candidates": float(num_candidates(cfg)),
                "median_solve_s": float(np.median(times)),
                "max_solve_s": float(np.max(times)),
                "proven_optimal": f"{sum(proven)}/{len(proven)}",
                "seeds": len(times),
            }
        )
    return pd.DataFrame(rows)


def heuristic_gaps(quick: bool, progress: bool, smoke: bool = False) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-TTI reward and throughput of every heuristic against the MILP optimum on the paper preset."""
    from tqdm import tqdm

    n_seeds = 2 if smoke else 20 if quick else 100
    n_tti = 1 if smoke else 2 if quick else 10
    milp = MILPOracle(time_limit_s=120.0)
    rows = []
    solve_times, proven = [], []
    for seed in tqdm(range(n_seeds), desc="heuristic gaps", disable=not progress):
        env = gym.make("ORANSlicing-v0", config="paper", action_mode="full", episode_length_tti=n_tti)
        u = env.unwrapped
        policies = {name: make_policy(name, env) for name in HEURISTICS}
        env.reset(seed=seed)
        for tti in range(n_tti):
            cfg, gains, load = u.config, u.gains, u.offered_load_bps
            opt = milp.solve_detailed(cfg, gains, load)
            solve_times.append(opt.solve_time_s)
            proven.append(opt.proven_optimal)
            opt_m = evaluate_allocation(cfg, gains, opt.allocation, load)
            row = {"seed": seed, "tti": tti, "policy": "oracle_milp", "reward": opt.value, "objective_mbps": opt_m.objective / 1e6,
                   "qos_violations": opt_m.violations["rate"] + opt_m.violations["delay"], "optimum": opt.value,
                   "optimum_objective_mbps": opt_m.objective / 1e6}
            rows.append(row)
            for name, pol in policies.items():
                m = evaluate_allocation(cfg, gains, pol.plan(u), load)
                rows.append({**row, "policy": name, "reward": m.reward, "objective_mbps": m.objective / 1e6,
                             "qos_violations": m.violations["rate"] + m.violations["delay"]})
            env.step(np.zeros(env.action_space.shape, dtype=np.int64))  # channel and traffic do not depend on it
    df = pd.DataFrame(rows)
    df["reward_gap"] = df["optimum"] - df["reward"]
    df["reward_gap_pct"] = 100 * df["reward_gap"] / df["optimum"].abs()
    df["throughput_gap_pct"] = 100 * (df["optimum_objective_mbps"] - df["objective_mbps"]) / df["optimum_objective_mbps"]
    meta = {"seeds": n_seeds, "ttis_per_seed": n_tti, "milp_median_solve_s_paper": float(np.median(solve_times)),
            "milp_max_solve_s_paper": float(np.max(solve_times)), "milp_solves": len(solve_times),
            "milp_proven_optimal": int(np.sum(proven))}
    return df, meta


def gap_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Mean per-TTI gaps with 95 % CI, per policy."""
    out = []
    for name, g in df.groupby("policy", sort=False):
        out.append({
            "policy": name,
            "mean_reward": g["reward"].mean(),
            "reward_gap_pct": g["reward_gap_pct"].mean(), "reward_gap_pct_ci95": ci95_half_width(g["reward_gap_pct"]),
            "throughput_gap_pct": g["throughput_gap_pct"].mean(), "throughput_gap_pct_ci95": ci95_half_width(g["throughput_gap_pct"]),
            "mean_qos_violations": g["qos_violations"].mean(),
            "ttis": len(g),
        })
    return pd.DataFrame(out).sort_values("reward_gap_pct")


def plot(timing: pd.DataFrame, gaps: pd.DataFrame, path: Path) -> None:
    """Solve time vs size (log scale) and the heuristics' reward gaps with CIs."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 4), dpi=100)
    axes = fig.subplots(1, 4)
    for ax, varied, col in zip(axes[:3], ["num_ues", "num_prbs", "num_power_levels"], ["num_ues", "num_prbs", "num_power_levels"]):
        d = timing[(timing["oracle"] == "milp") & (timing["varied"] == varied)]
        ax.plot(d[col], d["median_solve_s"] * 1e3, "o-", label="MILP (HiGHS), median")
        ax.set_yscale("log")
        ax.set_xlabel(col.replace("_", " ") + " (others as paper preset)")
        ax.set_ylabel("solve time (ms)")
        ax.grid(alpha=0.3)
    small = timing[timing["varied"].str.startswith("num_prbs (tiny")]
    for name, marker in (("esa", "s--"), ("milp", "o-")):
        d = small[small["oracle"] == name]
        axes[1].plot(d["num_prbs"], d["median_solve_s"] * 1e3, marker, label=f"{name.upper()} on tiny (4 UEs, 2 levels)")
    for ax in axes[:3]:
        ax.legend(fontsize=7)
    g = gaps[gaps["policy"] != "oracle_milp"]
    axes[3].barh(g["policy"], g["reward_gap_pct"], xerr=g["reward_gap_pct_ci95"], color="tab:orange")
    axes[3].set_xlabel("reward gap to optimum (%), 95 % CI")
    axes[3].set_title("paper preset", fontsize=9)
    axes[3].invert_yaxis()
    fig.tight_layout()
    fig.savefig(path)


def run(quick: bool = False, progress: bool = True, out_dir: Path | None = None, smoke: bool = False) -> dict[str, Any]:
    """Run both parts and write CSV, JSON and PNG under `out_dir` (default ./oran-gym-results)."""
    out_dir = out_dir or default_results_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    timing = oracle_timing(quick, progress, smoke)
    per_tti, meta = heuristic_gaps(quick, progress, smoke)
    summary = gap_summary(per_tti)
    timing.to_csv(out_dir / "oracle_timing.csv", index=False)
    per_tti.to_csv(out_dir / "heuristic_gaps_per_tti.csv", index=False)
    summary.to_csv(out_dir / "heuristic_gaps.csv", index=False)
    plot(timing, summary, out_dir / "oracles.png")
    result = {
        "command": "oran-gym bench --only oracles" + (" --smoke" if smoke else " --quick" if quick else " --full"),
        "machine": machine_info(),
        "wall_s": time.perf_counter() - t0,
        **meta,
        "gaps": summary.to_dict(orient="records"),
        "timing": timing.to_dict(orient="records"),
    }
    (out_dir / "oracles.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def summary_lines(result: dict[str, Any]) -> list[str]:
    """Human-readable lines."""
    lines = [
        f"MILP on the paper preset: median solve {result['milp_median_solve_s_paper'] * 1e3:.0f} ms, "
        f"max {result['milp_max_solve_s_paper'] * 1e3:.0f} ms over {result['milp_solves']} TTIs, "
        f"proven optimal {result['milp_proven_optimal']}/{result['milp_solves']}",
        f"heuristic gaps to the optimum over {result['seeds']} seeds x {result['ttis_per_seed']} TTIs (mean, 95 % CI):",
    ]
    for g in result["gaps"]:
        if g["policy"] == "oracle_milp":
            continue
        lines.append(
            f"  {g['policy']:<18} reward gap {g['reward_gap_pct']:7.1f} % +- {g['reward_gap_pct_ci95']:.1f}   "
            f"throughput gap {g['throughput_gap_pct']:6.1f} % +- {g['throughput_gap_pct_ci95']:.1f}   "
            f"QoS violations/TTI {g['mean_qos_violations']:.2f}"
        )
    big = [t for t in result["timing"] if t["oracle"] == "milp" and t["varied"] != "num_power_levels"]
    largest = max(big, key=lambda t: t["num_ues"] * t["num_prbs"])
    lines.append(
        f"largest MILP instance: {largest['num_ues']} UEs x {largest['num_prbs']} PRBs x {largest['num_power_levels']} levels "
        f"({largest['candidates']:.1e} ESA candidates): median {largest['median_solve_s'] * 1e3:.0f} ms, proven {largest['proven_optimal']}"
    )
    return lines


def main() -> None:
    """Command-line entry."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer seeds and sizes")
    args = ap.parse_args()
    result = run(quick=args.quick)
    print("\n".join(summary_lines(result)))


if __name__ == "__main__":
    main()
