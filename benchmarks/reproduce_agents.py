"""SS-VAE and DQN against the exact optimum on the paper preset (Table VI, Fig. 6a, Fig. 6b, ablations).

Run: `python benchmarks/reproduce_agents.py [--quick]` (part of `oran-gym bench`). Writes
`benchmarks/results/ssvae_labels.csv` (Fig. 6a/6b and Table VI metrics vs labelled samples),
`ssvae_ablations.csv`, `dqn_gap.csv`, `agents.json` and `agents.png`.

Labels come from `MILPOracle` (proven optima) through the dataset generator; the test set uses
other drops (seed 1) than training (seed 0); unlabelled drops come from the channel model (seed 7).
Every SS-VAE run is repeated over training seeds and reported with a 95 % CI across them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from oran_gym.benchmarks.bench_env import COMMITTED_RESULTS, default_results_dir, machine_info

from oran_gym.evaluation import ci95_half_width


def unlabelled_drops(cfg, seed: int, n: int) -> dict[str, np.ndarray]:
    """Gains, offered loads and large-scale loss of `n` drops, without labels."""
    from oran_gym.baselines.dataset import sample_drop

    nets = [sample_drop(cfg, seed, i) for i in range(n)]
    return {
        "gains": np.stack([x.gain_lin for x in nets]),
        "offered_load_bps": np.stack([x.offered_load_bps for x in nets]),
        "large_scale_db": np.stack([x.large_scale_db for x in nets]),
    }


def subset(data: dict[str, Any], n: int) -> dict[str, Any]:
    """The first `n` samples of a dataset dict."""
    from oran_gym.baselines.dataset import take_samples

    return take_samples(data, slice(0, n))


def heuristic_on_test(cfg, test: dict[str, Any], name: str, repair_sweeps: int = 2) -> dict[str, float]:
    """Gaps of a heuristic on the same labelled test TTIs (it observes the true gains: no CSI error),
    raw and after the same `repair_allocation` as SS-VAE's (prefix `repaired_`)."""
    import gymnasium as gym
    from oran_gym.agents.ssvae import gap_metrics
    from oran_gym.baselines import make_policy
    from oran_gym.baselines.common import TTIView
    from oran_gym.baselines.oracles import repair_allocation

    from oran_gym import Allocation, evaluate_allocation

    pol = make_policy(name, gym.make("ORANSlicing-v0", config=cfg, action_mode="full"))
    rows, rep = [], []
    for i in range(len(test["value"])):
        gains, load = test["gains"][i], test["offered_load_bps"][i]
        opt = evaluate_allocation(cfg, gains, Allocation(test["assoc"][i], test["owner"][i], test["power_w"][i]), load)
        alloc = pol.plan(TTIView.of(cfg, gains, load))
        rows.append(gap_metrics(cfg, gains, load, alloc, opt))
        rep.append(gap_metrics(cfg, gains, load, repair_allocation(cfg, gains, alloc, load, max_sweeps=repair_sweeps)[0], opt))
    return {**{k: float(np.mean([r[k] for r in rows])) for k in rows[0]},
            **{f"repaired_{k}": float(np.mean([r[k] for r in rep])) for k in rep[0]}}


