"""oran_gym.agents.ssvae: shapes, losses, decoding, the policy against the oracle."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs the agents extra: pip install torch==2.13.0 && pip install 'oran-gym[agents]'")
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
    # the repair never lowers a TTI's reward, and the constant predictor has R^2 = 0 by construction
    assert metrics["repaired_reward_gap_pct"] <= metrics["reward_gap_pct"] + 1e-9
    assert metrics["constant_power_r2"] == pytest.approx(0.0, abs=1e-12) and metrics["repair_sweeps"] == 2
    assert metrics["throughput_gap_mbps"] > 0 or metrics["throughput_gap_pct"] <= 0
    # the policy acts in both modes and save/load keeps its predictions
    path = save_ssvae(tmp_path / "ssvae.pt", model, cfg, conf)
    loaded, cfg2, blob = load_ssvae(path)
    assert cfg2 == cfg and blob["config"]["epochs"] == 60
    for mode in ("full", "prb"):
        env = gym.make("ORANSlicing-v0", config="tiny", action_mode=mode, episode_length_tti=2)
        r1 = evaluate_policy(SSVAEPolicy(env, model), env, n_episodes=2, seed=5).per_tti["reward"]
        r2 = evaluate_policy(SSVAEPolicy(env, loaded), env, n_episodes=2, seed=5).per_tti["reward"]
        np.testing.assert_array_equal(r1, r2)


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


def test_alpha_beta_error_is_the_papers_ratio():
    from oran_gym.agents.ssvae import alpha_beta_error_pct

    from oran_gym import Allocation

    cfg = ScenarioConfig.preset("tiny").replace(num_rus=2)  # B = 2, U = 4, M = 3: 8 alphas, 24 betas
    true = Allocation(np.array([0, 0, 1, -1]), np.array([[0, 1, -1], [2, 2, -1]]), np.zeros((2, 3)))
    assert alpha_beta_error_pct(cfg, true, true) == (0.0, 0.0)
    # UE 1 moves to RU 1 and takes PRB 2 there: alpha differs in 2 places, beta in 2 (PRB 1 of RU 0, PRB 2 of RU 1)
    pred = Allocation(np.array([0, 1, 1, -1]), np.array([[0, -1, -1], [2, 2, 1]]), np.zeros((2, 3)))
    ab, a = alpha_beta_error_pct(cfg, pred, true)
    assert ab == pytest.approx(100 * 4 / 32) and a == pytest.approx(100 * 2 / 8)


def test_two_phase_schedule_keeps_a_refined_epoch(tiny_data):
    train, _ = tiny_data
    cfg = train["config"]
    _, hist = train_ssvae(cfg, train, train, SSVAEConfig(epochs=6, seed=0, schedule="two_phase"))
    assert hist["refine_from_epoch"] == 3 and hist["best_epoch"] >= 3
    _, joint = train_ssvae(cfg, train, train, SSVAEConfig(epochs=6, seed=0))
    assert joint["refine_from_epoch"] == 0
    # the first phase has no contrastive term: the two runs differ from the first epoch's loss
    assert hist["train_loss"][0] != joint["train_loss"][0]
    with pytest.raises(ValueError, match="schedule must be 'joint' or 'two_phase'"):
        SSVAEConfig(schedule="alternating")
