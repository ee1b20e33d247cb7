"""`action_mode="slice"`: the near-RT RIC's control level (DESIGN.md section 7).

An O-RAN xApp does not schedule PRBs one by one: it sets each slice's share of an RU's PRBs and a
power budget, and the MAC scheduler in the DU fills the PRBs. Here one step is one control period
of `control_period_tti` TTIs:

* action, per RU b and slice s (eMBB, URLLC), in `[b, s, (share, power)]` order: the slice's PRB
  share and its share of the RU's power limit `min(P_b^max, fronthaul limit)` (eqs. 11 and 15).
  `Box(-1, 1, (2 B S,))` read as (a + 1) / 2 (the symmetric range SB3's checker asks of a Box),
  or with `discrete_levels=K` `MultiDiscrete([K + 1] * 2 B S)` read as k / K.
  Every point of the space is a valid action: an RU's shares (or power shares) that sum to more
  than 1 are divided by their sum, and `info["slice_prbs"]` / `info["slice_prb_power_w"]` report
  what was applied.
* decoding, per RU: slice s gets `floor(share_s M)` PRBs, eMBB's block first, then URLLC's; each
  PRB of the block gets the highest power level of the slice that fits `budget_s / PRBs`; when
  even the lowest level does not fit, only `floor(budget_s / lowest level)` PRBs of the block
  carry it and the rest stay idle. The RU's power limit therefore always holds (no projection).
* the MAC scheduler (`mac_scheduler`) gives each PRB of a slice's block to one of that slice's
  UEs served by the RU (each UE by its best observed wideband RU):
  `"round_robin"` in turn, continuing across TTIs; `"max_sinr"` the UE with the best observed
  gain on the PRB; `"proportional_fair"` the UE maximising its estimated PRB rate over its average
  served rate (EWMA, alpha 0.1, across TTIs) plus what it got earlier in this TTI.
* the TTIs of the period run the full mode of `ORANSlicingEnv` (the same physics, observation
  and reward); the step's reward is the sum of the period's TTI rewards; `info` is the last TTI's
  info, plus `period_rewards` (`[control_period_tti]`, NaN for TTIs a truncation cut off).

Built by `gym.make("ORANSlicing-v0", action_mode="slice", ...)`; the observation is the full
mode's. `gym.make_vec("ORANSlicing-v0", num_envs=N, action_mode="slice", ...)` gives the native
vector env of this mode (`oran_gym.envs.slice_vector_env`), equal to `SyncVectorEnv` step for step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from oran_gym.config import ScenarioConfig
from oran_gym.envs.slicing_env import ORANSlicingEnv
from oran_gym.sim import reference
from oran_gym.sim.dynamics import ue_slices
from oran_gym.sim.kernels import POWER_RTOL
from oran_gym.sim.params import pack_params, power_levels_w, unpack_params

__all__ = ["MAC_SCHEDULERS", "ORANSliceControlEnv", "check_control_period", "make_env"]

MAC_SCHEDULERS = ("round_robin", "proportional_fair", "max_sinr")
NUM_SLICES = 2
PF_ALPHA = 0.1
SHARE_TOL = 1e-6


def check_control_period(control_period_tti: Any) -> int:
    """`control_period_tti` as an int, or a ValueError naming it when it is not an integer >= 1."""
    if isinstance(control_period_tti, bool) or not isinstance(control_period_tti, (int, np.integer)) or control_period_tti < 1:
        raise ValueError(f"control_period_tti must be an integer >= 1 (TTIs per control step), got {control_period_tti!r}")
    return int(control_period_tti)


class ORANSliceControlEnv(gym.Env):
    """`ORANSlicing-v0` with `action_mode="slice"`: slice PRB shares and power budgets per RU, a MAC
    scheduler in the env (see the module docstring)."""

    metadata = ORANSlicingEnv.metadata

    def __init__(self, config: Any = None, *, control_period_tti: int = 1, mac_scheduler: str = "proportional_fair",
                 discrete_levels: int | None = None, obs_mode: str = "full", render_mode: str | None = None,
                 **overrides: Any) -> None:
        if isinstance(config, Mapping) and not isinstance(config, ScenarioConfig):
            config = dict(config)  # RLlib and JSON specs deliver one mapping: env arguments beside scenario fields
            control_period_tti = config.pop("control_period_tti", control_period_tti)
            mac_scheduler = config.pop("mac_scheduler", mac_scheduler)
            discrete_levels = config.pop("discrete_levels", discrete_levels)
            obs_mode = config.pop("obs_mode", obs_mode)
            render_mode = config.pop("render_mode", render_mode)
            config.pop("action_mode", None)
        control_period_tti = check_control_period(control_period_tti)
        if mac_scheduler not in MAC_SCHEDULERS:
            raise ValueError(f"mac_scheduler must be one of {list(MAC_SCHEDULERS)}, got {mac_scheduler!r}")
        if discrete_levels is not None and (isinstance(discrete_levels, bool) or not isinstance(discrete_levels, (int, np.integer))
                                            or discrete_levels < 1):
            raise ValueError(f"discrete_levels must be None (a Box action) or an integer >= 1, got {discrete_levels!r}")
        self.env = ORANSlicingEnv(config, action_mode="full", obs_mode=obs_mode, render_mode=render_mode, **overrides)
        self.config = cfg = self.env.config
        self.action_mode, self.obs_mode, self.render_mode = "slice", self.env.obs_mode, render_mode
        self.control_period_tti, self.mac_scheduler = control_period_tti, mac_scheduler
        self.discrete_levels = None if discrete_levels is None else int(discrete_levels)
        B = cfg.num_rus
        n = 2 * B * NUM_SLICES
        if self.discrete_levels is None:
            self.action_space = spaces.Box(-1.0, 1.0, (n,), np.float32)
        else:
            self.action_space = spaces.MultiDiscrete(np.full(n, self.discrete_levels + 1, dtype=np.int64))
        self.observation_space = self.env.observation_space
        self._dec = SliceDecoder(cfg, mac_scheduler, self.discrete_levels, self.action_space)

    # -- Gymnasium API ---------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        obs, info = self.env.reset(seed=seed, options=options)
        self._dec.reset()
        return obs, info

    def step(self, action: Any):
        dec = self._dec
        prbs, prb_power_w = dec.quotas(*dec.read_action(action))
        rewards: list[float] = []
        obs = info = None
        terminated = truncated = False
        for _ in range(self.control_period_tti):
            full = dec.schedule(prbs, prb_power_w, self.env.observed_gains_db)
            obs, reward, terminated, truncated, info = self.env.step(full)
            dec.served(info["ue_rate_bps"])
            rewards.append(float(reward))
            if terminated or truncated:
                break
        info = dict(info)
        info.update(period_rewards=period_rewards(rewards, self.control_period_tti), slice_prbs=prbs.copy(),
                    slice_prb_power_w=prb_power_w.copy())
        return obs, float(sum(rewards)), terminated, truncated, info

    def render(self):
        return self.env.render()

    def close(self) -> None:
        self.env.close()

    def serving_ru(self) -> np.ndarray:
        """The RU the MAC scheduler serves each UE from this TTI: its best observed wideband RU, `[U]`."""
        return serving_ru(self.env.observed_gains_db)

    def action_from_shares(self, prb_shares: np.ndarray, power_shares: np.ndarray) -> np.ndarray:
        """The action that applies `[B, S]` PRB shares and power shares in [0, 1] (rounded down to the
        grid with `discrete_levels`): what the slice baselines emit."""
        x = np.stack([np.asarray(prb_shares, float), np.asarray(power_shares, float)], axis=-1).ravel()
        if not (np.all(np.isfinite(x)) and (x >= 0).all() and (x <= 1).all()):
            raise ValueError(f"shares must be in [0, 1], got {np.array2string(x, threshold=8)}")
        if self.discrete_levels is None:
            return (2.0 * x - 1.0).astype(np.float32)
        return np.floor(x * self.discrete_levels + 1e-9).astype(np.int64)

    # -- pass-throughs ---------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        """The single env's state (`gains`, `offered_load_bps`, `queue_status`, `last_tti_allocation`, ...)."""
        if name.startswith("_") or name == "env":
            raise AttributeError(name)
        return getattr(self.env, name)


