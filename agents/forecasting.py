"""The two forecasting seeds, rebuilt in PyTorch, with their pipelines on the real data.

* Seed 001 (digital twin): `BiLSTMForecaster`, three bidirectional LSTM layers of 128, 128 and 64
  units with batch norm and dropout 0.2, then Dense 64 -> 1, forecasting the next internet KPI from
  windows of 10 steps of 4 KPIs. `run_kpi_pipeline` does the chronological 80/20 split (20 % of
  training for validation, no shuffling across time, scaler fitted on the training part only),
  trains with Adam (lr 1e-4, plateau scheduler), MSE, up to 30 epochs, early stopping patience 5,
  batch 32, and compares it with the static mu + 2 sigma and P95 provisioning baselines.
* Seed 000 (resource allocation regressor): `CNNBiLSTMRegressor`, Conv1D (32 filters, kernel 4)
  + squeeze-excitation + max-pool + dropout 0.079 + 3 BiLSTM layers of 224 units + self-attention
  concatenated with the BiLSTM output + a linear Dense, trained with the weighted MSE
  w = exp(|y - mean(y)|) and AdamW (lr 0.000935), batch 8, early stopping. `run_qos_pipeline`
  applies the paper's preprocessing and 10-fold CV against the ten Table 1 regressors, and also a
  duplicate-aware split (`GroupKFold` on identical feature rows); `tune_cnn_bilstm` runs the Table 2
  Optuna search (TPE, pruning, SQLite storage).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:
    import torch
    from torch import nn
except ImportError as exc:  # pragma: no cover
    raise ImportError('oran_gym.agents.forecasting needs torch: pip install torch==2.13.0 && pip install "oran-gym[agents]"') from exc

from oran_gym.baselines.forecasting import (
    allocation_metrics,
    allocation_summary,
    regression_metrics,
    static_provisioning,
    table1_regressors,
)

__all__ = [
    "BiLSTMForecaster",
    "CNNBiLSTMRegressor",
    "make_windows",
    "chronological_split",
    "fit_torch_regressor",
    "run_kpi_pipeline",
    "preprocess_qos",
    "run_qos_pipeline",
    "tune_cnn_bilstm",
    "KPIForecasterBundle",
    "QoSRegressorBundle",
    "PAPER_QOS",
    "PAPER_KPI",
    "kpi_lines",
    "qos_lines",
]

KPI_FEATURES = ["internet", "sessions", "vpn", "downstream"]
QOS_FEATURES = ["Application_Type", "Signal_Strength", "Latency", "Required_Bandwidth", "Allocated_Bandwidth"]
QOS_TARGET = "Resource_Allocation"
PAPER_QOS = {"MAE": 0.0087, "MSE": 0.0003, "RMSE": 0.0161, "MSLE": 0.0001, "MAPE": 0.0194, "R2": 0.9964, "EVS": 0.9966,
             "HGBR R2": 0.9920}
PAPER_KPI = {"efficiency_median": {"bilstm": 0.987, "mu+2sigma": 0.474, "p95": 0.543},
             "over_provisioning_mean": {"mu+2sigma": "> 450", "p95": "> 350"}}


# ------------------------------------------------------------------------------------------------
# models
# ------------------------------------------------------------------------------------------------
class BiLSTMForecaster(nn.Module):
    """BiLSTM 128 -> 128 -> 64 (batch norm, dropout 0.2), Dense 64 -> 1: `[N, window, features]` -> `[N]`."""

    def __init__(self, num_features: int, units: tuple[int, ...] = (128, 128, 64), dropout: float = 0.2, dense: int = 64) -> None:
        """Layer widths after the paper's Table I."""
        super().__init__()
        self.lstms = nn.ModuleList()
        self.norms = nn.ModuleList()
        width = num_features
        for u in units:
            self.lstms.append(nn.LSTM(width, u, batch_first=True, bidirectional=True))
            self.norms.append(nn.BatchNorm1d(2 * u))
            width = 2 * u
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Sequential(nn.Linear(width, dense), nn.ReLU(), nn.Linear(dense, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Forecast of the next target value."""
        h = x
        for lstm, norm in zip(self.lstms, self.norms):
            h, _ = lstm(h)
            h = self.dropout(norm(h.transpose(1, 2)).transpose(1, 2))
        return self.head(h[:, -1]).squeeze(-1)


class SqueezeExcitation(nn.Module):
    """Channel attention: global average pool over length, bottleneck MLP, sigmoid gate."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        """`channels` gated by a `channels / reduction` bottleneck."""
        super().__init__()
        hidden = max(1, channels // reduction)
        self.gate = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`[N, C, L]` -> `[N, C, L]`."""
        return x * self.gate(x.mean(dim=2)).unsqueeze(-1)


class CNNBiLSTMRegressor(nn.Module):
    """Seed 000's model: the feature vector is read as a 1-channel sequence.

    Conv1D(filters, kernel, same padding) + ReLU -> SE -> MaxPool(2) -> dropout -> BiLSTM x
    num_layers -> self-attention over the sequence, concatenated with the BiLSTM output ->
    linear Dense on the last position.
    """

    def __init__(self, num_features: int, filters: int = 32, kernel_size: int = 4, n_units: int = 224, num_layers: int = 3,
                 dropout: float = 0.079) -> None:
        """Defaults: the paper's final settings."""
        super().__init__()
        # "same" length with explicit (asymmetric for even kernels) zero padding
        self.pad = ((kernel_size - 1) // 2, kernel_size // 2)
        self.conv = nn.Conv1d(1, filters, kernel_size)
        self.se = SqueezeExcitation(filters)
        self.pool = nn.MaxPool1d(2) if num_features >= 2 else nn.Identity()
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(filters, n_units, num_layers=num_layers, batch_first=True, bidirectional=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.attention = nn.MultiheadAttention(2 * n_units, num_heads=1, batch_first=True)
        self.head = nn.Linear(4 * n_units, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`[N, F]` -> `[N]`."""
        h = torch.relu(self.conv(nn.functional.pad(x.unsqueeze(1), self.pad)))  # [N, filters, F]
        h = self.dropout(self.pool(self.se(h)))  # [N, filters, F / 2]
        seq, _ = self.lstm(h.transpose(1, 2))  # [N, L, 2 units]
        att, _ = self.attention(seq, seq, seq)
        return self.head(torch.cat([seq, att], dim=2)[:, -1]).squeeze(-1)


def weighted_mse(pred: torch.Tensor, target: torch.Tensor, mean: float) -> torch.Tensor:
    """Seed 000's weighted MSE: weights exp(|y - mean(y)|) emphasise rare, extreme targets."""
    return torch.mean(torch.exp(torch.abs(target - mean)) * (pred - target) ** 2)


def fit_torch_regressor(
    model: nn.Module,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    optimizer: str = "adam",
    lr: float = 1e-3,
    patience: int = 5,
    loss: str = "mse",
    seed: int = 0,
    scheduler: bool = False,
    report: Any = None,
) -> dict[str, Any]:
    """Train with early stopping on the validation loss; restores the best weights.

    `loss="weighted"` uses seed 000's weighted MSE. `report(epoch, val_loss)` is called every
    epoch (Optuna pruning raises from it).
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    xt, yt = torch.as_tensor(x_train, dtype=torch.float32), torch.as_tensor(y_train, dtype=torch.float32)
    xv, yv = torch.as_tensor(x_val, dtype=torch.float32), torch.as_tensor(y_val, dtype=torch.float32)
    opts = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop, "sgd": torch.optim.SGD}
    if optimizer not in opts:
        raise ValueError(f"optimizer must be one of {sorted(opts)}, got {optimizer!r}")
    opt = opts[optimizer](model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2) if scheduler else None
    mean = float(yt.mean())

    def loss_fn(p, t):
        return weighted_mse(p, t, mean) if loss == "weighted" else torch.mean((p - t) ** 2)

    best, best_state, wait = math.inf, None, 0
    history = {"train": [], "val": []}
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for k in range(0, len(xt), batch_size):
            idx = perm[k : k + batch_size]
            if len(idx) < 2 and any(isinstance(m, nn.BatchNorm1d) for m in model.modules()):
                continue  # batch norm needs two samples
            opt.zero_grad()
            batch_loss = loss_fn(model(xt[idx]), yt[idx])
            batch_loss.backward()
            opt.step()
            total += float(batch_loss.detach()) * len(idx)
        model.eval()
        with torch.no_grad():
            val = float(loss_fn(model(xv), yv)) if len(xv) else total / len(xt)
        history["train"].append(total / len(xt))
        history["val"].append(val)
        if sched:
            sched.step(val)
        if report:
            report(epoch, val)
        if val < best - 1e-12:
            best, wait = val, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            wait += 1
            if wait >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    history["best_val"] = best
    history["epochs_run"] = len(history["val"])
    return history


@torch.no_grad()
def predict(model: nn.Module, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Batched inference."""
    model.eval()
    out = [model(torch.as_tensor(x[k : k + batch_size], dtype=torch.float32)).numpy() for k in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros(0)


# ------------------------------------------------------------------------------------------------
# seed 001: KPI forecasting and provisioning
# ------------------------------------------------------------------------------------------------
def make_windows(values: np.ndarray, target: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`X[i] = values[i : i + window]`, `y[i] = target[i + window]`; also returns the target index.

    No look-ahead: every input row precedes its target.
    """
    values, target = np.asarray(values), np.asarray(target)
    n = len(values) - window
    if n <= 0:
        raise ValueError(f"series of {len(values)} samples is too short for window {window}")
    idx = np.arange(n)[:, None] + np.arange(window)[None, :]
    return values[idx], target[window:], np.arange(window, len(values))


def chronological_split(n: int, test_fraction: float = 0.2, val_fraction: float = 0.2) -> tuple[slice, slice, slice]:
    """Train, validation, test slices in time order: the last `test_fraction` is the test set and
    the last `val_fraction` of the rest the validation set."""
    n_test = int(round(n * test_fraction))
    n_trainval = n - n_test
    n_val = int(round(n_trainval * val_fraction))
    return slice(0, n_trainval - n_val), slice(n_trainval - n_val, n_trainval), slice(n_trainval, n)


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
                    "window": self.window, "units": units,
                    "versions": {"oran_gym": oran_gym.__version__, "torch": torch.__version__}}, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> KPIForecasterBundle:
        """Inverse of `save`."""
        blob = torch.load(path, map_location="cpu", weights_only=False)
        model = BiLSTMForecaster(len(blob["features"]), units=tuple(blob["units"]))
        model.load_state_dict(blob["state_dict"])
        model.eval()
        return cls(model, blob["lo"], blob["hi"], blob["features"], blob["window"])


def run_kpi_pipeline(df: pd.DataFrame, *, window: int = 10, epochs: int = 30, patience: int = 5, batch_size: int = 32,
                     lr: float = 1e-4, seed: int = 0, units: tuple[int, ...] = (128, 128, 64), max_samples: int | None = None
                     ) -> dict[str, Any]:
    """Seed 001 end to end on a KPI frame (from `load_operator_kpis`); returns tables and the bundle."""
    data = df[KPI_FEATURES].to_numpy(dtype=np.float64)
    if max_samples:
        data = data[:max_samples]
    n_windows = len(data) - window
    tr, va, te = chronological_split(n_windows)
    # scaler fitted on the samples the training windows see (inputs and targets): no look-ahead
    fit_rows = data[: tr.stop + window]
    lo, hi = fit_rows.min(axis=0), fit_rows.max(axis=0)
    hi = np.where(hi > lo, hi, lo + 1.0)
    scaled = (data - lo) / (hi - lo)
    x, y, target_idx = make_windows(scaled, scaled[:, 0], window)
    torch.manual_seed(seed)  # initial weights: seeded before the model is built
    model = BiLSTMForecaster(len(KPI_FEATURES), units=units)
    t0 = time.perf_counter()
    hist = fit_torch_regressor(model, x[tr], y[tr], x[va], y[va], epochs=epochs, batch_size=batch_size, optimizer="adam", lr=lr,
                               patience=patience, seed=seed, scheduler=True)
    train_s = time.perf_counter() - t0
    bundle = KPIForecasterBundle(model, lo, hi, KPI_FEATURES, window)
    actual = data[target_idx[te], 0]
    y_train_raw = data[target_idx[tr], 0]
    preds = {
        "bilstm": np.clip(predict(model, x[te].astype(np.float32)) * (hi[0] - lo[0]) + lo[0], 1e-9, None),
        "mu+2sigma": np.full(actual.shape, static_provisioning(y_train_raw, "mu+2sigma")),
        "p95": np.full(actual.shape, static_provisioning(y_train_raw, "p95")),
    }
    rows, per_sample = [], {}
    for name, p in preds.items():
        alloc = allocation_metrics(actual, p)
        per_sample[name] = alloc
        reg = regression_metrics(actual, p)
        rows.append({"method": name, "MAE": reg["MAE"], "RMSE": reg["RMSE"], **allocation_summary(alloc)})
    return {"table": pd.DataFrame(rows), "per_sample": per_sample, "bundle": bundle, "history": hist, "train_time_s": train_s,
            "split": {"train": tr.stop - tr.start, "val": va.stop - va.start, "test": te.stop - te.start}, "actual": actual,
            "predictions": preds}


def plot_kpi(result: dict[str, Any], path: str | Path) -> None:
    """Bar chart of MAE/RMSE and over-provisioning, box plot of efficiency, and a forecast excerpt."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    t = result["table"]
    fig = Figure(figsize=(15, 3.8), dpi=100)
    a, b, c, d = fig.subplots(1, 4)
    xs = np.arange(len(t))
    a.bar(xs - 0.2, t["MAE"], 0.4, label="MAE")
    a.bar(xs + 0.2, t["RMSE"], 0.4, label="RMSE")
    a.set_xticks(xs, t["method"])
    a.set_ylabel("KPI units")
    a.legend()
    b.bar(xs, t["over_provisioning_mean"], color="tab:orange")
    b.set_xticks(xs, t["method"])
    b.set_ylabel("mean over-provisioning (KPI units)")
    c.boxplot([result["per_sample"][m]["efficiency"] for m in t["method"]], tick_labels=list(t["method"]))
    for k, m in enumerate(t["method"]):
        ref = PAPER_KPI["efficiency_median"].get(m)
        if ref is not None:
            c.plot([k + 0.7, k + 1.3], [ref, ref], "k--", lw=1)
    c.set_ylabel("efficiency (dashed: paper's median)")
    n = min(600, len(result["actual"]))
    d.plot(result["actual"][:n], label="actual", lw=1)
    for m, p in result["predictions"].items():
        d.plot(p[:n], label=m, lw=1)
    d.set_xlabel("test step (5 min)")
    d.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)


# ------------------------------------------------------------------------------------------------
# seed 000: resource allocation regression on the QoS table
# ------------------------------------------------------------------------------------------------
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


def run_qos_pipeline(df: pd.DataFrame, *, folds: int = 10, grouped: bool = False, seed: int = 42, epochs: int = 200,
                     patience: int = 15, cnn_params: dict[str, Any] | None = None, models: list[str] | None = None,
                     progress: bool = False) -> dict[str, Any]:
    """Seed 000 end to end: K-fold (or duplicate-aware GroupKFold) metrics of every model.

    The proposed model holds out 10 % of each training fold for early stopping.
    Returns per-fold metrics and a summary (mean and std over folds) per model.
    """
    from sklearn.model_selection import GroupKFold, KFold
    from tqdm import tqdm

    x, y, info = preprocess_qos(df)
    splitter = GroupKFold(n_splits=folds) if grouped else KFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(x, y, groups=info["groups"] if grouped else None))
    regs = table1_regressors(seed)
    names = models or (list(regs) + ["CNN-BiLSTM"])
    model_kw, fit_kw = _cnn_kwargs(cnn_params)
    rows = []
    for fold, (tr, te) in enumerate(tqdm(splits, desc="folds", disable=not progress)):
        for name in names:
            t0 = time.perf_counter()
            if name == "CNN-BiLSTM":
                rng = np.random.default_rng(seed + fold)
                perm = rng.permutation(tr)
                n_val = max(1, len(tr) // 10)
                val, fit = perm[:n_val], perm[n_val:]
                torch.manual_seed(seed + fold)
                net = CNNBiLSTMRegressor(x.shape[1], **model_kw)
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
    summary = per_fold.groupby("model", sort=False)[metrics].agg(["mean", "std"])
    summary.columns = [f"{m}_{s}" for m, s in summary.columns]
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
        return path

    @classmethod
    def load(cls, path: str | Path) -> QoSRegressorBundle:
        """Inverse of `save`."""
        blob = torch.load(path, map_location="cpu", weights_only=False)
        net = CNNBiLSTMRegressor(len(blob["features"]), **blob["model_kwargs"])
        net.load_state_dict(blob["state_dict"])
        net.eval()
        return cls(net, blob["x_min"], blob["x_max"], blob["y_min"], blob["y_max"], blob["categories"], blob["model_kwargs"])


def kpi_lines(kpi: dict[str, Any]) -> list[str]:
    """The seed-001 table beside the paper's numbers."""
    paper = kpi["paper"]["efficiency_median"]
    lines = [f"Digital twin (seed 001), test set of {kpi['split']['test']} windows; paper's median efficiency in brackets:"]
    for r in kpi["table"]:
        lines.append(
            f"  {r['method']:<10} MAE {r['MAE']:7.1f}  RMSE {r['RMSE']:7.1f}  efficiency median {r['efficiency_median']:.3f} "
            f"({paper[r['method']]})  wastage {r['wastage_mean']:.3f}  utilisation {r['utilisation_mean']:.3f}  "
            f"over-provisioning {r['over_provisioning_mean']:6.1f}  SLA compliance {r['sla_compliance']:.3f}"
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
            lines.append(f"    {r['model']:<11} MAE {r['MAE_mean']:.4f}  RMSE {r['RMSE_mean']:.4f}  R2 {r['R2_mean']:.4f} +- {r['R2_std']:.4f}  "
                         f"EVS {r['EVS_mean']:.4f}")
    return lines


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
