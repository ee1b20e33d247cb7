"""Shared pieces of the baselines: the policy interface, allocation <-> action coding, rate estimates.

Every baseline is an `AllocationPolicy`: it plans a whole TTI's `Allocation` from the env's state
and offers Stable-Baselines3's `predict(obs, state=None, episode_start=None, deterministic=True)`,
emitting that plan as a full-mode action or, in the prb mode, one PRB at a time.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

import numpy as np

from oran_gym import Allocation, ScenarioConfig
from oran_gym.allocation import scenario_arrays
from oran_gym.sim import reference
from oran_gym.sim.params import unpack_params

__all__ = [
    "AllocationPolicy", "TTIView", "allocation_to_action", "check_number", "delay_rate_floor_bps", "level_index", "prb_rates_bps", "ru_power_limit_w",
]


def check_number(owner: str, name: str, value: Any, *, lo: float | None = None, hi: float | None = None,
                 lo_open: bool = False, hi_open: bool = False, integer: bool = False, allow_none: bool = False) -> Any:
    """A constructor argument, checked: a real number (an integer with `integer`) in the range, or None
    where allowed. Returns it as a Python int or float; the error names the class, the argument,
    the value received and what is allowed.
    """
    if value is None and allow_none:
        return None
    kind = "an integer" if integer else "a number"
    bounds = []
    if lo is not None:
        bounds.append(f"{'>' if lo_open else '>='} {lo:g}")
    if hi is not None:
        bounds.append(f"{'<' if hi_open else '<='} {hi:g}")
    allowed = f"{kind} {' and '.join(bounds)}".strip() + (" or None" if allow_none else "")
    numeric = isinstance(value, (numbers.Integral if integer else numbers.Real)) and not isinstance(value, bool)
    if not numeric:
        raise TypeError(f"{owner}: {name} must be {allowed}, got {value!r} of type {type(value).__name__}")
    ok = math.isfinite(value) and (lo is None or (value > lo if lo_open else value >= lo)) and (
        hi is None or (value < hi if hi_open else value <= hi))
    if not ok:
        raise ValueError(f"{owner}: {name} must be {allowed}, got {value!r}")
    return int(value) if integer else float(value)


def delay_rate_floor_bps(params: np.ndarray, ue_slice: np.ndarray) -> np.ndarray:
    """Eq. (16) inverted for planning: the rate each UE needs to meet its delay budget, `[U]` bit/s.

    `D_u = fibre + mu_s / R_u <= D^max` holds exactly when `R_u >= mu_s / (D^max - fibre)`; where the
    fibre alone exceeds the budget no rate is enough (inf). The heuristics and the MILP plan with it.
    """
    kp = unpack_params(params)
    room = kp.delay_budget_s[ue_slice] - kp.fibre_delay_s
    with np.errstate(divide="ignore"):
        return np.where(room > 0, kp.packet_bits[ue_slice] / np.where(room > 0, room, 1.0), np.inf)


def ru_power_limit_w(cfg: ScenarioConfig) -> float:
    """The binding RU power limit: min(P_b^max, fronthaul limit) (eqs. 11 and 15)."""
    return float(unpack_params(scenario_arrays(cfg)[0]).ru_power_limit_w)


def prb_rates_bps(cfg: ScenarioConfig, gain_lin: np.ndarray) -> np.ndarray:
    """Interference-free rate of every (RU, UE, PRB, level): `[B, U, M, L]` bit/s.

    r = W min(log2(1 + h p_l / sigma^2), SE_max[s(u)]) (`reference.capped_rate_bps`, so the CQI
    table with `link_model="cqi_table"`), with p_l the UE's slice's level l.
    """
    params, ue_slice, levels = scenario_arrays(cfg)
    kp = unpack_params(params)
    power = levels[ue_slice]  # [U, L]
    snr = gain_lin[:, :, :, None] * power[None, :, None, :] / kp.noise_w
    return reference.capped_rate_bps(snr, ue_slice[None, :, None, None], params)


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


def _env_name(env: Any) -> str:
    """A short, unique name of an env for error messages."""
    cfg = getattr(env, "config", None)
    preset = f", {cfg.num_rus} RU x {cfg.num_ues} UEs x {cfg.num_prbs} PRBs" if cfg is not None else ""
    return f"{type(env).__name__} at {id(env):#x}{preset}"


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
        """Bind to one environment (a Gymnasium env, possibly wrapped); see `make_policy` for vector envs.

        A policy reads its env's state, so `predict` checks that the observation it is given is the
        one its env last returned, and raises a `ValueError` naming both otherwise: it never acts
        on another env's state in silence.
        """
        if not hasattr(env, "unwrapped") or not hasattr(env.unwrapped, "last_observation"):
            raise TypeError(f"{type(self).__name__} needs an ORANSlicing-v0 env (a Gymnasium env, possibly wrapped), "
                            f"got {type(env).__name__}; for a vector env use make_policy(name, vec_env)")
        self.env = env
        self._plan_action: np.ndarray | None = None

    @property
    def unwrapped(self):
        """The bound `ORANSlicingEnv`."""
        return self.env.unwrapped

    def _check_observation(self, observation: Any, env: Any) -> None:
        """Refuse to act on an observation that is not the bound env's current one (another env's, say)."""
        last = getattr(env, "last_observation", None)
        if last is None:
            from gymnasium.error import ResetNeeded

            raise ResetNeeded(f"{type(self).__name__} is bound to {_env_name(env)}, which has not been reset")
        obs = np.asarray(observation)
        if obs.ndim == last.ndim + 1 and obs.shape[0] == 1:
            obs = obs[0]
        # a wrapper may append features (ForecastObservation does): the env's own observation leads
        if obs.ndim != 1 or obs.shape[0] < last.shape[0] or not np.array_equal(obs[: last.shape[0]].astype(last.dtype, copy=False), last):
            raise ValueError(
                f"{type(self).__name__} is bound to {_env_name(env)} and reads its state, but the observation it got is not "
                "that env's current one (it comes from another env, or a wrapper changed it); bind the policy to the env you "
                "step: make_policy(name, env), or make_policy(name, vec_env) for a DummyVecEnv / SyncVectorEnv"
            )

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

        A batched observation (leading axis of size 1, as from a one-env VecEnv; or one row per
        sub-env when bound to a vector env) gets a batched action back. The policy reads the env's
        state; the observation only identifies that state: it must be the one the bound env last
        returned, or a `ValueError` names both.
        """
        env = self.unwrapped
        self._check_observation(observation, env)
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