class SliceDecoder:
    """One env's slice-action decoding and MAC-scheduler state, shared by the single and the native
    vector env so that both fill the PRBs the same way."""

    def __init__(self, cfg: ScenarioConfig, mac_scheduler: str, discrete_levels: int | None, action_space: spaces.Space) -> None:
        self.config, self.mac_scheduler, self.discrete_levels, self.action_space = cfg, mac_scheduler, discrete_levels, action_space
        self._params = pack_params(cfg)
        self._levels_w = power_levels_w(cfg)  # [S, L], ascending
        self._kp = unpack_params(self._params)
        self._ue_slice = ue_slices(cfg)
        self._rr_next = np.zeros((cfg.num_rus, NUM_SLICES), dtype=np.int64)
        self._pf_avg_bps = np.zeros(cfg.num_ues)

    def reset(self) -> None:
        """Forget the scheduler's history (an episode starts)."""
        self._rr_next[:] = 0
        self._pf_avg_bps[:] = 0.0

    def served(self, ue_rate_bps: np.ndarray) -> None:
        """Fold a TTI's rates into proportional fair's averages."""
        self._pf_avg_bps = (1 - PF_ALPHA) * self._pf_avg_bps + PF_ALPHA * ue_rate_bps

    def read_action(self, action: Any) -> tuple[np.ndarray, np.ndarray]:
        """The action as `[B, S]` PRB shares and power shares in [0, 1]."""
        B, n = self.config.num_rus, self.action_space.shape[0]
        arr = np.asarray(action)
        if arr.shape != (n,):
            raise ValueError(f"action must have shape ({n},) for {self.action_space}, got shape {arr.shape}")
        if self.discrete_levels is None:
            if arr.dtype.kind not in "fiu" or not np.all(np.isfinite(arr)) or (arr < -1).any() or (arr > 1).any():
                raise ValueError(f"action must be in {self.action_space}: numbers in [-1, 1], got {np.array2string(arr, threshold=8)}")
            x = (arr.astype(np.float64) + 1.0) / 2.0
        else:
            if arr.dtype.kind not in "iu" or (arr < 0).any() or (arr > self.discrete_levels).any():
                raise ValueError(f"action must be in {self.action_space}: integers 0..{self.discrete_levels}, "
                                 f"got {np.array2string(arr, threshold=8)}")
            x = arr.astype(np.float64) / self.discrete_levels
        x = x.reshape(B, NUM_SLICES, 2)
        return _normalised(x[:, :, 0]), _normalised(x[:, :, 1])

    def quotas(self, shares: np.ndarray, power_shares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """PRBs per (RU, slice) that carry power, and the power on each of them (W)."""
        M = self.config.num_prbs
        # the tolerances absorb float32 actions: a share of exactly k / M read back from the Box
        prbs = np.floor(shares * M + SHARE_TOL).astype(np.int64)
        budget_w = power_shares * self._kp.ru_power_limit_w
        prb_power_w = np.zeros(prbs.shape)
        for b, s in np.ndindex(*prbs.shape):
            if prbs[b, s] == 0:
                continue
            levels = self._levels_w[s]
            fit = levels <= budget_w[b, s] / prbs[b, s] * (1 + SHARE_TOL)
            if fit.any():
                prb_power_w[b, s] = levels[fit].max()
            else:  # not even the lowest level on every PRB: fewer PRBs at the lowest level
                prbs[b, s] = int(np.floor(budget_w[b, s] / levels[0] * (1 + SHARE_TOL)))
                prb_power_w[b, s] = levels[0] if prbs[b, s] > 0 else 0.0
        limit = self._kp.ru_power_limit_w * (1 + POWER_RTOL)
        for b in range(prbs.shape[0]):  # what the tolerance let through must still fit: drop PRBs, URLLC's last
            while (prbs[b] * prb_power_w[b]).sum() > limit:
                s = int(np.flatnonzero(prbs[b] > 0)[-1])
                prbs[b, s] -= 1
        return prbs, prb_power_w

    def schedule(self, prbs: np.ndarray, prb_power_w: np.ndarray, gains_db: np.ndarray) -> np.ndarray:
        """The MAC scheduler: the TTI's full-mode action for the quotas, from the observed gains `[B, U, M]` dB."""
        cfg = self.config
        B, M, L = cfg.num_rus, cfg.num_prbs, cfg.num_power_levels
        home = serving_ru(gains_db)
        action = np.zeros((B, M), dtype=np.int64)
        for b in range(B):
            start = 0
            for s in range(NUM_SLICES):
                q = int(prbs[b, s])
                block = np.arange(start, start + q)
                start += q
                ues = np.flatnonzero((home == b) & (self._ue_slice == s))
                if q == 0 or ues.size == 0:
                    continue
                level = int(np.flatnonzero(self._levels_w[s] == prb_power_w[b, s])[0])
                owners = self._fill(b, s, block, ues, prb_power_w[b, s], gains_db)
                action[b, block] = 1 + owners * L + level
        return action.ravel()

    def _fill(self, b: int, s: int, block: np.ndarray, ues: np.ndarray, power_w: float, gains_db: np.ndarray) -> np.ndarray:
        """The UE of each PRB of the block."""
        if self.mac_scheduler == "round_robin":
            owners = ues[(self._rr_next[b, s] + np.arange(block.size)) % ues.size]
            self._rr_next[b, s] = (self._rr_next[b, s] + block.size) % ues.size
            return owners
        gain = gains_db[b][np.ix_(ues, block)]  # [candidates, PRBs]
        if self.mac_scheduler == "max_sinr":
            return ues[np.argmax(gain, axis=0)]
        # proportional fair: estimated noise-limited PRB rate over the average served rate
        snr = 10.0 ** (gain / 10.0) * power_w / self._kp.noise_w
        rate = reference.capped_rate_bps(snr, np.full(snr.shape, s), self._params)
        served = self._pf_avg_bps[ues].copy() + 1.0  # 1 bit/s: a UE never served still has a finite metric
        owners = np.empty(block.size, dtype=np.int64)
        for k in range(block.size):
            i = int(np.argmax(rate[:, k] / served))
            owners[k] = ues[i]
            served[i] += rate[i, k]
        return owners


def serving_ru(observed_gains_db: np.ndarray) -> np.ndarray:
    """Each UE's best observed wideband RU (mean linear gain over PRBs), `[U]`."""
    return np.argmax(np.mean(10.0 ** (observed_gains_db / 10.0), axis=2), axis=0)


def period_rewards(rewards: list[float], period_tti: int) -> np.ndarray:
    """The period's TTI rewards as `[period_tti]`, NaN after a truncation ended the period early (a
    fixed shape, so that vector envs batch it)."""
    out = np.full(period_tti, np.nan)
    out[: len(rewards)] = rewards
    return out


def _normalised(x: np.ndarray) -> np.ndarray:
    """Each row divided by its sum where that exceeds 1."""
    total = x.sum(axis=1, keepdims=True)
    return np.where(total > 1.0, x / np.where(total > 1.0, total, 1.0), x)


def make_env(config: Any = None, **kwargs: Any) -> gym.Env:
    """The entry point of `ORANSlicing-v0`: `ORANSliceControlEnv` for `action_mode="slice"` (an
    argument, or a key of a mapping `config`), `ORANSlicingEnv` otherwise."""
    mode = kwargs.get("action_mode")
    if mode is None and isinstance(config, Mapping) and not isinstance(config, ScenarioConfig):
        mode = config.get("action_mode")
    if mode == "slice":
        kwargs.pop("action_mode", None)
        return ORANSliceControlEnv(config, **kwargs)
    return ORANSlicingEnv(config, **kwargs)
