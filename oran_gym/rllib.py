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

Multi-agent (the PettingZoo env of `oran_gym.multiagent`, through RLlib's `ParallelPettingZooEnv`;
needs the `multiagent` extra too):

    from oran_gym.rllib import multiagent_ppo_config, register_rllib_multiagent_env

    register_rllib_multiagent_env()
    algo = multiagent_ppo_config({"config": "multi_cell", "agents": "ru"}).build_algo()  # one shared policy
    algo.train()

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

__all__ = [
    "make_rllib_env", "make_rllib_multiagent_env", "masked_ppo_config", "multiagent_ppo_config", "register_rllib_env",
    "register_rllib_multiagent_env",
]

MULTIAGENT_ENV_NAME = "ORANSlicingMultiAgent-v0"


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


def make_rllib_multiagent_env(env_config: Mapping[str, Any] | None = None) -> Any:
    """RLlib's `MultiAgentEnv` over `oran_gym.multiagent.parallel_env(**env_config)` (RLlib's own
    `ParallelPettingZooEnv` wrapper). `env_config` holds `parallel_env`'s keywords (`config`,
    `agents`, `team_reward`, ...) and any `ScenarioConfig` field."""
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv

    from oran_gym.multiagent import parallel_env

    kwargs = dict(env_config or {})
    config = kwargs.pop("config", "paper")
    if not isinstance(config, str | Mapping):
        raise ValueError(f"env_config['config'] must be a preset name or a mapping of ScenarioConfig fields, got {config!r}")
    return ParallelPettingZooEnv(parallel_env(config=config, **kwargs))


def register_rllib_multiagent_env(name: str = MULTIAGENT_ENV_NAME) -> str:
    """Register the multi-agent env under `name` in Ray Tune's registry."""
    try:
        from ray.tune.registry import register_env
    except ImportError as e:  # pragma: no cover - depends on the extra
        raise RuntimeError('RLlib support needs Ray: pip install "oran-gym[ray,multiagent]"') from e
    register_env(name, make_rllib_multiagent_env)
    return name


def multiagent_ppo_config(env_config: Mapping[str, Any] | None = None, name: str = MULTIAGENT_ENV_NAME,
                          shared_policy: bool = True) -> Any:
    """A multi-agent `PPOConfig`: one policy shared by every agent (`shared_policy=True`: parameter
    sharing, which the agents' one-hot id in their observation makes agent-aware; needs equal spaces,
    as `agents="ru"` has), or one independent policy per agent (IPPO). Call
    `register_rllib_multiagent_env(name)` first."""
    from ray.rllib.algorithms.ppo import PPOConfig

    from oran_gym.multiagent import parallel_env

    cfg = dict(env_config or {})
    probe_kwargs = {k: v for k, v in cfg.items() if k != "config"}
    agents = parallel_env(config=cfg.get("config", "paper"), **probe_kwargs).possible_agents
    if shared_policy:
        policies, mapping = {"shared"}, (lambda agent_id, *args, **kwargs: "shared")
    else:
        policies, mapping = set(agents), (lambda agent_id, *args, **kwargs: agent_id)
    return PPOConfig().environment(name, env_config=cfg).multi_agent(policies=policies, policy_mapping_fn=mapping)
