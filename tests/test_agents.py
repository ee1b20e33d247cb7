"""DQN (paper schedule, training, save/load, callbacks, Optuna) and SS-VAE (shapes, losses, decoding, policy)."""

from __future__ import annotations

import json
import math

import gymnasium as gym
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
from oran_gym.agents.ssvae import (
    SemiSupervisedVAE,
    SSVAEConfig,
    SSVAEPolicy,
    allocation_metrics,
    decode_allocation,
    features,
    load_ssvae,
    nt_xent,
    power_metrics,
    save_ssvae,
    targets,
    train_ssvae,
)
from oran_gym.baselines import make_policy
from oran_gym.baselines.dataset import generate_dataset, load_dataset

import oran_gym  # noqa: F401
from oran_gym import ScenarioConfig
from oran_gym.allocation import scenario_arrays
from oran_gym.evaluation import evaluate_policy

pytestmark = pytest.mark.requires_torch


# ---------------------------------------------------------------------------------------------- DQN
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
@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    train = load_dataset(generate_dataset("tiny", 400, d / "train.npz", seed=0, oracle="esa", workers=1, progress=False))
    test = load_dataset(generate_dataset("tiny", 80, d / "test.npz", seed=1, oracle="esa", workers=1, progress=False))
    return train, test


def test_features_targets_and_model_shapes(tiny_data):
    train, _ = tiny_data
    cfg = train["config"]
    x = features(cfg, train["gains"][:5], train["offered_load_bps"][:5])
    assert x.shape == (5, 1 * 4 * 3 + 4) and x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1
    t = targets(cfg, train["owner"][:5], train["power_w"][:5], train["assoc"][:5])
    assert t["owner"].shape == (5, 3) and t["assoc"].shape == (5, 4) and t["power"].shape == (5, 3)
    assert np.all((t["level"] == -100) == (t["owner"] == 0))
    model = SemiSupervisedVAE(x.shape[1], 1, 4, 3, 2, SSVAEConfig())
    out = model(torch.as_tensor(x))
    assert out["owner"].shape == (5, 3, 5) and out["level"].shape == (5, 3, 2) and out["assoc"].shape == (5, 4, 2)
    assert out["recon"].shape == x.shape and out["mu"].shape == (5, 20)


def test_nt_xent_matches_a_direct_computation():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 8, generator=g), torch.randn(4, 8, generator=g)
    za = torch.nn.functional.normalize(a, dim=1)
    zb = torch.nn.functional.normalize(b, dim=1)
    z = torch.cat([za, zb])
    tau = 0.25
    expected = 0.0
    for i in range(8):
        j = (i + 4) % 8
        num = torch.exp(z[i] @ z[j] / tau)
        den = sum(torch.exp(z[i] @ z[k] / tau) for k in range(8) if k != i)
        expected += -torch.log(num / den)
    assert float(nt_xent(a, b, tau)) == pytest.approx(float(expected / 8), rel=1e-5)
    assert float(nt_xent(a, a, tau)) < float(nt_xent(a, b, tau))  # identical views are easy positives


@pytest.mark.slow
def test_loss_decreases_and_training_is_seeded(tiny_data):
    train, _ = tiny_data
    cfg = train["config"]
    conf = SSVAEConfig(epochs=15, seed=3)
    m1, h1 = train_ssvae(cfg, train, train, conf)
    m2, h2 = train_ssvae(cfg, train, train, conf)
    assert h1["train_supervised"][-1] < h1["train_supervised"][0]
    assert h1["train_loss"] == h2["train_loss"]
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p1, p2)


