"""Shared pieces of the baselines: the policy interface, allocation <-> action coding, rate estimates.

Every baseline is an `AllocationPolicy`: it plans a whole TTI's `Allocation` from the env's state
and offers Stable-Baselines3's `predict(obs, state=None, episode_start=None, deterministic=True)`,
emitting that plan as a full-mode action or, in the prb mode, one PRB at a time.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from oran_gym import Allocation, ScenarioConfig
from oran_gym.allocation import scenario_arrays
from oran_gym.sim.params import unpack_params

__all__ = ["AllocationPolicy", "TTIView", "allocation_to_action", "level_index", "prb_rates_bps", "ru_power_limit_w"]


def ru_power_limit_w(cfg: ScenarioConfig) -> float:
    """The binding RU power limit: min(P_b^max, fronthaul limit) (eqs. 11 and 15)."""
    return float(unpack_params(scenario_arrays(cfg)[0]).ru_power_limit_w)


def prb_rates_bps(cfg: ScenarioConfig, gain_lin: np.ndarray) -> np.ndarray:
    """Interference-free rate of every (RU, UE, PRB, level): `[B, U, M, L]` bit/s.

    r = W min(log2(1 + h p_l / sigma^2), SE_max[s(u)]), with p_l the UE's slice's level l.
    """
    params, ue_slice, levels = scenario_arrays(cfg)
    kp = unpack_params(params)
    power = levels[ue_slice]  # [U, L]
    snr = gain_lin[:, :, :, None] * power[None, :, None, :] / kp.noise_w
    cap = kp.se_max_bps_per_hz[ue_slice][None, :, None, None]
    return kp.prb_bandwidth_hz * np.minimum(np.log2(1.0 + snr), cap)


def level_index(cfg: ScenarioConfig, ue: int, power_w: float) -> int:
    """Index of the power level of UE `ue`'s slice equal to `power_w` (ValueError if none is)."""
    _, ue_slice, levels = scenario_arrays(cfg)
    row = levels[ue_slice[ue]]
    idx = int(np.argmin(np.abs(row - power_w)))
    if not np.isclose(row[idx], power_w, rtol=1e-9, atol=0.0):
        raise ValueError(f"power {power_w!r} W of UE {ue} is not one of its slice's levels {row.tolist()}")
    return idx


def allocation_to_action(cfg: ScenarioConfig, allocation: Allocation) -> np.ndarray:
    """Full-mode action `[B M]` of an allocation whose powers are discrete levels."""
    L = cfg.num_power_levels
    action = np.zeros(cfg.num_rus * cfg.num_prbs, dtype=np.int64)
    for b in range(cfg.num_rus):
        for m in range(cfg.num_prbs):
            u = int(allocation.owner[b, m])
            if u >= 0:
                action[b * cfg.num_prbs + m] = 1 + u * L + level_index(cfg, u, float(allocation.power_w[b, m]))
    return action


@dataclasses.dataclass
class TTIView:
    """What `AllocationPolicy.plan` reads of an env, built from raw arrays (a labelled sample, say).

    `plan(TTIView.of(cfg, gains, offered_load_bps))` plans a TTI outside any env; the observed
    gains default to the true ones (no CSI error).
    """

    config: ScenarioConfig
    gains: np.ndarray
    observed_gains_db: np.ndarray
    offered_load_bps: np.ndarray

    @classmethod
    def of(cls, cfg: ScenarioConfig, gains: np.ndarray, offered_load_bps: np.ndarray) -> TTIView:
        """A view of one TTI; observed gains = true gains."""
        return cls(cfg, gains, 10.0 * np.log10(np.maximum(gains, 1e-30)), offered_load_bps)

    @property
    def ue_slice(self) -> np.ndarray:
        """Slice of each UE."""
        return scenario_arrays(self.config)[1].copy()


class AllocationPolicy:
    """Base of every baseline: plan a TTI, act in either action mode through SB3's `predict`.

    Subclasses implement `plan(env)` returning the `Allocation` of the current TTI. In the prb mode
    the plan is made when a TTI starts (cursor 0) and replayed PRB by PRB.

    Attributes:
        uses_true_state: True for policies that read the true channel (`env.gains`) rather than
            what the agent observes; such results are upper references, not deployable policies.
    """

    name = "base"
    uses_true_state = False

    def __init__(self, env: Any) -> None:
        """Bind to one environment (a Gymnasium env, possibly wrapped)."""
        self.env = env
        self._plan_action: np.ndarray | None = None

    @property
    def unwrapped(self):
        """The bound `ORANSlicingEnv`."""
        return self.env.unwrapped

    def plan(self, env) -> Allocation:  # pragma: no cover - abstract
        """The allocation of the TTI now being decided."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget state carried across TTIs (called at episode start by `evaluate_policy`)."""

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, None]:
        """SB3's `predict`: the action for the bound env's current step, and no recurrent state.

        A batched observation (leading axis of size 1, as from a one-env VecEnv) gets a batched
        action back. The observation itself is not read: the policy reads the env's state.
        """
        env = self.unwrapped
        if episode_start is not None and np.any(episode_start):
            self.reset()
        if env.action_mode == "full":
            action = allocation_to_action(env.config, self.plan(env))
        else:
            if env.cursor == 0 or self._plan_action is None:
                self._plan_action = allocation_to_action(env.config, self.plan(env))
            action = np.int64(self._plan_action[env.cursor])
            if not env.action_masks()[action]:  # the env moved off the plan (e.g. driven by someone else)
                action = np.int64(0)
        obs = np.asarray(observation)
        batched = obs.ndim == len(env.observation_space.shape) + 1
        if batched:
            if obs.shape[0] != 1:
                raise ValueError(f"{type(self).__name__} is bound to one env; got a batch of {obs.shape[0]} observations")
            return np.asarray(action)[None], None
        return np.asarray(action), None
