"""The paper's DQN (section 5.2, Table IV) on the prb action mode, with Stable-Baselines3: the model,
its configurations, training and loading. The training callbacks are in `dqn_callbacks`, the
Optuna study behind the "tuned" configuration in `dqn_tuning` (both re-exported here).

Two configurations:

* `"paper"`: 250 episodes x 50 steps (12,500 steps; an episode is 2 TTIs of the paper preset),
  gamma 0.9, replay memory 400, epsilon 0.9 -> 0.1 with the paper's per-step decay
  `eps_t = max(0.1, 0.9 * 0.9995^t)` (it reaches 0.1 at step 4,394). Values Table IV does not
  give are SB3's defaults or stated here: learning rate 1e-3, batch 32, learning starts 100,
  train every step, target update every 100 steps, an MLP of 64-64.
* `"tuned"`: the hyper-parameters an Optuna study found (`agents/configs/dqn_tuned.json`, made by
  `python -m oran_gym.agents.dqn tune`), with its longer training budget.

Masked actions become idle (`invalid_action="idle"`): SB3's DQN has no action masking, and an
idle PRB is the natural outcome of an infeasible request. `train_dqn(..., masked=True)` trains
`oran_gym.agents.masked_dqn.MaskedDQN` instead, whose argmax, exploration and TD target skip the
masked actions.

What is the paper's and what is ours (issue 16):

* The state. The paper's DQN state is the binary per-UE QoS indicator (`obs_mode="paper"`); the
  `"paper"` configuration trains on `obs_mode="full"` (gains, loads and the allocation so far)
  unless `train_dqn(..., obs_mode="paper")` is asked for. The benchmark runs both.
* Exploration. Table IV's 0.9 is the discount gamma; the paper gives the decay factor 0.9995 and
  the floor 0.1 but no initial epsilon. 0.9 as the initial epsilon is our choice.
* The step. One env step assigns one PRB (the `prb` action mode), so an episode of 2 TTIs is 50
  steps on the paper preset and 12,500 steps are 250 TTIs. Reading the paper's "step" as one TTI
  would mean an action space of every joint allocation of a TTI (about (U L + 1)^M actions), which
  no DQN output layer can hold; the per-PRB decomposition is the tractable reading, and its step
  budget is 25 times smaller in TTIs than a per-TTI reading of 250 x 50 would be.
"""

from __future__ import annotations

import json
import math
import platform
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

try:
    import torch
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback, CallbackList, CheckpointCallback
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError('oran_gym.agents.dqn needs the agents extra: pip install torch==2.13.0 && pip install "oran-gym[agents]"') from exc

from oran_gym.agents.dqn_callbacks import OracleGapCallback, SliceKPICallback

import oran_gym
from oran_gym import ScenarioConfig

__all__ = [
    "PAPER_CONFIG",
    "EpsilonDecayDQN",
    "SliceKPICallback",
    "OracleGapCallback",
    "load_config",
    "config_fingerprint",
    "available_configs",
    "make_dqn",
    "make_train_env",
    "train_dqn",
    "load_dqn",
]  # the Optuna study (sample_dqn_params, tune_dqn, save_tuned) is in oran_gym.agents.dqn_tuning

CONFIG_DIR = Path(__file__).resolve().parent / "configs"

PAPER_CONFIG: dict[str, Any] = {
    "episodes": 250,
    "steps_per_episode": 50,
    "model": {
        "gamma": 0.9,
        "buffer_size": 400,
        "exploration_initial_eps": 0.9,
        "exploration_final_eps": 0.1,
        "eps_decay_per_step": 0.9995,
        "learning_rate": 1e-3,
        "batch_size": 32,
        "learning_starts": 100,
        "train_freq": 1,
        "gradient_steps": 1,
        "target_update_interval": 100,
        "policy_kwargs": {"net_arch": [64, 64]},
    },
}


