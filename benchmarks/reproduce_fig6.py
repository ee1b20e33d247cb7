"""Fig. 6c-6f of the O-RAN paper: aggregated throughput of the oracle, SS-VAE, DQN and the best heuristic.

Run: `python benchmarks/reproduce_fig6.py [--quick]` (or `oran-gym bench --only figures`). For every
scenario point the SS-VAE is trained on MILP labels of that scenario and the DQN (paper
configuration, and the tuned one when `agents/configs/dqn_tuned.json` exists) on its env; then
every policy is scored on the same evaluation TTIs (fixed seeds, disjoint from training), with 95 %
confidence intervals across evaluation episodes.

* 6c: aggregated throughput vs UEs per service;
* 6d: aggregated throughput vs UEs per service for several RU power limits;
* 6e: per-slice weighted throughput vs RU power limit;
* 6f: per-slice weighted throughput vs the slices' per-PRB power limit.

Writes `benchmarks/results/fig6.csv`, `fig6.json` and `fig6.png`, and checks the paper's ordering
(oracle > SS-VAE > DQN) at every point.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd
from oran_gym.benchmarks.bench_env import default_results_dir, machine_info
from oran_gym.benchmarks.reproduce_agents import Checkpoint, unlabelled_drops


def grid(quick: bool, smoke: bool = False) -> list[tuple[str, float, dict[str, Any]]]:
    """(figure, x value, scenario overrides) of every point."""
    if smoke:
        return [("6c", 5, {"num_embb_ues": 5, "num_urllc_ues": 5})]
    ues = [5, 10, 20] if quick else [5, 10, 15, 20, 25, 30, 35, 40]
    points: list[tuple[str, float, dict[str, Any]]] = [("6c", n, {"num_embb_ues": n, "num_urllc_ues": n}) for n in ues]
    for p_dbm in ([34.0] if quick else [34.0, 37.0, 43.0]):  # 40 dBm is 6c itself
        for n in ([5, 10] if quick else [5, 10, 20, 30, 40]):
            points.append((f"6d@{p_dbm:g}dBm", n, {"num_embb_ues": n, "num_urllc_ues": n, "ru_max_power_dbm": p_dbm}))
    for p_dbm in ([30.0, 36.0] if quick else [28.0, 31.0, 34.0, 37.0, 40.0, 43.0]):
        points.append(("6e", p_dbm, {"ru_max_power_dbm": p_dbm}))
    for p_dbm in ([24.0, 27.0] if quick else [21.0, 24.0, 27.0, 30.0, 33.0]):
        points.append(("6f", p_dbm, {"embb_max_prb_power_dbm": p_dbm, "urllc_max_prb_power_dbm": p_dbm}))
    return points


def dqn_fingerprints(dqn_configs: list[str] | None) -> dict[str, str]:
    """Content hashes of the DQN configurations a point trains (a re-tuned config makes points stale)."""
    from oran_gym.agents.dqn import available_configs, config_fingerprint

    return {c: config_fingerprint(c) for c in dqn_configs or available_configs()}


def score_point(cfg, labels: int, epochs: int, dqn_steps: int | None, eval_episodes: int, eval_ttis: int, work: Path,
                progress: bool, dqn_configs: list[str] | None = None,
                label_workers: int | None = None) -> list[dict[str, Any]]:
    """Train SS-VAE and DQN for `cfg`; evaluate them, both oracles and the slice-aware heuristic.

    `oracle` maximises the reward (22), `oracle_constrained` the paper's Algorithm 1 (eq. 10 with
    every constraint hard); a TTI with no feasible allocation leaves it idle, and its row's
    `infeasible_tti_share` says how many did.
    """
    import gymnasium as gym
    import torch
    from oran_gym.agents.dqn import available_configs, train_dqn
    from oran_gym.agents.ssvae import SSVAEConfig, SSVAEPolicy, train_ssvae
    from oran_gym.baselines import MILPOracle, OraclePolicy, make_policy
    from oran_gym.baselines.dataset import generate_dataset, load_dataset

    from oran_gym.evaluation import ci95_half_width as ci
    from oran_gym.evaluation import evaluate_policy

    torch.set_num_threads(1)
    key = hashlib.sha1(json.dumps(cfg.to_dict(), sort_keys=True).encode()).hexdigest()[:12]
    data = load_dataset(generate_dataset(cfg, labels, work / f"labels_{key}.npz", seed=0, progress=False,
                                         workers=label_workers))
    model, _ = train_ssvae(cfg, data, unlabelled_drops(cfg, 7, 2 * labels), SSVAEConfig(epochs=epochs))
    eval_cfg = cfg.replace(episode_length_tti=eval_ttis)
    full_env = gym.make("ORANSlicing-v0", config=eval_cfg, action_mode="full")
    prb_env = gym.make("ORANSlicing-v0", config=eval_cfg, action_mode="prb", invalid_action="idle")
    policies: dict[str, tuple[Any, Any]] = {
        "oracle": (make_policy("oracle", full_env), full_env),
        "oracle_constrained": (OraclePolicy(full_env, MILPOracle(objective="constrained")), full_env),
        "ssvae": (SSVAEPolicy(full_env, model), full_env),
        "slice_aware": (make_policy("slice_aware", full_env), full_env),
    }
    if dqn_configs is None:
        dqn_configs = available_configs()
    for conf in dqn_configs:
        dqn, _ = train_dqn(cfg, conf, seed=0, total_timesteps=dqn_steps, tensorboard=False)
        policies[f"dqn_{conf}"] = (dqn, prb_env)
    rows = []
    for name, (policy, env) in policies.items():
        res = evaluate_policy(policy, env, n_episodes=eval_episodes, seed=20_000, policy_name=name)
        per_ep = res.per_tti.groupby("episode").mean(numeric_only=True)
        embb_w = per_ep["embb_throughput_mbps"] * cfg.embb_weight
        urllc_w = per_ep["urllc_throughput_mbps"] * cfg.urllc_weight
        agg = per_ep["embb_throughput_mbps"] + per_ep["urllc_throughput_mbps"]
        rows.append({
            "policy": name,
            "aggregated_throughput_mbps": float(agg.mean()), "aggregated_throughput_ci95": ci(agg),
            "embb_weighted_mbps": float(embb_w.mean()), "embb_weighted_ci95": ci(embb_w),
            "urllc_weighted_mbps": float(urllc_w.mean()), "urllc_weighted_ci95": ci(urllc_w),
            "reward": float(per_ep["reward"].mean()), "reward_ci95": ci(per_ep["reward"]),
            "qos_violations": float(per_ep["qos_violations"].mean()),
            "infeasible_tti_share": (policy.infeasible_ttis / max(policy.planned_ttis, 1)
                                     if isinstance(policy, OraclePolicy) else 0.0),
        })
    return rows


def _previous(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def ordering(df: pd.DataFrame) -> pd.DataFrame:
    """Per point: does oracle > SS-VAE > DQN hold in aggregated throughput and in reward?

    The first two flag columns compare with the paper-configuration DQN (the paper's claim); when
    the tuned DQN ran, two more compare with it.
    """
    out = []
    for (fig, x), g in df.groupby(["figure", "x"], sort=False):
        v = g.set_index("policy")
        row = {"figure": fig, "x": x}
        for dqn, suffix in (("dqn_paper", ""), ("dqn_tuned", "_tuned")):
            if dqn not in v.index:
                continue
            for metric in ("aggregated_throughput_mbps", "reward"):
                o, s, d = v.loc["oracle", metric], v.loc["ssvae", metric], v.loc[dqn, metric]
                row[f"{metric}: oracle>ssvae>dqn{suffix}"] = bool(o >= s > d)
        out.append(row)
    return pd.DataFrame(out)


def plot(df: pd.DataFrame, path: Path) -> None:
    """Four panels like the paper's 6c-6f."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(17, 4), dpi=100)
    axes = fig.subplots(1, 4)
    styles = {"oracle": ("k", "o"), "oracle_constrained": ("C5", "x"), "ssvae": ("C0", "s"), "dqn_paper": ("C3", "^"), "dqn_tuned": ("C1", "v"), "slice_aware": ("C2", "d")}
    c = df[df["figure"] == "6c"]
    for name, g in c.groupby("policy", sort=False):
        colour, marker = styles.get(name, ("C7", "."))
        axes[0].errorbar(g["x"], g["aggregated_throughput_mbps"], yerr=g["aggregated_throughput_ci95"], color=colour, marker=marker,
                         label=name)
    axes[0].set(xlabel="UEs per service", ylabel="aggregated throughput (Mbit/s)", title="6c")
    for k, (fig_name, g) in enumerate(df[df["figure"].str.startswith("6d") | (df["figure"] == "6c")].groupby("figure", sort=False)):
        label = "40dBm" if fig_name == "6c" else fig_name.split("@")[1]
        for name, ls in (("oracle", "-"), ("ssvae", "--")):
            h = g[g["policy"] == name]
            axes[1].plot(h["x"], h["aggregated_throughput_mbps"], ls=ls, marker="o", color=f"C{k}", label=f"{name}, P_RU {label}")
    axes[1].set(xlabel="UEs per service", ylabel="aggregated throughput (Mbit/s)", title="6d")
    for ax, fig_name, xlabel in ((axes[2], "6e", "RU power limit (dBm)"), (axes[3], "6f", "per-PRB slice power limit (dBm)")):
        d = df[df["figure"] == fig_name]
        for name, g in d.groupby("policy", sort=False):
            colour, marker = styles.get(name, ("C7", "."))
            ax.errorbar(g["x"], g["embb_weighted_mbps"], yerr=g["embb_weighted_ci95"], color=colour, marker=marker, label=f"{name} eMBB")
            ax.plot(g["x"], g["urllc_weighted_mbps"], color=colour, marker=marker, ls=":", alpha=0.6, label=f"{name} URLLC")
        if "infeasible_tti_share" in d:
            bad = d[(d["policy"] == "oracle_constrained") & (d["infeasible_tti_share"] > 0)]
            for _, r in bad.iterrows():  # Algorithm 1 has no feasible allocation on these TTIs
                ax.annotate(f"{100 * r['infeasible_tti_share']:.0f} % infeasible", (r["x"], r["embb_weighted_mbps"]), fontsize=6,
                            rotation=60, color="C5")
        ax.set(xlabel=xlabel, ylabel="weighted throughput (Mbit/s)", title=fig_name)
    for ax in axes:
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path)


