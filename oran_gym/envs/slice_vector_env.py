"""`action_mode="slice"` in the native vector env: N slice-level envs over one batched full-mode env.

`gym.make_vec("ORANSlicing-v0", num_envs=N, action_mode="slice", ...)` returns
`ORANSliceControlVectorEnv`. Each sub-env decodes its action and runs its MAC scheduler with the
single env's own `SliceDecoder`; the TTIs of a control period run in the batched full-mode
kernels of `ORANSlicingVectorEnv`, each sub-env stopping at its own truncation. For the same seeds
it returns exactly what `SyncVectorEnv` over `ORANSliceControlEnv` returns: observations, rewards,
flags and info dicts with their masks (NEXT_STEP autoreset, as `ORANSlicingVectorEnv`). The
scheduler runs in Python per sub-env, so this mode's speed is about the single env's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from oran_gym.envs.slice_control import ORANSliceControlEnv, SliceDecoder, period_rewards
from oran_gym.envs.vector_env import ORANSlicingVectorEnv

__all__ = ["ORANSliceControlVectorEnv", "make_vector_env"]


class ORANSliceControlVectorEnv(VectorEnv):
    """`num_envs` slice-level envs (see the module docstring); the arguments are those of
    `ORANSliceControlEnv` and of `ORANSlicingVectorEnv` (`max_episode_steps`, `num_threads`)."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, config: Any = None, *, control_period_tti: int = 1,
                 mac_scheduler: str = "proportional_fair", discrete_levels: int | None = None, obs_mode: str = "full",
                 max_episode_steps: int | None = None, num_threads: int | None = None, **overrides: Any) -> None:
        # one single env validates the arguments and defines the spaces
        proto = ORANSliceControlEnv(config, control_period_tti=control_period_tti, mac_scheduler=mac_scheduler,
                                    discrete_levels=discrete_levels, obs_mode=obs_mode, **overrides)
        self.full = ORANSlicingVectorEnv(num_envs, proto.config, action_mode="full", obs_mode=proto.obs_mode,
                                         max_episode_steps=max_episode_steps, num_threads=num_threads)
        self.config, self.num_envs = proto.config, self.full.num_envs
        self.action_mode, self.obs_mode = "slice", proto.obs_mode
        self.control_period_tti, self.mac_scheduler, self.discrete_levels = (
            proto.control_period_tti, proto.mac_scheduler, proto.discrete_levels)
        self.single_action_space = proto.action_space
        self.action_space = batch_space(proto.action_space, self.num_envs)
        self.single_observation_space = self.full.single_observation_space
        self.observation_space = self.full.observation_space
        self._decoders = [SliceDecoder(proto.config, mac_scheduler, proto.discrete_levels, proto.action_space)
                          for _ in range(self.num_envs)]
        self._autoreset = np.zeros(self.num_envs, np.bool_)

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None):
        """Reset every sub-env (or those of `options["reset_mask"]`); sub-env i gets seed `seed + i`."""
        mask = (options or {}).get("reset_mask")
        obs, infos = self.full.reset(seed=seed, options=options)
        ids = np.arange(self.num_envs) if mask is None else np.flatnonzero(mask)
        for e in ids:
            self._decoders[e].reset()
        self._autoreset[ids] = False
        return obs, infos

    def step(self, actions: Any):
        """One control period of every sub-env; those that ended on the previous step are reset instead."""
        full, n = self.full, self.num_envs
        if not full._is_reset:
            raise RuntimeError("call reset() before step()")
        B, M = self.config.num_rus, self.config.num_prbs
        reset_ids = np.flatnonzero(self._autoreset).astype(np.int64)
        active = np.flatnonzero(~self._autoreset).astype(np.int64)
        quotas = {}
        for e in active.tolist():
            dec = self._decoders[e]
            quotas[e] = dec.quotas(*dec.read_action(actions[e]))
        period: dict[int, list[float]] = {e: [] for e in active.tolist()}
        truncated = np.zeros(n, np.bool_)
        infos: dict[str, Any] | None = None
        with full._numba_threads():
            for k in range(self.control_period_tti):
                if k > 0 and active.size == 0:
                    break
                acts = np.zeros((n, B * M), dtype=np.int64)
                for e in active.tolist():
                    acts[e] = self._decoders[e].schedule(*quotas[e], full._a.observed_gain_db[e])
                rewards_k = np.zeros(n)
                truncated_k = np.zeros(n, np.bool_)
                info_k = full._step_full(acts, active, rewards_k, truncated_k)
                for e in active.tolist():
                    self._decoders[e].served(info_k["ue_rate_bps"][e])
                    period[e].append(float(rewards_k[e]))
                infos = info_k if infos is None else _copy_rows(infos, info_k, active)
                truncated[active] = truncated_k[active]
                active = active[~truncated_k[active]]
            if reset_ids.size:
                full._reset_ids(reset_ids)
                full._fill_reset_infos(infos, reset_ids)
                for e in reset_ids.tolist():
                    self._decoders[e].reset()
        rewards = np.zeros(n)
        for e, values in period.items():
            rewards[e] = float(sum(values))
        self._add_slice_infos(infos, period, quotas)
        self._autoreset = truncated.copy()
        return full._a.obs.copy(), rewards, np.zeros(n, dtype=np.bool_), truncated, infos

    def _add_slice_infos(self, infos: dict[str, Any], period: dict[int, list[float]], quotas: dict) -> None:
        """`period_rewards`, `slice_prbs` and `slice_prb_power_w` batched as `SyncVectorEnv` batches them
        (the first sub-env that has a key sets its row shape; a mask marks the sub-envs that have it)."""
        stepped = sorted(period)
        if not stepped:
            return
        n = self.num_envs
        present = np.zeros(n, np.bool_)
        present[stepped] = True
        values = {"period_rewards": {e: period_rewards(period[e], self.control_period_tti) for e in stepped},
                  "slice_prbs": {e: quotas[e][0].copy() for e in stepped},
                  "slice_prb_power_w": {e: quotas[e][1].copy() for e in stepped}}
        for key, rows in values.items():
            first = rows[stepped[0]]
            array = np.zeros((n, *first.shape), dtype=first.dtype)
            for e in stepped:
                array[e] = rows[e]
            infos[key], infos[f"_{key}"] = array, present.copy()

    def close_extras(self, **kwargs: Any) -> None:
        self.full.close_extras(**kwargs)


def _copy_rows(dst: dict[str, Any], src: dict[str, Any], ids: np.ndarray) -> dict[str, Any]:
    """Write `src`'s rows `ids` into `dst` (nested info dicts of `[N, ...]` arrays and their masks)."""
    for key, value in src.items():
        if isinstance(value, dict):
            _copy_rows(dst[key], value, ids)
        else:
            dst[key][ids] = value[ids]
    return dst


def make_vector_env(num_envs: int = 1, config: Any = None, **kwargs: Any) -> VectorEnv:
    """The `vector_entry_point` of `ORANSlicing-v0`: `ORANSliceControlVectorEnv` for
    `action_mode="slice"`, `ORANSlicingVectorEnv` otherwise."""
    if kwargs.get("action_mode") == "slice":
        kwargs.pop("action_mode")
        return ORANSliceControlVectorEnv(num_envs, config, **kwargs)
    return ORANSlicingVectorEnv(num_envs, config, **kwargs)
