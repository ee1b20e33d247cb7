"""The `urban_macro` preset: TR 38.901 UMa path loss and LOS probability, the CQI-table link
abstraction, and the env on it (checkers, vector equality, oracles)."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest

import oran_gym  # noqa: F401
from oran_gym import Allocation, ScenarioConfig, evaluate_allocation
from oran_gym.config import PRESET_SOURCES, PRESETS
from oran_gym.sim import channel, kernels, link, reference
from oran_gym.sim.dynamics import NetworkState
from oran_gym.sim.params import pack_params


def test_uma_los_probability_follows_tr_38901():
    d = np.array([10.0, 18.0, 100.0, 300.0])
    p = channel.uma_los_probability(d)
    # 18/d + exp(-d/63) (1 - 18/d) beyond 18 m, by hand
    assert p[:2].tolist() == [1.0, 1.0]
    assert p[2] == pytest.approx(0.18 + math.exp(-100 / 63) * 0.82, rel=1e-12)
    assert p[3] == pytest.approx(0.06 + math.exp(-300 / 63) * 0.94, rel=1e-12)
    assert np.all(np.diff(channel.uma_los_probability(np.linspace(18, 2000, 200))) < 0)


def test_uma_path_loss_follows_tr_38901():
    # h_BS 25 m, h_UT 1.5 m, 2 GHz: d'_BP = 4 x 24 x 0.5 x 2e9 / c = 320.2 m
    d2 = np.array([100.0, 100.0, 1000.0])
    los = np.array([True, False, True])
    pl = channel.uma_38901_pathloss_db(d2, 2e9, 25.0, 1.5, los)
    d3 = np.hypot(d2, 23.5)
    assert pl[0] == pytest.approx(28.0 + 22.0 * math.log10(d3[0]) + 20 * math.log10(2.0), abs=1e-9)  # LOS, before d'_BP
    assert pl[0] == pytest.approx(78.28, abs=0.01)
    assert pl[1] == pytest.approx(98.18, abs=0.01)  # NLOS dominates at 100 m
    bp = 4 * 24 * 0.5 * 2e9 / channel.SPEED_OF_LIGHT_MPS
    assert pl[2] == pytest.approx(28.0 + 40 * math.log10(d3[2]) + 20 * math.log10(2.0) - 9 * math.log10(bp**2 + 23.5**2), abs=1e-9)
    d = np.linspace(35, 2000, 100)
    nlos_pl = channel.uma_38901_pathloss_db(d, 2e9, 25.0, 1.5, np.zeros(100, bool))
    assert np.all(nlos_pl >= channel.uma_38901_pathloss_db(d, 2e9, 25.0, 1.5, np.ones(100, bool)))  # NLOS >= LOS


def test_los_state_and_shadowing_of_the_urban_macro_drop():
    cfg = ScenarioConfig.preset("urban_macro")
    los, d = [], []
    for seed in range(200):
        net = NetworkState.initial(cfg, np.random.default_rng(seed))
        los.append(net.los)
        d.append(channel.distances_m(net.ue_pos_m, net.ru_pos_m, cfg.cell_min_radius_m))
    los, d = np.concatenate(los).ravel(), np.concatenate(d).ravel()
    # the share of LOS links equals the mean LOS probability of their distances
    assert los.mean() == pytest.approx(channel.uma_los_probability(d).mean(), abs=0.02)
    assert 0.05 < los.mean() < 0.6


def test_cqi_efficiency_numba_equals_its_twin_and_steps_at_the_thresholds():
    rng = np.random.default_rng(0)
    sinr = 10 ** (rng.uniform(-12, 30, 5000) / 10)
    edges = 10 ** (link.CQI_SINR_THRESHOLDS_DB / 10)
    sinr = np.concatenate([sinr, edges, edges * (1 - 1e-12), [0.0]])
    numba_se = np.array([link.cqi_efficiency(x) for x in sinr])
    np.testing.assert_array_equal(numba_se, link.cqi_efficiency_numpy(sinr))
    np.testing.assert_array_equal(link.cqi_efficiency_numpy(edges), link.CQI_EFFICIENCY)
    assert link.cqi_efficiency(edges[0] * 0.999) == 0.0
    assert np.all(np.diff(link.CQI_EFFICIENCY) > 0)


@pytest.mark.parametrize("slice_id", [0, 1])
def test_rate_kernel_and_twin_agree_under_the_cqi_table(slice_id):
    cfg = ScenarioConfig.preset("tiny").replace(link_model="cqi_table", urllc_max_se_bps_per_hz=2.0)
    params = pack_params(cfg)
    sinr = 10 ** (np.random.default_rng(1).uniform(-10, 30, 500) / 10)
    got = np.array([kernels.capped_rate_bps(x, slice_id, params) for x in sinr])
    np.testing.assert_array_equal(got, reference.capped_rate_bps(sinr, slice_id, params))
    cap = cfg.embb_max_se_bps_per_hz if slice_id == 0 else cfg.urllc_max_se_bps_per_hz
    assert got.max() == pytest.approx(cfg.prb_bandwidth_hz * min(cap, link.CQI_EFFICIENCY[-1]))


def test_milp_equals_exhaustive_search_under_the_cqi_table():
    from oran_gym.baselines import ExhaustiveSearchOracle, MILPOracle

    cfg = ScenarioConfig.preset("tiny").replace(link_model="cqi_table", noise_figure_db=9.0)
    for seed in range(6):
        net = NetworkState.initial(cfg, np.random.default_rng(seed))
        _, v_esa = ExhaustiveSearchOracle().solve(cfg, net.gain_lin, net.offered_load_bps)
        alloc, v_milp = MILPOracle().solve(cfg, net.gain_lin, net.offered_load_bps)
        assert v_milp == pytest.approx(v_esa, rel=1e-9, abs=1e-9)
        m = evaluate_allocation(cfg, net.gain_lin, alloc, net.offered_load_bps, backend="numpy")
        assert m.reward == pytest.approx(v_milp, rel=1e-12)


@pytest.mark.parametrize("action_mode", ["prb", "full"])
def test_both_checkers_pass_on_urban_macro(action_mode):
    from gymnasium.utils.env_checker import check_env

    sb3_check_env = pytest.importorskip("stable_baselines3.common.env_checker").check_env
    env = gym.make("ORANSlicing-v0", config="urban_macro", action_mode=action_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped, warn=True)


@pytest.mark.parametrize("action_mode, steps", [("prb", 170), ("full", 6)])
def test_urban_macro_vector_env_equals_sync(action_mode, steps):
    from test_vector_env import run_pair  # pytest puts tests/ on sys.path (rootdir-relative imports)
    run_pair(2, steps, config="urban_macro", action_mode=action_mode, episode_length_tti=2 if action_mode == "prb" else 3)


def test_every_value_of_urban_macro_has_a_source(capsys):
    from oran_gym.cli import main

    cfg, paper = ScenarioConfig.preset("urban_macro"), ScenarioConfig.preset("paper")
    changed = set(cfg.diff(paper))
    assert changed <= set(PRESET_SOURCES["urban_macro"]), changed - set(PRESET_SOURCES["urban_macro"])
    assert set(PRESETS["urban_macro"]) <= set(PRESET_SOURCES["urban_macro"])
    main(["info", "--preset", "urban_macro"])
    out = capsys.readouterr().out
    assert "TR 38.901 Table 7.8-1 (UT noise figure 9 dB)" in out and "TS 38.214 Table 5.2.2.1-2" in out


def test_urban_macro_rates_step_with_sinr_and_the_ru_power_is_split():
    cfg = ScenarioConfig.preset("urban_macro")
    assert cfg.ru_power_limit_w == pytest.approx(10 ** 1.3)  # 43 dBm: the fronthaul (48.5 dBm) does not bind
    per_prb = 10 ** ((cfg.embb_max_prb_power_dbm - 30) / 10)
    assert per_prb * cfg.num_prbs == pytest.approx(cfg.ru_max_power_w)
    env = gym.make("ORANSlicing-v0", config=cfg, action_mode="full")
    env.reset(seed=0)
    _, _, _, _, info = env.step(env.action_space.sample())
    assert np.isfinite(info["sinr_db"]).any()
    # every PRB rate is W x a CQI efficiency (or the URLLC cap)
    u = env.unwrapped
    m = evaluate_allocation(u.config, u.gains, Allocation.from_owner(info["owner"], info["power_w"], u.config.num_ues), u.offered_load_bps)
    allowed = set(np.round(np.concatenate([[0.0], link.CQI_EFFICIENCY, [2.0]]) * cfg.prb_bandwidth_hz, 3))
    assert set(np.round(m.prb_rate_bps.ravel(), 3)) <= allowed