class EpsilonDecayDQN(DQN):
    """SB3's DQN with a geometric per-step epsilon: `max(final, initial * decay^t)`.

    `eps_decay_per_step=None` keeps SB3's linear schedule. The decay is applied after each
    environment step (in `_on_step`), as the paper's decay factor is per step.
    """

    def __init__(self, *args: Any, eps_decay_per_step: float | None = None, **kwargs: Any) -> None:
        """All DQN arguments, plus `eps_decay_per_step` in (0, 1]."""
        if eps_decay_per_step is not None and not 0.0 < eps_decay_per_step <= 1.0:
            raise ValueError(f"eps_decay_per_step must be in (0, 1], got {eps_decay_per_step!r}")
        self.eps_decay_per_step = eps_decay_per_step
        super().__init__(*args, **kwargs)
        if eps_decay_per_step is not None:
            self.exploration_rate = self.exploration_initial_eps

    def epsilon_at(self, step: int) -> float:
        """Exploration rate after `step` environment steps."""
        if self.eps_decay_per_step is None:
            return float(self.exploration_schedule(1.0 - step / max(self._total_timesteps, 1)))
        return max(self.exploration_final_eps, self.exploration_initial_eps * self.eps_decay_per_step**step)

    def _on_step(self) -> None:
        super()._on_step()
        if self.eps_decay_per_step is not None:
            self.exploration_rate = self.epsilon_at(self.num_timesteps)
            self.logger.record("rollout/exploration_rate", self.exploration_rate)


def load_config(name: str | dict[str, Any]) -> dict[str, Any]:
    """`"paper"`, `"tuned"` (from agents/configs/dqn_tuned.json) or a dict of the same shape."""
    if isinstance(name, dict):
        return name
    if name == "paper":
        return json.loads(json.dumps(PAPER_CONFIG))
    if name == "tuned":
        path = CONFIG_DIR / "dqn_tuned.json"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `python -m oran_gym.agents.dqn tune` to create it")
        return json.loads(path.read_text())["config"]
    raise ValueError(f"DQN config must be 'paper', 'tuned' or a dict, got {name!r}")


def available_configs() -> list[str]:
    """`["paper"]`, plus `"tuned"` when its configuration file exists."""
    return ["paper"] + (["tuned"] if (CONFIG_DIR / "dqn_tuned.json").exists() else [])


def config_fingerprint(name: str | dict[str, Any]) -> str:
    """A short hash of a configuration's content: results keyed by it go stale when the config changes."""
    import hashlib

    return hashlib.sha1(json.dumps(load_config(name), sort_keys=True).encode()).hexdigest()[:12]


def make_train_env(preset: str | ScenarioConfig = "paper", steps_per_episode: int | None = None, **env_kwargs: Any) -> gym.Env:
    """The prb-mode env a DQN trains on; `steps_per_episode` sets the episode length (whole TTIs)."""
    cfg = ScenarioConfig.coerce(preset)
    if steps_per_episode is not None:
        ttis = max(1, math.ceil(steps_per_episode / cfg.prbs_per_tti))
        cfg = cfg.replace(episode_length_tti=ttis)
    env_kwargs.setdefault("invalid_action", "idle")
    return gym.make("ORANSlicing-v0", config=cfg, action_mode="prb", **env_kwargs)


def make_dqn(env: gym.Env, config: str | dict[str, Any] = "paper", seed: int | None = 0, masked: bool = False,
             **overrides: Any) -> EpsilonDecayDQN:
    """A DQN for `env` with a named configuration; keyword overrides replace model arguments.

    `masked=True` builds a `MaskedDQN` (`oran_gym.agents.masked_dqn`); the env should then use
    `invalid_action="raise"`.
    """
    params = {**load_config(config)["model"], **overrides}
    params.setdefault("verbose", 0)
    if masked:
        from oran_gym.agents.masked_dqn import MaskedDQN

        return MaskedDQN("MlpPolicy", env, seed=seed, **params)
    return EpsilonDecayDQN("MlpPolicy", env, seed=seed, **params)


