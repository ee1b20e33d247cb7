"""Wrappers of ORANSlicing-v0.

`ForecastObservation` appends the forecasters' predictions (issue: forecasters feeding the env):

* per slice, the BiLSTM digital twin's forecast of next-step offered load (seed 001): each UE's
  window of the last `window` trace samples of the four KPIs goes through the forecaster in one
  batch; a UE's forecast load is its current load times forecast / current internet KPI; a
  slice's value is the mean over its UEs, scaled like the env's offered loads;
* per UE, the CNN-BiLSTM's predicted resource-allocation share (seed 000) from the UE's features
  mapped onto the Kaggle schema: slice -> Application_Type (eMBB "Streaming", URLLC
  "Emergency_Service"), observed wideband gain + P_s^max -> Signal_Strength (dBm, clipped to the
  table's [-123, -40]), last TTI's delay -> Latency (ms, clipped to [0, 110]), offered load ->
  Required_Bandwidth and last TTI's rate -> Allocated_Bandwidth (Kbps); share / 100 in [0, 1].

Predictions are made once per TTI, in batches, and reused by the TTI's prb steps, so a step costs
at most the models' own inference time. The predictors are duck-typed (`predict_next(windows)`
and `predict_share_pct(app, signal_dbm, latency_ms, required_kbps, allocated_kbps)`, as
`agents.forecasting.KPIForecasterBundle` and `QoSRegressorBundle` provide), so this module does
not import torch.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from oran_gym.sim import kernels

__all__ = ["ActionMaskObservation", "ForecastObservation", "SLICE_APPLICATION", "slice_load_features"]

SLICE_APPLICATION = ("Streaming", "Emergency_Service")
"""Kaggle Application_Type standing in for eMBB (0) and URLLC (1) UEs."""


def slice_load_features(next_load_bps: np.ndarray, ue_slice: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Per slice (eMBB, URLLC) the mean forecast load of its UEs, scaled like the env's offered
    loads: the 2 features a load forecast adds to an observation."""
    out = np.zeros(2)
    for s in (0, 1):
        sel = ue_slice == s
        out[s] = next_load_bps[sel].mean() if sel.any() else 0.0
    return kernels.normalise_rate_bps(out, params)


class ForecastObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Append per-slice load forecasts (2 values) and per-UE allocation shares (U values) to a Box observation."""

    def __init__(self, env: gym.Env, kpi_forecaster: Any = None, qos_regressor: Any = None) -> None:
        """Either predictor may be None (its features are then left out)."""
        gym.utils.RecordConstructorArgs.__init__(self, kpi_forecaster=kpi_forecaster, qos_regressor=qos_regressor)
        gym.ObservationWrapper.__init__(self, env)
        u = env.unwrapped
        if kpi_forecaster is None and qos_regressor is None:
            raise ValueError("ForecastObservation needs a kpi_forecaster, a qos_regressor or both")
        if kpi_forecaster is not None and u.config.traffic_trace is None:
            raise ValueError("the KPI forecaster needs a trace-driven scenario: set traffic_trace ('synthetic' or the KPI folder)")
        self.kpi_forecaster, self.qos_regressor = kpi_forecaster, qos_regressor
        base = env.observation_space
        if not isinstance(base, spaces.Box) or len(base.shape) != 1:
            raise ValueError(f"ForecastObservation wraps a flat Box observation, got {base}")
        self.num_extra = (2 if kpi_forecaster is not None else 0) + (u.config.num_ues if qos_regressor is not None else 0)
        n = base.shape[0] + self.num_extra
        self.observation_space = spaces.Box(0.0, 1.0, shape=(n,), dtype=np.float32)
        self._cache_key: tuple[int, int] | None = None
        self._features = np.zeros(self.num_extra, dtype=np.float32)

    def reset(self, **kwargs: Any):
        """Reset and forget the cached predictions."""
        self._cache_key = None
        return super().reset(**kwargs)

    def action_masks(self) -> np.ndarray:
        """Forwarded to the env (sb3-contrib convention)."""
        return self.env.unwrapped.action_masks()

    def observation(self, observation: np.ndarray) -> np.ndarray:
        """The env's observation followed by the forecast features."""
        u = self.env.unwrapped
        key = (id(u._net), u.tti)
        if key != self._cache_key:
            self._features = self.forecast_features()
            self._cache_key = key
        return np.concatenate([np.asarray(observation, dtype=np.float32), self._features])

    def forecast_features(self) -> np.ndarray:
        """Compute the features of the current TTI (batched model calls)."""
        u = self.env.unwrapped
        cfg = u.config
        load = u.offered_load_bps
        ue_slice = u.ue_slice
        out = []
        if self.kpi_forecaster is not None:
            w = self.kpi_forecaster.window
            trace, idx = u.trace, u.trace_index
            windows = trace[(idx[:, None] + np.arange(-w + 1, 1)[None, :]) % trace.shape[0]]  # [U, w, 4]
            forecast = self.kpi_forecaster.predict_next(windows)  # [U], internet KPI units
            current = trace[idx, 0]
            out.append(slice_load_features(load * np.maximum(forecast, 0.0) / np.maximum(current, 1e-9), ue_slice, u._params))
        if self.qos_regressor is not None:
            info = u.last_tti_info
            levels = u._levels_w[:, -1]
            wideband_db = 10 * np.log10(np.mean(10 ** (u.observed_gains_db / 10), axis=2)).max(axis=0)
            signal = np.clip(10 * np.log10(levels[ue_slice] * 1e3) + wideband_db, -123.0, -40.0)
            if info is None:
                latency = np.full(cfg.num_ues, 110.0)
                rate = np.zeros(cfg.num_ues)
            else:
                latency = np.clip(np.nan_to_num(info["delay_s"] * 1e3, posinf=110.0), 0.0, 110.0)
                rate = info["ue_rate_bps"]
            apps = np.array(SLICE_APPLICATION)[ue_slice]
            share = self.qos_regressor.predict_share_pct(apps, signal, latency, load / 1e3, rate / 1e3)
            out.append(np.clip(np.asarray(share, dtype=np.float64) / 100.0, 0.0, 1.0))
        return np.concatenate(out).astype(np.float32)


class ActionMaskObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """The observation as `{"action_mask": mask, "observations": obs}`, RLlib's action-masking layout.

    RLlib's `ActionMaskingTorchRLModule` (its action-masking example) reads the mask of valid
    actions from the observation; this wrapper puts `env.unwrapped.action_masks()` there (float32
    0/1, `Box(0, 1, (n,))`) beside the env's own observation. In the full mode the mask is the
    flat concatenation of every PRB's action mask (all ones: every full action is accepted).
    """

    def __init__(self, env: gym.Env) -> None:
        """Wrap an ORANSlicing-v0 env."""
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)
        space = env.action_space
        n = int(space.n) if isinstance(space, gym.spaces.Discrete) else int(np.sum(space.nvec))
        self.observation_space = gym.spaces.Dict({
            "action_mask": gym.spaces.Box(0.0, 1.0, shape=(n,), dtype=np.float32),
            "observations": env.observation_space,
        })

    def observation(self, observation: np.ndarray) -> dict[str, np.ndarray]:
        """Add the mask of the next step."""
        return {"action_mask": self.env.unwrapped.action_masks().astype(np.float32), "observations": observation}
