"""Both forecasting seeds on the real data, and DQN with and without forecast features.

Run: `python benchmarks/reproduce_forecasting.py [--quick] [--data PATH]` (the CLI's
`oran-gym forecast {qos,kpi}` runs one pipeline). Writes `benchmarks/results/forecast_kpi.csv`,
`forecast_kpi.png`, `forecast_qos.csv` (random 10-fold and duplicate-aware), `forecast_dqn.csv` and
`forecasting.json`. Trained models (with scaler, feature order and versions) go to
`benchmarks/results/.work_forecast/` (not committed: they derive from CC BY-NC data).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd
from oran_gym.benchmarks.bench_env import default_results_dir, machine_info


def _kpi_folder(data: Path) -> Path:
    return data / "operator_kpis" / "network_operator_KPIs_time_series_dataset"


def kpi_part(data: Path, quick: bool, out_dir: Path, work: Path, smoke: bool = False) -> dict[str, Any]:
    """Seed 001 pipeline on the operator KPIs."""
    from oran_gym.agents.forecasting import PAPER_KPI, plot_kpi, run_kpi_pipeline

    from oran_gym.data import load_operator_kpis

    df = load_operator_kpis(_kpi_folder(data))
    r = run_kpi_pipeline(df, epochs=1 if smoke else 3 if quick else 30, seed=0)
    r["table"].to_csv(out_dir / "forecast_kpi.csv", index=False)
    plot_kpi(r, out_dir / "forecast_kpi.png")
    r["bundle"].save(work / "kpi_bilstm.pt")
    return {"table": r["table"].to_dict(orient="records"), "split": r["split"], "epochs_run": r["history"]["epochs_run"],
            "train_time_s": r["train_time_s"], "paper": PAPER_KPI, "missing_samples": {c: int(df[f"{c}_missing"].sum()) for c in
                                                                                     ("internet", "sessions", "vpn", "downstream")}}


def _qos_splits(data: Path, progress: bool = False, **kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Seed 000 on the real table: random K-fold for every model (the proposed model in its four
    `CNN_VARIANTS` rows), and the duplicate-aware split for the regressors and our model (the split
    matters there, not the variant). `kw` goes to `run_qos_pipeline` (folds, epochs, patience)."""
    from oran_gym.agents.forecast_pipelines import CNN_VARIANTS, run_qos_pipeline
    from oran_gym.baselines.forecasting import table1_regressors

    from oran_gym.data import load_qos5g

    df = load_qos5g(data / "qos5g" / "qos5g.csv")
    regs = list(table1_regressors())
    plain = run_qos_pipeline(df, models=regs + list(CNN_VARIANTS), progress=progress, **kw)
    grouped = run_qos_pipeline(df, grouped=True, models=regs + ["CNN-BiLSTM"], progress=progress, **kw)
    return plain, grouped


def qos_part(data: Path, quick: bool, out_dir: Path, smoke: bool = False) -> dict[str, Any]:
    """Seed 000 pipeline: random 10-fold and duplicate-aware grouped folds."""
    from oran_gym.agents.forecasting import PAPER_QOS

    folds = 2 if smoke else 3 if quick else 10
    plain, grouped = _qos_splits(data, folds=folds, epochs=1 if smoke else 10 if quick else 200)
    table = pd.concat([plain["summary"].assign(split="KFold"), grouped["summary"].assign(split="GroupKFold (duplicates together)")])
    table.to_csv(out_dir / "forecast_qos.csv")
    return {"info": plain["info"], "kfold": plain["summary"].reset_index().to_dict(orient="records"),
            "grouped": grouped["summary"].reset_index().to_dict(orient="records"), "paper": PAPER_QOS, "folds": folds}


def qos_record(data: Path, out_dir: Path, epochs: int, patience: int = 15, folds: int = 10, progress: bool = False) -> dict[str, Any]:
    """Seed 000's record in `out_dir/forecast_qos/` (`_qos_splits`). `epochs` caps the CNN training
    (early stopping decides below it); the cap is recorded with the command."""
    import sys

    t0 = time.perf_counter()
    plain, grouped = _qos_splits(data, progress=progress, folds=folds, epochs=epochs, patience=patience)
    folder = out_dir / "forecast_qos"
    folder.mkdir(parents=True, exist_ok=True)
    plain["summary"].to_csv(folder / "forecast_qos_kfold.csv")
    grouped["summary"].to_csv(folder / "forecast_qos_grouped.csv")
    plain["per_fold"].to_csv(folder / "forecast_qos_kfold_per_fold.csv", index=False)
    res = {"command": "python benchmarks/reproduce_forecasting.py " + " ".join(sys.argv[1:]), "machine": machine_info(),
           "cnn_max_epochs": epochs, "patience": patience, "folds": folds, "info": plain["info"],
           "kfold": plain["summary"].reset_index().to_dict(orient="records"),
           "grouped": grouped["summary"].reset_index().to_dict(orient="records"), "wall_s": time.perf_counter() - t0}
    (folder / "forecast_qos.json").write_text(json.dumps(res, indent=2, default=str) + "\n")
    return res