class PolicyPerSubEnv:
    """One baseline policy per sub-env of a vector env whose sub-envs live in this process.

    `make_policy(name, vec_env)` returns it for SB3's `DummyVecEnv`, Gymnasium's `SyncVectorEnv` or
    anything with an `envs` list: `predict` takes one observation per sub-env and returns one
    action per sub-env, each from the policy bound to that sub-env (and checked against it), so
    SB3's own `evaluate_policy` scores a baseline exactly as `oran_gym.evaluation.evaluate_policy` does.
    """

    def __init__(self, members: list[AllocationPolicy]) -> None:
        """`members[i]` acts for sub-env i."""
        self.members = members
        self.name = members[0].name if members else "baseline"
        self.uses_true_state = bool(members and members[0].uses_true_state)

    def reset(self) -> None:
        """Reset every member."""
        for m in self.members:
            m.reset()

    def predict(self, observation: np.ndarray, state: Any = None, episode_start: np.ndarray | None = None,
                deterministic: bool = True) -> tuple[np.ndarray, None]:
        """SB3's `predict` over the batch: row i is sub-env i's observation."""
        obs = np.asarray(observation)
        if obs.shape[0] != len(self.members):
            raise ValueError(f"this policy is bound to {len(self.members)} sub-envs; got a batch of {obs.shape[0]} observations")
        starts = np.zeros(len(self.members), bool) if episode_start is None else np.asarray(episode_start, bool).reshape(-1)
        actions = [m.predict(o, None, starts[i:i + 1], deterministic)[0] for i, (m, o) in enumerate(zip(self.members, obs, strict=True))]
        return np.stack(actions), None
