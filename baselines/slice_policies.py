"""Baselines for `action_mode="slice"`: fixed and demand-driven slice quotas, and the optimum's quotas.

Each is an SB3-style policy, `predict(obs, state=None, episode_start=None, deterministic=True) ->
(action, None)`, bound to an env made with `gym.make("ORANSlicing-v0", action_mode="slice")`:

* `EqualSplitSlicePolicy`: every RU gives each slice half its PRBs and half its power, always.
* `DemandProportionalSlicePolicy`: each RU splits its PRBs and power in proportion to the offered
  load of each slice's UEs it serves (the scheduler's association); equal where it serves none.
* `OracleQuotaSlicePolicy` (a reference; `uses_true_state = True`): solves the current TTI with an
  oracle (`MILPOracle` on one RU, `LocalSearchOracle` on several, or the one given) and applies
  the PRB counts and power it gives each slice at each RU. The MAC scheduler then fills them, so
  it shows what the best quotas are worth under the in-env scheduler, not the oracle's own value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from oran_gym.allocation import scenario_arrays

__all__ = ["DemandProportionalSlicePolicy", "EqualSplitSlicePolicy", "OracleQuotaSlicePolicy", "SLICE_POLICIES"]


class SlicePolicy:
    """Base: bound to one slice-mode env; `quotas(env)` gives `[B, S]` PRB shares and power shares."""

    name = "slice_base"
    uses_true_state = False

    def __init__(self, env: Any) -> None:
        unwrapped = getattr(env, "unwrapped", env)
        if getattr(unwrapped, "action_mode", None) != "slice":
            raise TypeError(f"{type(self).__name__} needs an env made with action_mode='slice', got "
                            f"action_mode={getattr(unwrapped, 'action_mode', None)!r} ({type(unwrapped).__name__})")
        self.env = unwrapped
        cfg = unwrapped.config
        self._shape = (cfg.num_rus, 2)

    def quotas(self, env: Any) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True):
        """The slice action for the env's current state (the observation is not needed)."""
        prb_shares, power_shares = self.quotas(self.env)
        return self.env.action_from_shares(prb_shares, power_shares), None


class EqualSplitSlicePolicy(SlicePolicy):
    """Half the PRBs and half the power of every RU to each slice."""

    name = "equal_split"

    def quotas(self, env: Any) -> tuple[np.ndarray, np.ndarray]:
        half = np.full(self._shape, 0.5)
        return half, half


class DemandProportionalSlicePolicy(SlicePolicy):
    """PRBs and power of each RU in proportion to each slice's offered load there."""

    name = "demand_proportional"

    def quotas(self, env: Any) -> tuple[np.ndarray, np.ndarray]:
        _, ue_slice, _ = scenario_arrays(env.config)
        ru = env.serving_ru()
        demand = np.zeros(self._shape)
        np.add.at(demand, (ru, ue_slice), env.offered_load_bps)
        total = demand.sum(axis=1, keepdims=True)
        shares = np.where(total > 0, demand / np.where(total > 0, total, 1.0), 0.5)
        return shares, shares


class OracleQuotaSlicePolicy(SlicePolicy):
    """The quotas of the TTI's oracle allocation (reads the true channel)."""

    name = "oracle_quota"
    uses_true_state = True

    def __init__(self, env: Any, oracle: Any = None) -> None:
        super().__init__(env)
        if oracle is None:
            from oran_gym.baselines.oracles import LocalSearchOracle, MILPOracle

            oracle = MILPOracle() if self.env.config.num_rus == 1 else LocalSearchOracle()
        self.oracle = oracle

    def quotas(self, env: Any) -> tuple[np.ndarray, np.ndarray]:
        cfg = env.config
        alloc, _ = self.oracle.solve(cfg, env.gains, env.offered_load_bps, env.queue_status)
        _, ue_slice, _ = scenario_arrays(cfg)
        prbs = np.zeros(self._shape)
        power_w = np.zeros(self._shape)
        for b, m in zip(*np.nonzero(alloc.owner >= 0)):
            s = ue_slice[alloc.owner[b, m]]
            prbs[b, s] += 1
            power_w[b, s] += alloc.power_w[b, m]
        # the oracle keeps every RU within its limit; the minimum only absorbs the division's last bit
        return prbs / cfg.num_prbs, np.minimum(power_w / cfg.ru_power_limit_w, 1.0)


SLICE_POLICIES = {p.name: p for p in (EqualSplitSlicePolicy, DemandProportionalSlicePolicy, OracleQuotaSlicePolicy)}