def ssvae_part(quick: bool, progress: bool, work: Path, smoke: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Fig. 6a/6b and Table VI vs labelled samples, and the ablations."""
    import torch
    from oran_gym.agents.ssvae import SSVAEConfig, allocation_metrics, train_ssvae
    from oran_gym.baselines.dataset import feasible_only, generate_dataset, load_dataset

    from oran_gym import ScenarioConfig

    torch.set_num_threads(1)
    cfg = ScenarioConfig.preset("paper")
    label_counts = [40] if smoke else [250, 500, 1000] if quick else [250, 500, 1000, 2000, 4000]
    seeds = [0] if quick or smoke else [0, 1, 2]
    n_test = 10 if smoke else 100 if quick else 500
    size = "smoke" if smoke else "quick" if quick else "full"
    base = SSVAEConfig(epochs=2) if smoke else SSVAEConfig()
    pool = generate_dataset(cfg, max(label_counts), work / "labels_train.npz", seed=0, progress=progress)
    test_path = generate_dataset(cfg, n_test, work / "labels_test.npz", seed=1, progress=progress)
    pool, test = load_dataset(pool), load_dataset(test_path)
    unl = unlabelled_drops(cfg, 7, 50 if smoke else 2000 if quick else 8000)
    done = Checkpoint(work / f"ssvae_rows_{size}.jsonl")
    for n in label_counts:
        for s in seeds:
            if done.has(labelled=n, seed=s):
                continue
            model, hist = train_ssvae(cfg, subset(pool, n), unl, SSVAEConfig(**{**base.__dict__, "seed": s}), progress=progress)
            done.add({"variant": "ssvae", "labelled": n, "seed": s, "train_time_s": hist["train_time_s"],
                      **allocation_metrics(model, cfg, test)})
    per_run = done.frame()
    n_ab = 40 if smoke else 1000 if quick else 2000
    variants = {
        "ssvae (full)": {},
        "no contrastive": {"use_contrastive": False},
        "no VAE reconstruction": {"use_reconstruction": False, "variational": False},
        "supervised-only MLP": {"use_contrastive": False, "use_reconstruction": False, "variational": False},
        "two-phase schedule (paper)": {"schedule": "two_phase"},
    }
    ab_done = Checkpoint(work / f"ablation_rows_{size}.jsonl")
    for name, conf in variants.items():
        for s in seeds:
            if ab_done.has(variant=name, seed=s):
                continue
            conf_s = SSVAEConfig(**{**base.__dict__, **conf, "seed": s})
            model, hist = train_ssvae(cfg, subset(pool, n_ab), None if name == "supervised-only MLP" else unl, conf_s)
            ab_done.add({"variant": name, "labelled": n_ab, "seed": s, **allocation_metrics(model, cfg, test)})
    # the paper's labels: Algorithm 1 (eq. 10, every constraint hard); drops without a feasible
    # allocation have no label, in training and in the test set alike
    c_pool = load_dataset(generate_dataset(cfg, n_ab, work / "labels_train_constrained.npz", seed=0, objective="constrained",
                                           progress=progress))
    c_test = load_dataset(generate_dataset(cfg, n_test, work / "labels_test_constrained.npz", seed=1, objective="constrained",
                                           progress=progress))
    constrained = {"train_feasible": int(c_pool["feasible"].sum()), "train_drops": len(c_pool["feasible"]),
                   "test_feasible": int(c_test["feasible"].sum()), "test_drops": len(c_test["feasible"])}
    c_pool, c_test = feasible_only(c_pool), feasible_only(c_test)
    name = "ssvae (constrained labels)"
    for s in seeds:
        if not ab_done.has(variant=name, seed=s):
            model, _ = train_ssvae(cfg, c_pool, unl, SSVAEConfig(**{**base.__dict__, "seed": s}))
            ab_done.add({"variant": name, "labelled": len(c_pool["value"]), "seed": s, **allocation_metrics(model, cfg, c_test)})
    ablations = ab_done.frame()
    context = {name: heuristic_on_test(cfg, test, name) for name in ("slice_aware", "proportional_fair")}
    return per_run, ablations, {"test_samples": n_test, "label_counts": label_counts, "seeds": seeds, "heuristics_on_test": context,
                                "milp_median_solve_s": float(np.median(pool["solve_time_s"])), "constrained_labels": constrained}


class Checkpoint:
    """Finished runs, one JSON line each, so that an interrupted benchmark resumes where it stopped."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []

    def get(self, **key: Any) -> dict[str, Any] | None:
        """The recorded run with these key values, or None."""
        return next((r for r in self.rows if all(r.get(k) == v for k, v in key.items())), None)

    def has(self, **key: Any) -> bool:
        """Whether a run with these key values is already recorded."""
        return self.get(**key) is not None

    def add(self, row: dict[str, Any]) -> None:
        """Record one finished run (appended and flushed at once)."""
        row = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        self.rows.append(row)
        with self.path.open("a") as f:
            f.write(json.dumps(row) + "\n")

    def frame(self) -> pd.DataFrame:
        """All recorded runs."""
        return pd.DataFrame(self.rows)


DQN_VARIANTS = {  # label -> (configuration, masked, env keyword arguments)
    "paper": ("paper", False, {}),
    "paper, paper state (obs_mode=paper)": ("paper", False, {"obs_mode": "paper"}),
    "paper, masked": ("paper", True, {}),
    "tuned": ("tuned", False, {}),
    "tuned, masked": ("tuned", True, {}),
}
"""The DQN runs of the benchmark: the paper's configuration on our full state (the default), on the
paper's binary-QoS state, and with invalid actions masked (`MaskedDQN`); the Optuna-tuned one,
plain and masked."""


def dqn_part(quick: bool, progress: bool, work: Path, smoke: bool = False) -> pd.DataFrame:
    """Every `DQN_VARIANTS` run whose configuration exists, against the oracle."""
    from oran_gym.agents.dqn import OracleGapCallback, available_configs, config_fingerprint, make_train_env, train_dqn

    # a re-tuned configuration is a new run, not a cached one: runs are keyed by the content's hash
    current = {conf: config_fingerprint(conf) for conf in available_configs()}
    seeds = [0] if quick or smoke else [0, 1, 2]
    done = Checkpoint(work / f"dqn_rows_{'smoke' if smoke else 'quick' if quick else 'full'}.jsonl")
    keep = []
    for variant, (conf, masked, env_kwargs) in DQN_VARIANTS.items():
        if conf not in current:
            continue
        sha = current[conf]
        for s in seeds:
            keep.append((variant, sha, s))
            if done.has(variant=variant, config_sha=sha, seed=s):
                continue
            steps = 200 if smoke else 2500 if quick else None
            model, meta = train_dqn("paper", conf, seed=s, total_timesteps=steps, progress_bar=progress, tensorboard=False,
                                    masked=masked, **env_kwargs)
            gap = OracleGapCallback(make_train_env("paper", 250, **env_kwargs), n_episodes=1 if smoke else 3 if quick else 10)
            gap.init_callback(model)
            row = gap.evaluate()
            done.add({"variant": variant, "config": conf, "config_sha": sha, "masked": masked,
                      "obs_mode": env_kwargs.get("obs_mode", "full"), "seed": s,
                      "timesteps": meta["total_timesteps"], "train_time_s": meta["train_time_s"],
                      "eval_reward": row["eval_reward"], "oracle_reward": gap.optimum["reward"],
                      "reward_gap_pct": row["optimality_gap_pct"], "throughput_gap_pct": row["throughput_gap_pct"],
                      "throughput_gap_mbps": gap.optimum["objective_mbps"] * row["throughput_gap_pct"] / 100})
    frame = done.frame()
    wanted = set(keep)
    return frame[[(v, h, s) in wanted for v, h, s in zip(frame.get("variant", []), frame["config_sha"], frame["seed"])]
                 ].reset_index(drop=True)


def summarise(per_run: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean and 95 % CI across seeds of every metric."""
    metrics = [c for c in per_run.columns if c not in keys + ["seed", "variant", "config"] and per_run[c].dtype.kind in "fi"]
    if per_run.empty:
        return pd.DataFrame(columns=keys)
    out = []
    for key, g in per_run.groupby(keys, sort=False):
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        for m in metrics:
            row[m] = g[m].mean()
            row[f"{m}_ci95"] = ci95_half_width(g[m])
        row["runs"] = len(g)
        out.append(row)
    return pd.DataFrame(out)


def plot(labels: pd.DataFrame, path: Path) -> None:
    """Fig. 6a (throughput gap vs labelled samples) and Fig. 6b (association error)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.6), dpi=100)
    a, b = fig.subplots(1, 2)
    a.errorbar(labels["labelled"], labels["throughput_gap_pct"], yerr=labels["throughput_gap_pct_ci95"].fillna(0), marker="o",
               label="SS-VAE (ours)")
    a.axhline(2.1, ls="--", c="k", lw=0.8, label="paper: 2.1 (read as %) at 2000 labels")
    a.set_xscale("log")
    a.set_xlabel("labelled samples")
    a.set_ylabel("aggregated-throughput gap to the optimum (%)")
    a.legend(fontsize=8)
    b.errorbar(labels["labelled"], labels["association_error_pct"], yerr=labels["association_error_pct_ci95"].fillna(0), marker="o",
               label="association error (alpha & beta, the paper's ratio)")
    b.errorbar(labels["labelled"], labels["alpha_error_pct"], yerr=labels["alpha_error_pct_ci95"].fillna(0), marker="^",
               label="alpha alone")
    b.errorbar(labels["labelled"], labels["prb_error_pct"], yerr=labels["prb_error_pct_ci95"].fillna(0), marker="s", label="PRB owner error")
    b.axhline(4.7, ls="--", c="k", lw=0.8, label="paper: 4.7 % association error")
    b.set_xscale("log")
    b.set_xlabel("labelled samples")
    b.set_ylabel("error vs the oracle (%)")
    b.legend(fontsize=8)
    for ax in (a, b):  # one tick per label count, no overlapping minor labels
        ax.set_xticks(list(labels["labelled"]), [str(int(x)) for x in labels["labelled"]])
        ax.minorticks_off()
    fig.tight_layout()
    fig.savefig(path)


