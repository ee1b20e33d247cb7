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

With masks, in the prb mode (RLlib's own action-masking recipe: the mask in a Dict observation,
read by its `ActionMaskingTorchRLModule`):

    from oran_gym.rllib import masked_ppo_config, register_rllib_env

    register_rllib_env()
    algo = masked_ppo_config({"config": "tiny"}).build_algo()   # prb mode, invalid actions never sampled
    algo.train()
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oran_gym.envs.slicing_env import ORANSlicingEnv

__all__ = ["make_rllib_env", "masked_ppo_config", "register_rllib_env"]


def make_rllib_env(env_config: Mapping[str, Any] | None = None) -> Any:
    """The env creator RLlib calls with its `env_config` (an `EnvContext`, i.e. a dict).

    `env_config["action_mask"] = True` wraps the env in `ActionMaskObservation` (the Dict
    observation RLlib's action-masking module reads).
    """
    kwargs = dict(env_config or {})
    kwargs.setdefault("action_mode", "full")
    masked = bool(kwargs.pop("action_mask", False))
    config = kwargs.pop("config", None)
    if config is not None and not isinstance(config, str | Mapping):
        raise ValueError(f"env_config['config'] must be a preset name or a mapping of ScenarioConfig fields, got {config!r}")
    env = ORANSlicingEnv(config, **kwargs)
    if masked:
        from oran_gym.wrappers import ActionMaskObservation

        return ActionMaskObservation(env)
    return env


def masked_ppo_config(env_config: Mapping[str, Any] | None = None, name: str = "ORANSlicing-v0",
                      hiddens: tuple[int, ...] = (64, 64)) -> Any:
    """A `PPOConfig` for the prb mode with action masking (RLlib's `ActionMaskingTorchRLModule`).

    `env_config` as for `make_rllib_env`; `action_mode="prb"` and `action_mask=True` are set here.
    Call `register_rllib_env(name)` first.
    """
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.rllib.examples.rl_modules.classes.action_masking_rlm import ActionMaskingTorchRLModule

    cfg = {**dict(env_config or {}), "action_mode": "prb", "action_mask": True}
    model_config = {"head_fcnet_hiddens": list(hiddens), "head_fcnet_activation": "relu"}
    return (
        PPOConfig()
        .environment(name, env_config=cfg)
        .rl_module(rl_module_spec=RLModuleSpec(module_class=ActionMaskingTorchRLModule, model_config=model_config))
    )


def register_rllib_env(name: str = "ORANSlicing-v0") -> str:
    """Register the env under `name` in Ray Tune's registry (what `.environment(name)` looks up)."""
    try:
        from ray.tune.registry import register_env
    except ImportError as e:  # pragma: no cover - depends on the extra
        raise RuntimeError('RLlib support needs Ray: pip install "oran-gym[ray]"') from e
    register_env(name, make_rllib_env)
    return name