@pytest.mark.parametrize("preset", ["tiny", "paper", "multi_cell"])
def test_decoded_allocations_are_always_feasible(preset):
    cfg = ScenarioConfig.preset(preset)
    B, U, M, L = cfg.num_rus, cfg.num_ues, cfg.num_prbs, cfg.num_power_levels
    _, ue_slice, levels = scenario_arrays(cfg)
    rng = np.random.default_rng(0)
    for _ in range(30):
        owner_p = rng.dirichlet(np.ones(U + 1) * 0.3, size=B * M)
        level_p = rng.dirichlet(np.ones(L), size=B * M)
        level_p[:, -1] += 2.0  # push towards the top level so projection has work to do
        assoc_p = rng.dirichlet(np.ones(B + 1), size=U)
        alloc = decode_allocation(cfg, owner_p, level_p, assoc_p)
        served = alloc.owner >= 0
        assert np.all(alloc.power_w.sum(axis=1) <= cfg.ru_power_limit_w * (1 + 1e-9))
        assert np.all(alloc.assoc[alloc.owner[served]] == np.nonzero(served)[0])
        for b, m in zip(*np.nonzero(served)):
            assert np.isclose(levels[ue_slice[alloc.owner[b, m]]], alloc.power_w[b, m]).any()


def test_power_metrics_hand_values():
    m = power_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
    assert m["mae"] == pytest.approx(1 / 3)
    assert m["r2"] == pytest.approx(1 - 1 / (14 / 3))
    assert m["cosine"] == pytest.approx(17 / (math.sqrt(14) * math.sqrt(21)))
    assert m["pearson"] == pytest.approx(np.corrcoef([1, 2, 3], [1, 2, 4])[0, 1])


@pytest.mark.slow
def test_ssvae_beats_random_against_the_oracle_and_round_trips(tiny_data, tmp_path):
    train, test = tiny_data
    cfg = train["config"]
    conf = SSVAEConfig(epochs=60, seed=0, weight_decay=0.01)
    model, _ = train_ssvae(cfg, train, train, conf)
    metrics = allocation_metrics(model, cfg, test)
    # against the oracle on the same test TTIs, SS-VAE must clearly beat the random policy
    env = gym.make("ORANSlicing-v0", config="tiny", action_mode="full", episode_length_tti=1)
    rnd = evaluate_policy(make_policy("random", env), env, n_episodes=40, seed=100)
    opt = evaluate_policy(make_policy("esa", env), env, n_episodes=40, seed=100)
    random_gap = 100 * (opt.per_tti["reward"].mean() - rnd.per_tti["reward"].mean()) / abs(opt.per_tti["reward"].mean())
    assert metrics["reward_gap_pct"] < 0.5 * random_gap, (metrics, random_gap)
    # the policy acts in both modes and save/load keeps its predictions
    path = save_ssvae(tmp_path / "ssvae.pt", model, cfg, conf)
    loaded, cfg2, blob = load_ssvae(path)
    assert cfg2 == cfg and blob["config"]["epochs"] == 60
    for mode in ("full", "prb"):
        env = gym.make("ORANSlicing-v0", config="tiny", action_mode=mode, episode_length_tti=2)
        r1 = evaluate_policy(SSVAEPolicy(env, model), env, n_episodes=2, seed=5).per_tti["reward"]
        r2 = evaluate_policy(SSVAEPolicy(env, loaded), env, n_episodes=2, seed=5).per_tti["reward"]
        np.testing.assert_array_equal(r1, r2)


