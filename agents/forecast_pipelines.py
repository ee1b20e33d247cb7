"""The forecasting pipelines on the real data (seed 001 KPIs, seed 000 QoS table), their saved bundles and the Optuna search."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:
    import torch
except ImportError as exc:  # pragma: no cover
    raise ImportError('oran_gym.agents.forecast_pipelines needs torch: pip install torch==2.13.0 && pip install "oran-gym[agents]"') from exc

from oran_gym.agents.forecast_models import BILSTM_NORMS, BiLSTMForecaster, CNNBiLSTMRegressor, KerasCNNBiLSTMRegressor
from oran_gym.agents.forecast_training import chronological_split, fit_torch_regressor, load_verified, make_windows, predict
from oran_gym.baselines.forecasting import (
    allocation_metrics,
    allocation_summary,
    naive_forecast,
    regression_metrics,
    rolling_conformal_margins,
    static_provisioning,
    table1_regressors,
)

from oran_gym.artefacts import write_manifest

KPI_FEATURES = ["internet", "sessions", "vpn", "downstream"]


QOS_FEATURES = ["Application_Type", "Signal_Strength", "Latency", "Required_Bandwidth", "Allocated_Bandwidth"]


QOS_TARGET = "Resource_Allocation"


PAPER_QOS = {"MAE": 0.0087, "MSE": 0.0003, "RMSE": 0.0161, "MSLE": 0.0001, "MAPE": 0.0194, "R2": 0.9964, "EVS": 0.9966,
             "HGBR R2": 0.9920}


PAPER_KPI = {"MAE": {"bilstm": "~25 (Fig. 2)"}, "RMSE": {"bilstm": "~40 (Fig. 2)"},
             "efficiency_median": {"bilstm": 0.987, "mu+2sigma": 0.474, "p95": 0.543},
             "over_provisioning_mean": {"mu+2sigma": "> 450", "p95": "> 350"}}


class KPIForecasterBundle:
    """A trained BiLSTM with its scaler, feature order, window and versions; saves and loads itself."""

    def __init__(self, model: BiLSTMForecaster, lo: np.ndarray, hi: np.ndarray, features: list[str], window: int) -> None:
        """`lo`/`hi`: the training min and max of each feature (MinMax scaling)."""
        self.model, self.lo, self.hi, self.features, self.window = model, np.asarray(lo), np.asarray(hi), list(features), window

    def scale(self, values: np.ndarray) -> np.ndarray:
        """MinMax-scale raw KPI values `[..., F]`."""
        return (values - self.lo) / (self.hi - self.lo)

    def predict_next(self, windows: np.ndarray) -> np.ndarray:
        """Raw windows `[N, window, F]` (KPI units) -> next value of the first feature (KPI units)."""
        y = predict(self.model, self.scale(np.asarray(windows, dtype=np.float64)).astype(np.float32))
        return y * (self.hi[0] - self.lo[0]) + self.lo[0]

    def save(self, path: str | Path) -> Path:
        """Weights, scaler, feature order, window and versions in one file."""
        import oran_gym

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        units = tuple(lstm.hidden_size for lstm in self.model.lstms)
        torch.save({"state_dict": self.model.state_dict(), "lo": self.lo, "hi": self.hi, "features": self.features,
                    "window": self.window, "units": units, "norm": self.model.norm_kind,
                    "versions": {"oran_gym": oran_gym.__version__, "torch": torch.__version__}}, path)
        write_manifest(path, "kpi_forecaster", {"features": list(self.features), "window": self.window, "units": list(units)})
        return path

    @classmethod
    def load(cls, path: str | Path) -> KPIForecasterBundle:
        """Inverse of `save`; the file is checked against its manifest first (`oran_gym.artefacts.verify`)."""
        blob = load_verified(path, "kpi_forecaster", ("state_dict", "features", "units", "lo", "hi", "window"))
        # bundles from before issue 16 carry no "norm": they were trained with the BatchNorm layer
        model = BiLSTMForecaster(len(blob["features"]), units=tuple(blob["units"]), norm=blob.get("norm", "batch"))
        model.load_state_dict(blob["state_dict"])
        model.eval()
        return cls(model, blob["lo"], blob["hi"], blob["features"], blob["window"])


MIN_KPI_WINDOWS = 50
"""Fewest input windows the KPI pipeline accepts (10 test windows after the 80/20 split in time)."""
MIN_QOS_ROWS = 20
"""Fewest rows (after outlier removal) the QoS pipeline accepts."""


def _check_int(name: str, value: Any, lo: int, why: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        reason = f" ({why})" if why else ""
        raise ValueError(f"{name} must be an integer >= {lo}{reason}, got {value!r}")


SEASON_SAMPLES = 288
"""One day of 5-minute samples: the seasonal-naive forecast's lag."""


