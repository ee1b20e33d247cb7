"""Classical and static baselines of the two forecasting seeds, and their metrics.

* `table1_regressors()`: the ten scikit-learn regressors of the CNN-BiLSTM paper (seed 000, Table 1)
  with its hyper-parameters (Ridge with scikit-learn's defaults: the table lists none).
* `static_provisioning(y_train, rule)`: the digital-twin paper's (seed 001) baselines: a constant
  allocation of mu + 2 sigma (Algorithm 1, population sigma) or the 95th percentile (Algorithm 2)
  of the training target.
* `naive_forecast(series, target_idx, lag)`: persistence (`lag=1`, the last value) and seasonal
  naive (`lag` = one season, 288 five-minute samples for a day) next-value forecasts.
* `conformal_offset(actual, predicted, sla)`: the split-conformal margin that makes a forecast,
  plus the margin, cover `sla` of a calibration set.
* `rolling_conformal_margins(calibration, residuals, sla, window)`: the same margin recomputed
  before every forecast from the last `window` residuals already observed (online conformal
  prediction for a series whose errors drift).
* `regression_metrics`: MAE, MSE, RMSE, MSLE, MAPE, R^2, EVS (scikit-learn's definitions).
* `allocation_metrics`: efficiency min(actual / allocated, 1), wastage max((allocated - actual) /
  allocated, 0), utilisation actual / allocated, over-provisioning max(allocated - actual, 0) and
  SLA compliance (allocated >= actual), per sample and summarised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["table1_regressors", "static_provisioning", "naive_forecast", "conformal_offset", "rolling_conformal_margins", "regression_metrics", "allocation_metrics", "allocation_summary"]


def table1_regressors(seed: int = 42) -> dict:
    """The ten baselines of seed 000 with the hyper-parameters of its Table 1."""
    from sklearn.ensemble import (
        AdaBoostRegressor,
        BaggingRegressor,
        ExtraTreesRegressor,
        GradientBoostingRegressor,
        HistGradientBoostingRegressor,
        RandomForestRegressor,
    )
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.linear_model import Ridge
    from sklearn.svm import SVR
    from sklearn.tree import DecisionTreeRegressor

    return {
        "GBR": GradientBoostingRegressor(loss="squared_error", learning_rate=0.1, n_estimators=100, subsample=1.0,
                                         criterion="friedman_mse", min_samples_split=2, min_samples_leaf=1,
                                         min_weight_fraction_leaf=0.0, max_depth=3, min_impurity_decrease=0.0, random_state=seed),
        "ABR": AdaBoostRegressor(n_estimators=50, learning_rate=1.0, loss="linear", random_state=seed),
        "BaggingR": BaggingRegressor(n_estimators=10, max_samples=1.0, max_features=1.0, bootstrap=True, bootstrap_features=False,
                                     oob_score=False, warm_start=False, random_state=seed),
        "ETR": ExtraTreesRegressor(n_estimators=100, criterion="squared_error", max_depth=None, min_samples_split=2, min_samples_leaf=1,
                                   min_weight_fraction_leaf=0.0, max_features=1.0, min_impurity_decrease=0.0, bootstrap=False,
                                   oob_score=False, warm_start=False, ccp_alpha=0.0, random_state=seed),
        "HGBR": HistGradientBoostingRegressor(loss="squared_error", learning_rate=0.1, max_iter=100, max_leaf_nodes=31, max_depth=None,
                                              min_samples_leaf=20, l2_regularization=0.0, max_bins=255, early_stopping="auto",
                                              scoring="loss", validation_fraction=0.1, n_iter_no_change=10, tol=1e-7, random_state=seed),
        "SVR": SVR(kernel="rbf", degree=3, gamma="scale", coef0=0.0, tol=1e-3, C=1.0, epsilon=0.1, shrinking=True, cache_size=200,
                   max_iter=-1),
        "GPR": GaussianProcessRegressor(alpha=1e-10, optimizer="fmin_l_bfgs_b", n_restarts_optimizer=0, normalize_y=False,
                                        copy_X_train=True, random_state=seed),
        "RFR": RandomForestRegressor(n_estimators=100, max_depth=None, min_samples_split=50, min_samples_leaf=20, max_features=3,
                                     random_state=42),
        "DTR": DecisionTreeRegressor(max_depth=50, min_samples_split=50, min_samples_leaf=20, max_features=3, random_state=42),
        "Ridge": Ridge(),
    }


def static_provisioning(y_train: np.ndarray, rule: str) -> float:
    """The constant allocation of a static baseline: "mu+2sigma" or "p95" of the training target."""
    y = np.asarray(y_train, dtype=float)
    if rule == "mu+2sigma":
        return float(y.mean() + 2.0 * y.std(ddof=0))
    if rule == "p95":
        return float(np.percentile(y, 95))
    raise ValueError(f"rule must be 'mu+2sigma' or 'p95', got {rule!r}")


def naive_forecast(series: np.ndarray, target_idx: np.ndarray, lag: int = 1) -> np.ndarray:
    """Forecast of `series[t]` as `series[t - lag]` for every `t` in `target_idx`.

    `lag=1` is persistence; `lag` equal to the season (288 samples of 5 min for a day) is the
    seasonal-naive forecast. Every target must have `lag` samples before it.
    """
    series, target_idx = np.asarray(series, dtype=float), np.asarray(target_idx)
    if isinstance(lag, bool) or not isinstance(lag, (int, np.integer)) or lag < 1:
        raise ValueError(f"lag must be an integer >= 1, got {lag!r}")
    if len(target_idx) and int(target_idx.min()) < lag:
        raise ValueError(f"target index {int(target_idx.min())} has fewer than lag={lag} samples before it")
    return series[target_idx - lag]


def conformal_offset(actual: np.ndarray, predicted: np.ndarray, sla: float) -> float:
    """The margin `m` such that `predicted + m >= actual` on a share `sla` of a calibration set.

    Split conformal prediction: the ceil((n + 1) sla)-th smallest residual `actual - predicted`, so
    that fresh exchangeable samples are covered with probability >= `sla`.
    """
    if not 0.0 < sla < 1.0:
        raise ValueError(f"sla must lie in (0, 1), got {sla!r}")
    resid = np.sort(np.asarray(actual, dtype=float).ravel() - np.asarray(predicted, dtype=float).ravel())
    if len(resid) == 0:
        raise ValueError("conformal_offset needs at least one calibration sample")
    k = min(len(resid), int(np.ceil((len(resid) + 1) * sla)))
    return float(resid[k - 1])


def rolling_conformal_margins(calibration_residuals: np.ndarray, residuals: np.ndarray, sla: float, window: int) -> np.ndarray:
    """Margin of each forecast from the `window` residuals (actual - forecast) seen before it.

    Forecast `i` gets `conformal_offset` of the last `window` residuals of the sequence
    `calibration_residuals` followed by `residuals[:i]`: only errors already observed when the
    forecast is made, so a margin never looks ahead. On a drifting series this keeps coverage near
    `sla` where one margin fitted on the calibration part does not.
    """
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be an integer >= 1, got {window!r}")
    hist = np.concatenate([np.asarray(calibration_residuals, float).ravel(), np.asarray(residuals, float).ravel()])
    n_cal = len(hist) - len(np.asarray(residuals).ravel())
    if n_cal < 1:
        raise ValueError("rolling_conformal_margins needs at least one calibration residual")
    return np.array([conformal_offset(hist[max(0, n_cal + i - window):n_cal + i], np.zeros(min(window, n_cal + i)), sla)
                     for i in range(len(hist) - n_cal)])


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, MSE, RMSE, MSLE, MAPE, R^2 and EVS as scikit-learn computes them.

    MSLE needs non-negative values: negative predictions are clipped at 0 for it only (and the
    count of clipped values is reported), as a log of a negative allocation is undefined. MAPE is
    NaN where a true value is 0: scikit-learn divides by a tiny epsilon there and reports ~1e12,
    which is no percentage (the paper's finite MAPE over all ten folds is impossible on a
    MinMax-scaled target, whose minimum is exactly 0).
    """
    from sklearn import metrics as m

    y_true = np.asarray(y_true, dtype=float).ravel()
    y_pred = np.asarray(y_pred, dtype=float).ravel()
    mse = m.mean_squared_error(y_true, y_pred)
    return {
        "MAE": float(m.mean_absolute_error(y_true, y_pred)),
        "MSE": float(mse),
        "RMSE": float(np.sqrt(mse)),
        "MSLE": float(m.mean_squared_log_error(np.clip(y_true, 0, None), np.clip(y_pred, 0, None))),
        "MAPE": float(m.mean_absolute_percentage_error(y_true, y_pred)) if np.all(y_true != 0) else float("nan"),
        "R2": float(m.r2_score(y_true, y_pred)),
        "EVS": float(m.explained_variance_score(y_true, y_pred)),
        "negative_predictions": int((y_pred < 0).sum()),
    }