def versions() -> dict[str, str]:
    """Library versions saved with every model."""
    import stable_baselines3

    return {
        "oran_gym": oran_gym.__version__,
        "stable_baselines3": stable_baselines3.__version__,
        "torch": torch.__version__,
        "gymnasium": gym.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def train_dqn(
    preset: str | ScenarioConfig = "paper",
    config: str | dict[str, Any] = "paper",
    seed: int = 0,
    out_dir: str | Path | None = None,
    total_timesteps: int | None = None,
    progress_bar: bool = False,
    eval_freq: int | None = None,
    tensorboard: bool = True,
    masked: bool = False,
    **env_kwargs: Any,
) -> tuple[EpsilonDecayDQN, dict[str, Any]]:
    """Train a DQN; save `model.zip` and `meta.json` (scenario, config, seed, versions) in `out_dir`.

    `total_timesteps` defaults to episodes x steps_per_episode of the config. With `eval_freq`, an
    `OracleGapCallback` logs the gap to the optimum during training. `masked=True` trains a
    `MaskedDQN` on an env that raises on masked actions (it never takes one). `env_kwargs` go to
    the env (`obs_mode="paper"` for the paper's state).
    """
    conf = load_config(config)
    if masked:
        env_kwargs.setdefault("invalid_action", "raise")
    env = make_train_env(preset, conf["steps_per_episode"], **env_kwargs)
    steps = total_timesteps or conf["episodes"] * conf["steps_per_episode"]
    out = Path(out_dir) if out_dir else None
    kwargs = {}
    if out and tensorboard:
        try:
            import tensorboard  # noqa: F401

            kwargs["tensorboard_log"] = str(out / "tb")
        except ImportError:
            pass
    model = make_dqn(env, conf, seed=seed, masked=masked, **kwargs)
    callbacks: list[BaseCallback] = [SliceKPICallback()]
    gap = None
    if eval_freq:
        gap = OracleGapCallback(make_train_env(preset, conf["steps_per_episode"], **env_kwargs), eval_freq=eval_freq)
        callbacks.append(gap)
    if out:
        callbacks.append(CheckpointCallback(save_freq=max(steps // 5, 1), save_path=str(out / "checkpoints"), name_prefix="dqn"))
    t0 = time.perf_counter()
    model.learn(total_timesteps=steps, callback=CallbackList(callbacks), progress_bar=progress_bar)
    meta = {
        "scenario": env.unwrapped.config.to_dict(),
        "config": conf,
        "config_name": config if isinstance(config, str) else "custom",
        "masked": masked,
        "env_kwargs": {k: v for k, v in env_kwargs.items() if isinstance(v, (str, int, float, bool))},
        "seed": seed,
        "total_timesteps": steps,
        "train_time_s": time.perf_counter() - t0,
        "versions": versions(),
        "eval_history": gap.history if gap else [],
    }
    if out:
        out.mkdir(parents=True, exist_ok=True)
        model.save(out / "model.zip")
        (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        from oran_gym.artefacts import write_manifest

        write_manifest(out / "model.zip", "dqn", {"config": conf, "seed": seed}, extra_files=[out / "meta.json"])
    return model, meta


def load_dqn(path: str | Path, env: gym.Env | None = None) -> tuple[EpsilonDecayDQN, dict[str, Any]]:
    """Load `model.zip` and its `meta.json` from a training folder, or a model `.zip` file and the `meta.json` beside it."""
    path = Path(path)
    if path.is_dir():
        folder, model_path = path, path / "model.zip"
    elif path.suffix == ".zip" or path.with_suffix(".zip").exists():
        folder, model_path = path.parent, path.with_suffix(".zip")
    else:
        raise FileNotFoundError(f"no DQN at {path}: expected a training folder holding model.zip (from `oran-gym train dqn`) "
                                "or a model .zip file")
    if not model_path.is_file():
        raise FileNotFoundError(f"no DQN model at {model_path}" + (f" (the folder {folder} has no model.zip)" if path.is_dir() else ""))
    from oran_gym.artefacts import ArtefactError, verify

    verify(model_path, "dqn")  # model.zip and meta.json against their manifest
    meta_file = folder / "meta.json"
    masked = bool(json.loads(meta_file.read_text()).get("masked")) if meta_file.exists() else False
    try:
        if masked:
            from oran_gym.agents.masked_dqn import MaskedDQN

            model = MaskedDQN.load(model_path, env=env)
        else:
            model = EpsilonDecayDQN.load(model_path, env=env)
    except Exception as exc:
        raise ArtefactError(f"{model_path}: cannot be read as a DQN ({type(exc).__name__}: {exc})") from None
    meta = json.loads((folder / "meta.json").read_text()) if (folder / "meta.json").exists() else {}
    return model, meta


def __getattr__(name: str) -> Any:
    """The Optuna study lives in `oran_gym.agents.dqn_tuning`; its names load from here on first use."""
    if name in ("sample_dqn_params", "tune_dqn", "save_tuned"):
        from oran_gym.agents import dqn_tuning

        return getattr(dqn_tuning, name)
    raise AttributeError(f"module 'oran_gym.agents.dqn' has no attribute {name!r}")


def main(argv: list[str] | None = None) -> None:
    """`python -m oran_gym.agents.dqn tune ...` (kept for the recorded commands): see `dqn_tuning.main`."""
    from oran_gym.agents.dqn_tuning import main as tuning_main

    tuning_main(argv)


if __name__ == "__main__":
    main()
