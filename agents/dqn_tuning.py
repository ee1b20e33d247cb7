"""The Optuna study behind the DQN's "tuned" configuration (TPE, median pruning, resumable, parallel workers).

Run: `python -m oran_gym.agents.dqn_tuning tune --trials 60 --workers 2` (also reachable as
`python -m oran_gym.agents.dqn tune`, the recorded command). The best trial is written to
`agents/configs/dqn_tuned.json`, every trial to `dqn_tuned_trials.csv` beside it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
from oran_gym.agents.dqn import CONFIG_DIR, EpsilonDecayDQN, make_train_env, versions

from oran_gym.evaluation import evaluate_policy

__all__ = ["main", "sample_dqn_params", "save_tuned", "tune_dqn"]


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