def run_kpi_pipeline(df: pd.DataFrame, *, window: int = 10, epochs: int = 30, patience: int = 5, batch_size: int = 32,
                     lr: float = 1e-4, seed: int = 0, units: tuple[int, ...] = (128, 128, 64), max_samples: int | None = None,
                     norm: str = "none", sla: float = 0.95, extra_models: bool = True) -> dict[str, Any]:
    """Seed 001 end to end on a KPI frame (from `load_operator_kpis`); returns tables and the bundle.

    Rows of the table (MAE, RMSE, efficiency, wastage, utilisation, over-provisioning, SLA
    compliance on the test windows):
    - `bilstm`: the paper's BiLSTM with `norm` (default "none", see `BiLSTMForecaster`);
    - `persistence` (the last value) and `seasonal naive` (the value a day earlier; left out when
      the test windows do not have a day of history);
    - `mu+2sigma` and `p95`: the paper's static baselines;
    - with `extra_models`: `bilstm (paper BatchNorm)`, the paper-literal layer, and `bilstm-q95`, a
      quantile BiLSTM trained with the pinball loss at `sla` whose forecast is raised by a rolling
      conformal margin (the `sla` quantile of its last day of observed errors, starting from the
      validation windows), so that it provisions at the chosen SLA. A single margin fitted on the
      validation windows covered only 79 % of the test windows: the errors drift over the weeks.
    """
    _check_int("window", window, 1)
    _check_int("epochs", epochs, 1)
    if norm not in BILSTM_NORMS:
        raise ValueError(f"norm must be one of {BILSTM_NORMS}, got {norm!r}")
    if not 0.0 < sla < 1.0:
        raise ValueError(f"sla must lie in (0, 1), got {sla!r}")
    missing = [c for c in KPI_FEATURES if c not in df]
    if missing:
        raise ValueError(f"the KPI frame lacks the columns {missing}; it needs {list(KPI_FEATURES)} (from load_operator_kpis)")
    data = df[KPI_FEATURES].to_numpy(dtype=np.float64)
    if max_samples:
        data = data[:max_samples]
    n_windows = len(data) - window
    if n_windows < MIN_KPI_WINDOWS:
        raise ValueError(
            f"the KPI frame has {len(data)} samples: {max(n_windows, 0)} windows of {window}, fewer than the "
            f"{MIN_KPI_WINDOWS} a train/validation/test split in time needs"
        )
    tr, va, te = chronological_split(n_windows)
    # scaler fitted on the samples the training windows see (inputs and targets): no look-ahead
    fit_rows = data[: tr.stop + window]
    lo, hi = fit_rows.min(axis=0), fit_rows.max(axis=0)
    hi = np.where(hi > lo, hi, lo + 1.0)
    scaled = (data - lo) / (hi - lo)
    x, y, target_idx = make_windows(scaled, scaled[:, 0], window)

    def unscale(v: np.ndarray) -> np.ndarray:
        return v * (hi[0] - lo[0]) + lo[0]

    def train(model_norm: str, **loss_kw: Any) -> tuple[BiLSTMForecaster, dict[str, Any], float]:
        torch.manual_seed(seed)  # initial weights: seeded before the model is built
        net = BiLSTMForecaster(len(KPI_FEATURES), units=units, norm=model_norm)
        t0 = time.perf_counter()
        hist = fit_torch_regressor(net, x[tr], y[tr], x[va], y[va], epochs=epochs, batch_size=batch_size, optimizer="adam", lr=lr,
                                   patience=patience, seed=seed, scheduler=True, **loss_kw)
        return net, hist, time.perf_counter() - t0

    model, hist, train_s = train(norm)
    bundle = KPIForecasterBundle(model, lo, hi, KPI_FEATURES, window)
    actual = data[target_idx[te], 0]
    y_train_raw = data[target_idx[tr], 0]
    preds = {"bilstm": unscale(predict(model, x[te].astype(np.float32))),
             "persistence": naive_forecast(data[:, 0], target_idx[te], 1)}
    if target_idx[te][0] >= SEASON_SAMPLES:
        preds["seasonal naive"] = naive_forecast(data[:, 0], target_idx[te], SEASON_SAMPLES)
    histories = {"bilstm": hist}
    if extra_models:
        if norm != "batch":
            bn, histories["bilstm (paper BatchNorm)"], _ = train("batch")
            preds["bilstm (paper BatchNorm)"] = unscale(predict(bn, x[te].astype(np.float32)))
        qnet, histories[f"bilstm-q{sla * 100:g}"], _ = train(norm, loss="pinball", quantile=sla)
        q_val, q_test = (unscale(predict(qnet, x[s].astype(np.float32))) for s in (va, te))
        margins = rolling_conformal_margins(data[target_idx[va], 0] - q_val, actual - q_test, sla, SEASON_SAMPLES)
        preds[f"bilstm-q{sla * 100:g}"] = q_test + margins
    preds["mu+2sigma"] = np.full(actual.shape, static_provisioning(y_train_raw, "mu+2sigma"))
    preds["p95"] = np.full(actual.shape, static_provisioning(y_train_raw, "p95"))
    # an allocation must be > 0 for efficiency and utilisation: forecasts at or below zero provision a sliver
    preds = {name: np.clip(p, 1e-9, None) for name, p in preds.items()}
    rows, per_sample = [], {}
    for name, p in preds.items():
        alloc = allocation_metrics(actual, p)
        per_sample[name] = alloc
        reg = regression_metrics(actual, p)
        rows.append({"method": name, "MAE": reg["MAE"], "RMSE": reg["RMSE"], **allocation_summary(alloc)})
    return {"table": pd.DataFrame(rows), "per_sample": per_sample, "bundle": bundle, "history": hist, "histories": histories,
            "train_time_s": train_s, "split": {"train": tr.stop - tr.start, "val": va.stop - va.start, "test": te.stop - te.start},
            "actual": actual, "predictions": preds, "sla": sla}