def run(quick: bool = False, progress: bool = True, out_dir: Path | None = None, with_dqn: bool = True,
        smoke: bool = False) -> dict[str, Any]:
    """Both parts; results under `out_dir` (default ./oran-gym-results)."""
    out_dir = out_dir or default_results_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / (".work_agents_smoke" if smoke else ".work_agents")
    t0 = time.perf_counter()
    per_run, ablations, meta = ssvae_part(quick, progress, work, smoke)
    labels = summarise(per_run, ["labelled"])
    ab = summarise(ablations, ["variant"])
    per_run.to_csv(out_dir / "ssvae_labels_per_run.csv", index=False)
    labels.to_csv(out_dir / "ssvae_labels.csv", index=False)
    ab.to_csv(out_dir / "ssvae_ablations.csv", index=False)
    plot(labels, out_dir / "agents.png")
    result: dict[str, Any] = {"command": "oran-gym bench --only agents" + (" --smoke" if smoke else " --quick" if quick else " --full"), "machine": machine_info(), **meta,
                              "ssvae_vs_labels": labels.to_dict(orient="records"), "ablations": ab.to_dict(orient="records")}
    if with_dqn:
        dqn = dqn_part(quick, progress, work, smoke)
        dqn.to_csv(out_dir / "dqn_gap.csv", index=False)
        result["dqn"] = summarise(dqn, ["variant"]).to_dict(orient="records")
    result["wall_s"] = time.perf_counter() - t0
    (out_dir / "agents.json").write_text(json.dumps(result, indent=2, default=float) + "\n")
    return result


