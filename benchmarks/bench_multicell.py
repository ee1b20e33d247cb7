"""The exact multi-cell optimum against the old bracket on `multi_cell` (3 RUs, 18 UEs, 25 PRBs).

Run: `python -m oran_gym.benchmarks.bench_multicell [--instances N] [--time-limit S]`. Writes
`benchmarks/results/multicell_oracle.csv` (one row per instance), `multicell_oracle.json` (the
summary with the command) and `multicell_oracle.png`.

Each instance is the first TTI after `env.reset(seed=s)`, s = 0..N-1. Per instance:

* the old bracket: `LocalSearchOracle`'s feasible value (the relaxed MILP's plan improved PRB by
  PRB) and the interference-free MILP's proven bound;
* `ExactMultiCellOracle`: the proven optimum, or at the time limit its best value and proven bound.

Reported: the local search's true gap `(opt - local) / |opt|` and the relaxation's looseness
`(relaxed bound - opt) / |opt|`, where `opt` is the exact optimum (instances where the exact solve
stopped at its limit use its incumbent for the gap, a lower bound on the true gap, and say how many).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
from oran_gym.baselines import ExactMultiCellOracle, LocalSearchOracle

import oran_gym  # noqa: F401


def run(instances: int, time_limit_s: float, progress: bool = True) -> pd.DataFrame:
    """One row per instance: the old bracket and the exact solve."""
    from tqdm import tqdm

    env = gym.make("ORANSlicing-v0", config="multi_cell", action_mode="full")
    u = env.unwrapped
    local, exact = LocalSearchOracle(), ExactMultiCellOracle(time_limit_s=time_limit_s)
    rows = []
    for seed in tqdm(range(instances), desc="multi_cell instances", disable=not progress):
        env.reset(seed=seed)
        cfg, gains, load = u.config, u.gains, u.offered_load_bps
        lo = local.solve_detailed(cfg, gains, load)
        ex = exact.solve_detailed(cfg, gains, load)
        rows.append({
            "seed": seed,
            "local_search_value": lo.value, "relaxed_bound": lo.upper_bound, "local_search_s": lo.solve_time_s,
            "exact_value": ex.value, "exact_bound": ex.upper_bound, "exact_proven": ex.proven_optimal,
            "exact_s": ex.solve_time_s, "exact_status": ex.status,
        })
    df = pd.DataFrame(rows)
    scale = df["exact_value"].abs()
    df["local_search_gap"] = (df["exact_value"] - df["local_search_value"]) / scale
    df["relaxation_looseness"] = (df["relaxed_bound"] - df["exact_value"]) / scale
    df["old_bracket_width"] = (df["relaxed_bound"] - df["local_search_value"]) / scale
    df["certified_gap"] = (df["exact_bound"] - df["exact_value"]) / scale
    return df


def summarise(df: pd.DataFrame) -> dict:
    """Medians and ranges over the instances (fractions, not %)."""
    def stats(col: str) -> dict:
        x = df[col].to_numpy(float)
        return {"median": float(np.median(x)), "mean": float(x.mean()), "min": float(x.min()), "max": float(x.max())}

    return {
        "instances": int(len(df)),
        "exact_proven_optimal": int(df["exact_proven"].sum()),
        "exact_solve_s": stats("exact_s"),
        "local_search_s": stats("local_search_s"),
        "local_search_gap": stats("local_search_gap"),
        "relaxation_looseness": stats("relaxation_looseness"),
        "old_bracket_width": stats("old_bracket_width"),
        "certified_gap": stats("certified_gap"),
        "local_search_at_optimum": int((df["local_search_gap"] <= 1e-9).sum()),
    }


def plot(df: pd.DataFrame, path: Path) -> None:
    """Per instance: the old bracket as a bar, the exact optimum (or certified interval) on it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.8))
    x = np.arange(len(df))
    ax.vlines(x, df["local_search_value"], df["relaxed_bound"], color="0.75", lw=6, label="old bracket [local search, relaxed MILP bound]")
    ax.plot(x, df["local_search_value"], "v", color="tab:orange", label="LocalSearchOracle")
    proven = df["exact_proven"].to_numpy(bool)
    ax.plot(x[proven], df["exact_value"][proven], "o", color="tab:blue", label="ExactMultiCellOracle, proven optimum")
    if (~proven).any():
        ax.errorbar(x[~proven], df["exact_value"][~proven], yerr=[np.zeros((~proven).sum()), (df["exact_bound"] - df["exact_value"])[~proven]],
                    fmt="s", color="tab:red", capsize=3, label="ExactMultiCellOracle at its time limit (value, bound)")
    ax.set_xticks(x, df["seed"])
    ax.set_xlabel("instance (env seed)")
    ax.set_ylabel("TTI reward (eq. 22)")
    ax.set_title("multi_cell: exact optimum with interference vs the old bracket")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    from oran_gym.benchmarks.argtypes import int_at_least, positive_float

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int_at_least(1), default=20)
    parser.add_argument("--time-limit", type=positive_float, default=60.0, help="limit per exact solve, s")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    df = run(args.instances, args.time_limit, progress=not args.no_progress)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out_dir / "multicell_oracle.csv", index=False)
    summary = summarise(df)
    result = {
        "command": "python -m oran_gym.benchmarks.bench_multicell " + " ".join(argv if argv is not None else sys.argv[1:]),
        "time_limit_s": args.time_limit, "summary": summary,
    }
    (args.out_dir / "multicell_oracle.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(df, args.out_dir / "multicell_oracle.png")
    s = summary
    print(f"multi_cell, {s['instances']} instances: exact optimum proven on {s['exact_proven_optimal']} "
          f"(median solve {s['exact_solve_s']['median']:.1f} s, max {s['exact_solve_s']['max']:.1f} s; "
          f"median certified gap {100 * s['certified_gap']['median']:.3f} %)")
    print(f"LocalSearchOracle true gap: median {100 * s['local_search_gap']['median']:.1f} % "
          f"(max {100 * s['local_search_gap']['max']:.1f} %, at the optimum on {s['local_search_at_optimum']})")
    print(f"relaxed MILP bound above the optimum: median {100 * s['relaxation_looseness']['median']:.1f} % "
          f"(old bracket width median {100 * s['old_bracket_width']['median']:.1f} %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