def run(quick: bool = False, progress: bool = True, out_dir: Path | None = None, points: list | None = None,
        labels: int | None = None, epochs: int = 40, dqn_steps: int | None = None, eval_episodes: int | None = None,
        eval_ttis: int | None = None, dqn_configs: list[str] | None = None, smoke: bool = False,
        command: str | None = None, finished_only: bool = False, figures: list[str] | None = None,
        workers: int = 1) -> dict[str, Any]:
    """Run the sweep; parameters override the quick/full sizes (the tests shrink them).

    `figures` keeps the points of those figures only (`["6c", "6e"]`; `"6d"` matches every RU power
    of 6d); `workers` scores that many points at once, one process each (results do not depend on it).
    """
    from tqdm import tqdm

    from oran_gym import ScenarioConfig

    out_dir = out_dir or default_results_dir()
    work = out_dir / (".work_fig6_smoke" if smoke else ".work_fig6")
    work.mkdir(parents=True, exist_ok=True)
    points = points or grid(quick, smoke)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if figures:
        names = sorted({f.split("@")[0] for f, _, _ in points})
        unknown = [f for f in figures if f not in names]
        if unknown:
            raise ValueError(f"figures {unknown} are not in the grid; choose from {names}")
        points = [p for p in points if p[0].split("@")[0] in figures]
    if smoke:
        labels, epochs, dqn_steps, eval_episodes, eval_ttis = labels or 30, 2, dqn_steps or 100, eval_episodes or 1, eval_ttis or 1
    labels = labels or (300 if quick else 2000)
    if dqn_steps is None and quick:
        dqn_steps = 5000  # both DQN configurations; full runs use each configuration's own budget
    eval_episodes = eval_episodes or (5 if quick else 10)
    eval_ttis = eval_ttis or (3 if quick else 10)
    base = ScenarioConfig.preset("paper")
    rows = []
    t0 = time.perf_counter()
    # finished points, one JSON line each, keyed by everything that defines them: a stopped sweep resumes
    sizes = {"labels": labels, "epochs": epochs, "dqn_steps": dqn_steps, "eval_episodes": eval_episodes, "eval_ttis": eval_ttis,
             "dqn_configs": dqn_configs, "dqn_config_sha": dqn_fingerprints(dqn_configs)}
    done = Checkpoint(work / "points.jsonl")
    keyed = []
    for fig_name, x, overrides in points:
        cfg = base.replace(**overrides)
        key = hashlib.sha1(json.dumps({"cfg": cfg.to_dict(), **sizes}, sort_keys=True, default=str).encode()).hexdigest()[:16]
        keyed.append((fig_name, x, overrides, cfg, key))
    # points not on disk yet (none with finished_only: the figures come from the points already run)
    todo = [(key, cfg) for *_, cfg, key in keyed if not finished_only and done.get(key=key) is None]
    args = (labels, epochs, dqn_steps, eval_episodes, eval_ttis, work)
    if workers > 1 and len(todo) > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        from oran_gym.baselines.dataset import die_with_parent

        # one point per process, labelling included; this process alone writes the checkpoint; a
        # killed run takes its workers with it
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"), initializer=die_with_parent) as pool:
            futures = {pool.submit(score_point, cfg, *args, False, dqn_configs, 1): key for key, cfg in todo}
            for fut in tqdm(as_completed(futures), total=len(futures), desc="Fig. 6 points", disable=not progress):
                done.add({"key": futures[fut], "rows": fut.result()})
    else:
        for key, cfg in tqdm(todo, desc="Fig. 6 points", disable=not progress):
            done.add({"key": key, "rows": score_point(cfg, *args, progress, dqn_configs)})
    for fig_name, x, overrides, _, key in keyed:
        hit = done.get(key=key)
        for r in hit["rows"] if hit else []:
            rows.append({"figure": fig_name, "x": x, **overrides, **r})
    df = pd.DataFrame(rows)
    order = ordering(df)
    df.to_csv(out_dir / "fig6.csv", index=False)
    order.to_csv(out_dir / "fig6_ordering.csv", index=False)
    plot(df, out_dir / "fig6.png")
    command = command or "oran-gym bench --only figures" + (" --smoke" if smoke else " --quick" if quick else " --full")
    wall_s: float | None = time.perf_counter() - t0
    if finished_only:  # the numbers come from the run that computed the points: name it, keep its time
        command = command.replace(" --finished-only", "")
        previous = _previous(out_dir / "fig6.json")
        wall_s = previous.get("wall_s") if previous.get("command") == command else None
    result = {
        "command": command, "machine": machine_info(), "wall_s": wall_s,
        "labels_per_point": labels, "ssvae_epochs": epochs, "eval_episodes": eval_episodes, "eval_ttis": eval_ttis,
        "dqn_steps": dqn_steps or "each configuration's budget",
        "points": int(df[["figure", "x"]].drop_duplicates().shape[0]) if len(df) else 0, "grid_points": len(points),
        "ordering_holds_throughput": f"{int(order.iloc[:, 2].sum())}/{len(order)}",
        "ordering_holds_reward": f"{int(order.iloc[:, 3].sum())}/{len(order)}",
        **({"ordering_tuned_holds_throughput": f"{int(order.iloc[:, 4].sum())}/{len(order)}",
            "ordering_tuned_holds_reward": f"{int(order.iloc[:, 5].sum())}/{len(order)}"} if order.shape[1] > 4 else {}),
        "rows": df.to_dict(orient="records"),
    }
    (out_dir / "fig6.json").write_text(json.dumps(result, indent=2, default=float) + "\n")
    return result


