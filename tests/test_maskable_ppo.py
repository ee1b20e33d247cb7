"""oran_gym.agents.maskable_ppo: the shipped parameters, a training run on NativeVecEnv, the study."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.requires_torch
pytest.importorskip("sb3_contrib")

from oran_gym.agents.maskable_ppo import best_params, load_params, make_eval_env, train_maskable_ppo, tune_maskable_ppo  # noqa: E402
from oran_gym.evaluation import evaluate_policy  # noqa: E402


def test_params_come_from_the_shipped_file():
    p = load_params({"n_envs": 2})
    assert p["n_envs"] == 2 and p["policy"] == "MlpPolicy" and p["policy_kwargs"] == {"net_arch": [256, 256]}


def test_train_then_score_with_masks_and_seeded():
    params = {"n_envs": 2, "n_steps": 32, "batch_size": 64, "policy_kwargs": {"net_arch": [16]}}
    model, rec = train_maskable_ppo("tiny", seed=3, timesteps=128, params=params)
    again, _ = train_maskable_ppo("tiny", seed=3, timesteps=128, params=params)
    env = make_eval_env("tiny")
    a = evaluate_policy(model, env, n_episodes=1, seed=0).per_tti
    b = evaluate_policy(again, env, n_episodes=1, seed=0).per_tti
    assert rec["timesteps"] == 128 and rec["n_envs"] == 2 and len(a) == 10
    assert a["reward"].tolist() == b["reward"].tolist()  # same seed, same agent
    assert (a["association_violations"] == 0).all()


def test_study_runs_and_gives_maskable_ppo_keywords():
    study = tune_maskable_ppo(n_trials=2, timesteps=256, preset="tiny", eval_episodes=1)
    params = best_params(study)
    assert len(study.trials) == 2 and "net_arch" not in params and params["policy_kwargs"]["net_arch"]
