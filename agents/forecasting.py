"""The two forecasting seeds, rebuilt in PyTorch, with their pipelines on the real data.

* Seed 001 (digital twin): `BiLSTMForecaster`, three bidirectional LSTM layers of 128, 128 and 64
  units with dropout 0.2 (the paper's BatchNorm, which pools statistics across time, is the
  `norm="batch"` ablation; issue 16), then Dense 64 -> 1, forecasting the next internet KPI from
  windows of 10 steps of 4 KPIs. `run_kpi_pipeline` does the chronological 80/20 split (20 % of
  training for validation, no shuffling across time, scaler fitted on the training part only),
  trains with Adam (lr 1e-4, plateau scheduler), MSE, up to 30 epochs, early stopping patience 5,
  batch 32, and compares it with persistence, seasonal-naive, the static mu + 2 sigma and P95
  provisioning baselines, and a quantile (P95) BiLSTM with a conformal margin.
* Seed 000 (resource allocation regressor): `CNNBiLSTMRegressor`, Conv1D (32 filters, kernel 4)
  + squeeze-excitation + max-pool + dropout 0.079 + 3 BiLSTM layers of 224 units + self-attention
  concatenated with the BiLSTM output + a linear Dense, trained with the weighted MSE
  w = exp(|y - mean(y)|) and AdamW (lr 0.000935), batch 8, early stopping. `run_qos_pipeline`
  applies the paper's preprocessing and 10-fold CV against the ten Table 1 regressors, and also a
  duplicate-aware split (`GroupKFold` on identical feature rows); `tune_cnn_bilstm` runs the Table 2
  Optuna search (TPE, pruning, SQLite storage).

The code is split by what it does: `forecast_models` (the networks), `forecast_training` (windows,
splits, the fit loop, prediction), `forecast_pipelines` (the pipelines on the real data, the saved
bundles, the Optuna search) and `forecast_plots`; this module re-exports their public names. The
report text of the results lives with the benchmarks (`oran_gym.benchmarks.reproduce_forecasting`).
"""

from __future__ import annotations

from oran_gym.agents.forecast_models import BiLSTMForecaster, CNNBiLSTMRegressor, SqueezeExcitation
from oran_gym.agents.forecast_pipelines import (
    KPI_FEATURES,
    PAPER_KPI,
    PAPER_QOS,
    QOS_FEATURES,
    QOS_TARGET,
    KPIForecasterBundle,
    QoSRegressorBundle,
    preprocess_qos,
    results_json,
    run_kpi_pipeline,
    run_qos_pipeline,
    tune_cnn_bilstm,
)
from oran_gym.agents.forecast_plots import plot_kpi
from oran_gym.agents.forecast_training import chronological_split, fit_torch_regressor, make_windows, predict, weighted_mse

__all__ = [
    "BiLSTMForecaster",
    "CNNBiLSTMRegressor",
    "KPIForecasterBundle",
    "KPI_FEATURES",
    "PAPER_KPI",
    "PAPER_QOS",
    "QOS_FEATURES",
    "QOS_TARGET",
    "QoSRegressorBundle",
    "SqueezeExcitation",
    "chronological_split",
    "fit_torch_regressor",
    "make_windows",
    "plot_kpi",
    "predict",
    "preprocess_qos",
    "results_json",
    "run_kpi_pipeline",
    "run_qos_pipeline",
    "tune_cnn_bilstm",
    "weighted_mse",
]