def allocation_metrics(actual: np.ndarray, allocated: np.ndarray) -> pd.DataFrame:
    """Per-sample allocation metrics of seed 001 (eqs. 2-5) plus SLA compliance (allocated >= actual).

    `allocated` must be > 0 (a zero allocation has no efficiency); raises ValueError otherwise.
    """
    actual = np.asarray(actual, dtype=float).ravel()
    allocated = np.broadcast_to(np.asarray(allocated, dtype=float), actual.shape).ravel()
    if np.any(allocated <= 0):
        i = int(np.argmax(allocated <= 0))
        raise ValueError(f"allocated[{i}] = {float(allocated[i])!r}: allocations must be > 0 for efficiency and utilisation")
    ratio = actual / allocated
    return pd.DataFrame({
        "efficiency": np.minimum(ratio, 1.0),
        "wastage": np.maximum((allocated - actual) / allocated, 0.0),
        "utilisation": ratio,
        "over_provisioning": np.maximum(allocated - actual, 0.0),
        "sla_met": allocated >= actual,
    })


def allocation_summary(per_sample: pd.DataFrame) -> dict[str, float]:
    """Means, medians and the SLA compliance rate of `allocation_metrics`."""
    out = {}
    for col in ("efficiency", "wastage", "utilisation", "over_provisioning"):
        out[f"{col}_mean"] = float(per_sample[col].mean())
        out[f"{col}_median"] = float(per_sample[col].median())
    out["efficiency_iqr"] = float(per_sample["efficiency"].quantile(0.75) - per_sample["efficiency"].quantile(0.25))
    out["sla_compliance"] = float(per_sample["sla_met"].mean())
    return out
