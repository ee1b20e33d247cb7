"""sb3-contrib's MaskablePPO on ORANSlicing-v0's prb mode, trained on the native batched env.

The natural first agent for this env: PPO that never samples a masked action. It trains on
`oran_gym.sb3.NativeVecEnv` (the numba batched env, equal to `DummyVecEnv` step for step) and is
scored by `oran_gym.evaluation.evaluate_policy`, which passes it the masks.

* `load_params()`: the hyperparameters of `oran_gym/hyperparams/maskable_ppo.yml`, or of a study;
* `train_maskable_ppo(preset, seed, timesteps, params)`: one training run;
* `tune_maskable_ppo(n_trials, timesteps, ...)`: a short Optuna study (TPE, median pruning) of the
  mean evaluation TTI reward, on evaluation seeds disjoint from the training seeds.
"""

from __future__ import annotations

import math
import time
from typing import Any

try:
    import torch
    from sb3_contrib import MaskablePPO
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError('oran_gym.agents.maskable_ppo needs the agents extra: pip install torch==2.13.0 && '
                      'pip install "oran-gym[agents]"') from exc

from oran_gym import ScenarioConfig
from oran_gym.evaluation import evaluate_policy

__all__ = ["EVAL_SEED", "load_params", "make_eval_env", "sample_params", "train_maskable_ppo", "tune_maskable_ppo"]

EVAL_SEED = 10_000  # the DQN's evaluation seeds (OracleGapCallback): the same TTIs
TUNE_EVAL_SEED = 50_000  # the study's evaluation seeds, disjoint from the reported ones
EPISODE_TTIS = 10


def load_params(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """MaskablePPO's hyperparameters from the shipped file (`n_envs`, `n_timesteps` and `policy` kept apart)."""
    from oran_gym import hyperparams

    params = hyperparams.load("maskable_ppo")
    params.update(overrides or {})
    return params


def make_eval_env(preset: str | ScenarioConfig = "paper"):
    """The single env the agent is scored on: prb mode, episodes of `EPISODE_TTIS` TTIs."""
    import gymnasium as gym

    import oran_gym  # noqa: F401

    cfg = ScenarioConfig.coerce(preset).replace(episode_length_tti=EPISODE_TTIS)
    return gym.make("ORANSlicing-v0", config=cfg, action_mode="prb")


def train_maskable_ppo(preset: str | ScenarioConfig = "paper", seed: int = 0, timesteps: int | None = None,
                       params: dict[str, Any] | None = None, progress_bar: bool = False) -> tuple[MaskablePPO, dict[str, Any]]:
    """Train on `NativeVecEnv(n_envs)` of the preset; returns the model and a record of the run."""
    from oran_gym.sb3 import NativeVecEnv

    p = load_params(params)
    n_envs, total = int(p.pop("n_envs")), int(timesteps or p.pop("n_timesteps"))
    p.pop("n_timesteps", None)
    policy = p.pop("policy")
    cfg = ScenarioConfig.coerce(preset).replace(episode_length_tti=EPISODE_TTIS)
    venv = NativeVecEnv(n_envs, seed=seed, config=cfg, action_mode="prb")
    model = MaskablePPO(policy, venv, seed=seed, device="cpu", verbose=0, **p)
    t0 = time.perf_counter()
    model.learn(total_timesteps=total, progress_bar=progress_bar)
    record = {"seed": seed, "timesteps": total, "n_envs": n_envs, "train_time_s": time.perf_counter() - t0,
              "params": {**p, "n_envs": n_envs, "policy": policy}}
    venv.close()
    return model, record


def sample_params(trial: Any) -> dict[str, Any]:
    """The study's search space."""
    net = trial.suggest_categorical("net_arch", ["small", "medium"])
    n_steps = trial.suggest_categorical("n_steps", [125, 250, 500])
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 2e-3, log=True),
        "n_steps": n_steps,
        "batch_size": trial.suggest_categorical("batch_size", [250, 500, 1000]),
        "n_epochs": trial.suggest_categorical("n_epochs", [5, 10]),
        "gamma": trial.suggest_categorical("gamma", [0.9, 0.95, 0.99]),
        "ent_coef": trial.suggest_float("ent_coef", 1e-4, 5e-2, log=True),
        "clip_range": trial.suggest_categorical("clip_range", [0.1, 0.2, 0.3]),
        "policy_kwargs": {"net_arch": {"small": [64, 64], "medium": [256, 256]}[net]},
    }


def tune_maskable_ppo(n_trials: int = 12, timesteps: int = 40_000, preset: str = "paper", seed: int = 0,
                      n_evaluations: int = 2, eval_episodes: int = 2, storage: str | None = None,
                      study_name: str = "maskable_ppo_oran") -> Any:
    """Optuna study of the mean evaluation TTI reward (evaluation seeds `TUNE_EVAL_SEED`, not the reported ones)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(1)

    def objective(trial: optuna.Trial) -> float:
        from oran_gym.sb3 import NativeVecEnv

        params = sample_params(trial)
        cfg = ScenarioConfig.coerce(preset).replace(episode_length_tti=EPISODE_TTIS)
        venv = NativeVecEnv(8, seed=seed, config=cfg, action_mode="prb")
        model = MaskablePPO("MlpPolicy", venv, seed=seed, device="cpu", verbose=0, **params)
        env = make_eval_env(preset)
        value = -math.inf
        for k in range(1, n_evaluations + 1):
            model.learn(total_timesteps=timesteps // n_evaluations, reset_num_timesteps=False)
            value = float(evaluate_policy(model, env, n_episodes=eval_episodes, seed=TUNE_EVAL_SEED).per_tti["reward"].mean())
            trial.report(value, k)
            if trial.should_prune():
                venv.close()
                raise optuna.TrialPruned()
        venv.close()
        return value

    study = optuna.create_study(study_name=study_name, storage=storage, load_if_exists=True, direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1))
    done = len([t for t in study.trials if t.state.is_finished()])
    if done < n_trials:
        study.optimize(objective, n_trials=n_trials - done)
    return study


def best_params(study: Any) -> dict[str, Any]:
    """The best trial's parameters in MaskablePPO's keywords (net_arch expanded)."""
    best = dict(study.best_trial.params)
    net = {"small": [64, 64], "medium": [256, 256]}[best.pop("net_arch")]
    return {**best, "policy_kwargs": {"net_arch": net}}
