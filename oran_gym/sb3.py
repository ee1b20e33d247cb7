"""`NativeVecEnv`: Stable-Baselines3's `VecEnv` over the native batched env (`ORANSlicingVectorEnv`).

```python
from sb3_contrib import MaskablePPO
from oran_gym.sb3 import NativeVecEnv

venv = NativeVecEnv(64, seed=0, config="paper")          # any ORANSlicing-v0 kwargs
model = MaskablePPO("MlpPolicy", venv, n_steps=250).learn(100_000)
```

SB3 cannot take a Gymnasium `VectorEnv` (it asks for a `VecEnv`); this adapter gives it the native
env's speed. It follows SB3's conventions rather than Gymnasium's: `reset()` returns observations
only; a sub-env that ends is reset within the same step, its last observation in
`infos[i]["terminal_observation"]` and `infos[i]["TimeLimit.truncated"]` set (episodes end by
truncation); rewards are float32, as in `DummyVecEnv`. For the same seeds its trajectories equal
`DummyVecEnv` over the single env (a test checks observations, rewards, dones and terminal
observations). Masks: `env_method("action_masks")` and sb3-contrib's `get_action_masks(venv)` give
each sub-env's `[A]` mask, so `MaskablePPO` trains on it. Infos are kept small for speed: the
terminal-observation keys, `invalid_action` and `tti_complete`; the full KPI dicts stay on the
native env (`venv.native.step` returns them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

try:
    from stable_baselines3.common.vec_env.base_vec_env import VecEnv
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError('oran_gym.sb3 needs Stable-Baselines3: pip install torch==2.13.0 && pip install "oran-gym[agents]"') from exc

from oran_gym.envs.vector_env import ORANSlicingVectorEnv

__all__ = ["NativeVecEnv"]


class NativeVecEnv(VecEnv):
    """SB3 `VecEnv` of `num_envs` ORANSlicing-v0 sub-envs stepped by the native batched kernels.

    Args:
        num_envs: number of sub-envs (>= 1).
        seed: seed of the first `reset()` (sub-env i gets `seed + i`, as `DummyVecEnv.seed` does);
            `seed()` sets it again for the next reset.
        **env_kwargs: `ORANSlicingVectorEnv`'s arguments (`config`, `action_mode`, ...).
    """

    def __init__(self, num_envs: int, seed: int | None = None, **env_kwargs: Any) -> None:
        """Build the native env; see the class docstring."""
        self.native = ORANSlicingVectorEnv(num_envs, **env_kwargs)
        super().__init__(num_envs, self.native.single_observation_space, self.native.single_action_space)
        self.render_mode = None
        self._actions: np.ndarray | None = None
        self._started = False
        if seed is not None:
            self.seed(seed)

    # ----------------------------------------------------------------------------------------
    def reset(self) -> np.ndarray:
        """Reset every sub-env (seeded by `seed()` if it was called since the last reset)."""
        seeds = self._seeds
        seed: Any = None if not seeds or all(s is None for s in seeds) else list(seeds)
        obs, info = self.native.reset(seed=seed)
        self._reset_seeds()
        self._reset_options()
        self._started = True
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        """Remember the actions of the next `step_wait`."""
        self._actions = np.asarray(actions)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """Step every sub-env; those that end are reset at once (SB3's convention)."""
        if not self._started:
            raise RuntimeError("call reset() before step()")
        obs, rewards, terminated, truncated, info = self.native.step(self._actions)
        dones = terminated | truncated
        invalid, complete = info["invalid_action"], info["tti_complete"]
        infos: list[dict[str, Any]] = [{"invalid_action": bool(invalid[i]), "tti_complete": bool(complete[i])}
                                       for i in range(self.num_envs)]
        if dones.any():
            ended = np.flatnonzero(dones)
            for i in ended:
                infos[i]["terminal_observation"] = obs[i].copy()
                infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            mask = np.zeros(self.num_envs, dtype=np.bool_)
            mask[ended] = True
            reset_obs, _ = self.native.reset(options={"reset_mask": mask})  # seed None: each sub-env's stream goes on
            obs = obs.copy()
            obs[ended] = reset_obs[ended]
        return obs, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        """Close the native env."""
        self.native.close()

    # ----------------------------------------------------------------------------------------
    def action_masks(self) -> np.ndarray:
        """`[N, A]` bool masks of the next step."""
        return self.native.action_masks()

    def _indices(self, indices: None | int | Sequence[int]) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        if isinstance(indices, (int, np.integer)):
            return [int(indices)]
        return [int(i) for i in indices]

    def env_method(self, method_name: str, *method_args: Any, indices: None | int | Sequence[int] = None,
                   **method_kwargs: Any) -> list[Any]:
        """Only `action_masks` exists per sub-env here (one `[A]` row each)."""
        if method_name != "action_masks":
            raise AttributeError(f"NativeVecEnv has no per-sub-env method {method_name!r} (only 'action_masks'); "
                                 "the sub-envs are rows of one batched env")
        masks = self.native.action_masks()
        return [masks[i] for i in self._indices(indices)]

    def get_attr(self, attr_name: str, indices: None | int | Sequence[int] = None) -> list[Any]:
        """Attributes shared by every sub-env (the native env's: `config`, `action_mode`, `render_mode`, ...)."""
        if attr_name == "render_mode":
            return [None for _ in self._indices(indices)]
        if not hasattr(self.native, attr_name):
            raise AttributeError(f"NativeVecEnv's sub-envs have no attribute {attr_name!r}")
        value = getattr(self.native, attr_name)
        return [value for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: None | int | Sequence[int] = None) -> None:
        """Not supported: the sub-envs share one batched state."""
        raise AttributeError(f"NativeVecEnv cannot set {attr_name!r} per sub-env: the sub-envs share one batched state")

    def has_attr(self, attr_name: str) -> bool:
        """`action_masks` and the native env's attributes (sb3-contrib asks for `action_masks`)."""
        return attr_name == "action_masks" or hasattr(self.native, attr_name)

    def env_is_wrapped(self, wrapper_class: type, indices: None | int | Sequence[int] = None) -> list[bool]:
        """No sub-env is wrapped."""
        return [False for _ in self._indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        """The native env does not render."""
        return [None for _ in range(self.num_envs)]