def summary_lines(result: dict[str, Any]) -> list[str]:
    """Human-readable lines."""
    df = pd.DataFrame(result["rows"])
    lines = [f"Fig. 6 sweep: {result['points']} scenario points, {result['labels_per_point']} labels each, "
             f"{result['eval_episodes']} x {result['eval_ttis']} evaluation TTIs; paper ordering oracle > SS-VAE > DQN holds at "
             f"{result['ordering_holds_throughput']} points in aggregated throughput and {result['ordering_holds_reward']} in reward"]
    c = df[df["figure"] == "6c"].pivot_table(index="x", columns="policy", values="aggregated_throughput_mbps")
    lines.append("6c aggregated throughput (Mbit/s) vs UEs per service:\n" + c.round(2).to_string())
    if "infeasible_tti_share" in df:
        oc = df[df["policy"] == "oracle_constrained"]
        share = ", ".join(f"{f} x={x:g}: {100 * v:.0f} %" for f, x, v in zip(oc["figure"], oc["x"], oc["infeasible_tti_share"]) if v > 0)
        lines.append("Algorithm 1 (oracle_constrained) has no feasible allocation on: " + (share or "no evaluation TTI"))
    return lines


def main() -> None:
    """Command-line entry."""
    import sys

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="the quick sizes (9 points, 300 labels, DQN 5000 steps)")
    ap.add_argument("--grid", choices=["quick", "full"], default=None,
                    help="which scenario points (default: that of --quick or the full run); e.g. the full grid at quick sizes")
    ap.add_argument("--labels", type=int, default=None, help="labelled samples per point")
    ap.add_argument("--dqn-steps", type=int, default=None, help="DQN training steps (default: each configuration's budget)")
    ap.add_argument("--eval-episodes", type=int, default=None)
    ap.add_argument("--eval-ttis", type=int, default=None)
    ap.add_argument("--out-dir", type=Path, default=None)
    ap.add_argument("--figures", nargs="+", default=None, help="only these figures' points, e.g. --figures 6c 6e")
    ap.add_argument("--workers", type=int, default=1, help="points scored at once, one process each")
    ap.add_argument("--finished-only", action="store_true",
                    help="write fig6.* from the points a stopped run already finished (the JSON says how many)")
    args = ap.parse_args()
    points = grid(args.grid == "quick") if args.grid else None
    command = "python benchmarks/reproduce_fig6.py " + " ".join(sys.argv[1:])
    print("\n".join(summary_lines(run(quick=args.quick, points=points, labels=args.labels, dqn_steps=args.dqn_steps,
                                       eval_episodes=args.eval_episodes, eval_ttis=args.eval_ttis, out_dir=args.out_dir,
                                       command=command, finished_only=args.finished_only, figures=args.figures,
                                       workers=args.workers))))


if __name__ == "__main__":
    main()
