"""oran_gym.agents.dqn, dqn_callbacks and dqn_tuning: paper schedule, training, save/load, callbacks, Optuna."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="needs the agents extra: pip install torch==2.13.0 && pip install 'oran-gym[agents]'")
from oran_gym.agents.dqn import (
    PAPER_CONFIG,
    OracleGapCallback,
    SliceKPICallback,
    config_fingerprint,
    load_config,
    load_dqn,
    make_dqn,
    make_train_env,
    save_tuned,
    train_dqn,
    tune_dqn,
)

import oran_gym  # noqa: F401

pytestmark = pytest.mark.requires_torch


def test_paper_config_and_epsilon_schedule():
    env = make_train_env("paper", PAPER_CONFIG["steps_per_episode"])
    assert env.unwrapped.config.episode_length_tti * env.unwrapped.config.prbs_per_tti == 50
    model = make_dqn(env, "paper")
    assert model.gamma == 0.9 and model.buffer_size == 400
    eps = [model.epsilon_at(t) for t in range(6000)]
    assert eps[0] == 0.9 and eps[1] == pytest.approx(0.9 * 0.9995)
    first = next(t for t, e in enumerate(eps) if e == 0.1)
    assert first == math.ceil(math.log(0.1 / 0.9) / math.log(0.9995)) == 4394
    assert eps[4393] > 0.1


@pytest.mark.slow
def test_training_applies_the_per_step_decay():
    env = make_train_env("tiny", 30)
    model = make_dqn(env, "paper", learning_starts=10)
    model.learn(total_timesteps=300)
    assert model.exploration_rate == pytest.approx(0.9 * 0.9995**300)


def test_train_save_load_round_trip_and_kpis(tmp_path):
    model, meta = train_dqn("tiny", "paper", seed=1, out_dir=tmp_path, total_timesteps=400, eval_freq=200)
    assert (tmp_path / "model.zip").exists() and (tmp_path / "meta.json").exists()
    assert meta["scenario"]["num_prbs"] == 3 and meta["seed"] == 1 and "stable_baselines3" in meta["versions"]
    assert len(meta["eval_history"]) == 2 and all("optimality_gap_pct" in r for r in meta["eval_history"])
    assert list((tmp_path / "checkpoints").glob("dqn_*_steps.zip"))
    loaded, meta2 = load_dqn(tmp_path)
    env = make_train_env("tiny", 30)
    obs, _ = env.reset(seed=3)
    for _ in range(6):
        a1, _ = model.predict(obs, deterministic=True)
        a2, _ = loaded.predict(obs, deterministic=True)
        assert a1 == a2
        obs, *_ = env.step(a1)
    assert meta2["config"] == meta["config"]


def test_kpi_callback_records_per_slice_throughput():
    env = make_train_env("tiny", 30)
    model = make_dqn(env, "paper", learning_starts=10)
    cb = SliceKPICallback()
    from stable_baselines3.common.logger import configure

    logger = configure(None, [])  # kept across learn() calls once set
    recorded: dict[str, list[float]] = {}
    original = logger.record

    def capture(key, value, exclude=None):
        recorded.setdefault(key, []).append(value)
        original(key, value, exclude)

    logger.record = capture
    model.set_logger(logger)
    model.learn(total_timesteps=90, callback=cb)  # 30 TTIs of 3 PRBs
    assert cb._ue_slice.tolist() == [0, 0, 1, 1]
    for key in ("kpi/objective_mbps", "kpi/embb_throughput_mbps", "kpi/urllc_throughput_mbps", "kpi/qos_violations"):
        assert len(recorded[key]) == 3, key  # flushed every 10 TTIs
    for total, embb, urllc in zip(recorded["kpi/objective_mbps"], recorded["kpi/embb_throughput_mbps"], recorded["kpi/urllc_throughput_mbps"]):
        assert total == pytest.approx(embb + 2.0 * urllc)  # weights 1 and 2
        assert 0 <= urllc <= 2 * 3 * 0.36  # at most 3 PRBs at the URLLC cap of 2 bit/s/Hz x 180 kHz


def test_oracle_gap_callback_is_non_negative_for_a_fresh_model():
    env = make_train_env("tiny", 30)
    model = make_dqn(env, "paper")
    cb = OracleGapCallback(make_train_env("tiny", 30), n_episodes=2)
    cb.init_callback(model)
    model._setup_learn(10)
    row = cb.evaluate()
    assert row["optimality_gap_pct"] >= -1e-9  # nothing beats the optimum


def test_optuna_study_resumes_from_sqlite(tmp_path):
    storage = f"sqlite:///{tmp_path / 'dqn.db'}"
    s1 = tune_dqn("tiny", n_trials=2, timesteps=90, storage=storage, n_evaluations=1, eval_episodes=1, steps_per_episode=30)
    assert len(s1.trials) == 2
    s2 = tune_dqn("tiny", n_trials=3, timesteps=90, storage=storage, n_evaluations=1, eval_episodes=1, steps_per_episode=30)
    assert len(s2.trials) == 3 and s2.trials[0].params == s1.trials[0].params
    # the best trial becomes a loadable configuration; every trial is kept beside it
    path = save_tuned(s2, 90, "tiny", "the command", path=tmp_path / "dqn_tuned.json")
    saved = json.loads(path.read_text())
    assert saved["best_value_mean_tti_reward"] == s2.best_value and saved["trials_finished"] == 3
    assert saved["config"]["model"]["learning_rate"] == s2.best_trial.params["learning_rate"]
    assert load_config(saved["config"]) == saved["config"]
    trials = pd.read_csv(tmp_path / "dqn_tuned_trials.csv")
    assert list(trials["number"]) == [0, 1, 2] and trials["value"].max() == s2.best_value


def test_config_fingerprint_follows_the_content():
    assert config_fingerprint("paper") == config_fingerprint(json.loads(json.dumps(PAPER_CONFIG)))
    changed = json.loads(json.dumps(PAPER_CONFIG))
    changed["model"]["gamma"] = 0.95
    assert config_fingerprint(changed) != config_fingerprint("paper")


@pytest.mark.slow
def test_optuna_study_parallel_workers_share_the_storage(tmp_path):
    storage = f"sqlite:///{tmp_path / 'dqn.db'}"
    s = tune_dqn("tiny", n_trials=4, timesteps=90, storage=storage, n_evaluations=1, eval_episodes=1,
                 steps_per_episode=30, workers=2)
    finished = [t for t in s.trials if t.state.is_finished()]
    assert 4 <= len(finished) <= 5  # the cap counts across workers; a trial already running when it is reached finishes
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in s.trials)
    # the workers' samplers are seeded apart, so their first trials differ
    assert len({t.params["learning_rate"] for t in finished}) == len(finished)
    again = tune_dqn("tiny", n_trials=4, timesteps=90, storage=storage, n_evaluations=1, eval_episodes=1,
                     steps_per_episode=30, workers=2)
    assert len(again.trials) == len(s.trials)  # already complete: resuming runs nothing


def test_optuna_study_in_memory_returns_its_trials():
    s = tune_dqn("tiny", n_trials=2, timesteps=90, storage=None, n_evaluations=1, eval_episodes=1, steps_per_episode=30)
    assert len(s.trials) == 2 and all(t.state.is_finished() for t in s.trials)


def test_optuna_workers_need_valid_count_and_storage():
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        tune_dqn("tiny", n_trials=1, workers=0)
    with pytest.raises(ValueError, match="needs a storage URL"):
        tune_dqn("tiny", n_trials=1, workers=2)


# ---------------------------------------------------------------------------------------------- SS-VAE


def test_masked_dqn_acts_and_learns_on_valid_actions_only(tmp_path):
    """MaskedDQN: exploration and argmax stay on valid actions (the env raises on a masked one),
    the buffer stores the next state's mask, and the TD target leaves masked actions out."""
    from oran_gym.agents.dqn import load_config, load_dqn, train_dqn
    from oran_gym.agents.masked_dqn import MaskedDQN

    conf = load_config("paper")
    conf["model"]["learning_starts"] = 50
    tight = oran_gym.ScenarioConfig.preset("tiny").replace(ru_max_power_dbm=31.0)  # 1.26 W: a 1 W PRB masks the upper levels
    model, meta = train_dqn(tight, conf, seed=0, total_timesteps=400, masked=True, tensorboard=False, out_dir=tmp_path / "m")
    assert isinstance(model, MaskedDQN) and meta["masked"] and meta["env_kwargs"]["invalid_action"] == "raise"
    buf = model.replay_buffer
    assert not buf.next_masks[: buf.buffer_size if buf.full else buf.pos, 0].all()  # some actions were masked
    # greedy and exploring predictions respect random masks
    rng = np.random.default_rng(0)
    obs = np.stack([model.observation_space.sample() for _ in range(32)])
    masks = rng.random((32, model.action_space.n)) < 0.3
    masks[:, 0] = True
    for deterministic in (True, False):
        model.exploration_rate = 0.5
        actions, _ = model.predict(obs, deterministic=deterministic, action_masks=masks)
        assert masks[np.arange(32), actions].all()
    # the TD target: Q_target(s', a) = 1000 a and Q = 0, reward 1, no episode end; with only
    # actions {0, 1} valid in s' the target is 1 + gamma 1000 (the Huber loss then |x| - 0.5)
    n = model.action_space.n
    with torch.no_grad():
        for p in list(model.q_net_target.parameters()) + list(model.q_net.parameters()):
            p.zero_()
        [m for m in model.q_net_target.modules() if isinstance(m, torch.nn.Linear)][-1].bias.copy_(1000.0 * torch.arange(n))
    buf.rewards[:], buf.dones[:], buf.timeouts[:] = 1.0, 0.0, 0.0
    buf.next_masks[:] = False
    buf.next_masks[:, :, :2] = True
    model.train(gradient_steps=1, batch_size=16)
    assert model.logger.name_to_value["train/loss"] == pytest.approx(1 + model.gamma * 1000 - 0.5)
    buf.next_masks[:] = True  # unmasked, as SB3's DQN: the largest action's value
    with torch.no_grad():
        for p in model.q_net.parameters():
            p.zero_()
    model.train(gradient_steps=1, batch_size=16)
    assert model.logger.name_to_value["train/loss"] == pytest.approx(1 + model.gamma * 1000 * (n - 1) - 0.5)
    loaded, meta2 = load_dqn(tmp_path / "m")
    assert isinstance(loaded, MaskedDQN) and meta2["masked"]
