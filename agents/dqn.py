"""The paper's DQN (section 5.2, Table IV) on the prb action mode, with Stable-Baselines3.

Two configurations:

* `"paper"`: 250 episodes x 50 steps (12,500 steps; an episode is 2 TTIs of the paper preset),
  gamma 0.9, replay memory 400, epsilon 0.9 -> 0.1 with the paper's per-step decay
  `eps_t = max(0.1, 0.9 * 0.9995^t)` (it reaches 0.1 at step 4,394). Values Table IV does not
  give are SB3's defaults or stated here: learning rate 1e-3, batch 32, learning starts 100,
  train every step, target update every 100 steps, an MLP of 64-64.
* `"tuned"`: the hyper-parameters an Optuna study found (`agents/configs/dqn_tuned.json`, made by
  `python -m oran_gym.agents.dqn tune`), with its longer training budget.

Masked actions become idle (`invalid_action="idle"`): SB3's DQN has no action masking, and an
idle PRB is the natural outcome of an infeasible request.
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

import oran_gym
from oran_gym import ScenarioConfig
from oran_gym.evaluation import evaluate_policy

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
    "sample_dqn_params",
    "tune_dqn",
]

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


def make_dqn(env: gym.Env, config: str | dict[str, Any] = "paper", seed: int | None = 0, **overrides: Any) -> EpsilonDecayDQN:
    """A DQN for `env` with a named configuration; keyword overrides replace model arguments."""
    params = {**load_config(config)["model"], **overrides}
    params.setdefault("verbose", 0)
    return EpsilonDecayDQN("MlpPolicy", env, seed=seed, **params)


class SliceKPICallback(BaseCallback):
    """Logs the env's KPIs of every completed TTI to the SB3 logger (TensorBoard: `kpi/...`)."""

    def __init__(self, verbose: int = 0) -> None:
        """Collects per-TTI KPIs from `info` and records their means at each rollout end."""
        super().__init__(verbose)
        self._rows: list[dict[str, float]] = []
        self._ue_slice: np.ndarray | None = None

    def _on_step(self) -> bool:
        if self._ue_slice is None:
            self._ue_slice = np.asarray(self.training_env.get_attr("ue_slice")[0])
        for info in self.locals.get("infos", []):
            if info.get("tti_complete"):
                rate = info["ue_rate_bps"]
                v = info["violations"]
                self._rows.append(
                    {
                        "objective_mbps": info["objective"] / 1e6,
                        "embb_throughput_mbps": rate[self._ue_slice == 0].sum() / 1e6,
                        "urllc_throughput_mbps": rate[self._ue_slice == 1].sum() / 1e6,
                        "qos_violations": v["rate"] + v["delay"],
                    }
                )
        if len(self._rows) >= 10:
            self._flush()
        return True

    def _flush(self) -> None:
        for key in self._rows[0]:
            self.logger.record(f"kpi/{key}", float(np.mean([r[key] for r in self._rows])))
        self._rows.clear()


class OracleGapCallback(BaseCallback):
    """Every `eval_freq` steps, evaluates the model on fixed seeds and logs its gap to the optimum.

    The channel and traffic of the env do not depend on actions, so the MILP optimum of each
    evaluation TTI is computed once and reused: `kpi/eval_reward`, `kpi/optimality_gap_pct`
    (reward) and `kpi/throughput_gap_pct`.
    """

    def __init__(self, eval_env: gym.Env, eval_freq: int = 2500, n_episodes: int = 3, seed: int = 10_000, oracle: Any = None,
                 verbose: int = 0) -> None:
        """`oracle`: defaults to `MILPOracle` (one RU) or `LocalSearchOracle`."""
        super().__init__(verbose)
        self.eval_env, self.eval_freq, self.n_episodes, self.seed = eval_env, eval_freq, n_episodes, seed
        self.oracle = oracle
        self.optimum: dict[str, float] | None = None
        self.history: list[dict[str, float]] = []

    def _optimum(self) -> dict[str, float]:
        from oran_gym.baselines import make_policy

        policy = make_policy("oracle", self.eval_env) if self.oracle is None else self.oracle
        res = evaluate_policy(policy, self.eval_env, n_episodes=self.n_episodes, seed=self.seed)
        return {"reward": res.per_tti["reward"].mean(), "objective_mbps": res.per_tti["objective_mbps"].mean()}

    def _on_step(self) -> bool:
        if self.n_calls % self.eval_freq == 0:
            self.evaluate()
        return True

    def evaluate(self) -> dict[str, float]:
        """Evaluate now; returns and logs the gaps."""
        if self.optimum is None:
            self.optimum = self._optimum()
        res = evaluate_policy(self.model, self.eval_env, n_episodes=self.n_episodes, seed=self.seed)
        reward = res.per_tti["reward"].mean()
        obj = res.per_tti["objective_mbps"].mean()
        row = {
            "step": self.num_timesteps,
            "eval_reward": reward,
            "optimality_gap_pct": 100 * (self.optimum["reward"] - reward) / abs(self.optimum["reward"]),
            "throughput_gap_pct": 100 * (self.optimum["objective_mbps"] - obj) / self.optimum["objective_mbps"],
        }
        self.history.append(row)
        for k, v in row.items():
            if k != "step":
                self.logger.record(f"kpi/{k}", v)
        return row


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
    **env_kwargs: Any,
) -> tuple[EpsilonDecayDQN, dict[str, Any]]:
    """Train a DQN; save `model.zip` and `meta.json` (scenario, config, seed, versions) in `out_dir`.

    `total_timesteps` defaults to episodes x steps_per_episode of the config. With `eval_freq`, an
    `OracleGapCallback` logs the gap to the optimum during training.
    """
    conf = load_config(config)
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
    model = make_dqn(env, conf, seed=seed, **kwargs)
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
    return model, meta


