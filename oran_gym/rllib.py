"""RLlib support: register `ORANSlicing-v0` with Ray's env registry.

    from ray.rllib.algorithms.ppo import PPOConfig
    from oran_gym.rllib import register_rllib_env

    register_rllib_env()  # once per driver process; RLlib ships the creator to its workers
    config = PPOConfig().environment("ORANSlicing-v0", env_config={"config": "tiny", "action_mode": "full"})
    algo = config.build_algo()
    algo.train()

`env_config` takes the env's keyword arguments and any `ScenarioConfig` field in one mapping
(RLlib passes a single dict); the action mode defaults to `"full"` here (one MultiDiscrete
action per TTI, what policy-gradient methods expect), instead of the single env's `"prb"`.
Needs the `ray` extra: `pip install "oran-gym[ray]"`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oran_gym.envs.slicing_env import ORANSlicingEnv

__all__ = ["make_rllib_env", "register_rllib_env"]


def make_rllib_env(env_config: Mapping[str, Any] | None = None) -> ORANSlicingEnv:
    """The env creator RLlib calls with its `env_config` (an `EnvContext`, i.e. a dict)."""
    kwargs = dict(env_config or {})
    kwargs.setdefault("action_mode", "full")
    config = kwargs.pop("config", None)
    if config is not None and not isinstance(config, str | Mapping):
        raise ValueError(f"env_config['config'] must be a preset name or a mapping of ScenarioConfig fields, got {config!r}")
    return ORANSlicingEnv(config, **kwargs)


def register_rllib_env(name: str = "ORANSlicing-v0") -> str:
    """Register the env under `name` in Ray Tune's registry (what `.environment(name)` looks up)."""
    try:
        from ray.tune.registry import register_env
    except ImportError as e:  # pragma: no cover - depends on the extra
        raise RuntimeError('RLlib support needs Ray: pip install "oran-gym[ray]"') from e
    register_env(name, make_rllib_env)
    return name