def preprocess_qos(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The paper's preprocessing: ordinal-encode Application_Type, drop Timestamp and User_ID, remove
    Latency outliers (1.5 IQR), MinMax-scale features and target (on the whole table, as the paper
    does before its K-fold split). Returns `(X [N, 5], y [N], info)`."""
    from sklearn.preprocessing import MinMaxScaler, OrdinalEncoder

    data = df.drop(columns=[c for c in ("Timestamp", "User_ID") if c in df]).copy()
    q1, q3 = data["Latency"].quantile([0.25, 0.75])
    iqr = q3 - q1
    keep = data["Latency"].between(q1 - 1.5 * iqr, q3 + 1.5 * iqr)
    data = data[keep].reset_index(drop=True)
    encoder = OrdinalEncoder()
    data["Application_Type"] = encoder.fit_transform(data[["Application_Type"]]).ravel()
    x_raw = data[QOS_FEATURES].to_numpy(dtype=np.float64)
    duplicate_rows = int(pd.DataFrame(x_raw).duplicated().sum())
    xs, ys = MinMaxScaler(), MinMaxScaler()
    x = xs.fit_transform(x_raw)
    y = ys.fit_transform(data[[QOS_TARGET]]).ravel()
    # groups: identical feature rows share a group, so a grouped split never straddles them
    groups = pd.DataFrame(x_raw).groupby(list(range(x_raw.shape[1]))).ngroup().to_numpy()
    info = {"rows_in": len(df), "rows_after_outliers": len(data), "outliers_removed": int((~keep).sum()),
            "duplicate_feature_rows": duplicate_rows, "groups": groups, "x_scaler": xs, "y_scaler": ys, "encoder": encoder,
            "categories": list(encoder.categories_[0])}
    return x, y, info


def _cnn_kwargs(params: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    p = {"filters": 32, "kernel_size": 4, "n_units": 224, "num_layers": 3, "dropout": 0.079, "learning_rate": 0.000935,
         "batch_size": 8, "optimizer": "adamw", **(params or {})}
    model_kw = {k: p[k] for k in ("filters", "kernel_size", "n_units", "num_layers", "dropout")}
    fit_kw = {"lr": p["learning_rate"], "batch_size": p["batch_size"], "optimizer": p["optimizer"]}
    return model_kw, fit_kw


CNN_VARIANTS: dict[str, tuple[type, str]] = {
    "CNN-BiLSTM": (CNNBiLSTMRegressor, "clean"),
    "CNN-BiLSTM (Keras-faithful)": (KerasCNNBiLSTMRegressor, "clean"),
    "CNN-BiLSTM (paper protocol: test-fold early stopping)": (CNNBiLSTMRegressor, "paper"),
    "CNN-BiLSTM (Keras-faithful, paper protocol: test-fold early stopping)": (KerasCNNBiLSTMRegressor, "paper"),
}
"""The proposed model's rows: our PyTorch model and the Keras-faithful one, each under our clean
protocol (early stopping on 10 % of the training fold) and the paper's (Algorithm 1, line 21:
early stopping on the test fold itself, which leaks the test set into model selection)."""


def run_qos_pipeline(df: pd.DataFrame, *, folds: int = 10, grouped: bool = False, seed: int = 42, epochs: int = 200,
                     patience: int = 15, cnn_params: dict[str, Any] | None = None, models: list[str] | None = None,
                     progress: bool = False) -> dict[str, Any]:
    """Seed 000 end to end: K-fold (or duplicate-aware GroupKFold) metrics of every model.

    `CNN_VARIANTS` names the proposed model's rows: under the clean protocol it holds out 10 % of
    each training fold for early stopping; under the paper's it stops on the test fold. Returns
    per-fold metrics and a summary per model: mean, std, min and max over folds, the best single
    fold's R^2, and MAPE over the folds where it is defined (`MAPE_defined_folds`: a test fold whose
    scaled target holds a 0 has no finite MAPE).
    """
    from sklearn.model_selection import GroupKFold, KFold
    from tqdm import tqdm

    _check_int("folds", folds, 2, "K-fold needs a training and a test part")
    _check_int("epochs", epochs, 1)
    x, y, info = preprocess_qos(df)
    need = max(MIN_QOS_ROWS, 2 * folds)
    if len(x) < need:
        raise ValueError(
            f"the QoS table has {len(x)} rows after outlier removal (of {info['rows_in']}); {folds}-fold "
            f"cross-validation needs at least {need} (2 test rows per fold, {MIN_QOS_ROWS} in all): use fewer folds or more rows"
        )
    if grouped and len(np.unique(info["groups"])) < folds:
        raise ValueError(
            f"the QoS table has {len(np.unique(info['groups']))} distinct feature rows, fewer than folds={folds} "
            "that the grouped split needs"
        )
    splitter = GroupKFold(n_splits=folds) if grouped else KFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(x, y, groups=info["groups"] if grouped else None))
    regs = table1_regressors(seed)
    names = models or (list(regs) + list(CNN_VARIANTS))
    unknown = [n for n in names if n not in regs and n not in CNN_VARIANTS]
    if unknown:
        raise ValueError(f"unknown models {unknown}; choose from {list(regs) + list(CNN_VARIANTS)}")
    model_kw, fit_kw = _cnn_kwargs(cnn_params)
    rows = []
    for fold, (tr, te) in enumerate(tqdm(splits, desc="folds", disable=not progress)):
        for name in names:
            t0 = time.perf_counter()
            if name in CNN_VARIANTS:
                net_class, protocol = CNN_VARIANTS[name]
                if protocol == "paper":  # Algorithm 1, line 21: the test fold is the early-stopping set
                    val, fit = te, tr
                else:
                    rng = np.random.default_rng(seed + fold)
                    perm = rng.permutation(tr)
                    n_val = max(1, len(tr) // 10)
                    val, fit = perm[:n_val], perm[n_val:]
                torch.manual_seed(seed + fold)
                net = net_class(x.shape[1], **model_kw)
                fit_torch_regressor(net, x[fit], y[fit], x[val], y[val], epochs=epochs, patience=patience, loss="weighted",
                                    seed=seed + fold, **fit_kw)
                pred = predict(net, x[te])
            else:
                from sklearn.base import clone

                reg = clone(regs[name]).fit(x[tr], y[tr])
                pred = reg.predict(x[te])
            rows.append({"model": name, "fold": fold, "fit_s": time.perf_counter() - t0, **regression_metrics(y[te], pred)})
    per_fold = pd.DataFrame(rows)
    metrics = ["MAE", "MSE", "RMSE", "MSLE", "MAPE", "R2", "EVS"]
    summary = per_fold.groupby("model", sort=False)[metrics].agg(["mean", "std", "min", "max"])  # MAPE: NaN folds skipped
    summary.columns = [f"{m}_{s}" for m, s in summary.columns]
    summary["best_fold"] = per_fold.loc[per_fold.groupby("model", sort=False)["R2"].idxmax(), ["model", "fold"]].set_index("model")["fold"]
    summary["MAPE_defined_folds"] = per_fold.groupby("model", sort=False)["MAPE"].count()
    summary = summary.sort_values("R2_mean", ascending=False)
    return {"per_fold": per_fold, "summary": summary, "info": {k: v for k, v in info.items() if k in
            ("rows_in", "rows_after_outliers", "outliers_removed", "duplicate_feature_rows", "categories")},
            "split": "GroupKFold on identical feature rows" if grouped else f"KFold({folds}, shuffle, seed {seed})"}


def tune_cnn_bilstm(df: pd.DataFrame, n_trials: int = 20, storage: str | None = None, study_name: str = "cnn_bilstm_qos",
                    seed: int = 42, epochs: int = 60, patience: int = 8) -> Any:
    """Optuna (TPE, median pruning) over the Table 2 space; objective: validation MSE of a holdout fold."""
    import optuna

    x, y, _ = preprocess_qos(df)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(x))
    n_val = len(x) // 5
    val, fit = perm[:n_val], perm[n_val:]

    def objective(trial: optuna.Trial) -> float:
        params = {
            "n_units": trial.suggest_int("n_units", 32, 256, step=32),
            "dropout": trial.suggest_float("dropout_rate", 0.01, 0.5, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 1e-6, 1e-2, log=True),
            "batch_size": trial.suggest_categorical("batch_size", [8, 16, 32, 64]),
            "num_layers": trial.suggest_int("num_layers", 1, 4),
            "filters": trial.suggest_int("filters", 32, 256, step=32),
            "kernel_size": trial.suggest_int("kernel_size", 2, 5),
            "optimizer": trial.suggest_categorical("optimizer", ["adam", "adamw", "rmsprop", "sgd"]),
        }
        model_kw, fit_kw = _cnn_kwargs(params)
        torch.manual_seed(seed)
        net = CNNBiLSTMRegressor(x.shape[1], **model_kw)

        def report(epoch: int, val_loss: float) -> None:
            trial.report(val_loss, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()

        hist = fit_torch_regressor(net, x[fit], y[fit], x[val], y[val], epochs=epochs, patience=patience, loss="mse", seed=seed,
                                   report=report, **fit_kw)
        return hist["best_val"]

    study = optuna.create_study(study_name=study_name, storage=storage, load_if_exists=True, direction="minimize",
                                sampler=optuna.samplers.TPESampler(seed=seed), pruner=optuna.pruners.MedianPruner(n_warmup_steps=5))
    done = len([t for t in study.trials if t.state.is_finished()])
    study.optimize(objective, n_trials=max(n_trials - done, 0))
    return study


class QoSRegressorBundle:
    """A trained CNN-BiLSTM with its encoder categories, scalers and feature order; saves and loads itself."""

    def __init__(self, model: CNNBiLSTMRegressor, x_min: np.ndarray, x_max: np.ndarray, y_min: float, y_max: float,
                 categories: list[str], model_kwargs: dict[str, Any]) -> None:
        """Scalers as min/max vectors of the raw features (order `QOS_FEATURES`) and of the target (%)."""
        self.model, self.x_min, self.x_max = model, np.asarray(x_min, float), np.asarray(x_max, float)
        self.y_min, self.y_max, self.categories, self.model_kwargs = float(y_min), float(y_max), list(categories), dict(model_kwargs)

    @classmethod
    def fit(cls, df: pd.DataFrame, epochs: int = 200, patience: int = 15, seed: int = 42, params: dict[str, Any] | None = None
            ) -> QoSRegressorBundle:
        """Train on the whole (preprocessed) table, 10 % held out for early stopping."""
        x, y, info = preprocess_qos(df)
        model_kw, fit_kw = _cnn_kwargs(params)
        torch.manual_seed(seed)
        net = CNNBiLSTMRegressor(x.shape[1], **model_kw)
        perm = np.random.default_rng(seed).permutation(len(x))
        n_val = max(1, len(x) // 10)
        fit_torch_regressor(net, x[perm[n_val:]], y[perm[n_val:]], x[perm[:n_val]], y[perm[:n_val]], epochs=epochs, patience=patience,
                            loss="weighted", seed=seed, **fit_kw)
        xs, ys = info["x_scaler"], info["y_scaler"]
        return cls(net, xs.data_min_, xs.data_max_, ys.data_min_[0], ys.data_max_[0], info["categories"], model_kw)

    def predict_share_pct(self, app: list[str] | np.ndarray, signal_dbm, latency_ms, required_kbps, allocated_kbps) -> np.ndarray:
        """Predicted Resource_Allocation (%) for raw feature vectors; unknown applications are errors."""
        codes = np.array([self.categories.index(a) if a in self.categories else -1 for a in np.atleast_1d(app)], dtype=float)
        if np.any(codes < 0):
            raise ValueError(f"unknown Application_Type {str(np.atleast_1d(app)[codes < 0][0])!r}; known: {self.categories}")
        raw = np.column_stack(np.broadcast_arrays(codes, signal_dbm, latency_ms, required_kbps, allocated_kbps)).astype(float)
        x = (raw - self.x_min) / np.where(self.x_max > self.x_min, self.x_max - self.x_min, 1.0)
        return predict(self.model, x.astype(np.float32)) * (self.y_max - self.y_min) + self.y_min

    def save(self, path: str | Path) -> Path:
        """Weights, scalers, categories, feature order and versions in one file."""
        import oran_gym

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"state_dict": self.model.state_dict(), "x_min": self.x_min, "x_max": self.x_max, "y_min": self.y_min,
                    "y_max": self.y_max, "categories": self.categories, "model_kwargs": self.model_kwargs, "features": QOS_FEATURES,
                    "versions": {"oran_gym": oran_gym.__version__, "torch": torch.__version__}}, path)
        write_manifest(path, "qos_regressor", {"features": QOS_FEATURES, "model_kwargs": self.model_kwargs})
        return path

    @classmethod
    def load(cls, path: str | Path) -> QoSRegressorBundle:
        """Inverse of `save`; the file is checked against its manifest first (`oran_gym.artefacts.verify`)."""
        blob = load_verified(path, "qos_regressor", ("state_dict", "features", "model_kwargs", "x_min", "x_max", "categories"))
        net = CNNBiLSTMRegressor(len(blob["features"]), **blob["model_kwargs"])
        net.load_state_dict(blob["state_dict"])
        net.eval()
        return cls(net, blob["x_min"], blob["x_max"], blob["y_min"], blob["y_max"], blob["categories"], blob["model_kwargs"])


def results_json(obj: dict[str, Any]) -> str:
    """JSON text of a result dict (DataFrames as records)."""
    def conv(v):
        if isinstance(v, pd.DataFrame):
            return v.reset_index().to_dict(orient="records")
        if isinstance(v, (np.floating, np.integer)):
            return v.item()
        if isinstance(v, np.ndarray):
            return v.tolist()
        return str(v)

    return json.dumps(obj, indent=2, default=conv)
