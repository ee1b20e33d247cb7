"""Loaders, forecasting models and pipelines (real data at reduced size), metrics, the forecast wrapper."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="needs the agents extra: pip install torch==2.13.0 && pip install 'oran-gym[agents]'")

from oran_gym.agents.forecasting import (  # noqa: E402
    BiLSTMForecaster,
    CNNBiLSTMRegressor,
    KPIForecasterBundle,
    QoSRegressorBundle,
    chronological_split,
    fit_torch_regressor,
    make_windows,
    predict,
    preprocess_qos,
    run_kpi_pipeline,
    run_qos_pipeline,
    tune_cnn_bilstm,
)
from oran_gym.baselines.forecasting import (
    allocation_metrics,
    allocation_summary,
    regression_metrics,
    static_provisioning,
    table1_regressors,
)

import oran_gym  # noqa: F401
from oran_gym.data import (
    data_dir,
    load_operator_kpis,
    load_qos5g,
    load_trace,
    synthetic_operator_kpis,
    synthetic_qos5g,
)
from oran_gym.wrappers import ForecastObservation

pytestmark = pytest.mark.requires_torch
DATA = data_dir()
KPI_DIR = DATA / "operator_kpis" / "network_operator_KPIs_time_series_dataset" if DATA else None
needs_data = pytest.mark.skipif(DATA is None or not (DATA / "qos5g" / "qos5g.csv").exists(), reason="real data not found")

def test_windows_and_split_have_no_look_ahead():
    values = np.arange(30, dtype=float)[:, None] * np.ones((1, 2))
    x, y, idx = make_windows(values, values[:, 0], window=5)
    assert x.shape == (25, 5, 2) and np.all(x[:, -1, 0] < y) and np.all(y == idx)
    assert np.all(x[:, -1, 0] + 1 == y)  # the target is the very next step
    tr, va, te = chronological_split(100)
    assert (tr.stop, va.stop, te.stop) == (64, 80, 100) and tr.stop <= va.start and va.stop <= te.start


def test_metric_functions_match_sklearn():
    from sklearn import metrics as m

    rng = np.random.default_rng(0)
    y, p = rng.uniform(0.1, 1, 50), rng.uniform(0.1, 1, 50)
    r = regression_metrics(y, p)
    assert r["MAE"] == pytest.approx(m.mean_absolute_error(y, p)) and r["RMSE"] == pytest.approx(np.sqrt(m.mean_squared_error(y, p)))
    assert r["MSLE"] == pytest.approx(m.mean_squared_log_error(y, p)) and r["MAPE"] == pytest.approx(m.mean_absolute_percentage_error(y, p))
    assert r["R2"] == pytest.approx(m.r2_score(y, p)) and r["EVS"] == pytest.approx(m.explained_variance_score(y, p))


def test_allocation_metrics_hand_computed():
    a = allocation_metrics(np.array([50.0, 100.0, 150.0]), np.array([100.0, 100.0, 100.0]))
    assert a["efficiency"].tolist() == [0.5, 1.0, 1.0]
    assert a["wastage"].tolist() == [0.5, 0.0, 0.0]
    assert a["utilisation"].tolist() == [0.5, 1.0, 1.5]
    assert a["over_provisioning"].tolist() == [50.0, 0.0, 0.0]
    assert a["sla_met"].tolist() == [True, True, False]
    s = allocation_summary(a)
    assert s["sla_compliance"] == pytest.approx(2 / 3) and s["efficiency_median"] == 1.0
    assert static_provisioning(np.array([1.0, 2.0, 3.0]), "mu+2sigma") == pytest.approx(2 + 2 * np.sqrt(2 / 3))
    assert static_provisioning(np.arange(101.0), "p95") == 95.0
    with pytest.raises(ValueError, match=r"allocated\[1\] = 0.0"):
        allocation_metrics(np.ones(2), np.array([1.0, 0.0]))


def test_naive_forecasts_conformal_margin_and_pinball_loss():
    from oran_gym.agents.forecast_training import pinball_loss
    from oran_gym.baselines.forecasting import conformal_offset, naive_forecast

    series = np.arange(10.0) ** 2
    np.testing.assert_array_equal(naive_forecast(series, np.array([3, 9]), 1), [4.0, 64.0])
    np.testing.assert_array_equal(naive_forecast(series, np.array([3, 9]), 3), [0.0, 36.0])
    with pytest.raises(ValueError, match="fewer than lag=4"):
        naive_forecast(series, np.array([3]), 4)
    with pytest.raises(ValueError, match="lag must be an integer"):
        naive_forecast(series, np.array([3]), 0)
    # residuals 0..99: ceil(101 * 0.95) = 96th smallest = 95; the margin covers 96 of 100
    actual = np.arange(100.0)
    m = conformal_offset(actual, np.zeros(100), 0.95)
    assert m == 95.0 and np.mean(actual <= m) == 0.96
    with pytest.raises(ValueError, match="sla must lie in"):
        conformal_offset(actual, actual, 1.0)
    # rolling margins: each uses only the residuals before it, the last `window` of them
    from oran_gym.baselines.forecasting import rolling_conformal_margins

    cal, res = np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0])
    np.testing.assert_array_equal(rolling_conformal_margins(cal, res, 0.5, 3), [2.0, 3.0, 10.0])
    np.testing.assert_array_equal(rolling_conformal_margins(cal, res, 0.99, 2), [3.0, 10.0, 20.0])
    with pytest.raises(ValueError, match="window must be an integer >= 1"):
        rolling_conformal_margins(cal, res, 0.5, 0)
    # pinball at q: under-forecasts cost q per unit, over-forecasts 1 - q
    t = torch.tensor([1.0, 1.0])
    assert float(pinball_loss(torch.tensor([0.0, 0.0]), t, 0.9)) == pytest.approx(0.9)
    assert float(pinball_loss(torch.tensor([2.0, 2.0]), t, 0.9)) == pytest.approx(0.1)


def test_bilstm_norms_do_not_mix_samples_except_batchnorm():
    torch.manual_seed(0)
    x = torch.randn(4, 10, 3)
    for norm in ("none", "layer"):
        net = BiLSTMForecaster(3, units=(8, 4), norm=norm).train()
        torch.manual_seed(1)
        alone = net.eval()(x[:1])
        # in eval mode and in train mode (dropout off), sample 0's output does not depend on the others
        net.dropout.p = 0.0
        net.train()
        np.testing.assert_allclose(net(x)[:1].detach(), alone.detach(), rtol=1e-5, atol=1e-6)
    bn = BiLSTMForecaster(3, units=(8, 4), norm="batch").train()
    bn.dropout.p = 0.0
    assert not torch.allclose(bn(x)[:1], bn(torch.cat([x[:1], 5 * x[1:]]))[:1])
    with pytest.raises(ValueError, match="norm must be one of"):
        BiLSTMForecaster(3, norm="group")


def test_mape_is_undefined_where_a_true_value_is_zero():
    r = regression_metrics(np.array([0.0, 1.0, 2.0]), np.array([0.1, 1.0, 2.0]))
    assert math.isnan(r["MAPE"]) and r["MAE"] == pytest.approx(0.1 / 3)


def test_keras_faithful_cnn_bilstm_matches_the_papers_size():
    from oran_gym.agents.forecast_models import KerasCNNBiLSTMRegressor

    net = KerasCNNBiLSTMRegressor(5)
    total = sum(p.numel() for p in net.parameters())
    keras_count = total - sum(p.numel() for n, p in net.lstm.named_parameters() if "bias_hh" in n)  # Keras: one bias per gate
    assert 2.86e6 < keras_count < 2.88e6 and net.head.in_features == 4 * 224  # valid conv: 2 -> pool: 1 step, flattened
    assert net.eval()(torch.zeros(3, 5)).shape == (3,)
    assert sum(p.numel() for p in CNNBiLSTMRegressor(5).parameters()) > 3.6e6  # ours: MultiheadAttention's weights
    with pytest.raises(ValueError, match="valid padding needs num_features >= kernel_size"):
        KerasCNNBiLSTMRegressor(3)


def test_model_shapes():
    x = torch.zeros(7, 10, 4)
    assert BiLSTMForecaster(4).eval()(x).shape == (7,)
    assert CNNBiLSTMRegressor(5).eval()(torch.zeros(7, 5)).shape == (7,)
    assert len(table1_regressors()) == 10


@pytest.mark.slow
def test_tiny_bilstm_overfits_a_small_series():
    t = np.arange(400)
    series = 0.5 + 0.4 * np.sin(2 * np.pi * t / 24)
    x, y, _ = make_windows(np.column_stack([series, series]), series, 10)
    model = BiLSTMForecaster(2, units=(16, 8), dropout=0.0, dense=16)
    hist = fit_torch_regressor(model, x, y, x[:50], y[:50], epochs=60, batch_size=32, lr=1e-2, patience=60, seed=0)
    mse = float(np.mean((predict(model, x.astype(np.float32)) - y) ** 2))
    assert mse < 0.01 * y.var() + 1e-4 and hist["train"][-1] < hist["train"][0] / 10


def test_kpi_pipeline_on_synthetic_data_and_bundle_round_trip(tmp_path):
    df = synthetic_operator_kpis(days=3, seed=0)
    df = df.mask(df == 0).interpolate(limit_direction="both")
    r = run_kpi_pipeline(df, epochs=2, units=(8, 8, 4), batch_size=64)
    t = r["table"].set_index("method")
    assert list(t.index) == ["bilstm", "persistence", "seasonal naive", "bilstm (paper BatchNorm)", "bilstm-q95", "mu+2sigma", "p95"]
    assert (t["sla_compliance"].loc[["mu+2sigma", "p95"]] > 0.85).all()
    # persistence is the previous sample, seasonal naive the sample a day (288 samples) before
    actual = r["actual"]
    np.testing.assert_array_equal(r["predictions"]["persistence"][1:], np.clip(actual[:-1], 1e-9, None))
    series = df["internet"].to_numpy()
    np.testing.assert_array_equal(r["predictions"]["seasonal naive"], np.clip(series[-len(actual) - 288:-288], 1e-9, None))
    assert t.loc["persistence", "MAE"] == pytest.approx(np.mean(np.abs(actual - r["predictions"]["persistence"])))
    # the conformal margin lifts the quantile forecaster to about the chosen SLA on held-out windows
    assert t.loc["bilstm-q95", "sla_compliance"] > 0.8 and r["sla"] == 0.95
    assert r["bundle"].model.norm_kind == "none" and r["histories"]["bilstm (paper BatchNorm)"]["epochs_run"] >= 1
    b = r["bundle"]
    path = b.save(tmp_path / "kpi.pt")
    b2 = KPIForecasterBundle.load(path)
    w = df[["internet", "sessions", "vpn", "downstream"]].to_numpy()[None, :10]
    np.testing.assert_allclose(b.predict_next(w), b2.predict_next(w), rtol=1e-6)


@needs_data
def test_pipelines_end_to_end_on_the_real_files_at_reduced_size():
    k = load_operator_kpis(KPI_DIR)
    r = run_kpi_pipeline(k, epochs=1, units=(16, 16, 8), max_samples=2000, batch_size=64)
    t = r["table"].set_index("method")
    assert t.loc["mu+2sigma", "over_provisioning_mean"] > t.loc["p95", "over_provisioning_mean"] > 0
    q = load_qos5g(DATA / "qos5g" / "qos5g.csv")
    x, y, info = preprocess_qos(q)
    assert info["outliers_removed"] > 0 and x.min() >= 0 and x.max() <= 1 and info["duplicate_feature_rows"] > 0
    paper = "CNN-BiLSTM (Keras-faithful, paper protocol: test-fold early stopping)"
    res = run_qos_pipeline(q, folds=3, epochs=2, models=["HGBR", "Ridge", "CNN-BiLSTM", paper], cnn_params={"n_units": 16, "num_layers": 1})
    s = res["summary"]
    assert set(s.index) == {"HGBR", "Ridge", "CNN-BiLSTM", paper} and s.loc["HGBR", "R2_mean"] > s.loc["Ridge", "R2_mean"]
    # spread over folds, the best fold, and MAPE only over the folds whose scaled target has no 0
    assert (s["R2_min"] <= s["R2_mean"]).all() and (s["R2_mean"] <= s["R2_max"]).all()
    pf = res["per_fold"]
    for model, row in s.iterrows():
        folds = pf[pf["model"] == model]
        assert row["R2_max"] == folds["R2"].max() and folds.set_index("fold").loc[row["best_fold"], "R2"] == row["R2_max"]
        assert row["MAPE_defined_folds"] == folds["MAPE"].notna().sum() < 3  # the fold holding the minimum has a 0
    with pytest.raises(ValueError, match="unknown models"):
        run_qos_pipeline(q, folds=3, models=["CNN"])
    grouped = run_qos_pipeline(q, folds=3, grouped=True, models=["HGBR"])
    assert grouped["split"].startswith("GroupKFold")


def test_grouped_split_keeps_duplicates_together():
    from sklearn.model_selection import GroupKFold

    df = synthetic_qos5g(200, seed=3)
    df = pd.concat([df, df.iloc[:30]], ignore_index=True)  # duplicate feature rows
    x, y, info = preprocess_qos(df)
    feats = pd.DataFrame(x).round(12).astype(str).agg("|".join, axis=1)
    for tr, te in GroupKFold(5).split(x, y, info["groups"]):
        assert not set(feats.iloc[tr]) & set(feats.iloc[te])


def test_optuna_search_for_cnn_bilstm_resumes(tmp_path):
    df = synthetic_qos5g(80, seed=0)
    storage = f"sqlite:///{tmp_path / 'q.db'}"
    s = tune_cnn_bilstm(df, n_trials=2, storage=storage, epochs=2, patience=2)
    s = tune_cnn_bilstm(df, n_trials=3, storage=storage, epochs=2, patience=2)
    assert len(s.trials) == 3 and {"n_units", "optimizer", "kernel_size"} <= set(s.trials[0].params)


@pytest.fixture(scope="module")
def predictors():
    df = synthetic_operator_kpis(days=2, seed=0)
    df = df.mask(df == 0).interpolate(limit_direction="both")
    kpi = run_kpi_pipeline(df, epochs=1, units=(8, 8, 4), batch_size=64)["bundle"]
    q = synthetic_qos5g(120, seed=0)
    q.loc[0, "Application_Type"], q.loc[1, "Application_Type"] = "Streaming", "Emergency_Service"
    qos = QoSRegressorBundle.fit(q, epochs=2, params={"n_units": 16, "num_layers": 1, "batch_size": 32})
    return kpi, qos


@pytest.mark.slow
@pytest.mark.parametrize("action_mode", ["prb", "full"])
def test_forecast_wrapper_spaces_checkers_and_determinism(predictors, action_mode):
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check

    kpi, qos = predictors
    env = ForecastObservation(gym.make("ORANSlicing-v0", config="tiny", traffic_trace="synthetic", action_mode=action_mode), kpi, qos)
    assert env.observation_space.shape[0] == env.env.observation_space.shape[0] + 2 + 4
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check(env, warn=True)
        check_env(env, skip_render_check=True)
    # allow-list: Gymnasium's checker always notes that it was given a wrapper, nothing else may warn
    unexpected = [str(w.message) for w in caught if "is different from the unwrapped version" not in str(w.message)]
    assert not unexpected, unexpected
    rollouts = []
    for _ in range(2):
        obs, _ = env.reset(seed=4)
        seq = [obs]
        for _ in range(7):
            a = env.action_space.sample() * 0 if action_mode == "full" else 0
            obs, *_ = env.step(a)
            assert env.observation_space.contains(obs) and np.all(np.isfinite(obs))
            seq.append(obs)
        rollouts.append(np.array(seq))
    np.testing.assert_array_equal(*rollouts)
    assert rollouts[0][:, -6:].std(axis=0).max() > 0  # the forecast features move with the trace


def test_forecast_wrapper_errors_and_trace_validation(predictors):
    kpi, qos = predictors
    with pytest.raises(ValueError, match="trace-driven scenario"):
        ForecastObservation(gym.make("ORANSlicing-v0", config="tiny"), kpi, None)
    with pytest.raises(ValueError, match="needs a kpi_forecaster, a qos_regressor or both"):
        ForecastObservation(gym.make("ORANSlicing-v0", config="tiny"))
    with pytest.raises(FileNotFoundError, match="/nowhere"):
        gym.make("ORANSlicing-v0", traffic_trace="/nowhere")
    assert load_trace("synthetic").shape[1] == 4
    with pytest.raises(ValueError, match="unknown Application_Type 'Holograms'"):
        qos.predict_share_pct(["Holograms"], -80.0, 10.0, 100.0, 100.0)


def test_pipelines_are_seeded_end_to_end():
    df = synthetic_operator_kpis(days=2, seed=0)
    df = df.mask(df == 0).interpolate(limit_direction="both")
    torch.manual_seed(123)  # the global state before the call must not matter
    a = run_kpi_pipeline(df, epochs=2, units=(8, 8, 4), batch_size=64)["table"]
    torch.manual_seed(456)
    b = run_kpi_pipeline(df, epochs=2, units=(8, 8, 4), batch_size=64)["table"]
    pd.testing.assert_frame_equal(a, b)
    q = synthetic_qos5g(80, seed=1)
    kw = {"folds": 2, "epochs": 2, "models": ["CNN-BiLSTM"], "cnn_params": {"n_units": 8, "num_layers": 1, "batch_size": 32}}
    torch.manual_seed(1)
    r1 = run_qos_pipeline(q, **kw)["per_fold"].drop(columns="fit_s")
    torch.manual_seed(2)
    r2 = run_qos_pipeline(q, **kw)["per_fold"].drop(columns="fit_s")
    pd.testing.assert_frame_equal(r1, r2)


def test_dqn_line_gives_an_interval_only_from_two_seeds_up():
    from oran_gym.benchmarks.reproduce_forecasting import dqn_line

    one = dqn_line({"variant": "with forecasts", "mean_tti_reward": -123.384, "ci95": float("nan"), "seeds": 1})
    three = dqn_line({"variant": "with forecasts", "mean_tti_reward": -125.02, "ci95": 53.92, "seeds": 3})
    assert one == "DQN on trace-driven traffic, with forecasts: mean TTI reward -123.38 (1 seed: no interval)"
    assert three == "DQN on trace-driven traffic, with forecasts: mean TTI reward -125.02 +- 53.92 (3 seeds)"