@pytest.mark.slow
def test_fig6_sweep_runs_end_to_end_at_toy_size(tmp_path):
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from oran_gym.benchmarks import reproduce_fig6

    tiny = {"num_embb_ues": 2, "num_urllc_ues": 2, "num_prbs": 3}
    points = [("6c", 2, tiny), ("6e", 30.0, {**tiny, "ru_max_power_dbm": 30.0})]
    result = reproduce_fig6.run(progress=False, out_dir=tmp_path, points=points, labels=40, epochs=3, dqn_steps=150,
                                eval_episodes=2, eval_ttis=2, dqn_configs=["paper"])
    df = pd.read_csv(tmp_path / "fig6.csv")
    assert set(df["policy"]) == {"oracle", "ssvae", "slice_aware", "dqn_paper"} and len(df) == 8
    oracle = df[df["policy"] == "oracle"].set_index("figure")["reward"]
    for _, row in df.iterrows():  # the oracle's reward bounds every policy on the same TTIs
        assert row["reward"] <= oracle[row["figure"]] + 1e-9
    assert (tmp_path / "fig6.png").exists() and json.loads((tmp_path / "fig6.json").read_text())["points"] == 2
    assert reproduce_fig6.summary_lines(result)[0].startswith("Fig. 6 sweep: 2 scenario points")
    # two points at once, one process each: the same numbers
    reproduce_fig6.run(progress=False, out_dir=tmp_path / "par", points=points, labels=40, epochs=3, dqn_steps=150,
                       eval_episodes=2, eval_ttis=2, dqn_configs=["paper"], workers=2)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "par" / "fig6.csv"), df)
    # figures rewritten from the finished points name the run that computed them and keep its time
    first = json.loads((tmp_path / "fig6.json").read_text())
    reproduce_fig6.run(progress=False, out_dir=tmp_path, points=points, labels=40, epochs=3, dqn_steps=150, eval_episodes=2,
                       eval_ttis=2, dqn_configs=["paper"], finished_only=True, command=first["command"] + " --finished-only")
    again = json.loads((tmp_path / "fig6.json").read_text())
    assert again["command"] == first["command"] and again["wall_s"] == first["wall_s"] and again["rows"] == first["rows"]
    # a figure filter keeps that figure's points
    only = reproduce_fig6.run(progress=False, out_dir=tmp_path, points=points, labels=40, epochs=3, dqn_steps=150,
                              eval_episodes=2, eval_ttis=2, dqn_configs=["paper"], figures=["6e"])
    assert only["points"] == 1 and {r["figure"] for r in only["rows"]} == {"6e"}
    with pytest.raises(ValueError, match=r"figures \['6x'\] are not in the grid; choose from \['6c', '6e'\]"):
        reproduce_fig6.run(progress=False, out_dir=tmp_path, points=points, figures=["6x"])
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        reproduce_fig6.run(progress=False, out_dir=tmp_path, points=points, workers=0)


def test_fig6_ordering_flags_each_dqn_configuration():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from oran_gym.benchmarks.reproduce_fig6 import ordering

    values = {"oracle": (10.0, 5.0), "ssvae": (8.0, 4.0), "dqn_paper": (5.0, 1.0), "dqn_tuned": (9.0, 3.0)}
    df = pd.DataFrame([{"figure": "6c", "x": 5, "policy": k, "aggregated_throughput_mbps": t, "reward": r}
                       for k, (t, r) in values.items()])
    row = ordering(df).iloc[0]
    assert row["aggregated_throughput_mbps: oracle>ssvae>dqn"] and row["reward: oracle>ssvae>dqn"]
    # the tuned DQN out-runs SS-VAE in throughput, not in reward
    assert not row["aggregated_throughput_mbps: oracle>ssvae>dqn_tuned"] and row["reward: oracle>ssvae>dqn_tuned"]
    assert "reward: oracle>ssvae>dqn_tuned" not in ordering(df[df["policy"] != "dqn_tuned"]).columns


def test_decoding_serves_the_expected_number_of_prbs_when_many_ues_share_few():
    # 60 UEs, 25 PRBs, idle likely 60 % of the time: each UE's expected count is ~0.17; rounding
    # each on its own served nobody (the Fig. 6d collapse); the RU's expected total is 10 PRBs
    cfg = ScenarioConfig.preset("paper").replace(num_embb_ues=30, num_urllc_ues=30, ru_max_power_dbm=40.0)
    B, U, M, L = cfg.num_rus, cfg.num_ues, cfg.num_prbs, cfg.num_power_levels
    rng = np.random.default_rng(0)
    ue_p = rng.dirichlet(np.ones(U), size=B * M) * 0.4
    owner_p = np.concatenate([np.full((B * M, 1), 0.6), ue_p], axis=1)
    level_p = np.tile(np.eye(L)[0], (B * M, 1))
    assoc_p = np.tile(np.r_[0.0, np.ones(B)] / B, (U, 1))
    alloc = decode_allocation(cfg, owner_p, level_p, assoc_p)
    assert (alloc.owner >= 0).sum() == 10
    counts = np.bincount(alloc.owner[alloc.owner >= 0], minlength=U)
    assert counts.max() == 1  # ten different UEs, the ten largest expected counts
    expected = ue_p.sum(axis=0)
    assert set(np.flatnonzero(counts)) == set(np.argsort(-expected)[:10])