def dqn_with_forecasts(data: Path, quick: bool, work: Path, smoke: bool = False) -> pd.DataFrame:
    """DQN (paper config) on the trace-driven paper scenario, with and without ForecastObservation."""
    import gymnasium as gym
    from oran_gym.agents.dqn import PAPER_CONFIG, make_dqn
    from oran_gym.agents.forecasting import KPIForecasterBundle, QoSRegressorBundle

    from oran_gym.data import load_qos5g
    from oran_gym.evaluation import evaluate_policy
    from oran_gym.wrappers import ForecastObservation

    kpi = KPIForecasterBundle.load(work / "kpi_bilstm.pt")
    qos = QoSRegressorBundle.fit(load_qos5g(data / "qos5g" / "qos5g.csv"), epochs=1 if smoke else 20 if quick else 100)
    qos.save(work / "qos_cnn_bilstm.pt")
    trace = str(_kpi_folder(data))
    steps = 100 if smoke else 2500 if quick else PAPER_CONFIG["episodes"] * PAPER_CONFIG["steps_per_episode"]
    seeds = [0] if quick or smoke else [0, 1, 2]
    rows = []
    for variant in ("without forecasts", "with forecasts"):
        for seed in seeds:
            def make(episode_ttis: int, variant: str = variant):
                env = gym.make("ORANSlicing-v0", config="paper", traffic_trace=trace, invalid_action="idle", episode_length_tti=episode_ttis)
                return ForecastObservation(env, kpi, qos) if variant == "with forecasts" else env

            model = make_dqn(make(2), "paper", seed=seed)
            model.learn(total_timesteps=steps)
            res = evaluate_policy(model, make(1 if smoke else 10), n_episodes=1 if smoke else 3 if quick else 10, seed=30_000)
            per_ep = res.per_tti.groupby("episode")["reward"].mean()
            rows.append({"variant": variant, "seed": seed, "timesteps": steps, "mean_tti_reward": float(per_ep.mean()),
                         "objective_mbps": float(res.per_tti["objective_mbps"].mean()),
                         "qos_violations": float(res.per_tti["qos_violations"].mean())})
    return pd.DataFrame(rows)