def load_dqn(path: str | Path, env: gym.Env | None = None) -> tuple[EpsilonDecayDQN, dict[str, Any]]:
    """Load `model.zip` and its `meta.json` from a training folder (or a model path)."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    model = EpsilonDecayDQN.load(folder / "model.zip", env=env)
    meta = json.loads((folder / "meta.json").read_text()) if (folder / "meta.json").exists() else {}
    return model, meta


# ------------------------------------------------------------------------------------------------
# Optuna
# ------------------------------------------------------------------------------------------------
def sample_dqn_params(trial: Any) -> dict[str, Any]:
    """RL Zoo-style search space for DQN on ORANSlicing-v0 (prb mode)."""
    net = trial.suggest_categorical("net_arch", ["small", "medium", "large"])
    return {
        "gamma": trial.suggest_categorical("gamma", [0.9, 0.95, 0.99]),
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 3e-3, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128]),
        "buffer_size": trial.suggest_categorical("buffer_size", [10_000, 50_000, 100_000]),
        "exploration_fraction": trial.suggest_float("exploration_fraction", 0.05, 0.5),
        "exploration_final_eps": trial.suggest_float("exploration_final_eps", 0.01, 0.1),
        "target_update_interval": trial.suggest_categorical("target_update_interval", [250, 1000, 5000]),
        "train_freq": trial.suggest_categorical("train_freq", [1, 4]),
        "learning_starts": trial.suggest_categorical("learning_starts", [250, 1000]),
        "policy_kwargs": {"net_arch": {"small": [64, 64], "medium": [256, 256], "large": [256, 256, 256]}[net]},
    }


def tune_dqn(
    preset: str = "paper",
    n_trials: int = 20,
    timesteps: int = 30_000,
    storage: str | None = None,
    study_name: str = "dqn_oran",
    seed: int = 0,
    n_evaluations: int = 3,
    eval_episodes: int = 3,
    steps_per_episode: int = 250,
    workers: int = 1,
) -> Any:
    """An Optuna study (TPE, median pruning) maximising mean evaluation TTI reward; resumable via `storage`.

    `storage` is an Optuna URL such as `sqlite:///dqn.db` (`load_if_exists=True`, so a second call
    continues the study until `n_trials` trials have finished, pruned ones included). Evaluation
    seeds are fixed and disjoint from training seeds. `workers > 1` runs that many processes on the
    same storage (it needs one), each with one torch thread and its own sampler seed
    (`seed + worker`); the study then stops at `n_trials` finished trials (one more per extra
    worker at most, trials already running when the cap is reached finish). With workers the
    sequence of sampled trials depends on timing, so only `workers=1` repeats a study exactly.
    """
    import optuna

    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if workers > 1 and storage is None:
        raise ValueError("workers > 1 needs a storage URL (e.g. sqlite:///dqn_optuna.db) shared by the worker processes")
    kwargs = dict(preset=preset, n_trials=n_trials, timesteps=timesteps, storage=storage, study_name=study_name,
                  n_evaluations=n_evaluations, eval_episodes=eval_episodes, steps_per_episode=steps_per_episode)
    study = _create_study(storage, study_name, seed)  # made once here, so the workers only load it
    if workers == 1:
        _tune_worker(sampler_seed=seed, model_seed=seed, study=study, **kwargs)
        return study
    else:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        procs = [ctx.Process(target=_tune_worker, kwargs=dict(sampler_seed=seed + w, model_seed=seed, torch_threads=1, **kwargs))
                 for w in range(workers)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
        failed = [proc.exitcode for proc in procs if proc.exitcode != 0]
        if failed:
            raise RuntimeError(f"{len(failed)} of {workers} tuning workers failed (exit codes {failed}); "
                               f"the study is kept in {storage}")
    return optuna.load_study(study_name=study_name, storage=storage)


def _create_study(storage: str | None, study_name: str, seed: int) -> Any:
    import optuna

    return optuna.create_study(
        study_name=study_name,
        storage=storage,
        load_if_exists=True,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
    )


def _tune_worker(
    preset: str, n_trials: int, timesteps: int, storage: str | None, study_name: str, sampler_seed: int, model_seed: int,
    n_evaluations: int, eval_episodes: int, steps_per_episode: int, torch_threads: int | None = None, study: Any = None,
) -> None:
    """Run trials until the study holds `n_trials` finished ones (one process of `tune_dqn`; a spawned
    worker loads the study from `storage`, the single-process path passes its own, in-memory ones included)."""
    import optuna
    from optuna.trial import TrialState

    if torch_threads is not None:
        torch.set_num_threads(torch_threads)

    def objective(trial: optuna.Trial) -> float:
        params = sample_dqn_params(trial)
        env = make_train_env(preset, steps_per_episode)
        eval_env = make_train_env(preset, steps_per_episode)
        model = EpsilonDecayDQN("MlpPolicy", env, seed=model_seed, verbose=0, **params)
        value = -math.inf
        for k in range(1, n_evaluations + 1):
            model.learn(total_timesteps=timesteps // n_evaluations, reset_num_timesteps=False)
            value = evaluate_policy(model, eval_env, n_episodes=eval_episodes, seed=50_000).per_tti["reward"].mean()
            trial.report(value, k)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(value)

    study = study if study is not None else _create_study(storage, study_name, sampler_seed)
    finished = (TrialState.COMPLETE, TrialState.PRUNED)
    done = len(study.get_trials(deepcopy=False, states=finished))
    if done >= n_trials:
        return
    study.optimize(objective, n_trials=n_trials - done, show_progress_bar=False,
                   callbacks=[optuna.study.MaxTrialsCallback(n_trials, states=finished)])


def save_tuned(study: Any, timesteps: int, preset: str, command: str, path: Path | None = None) -> Path:
    """Write the best trial as the `"tuned"` configuration, with how it was found, and every trial as CSV."""
    best = dict(study.best_trial.params)
    net = {"small": [64, 64], "medium": [256, 256], "large": [256, 256, 256]}[best.pop("net_arch")]
    config = {"episodes": max(1, timesteps // 250), "steps_per_episode": 250, "model": {**best, "policy_kwargs": {"net_arch": net}}}
    path = path or CONFIG_DIR / "dqn_tuned.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    trials = [t for t in study.trials if t.state.is_finished()]
    path.write_text(json.dumps({
        "config": config,
        "found_by": command,
        "preset": preset,
        "best_value_mean_tti_reward": study.best_value,
        "trials_finished": len(trials),
        "trials_pruned": sum(t.state.name == "PRUNED" for t in trials),
        "versions": versions(),
    }, indent=2) + "\n")
    # every trial (parameters, value per evaluation, state), beside the config: how it was chosen
    frame = study.trials_dataframe(attrs=("number", "value", "state", "params", "intermediate_values", "duration"))
    frame["duration"] = frame["duration"].dt.total_seconds().round(1)
    frame.rename(columns={"duration": "duration_s"}).to_csv(path.with_name(path.stem + "_trials.csv"), index=False)
    return path


def main(argv: list[str] | None = None) -> None:
    """`python -m oran_gym.agents.dqn tune ...`: run the Optuna study and save the tuned configuration."""
    import argparse

    ap = argparse.ArgumentParser(description="Optuna tuning of the DQN on ORANSlicing-v0")
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tune")
    t.add_argument("--preset", default="paper")
    t.add_argument("--trials", type=int, default=20)
    t.add_argument("--timesteps", type=int, default=30_000)
    t.add_argument("--storage", default="sqlite:///dqn_optuna.db")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--workers", type=int, default=1, help="parallel processes on the same storage (one torch thread each)")
    args = ap.parse_args(argv)
    study = tune_dqn(args.preset, args.trials, args.timesteps, args.storage, seed=args.seed, workers=args.workers)
    cmd = f"python -m oran_gym.agents.dqn tune --preset {args.preset} --trials {args.trials} --timesteps {args.timesteps} --storage {args.storage} --seed {args.seed}" + (
        f" --workers {args.workers}" if args.workers > 1 else "")
    path = save_tuned(study, args.timesteps, args.preset, cmd)
    print(f"best mean TTI reward {study.best_value:.3f}; tuned config written to {path}")


if __name__ == "__main__":
    main()