def summary_lines(result: dict[str, Any]) -> list[str]:
    """Human-readable lines, beside the paper's figures."""
    lines = [f"SS-VAE on the paper preset ({result['test_samples']} test TTIs, MILP labels; paper: gap 2.1 (no unit), "
             "association error (|d alpha| + |d beta|) / #(alpha & beta) 4.7 %, power MAE 0.092, R^2 0.768, cosine 0.988):"]
    for r in result["ssvae_vs_labels"]:
        lines.append(
            f"  {r['labelled']:>5} labels: throughput gap {r['throughput_gap_pct']:5.1f} % = {r['throughput_gap_mbps']:.2f} Mbit/s "
            f"(repaired {r['repaired_throughput_gap_pct']:.1f} % = {r['repaired_throughput_gap_mbps']:.2f} Mbit/s)  reward gap "
            f"{r['reward_gap_pct']:5.1f} % (repaired {r['repaired_reward_gap_pct']:.1f} %)  association error "
            f"{r['association_error_pct']:4.1f} % (alpha alone {r['alpha_error_pct']:.1f} %)  power MAE {r['power_mae']:.3f} "
            f"R^2 {r['power_r2']:.3f} cosine {r['power_cosine']:.3f} (constant predictor: MAE {r['constant_power_mae']:.3f} "
            f"R^2 {r['constant_power_r2']:.3f} cosine {r['constant_power_cosine']:.3f})"
        )
    lines.append("  ablations: " + "; ".join(
        f"{r['variant']}: gap {r['throughput_gap_pct']:.1f} % (reward {r['reward_gap_pct']:.1f} %, repaired "
        f"{r['repaired_reward_gap_pct']:.1f} %)" for r in result["ablations"]))
    c = result.get("constrained_labels")
    if c:
        lines.append(f"  constrained labels (Algorithm 1): {c['train_feasible']}/{c['train_drops']} training and "
                     f"{c['test_feasible']}/{c['test_drops']} test drops have a feasible allocation")
    ctx = result["heuristics_on_test"]
    lines.append("  same test TTIs: " + "; ".join(
        f"{k} gap {v['throughput_gap_pct']:.1f} % = {v['throughput_gap_mbps']:.2f} Mbit/s (reward {v['reward_gap_pct']:.1f} %, "
        f"repaired {v['repaired_reward_gap_pct']:.1f} %)" for k, v in ctx.items()))
    for r in result.get("dqn", []):
        lines.append(f"DQN ({r.get('variant', r.get('config'))}, {int(r['timesteps'])} steps): reward gap {r['reward_gap_pct']:.1f} %, "
                     f"throughput gap {r['throughput_gap_pct']:.1f} % to the oracle")
    return lines


def main() -> None:
    """Command-line entry."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-dqn", action="store_true")
    ap.add_argument("--replot", action="store_true", help="redraw agents.png from ssvae_labels.csv without training")
    args = ap.parse_args()
    if args.replot:
        plot(pd.read_csv(COMMITTED_RESULTS / "ssvae_labels.csv"), COMMITTED_RESULTS / "agents.png")
        return
    result = run(quick=args.quick, with_dqn=not args.no_dqn)
    print("\n".join(summary_lines(result)))


if __name__ == "__main__":
    main()