def _shown(path: Path) -> str:
    """`path` relative to the current directory where it lies below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def run(quick: bool = False, data: Path | None = None, out_dir: Path | None = None, with_dqn: bool = True,
        with_qos: bool = True, smoke: bool = False, progress: bool = False) -> dict[str, Any]:
    """All parts; `data` defaults to `oran_gym.data.data_dir()`."""
    import torch

    from oran_gym.data import data_dir

    torch.set_num_threads(1)
    data = Path(data) if data else data_dir()
    if data is None:
        raise FileNotFoundError("real data not found: set ORAN_GYM_DATA or place ../shared/data beside the checkout")
    out_dir = out_dir or default_results_dir()
    work = out_dir / (".work_forecast_smoke" if smoke else ".work_forecast")
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    size = " --smoke" if smoke else " --quick" if quick else ""
    where = "" if out_dir == default_results_dir() else f" --out-dir {_shown(out_dir)}"
    result: dict[str, Any] = {"command": "python benchmarks/reproduce_forecasting.py" + size + ("" if with_qos else " --no-qos") + where,
                              "machine": machine_info(), "kpi": kpi_part(data, quick, out_dir, work, smoke)}
    if with_qos:
        result["qos"] = qos_part(data, quick, out_dir, smoke)
    if with_dqn:
        dqn = dqn_with_forecasts(data, quick, work, smoke)
        dqn.to_csv(out_dir / "forecast_dqn.csv", index=False)
        from oran_gym.evaluation import ci95_half_width

        summary = []
        for variant, g in dqn.groupby("variant", sort=False):
            x = g["mean_tti_reward"]
            summary.append({"variant": variant, "mean_tti_reward": float(x.mean()), "ci95": ci95_half_width(x), "seeds": len(x)})
        result["dqn"] = summary
    result["wall_s"] = time.perf_counter() - t0
    (out_dir / "forecasting.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    return result


def paper_ref(paper: dict[str, Any], metric: str, method: str) -> str:
    """` (value)` where the paper gives `metric` for `method` (`PAPER_KPI`'s shape), else ``."""
    v = paper.get(metric, {}).get(method)
    return f" ({v})" if v is not None else ""


def kpi_lines(kpi: dict[str, Any]) -> list[str]:
    """The seed-001 table beside the paper's numbers (in brackets where the paper gives one)."""
    def ref(metric: str, method: str) -> str:
        return paper_ref(kpi["paper"], metric, method)

    lines = [f"Digital twin (seed 001), test set of {kpi['split']['test']} windows; the paper's numbers in brackets:"]
    for r in kpi["table"]:
        lines.append(
            f"  {r['method']:<24} MAE {r['MAE']:7.1f}{ref('MAE', r['method'])}  RMSE {r['RMSE']:7.1f}{ref('RMSE', r['method'])}  "
            f"SLA compliance {r['sla_compliance']:.3f}  efficiency median {r['efficiency_median']:.3f}"
            f"{ref('efficiency_median', r['method'])} mean {r['efficiency_mean']:.3f}  wastage {r['wastage_mean']:.3f}  "
            f"over-provisioning {r['over_provisioning_mean']:6.1f}"
        )
    return lines


def qos_lines(qos: dict[str, Any]) -> list[str]:
    """The seed-000 tables beside the paper's numbers."""
    p = qos["paper"]
    lines = [f"CNN-BiLSTM regressor (seed 000), {qos['folds']}-fold, rows {qos['info']['rows_after_outliers']} after IQR "
             f"(duplicate feature rows {qos['info']['duplicate_feature_rows']}); paper: proposed MAE {p['MAE']} RMSE {p['RMSE']} "
             f"R2 {p['R2']}, HGBR R2 {p['HGBR R2']}"]
    for name, rows in (("random KFold", qos["kfold"]), ("duplicate-aware GroupKFold", qos["grouped"])):
        lines.append(f"  {name}:")
        for r in rows:
            best = f"  best fold {r['R2_max']:.4f}" if "R2_max" in r else ""
            lines.append(f"    {r['model']:<11} MAE {r['MAE_mean']:.4f}  RMSE {r['RMSE_mean']:.4f}  R2 {r['R2_mean']:.4f} +- {r['R2_std']:.4f}"
                         f"{best}  EVS {r['EVS_mean']:.4f}")
    return lines


def dqn_line(r: dict[str, Any]) -> str:
    """One DQN row of the result as a sentence: the mean TTI reward with its 95 % half-width, or
    without one from a single seed (no interval can be estimated from one)."""
    spread = f" +- {r['ci95']:.2f} ({r['seeds']} seeds)" if r["seeds"] > 1 else " (1 seed: no interval)"
    return f"DQN on trace-driven traffic, {r['variant']}: mean TTI reward {r['mean_tti_reward']:.2f}{spread}"


def summary_lines(result: dict[str, Any]) -> list[str]:
    """Human-readable lines."""
    lines = kpi_lines(result["kpi"]) + (qos_lines(result["qos"]) if "qos" in result else [])
    lines += [dqn_line(r) for r in result.get("dqn", [])]
    return lines


def main() -> None:
    """Command-line entry."""
    import sys

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--no-dqn", action="store_true")
    ap.add_argument("--no-qos", action="store_true", help="skip seed 000 (oran-gym forecast qos runs it alone)")
    ap.add_argument("--out-dir", type=Path, default=None, help="results folder (default ./oran-gym-results; "
                    "benchmarks/results regenerates the committed record)")
    ap.add_argument("--qos-record", action="store_true",
                    help="only seed 000's record (every model, both protocols) under OUT_DIR/forecast_qos/")
    ap.add_argument("--qos-epochs", type=int, default=200, help="cap on the CNN-BiLSTM's epochs in --qos-record")
    args = ap.parse_args()
    if args.qos_record:
        from oran_gym.agents.forecasting import PAPER_QOS

        from oran_gym.data import data_dir

        res = qos_record(args.data or data_dir(), args.out_dir or default_results_dir(), args.qos_epochs, progress=sys.stderr.isatty())
        print("\n".join(qos_lines({**res, "paper": PAPER_QOS})))
        return
    print("\n".join(summary_lines(run(quick=args.quick, data=args.data, with_dqn=not args.no_dqn, with_qos=not args.no_qos,
                                       out_dir=args.out_dir))))


if __name__ == "__main__":
    main()
