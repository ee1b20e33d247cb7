"""Every numba kernel against its NumPy twin, hand-computed values, and allocation invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import random_instance

from oran_gym import Allocation, ScenarioConfig, evaluate_allocation
from oran_gym.allocation import scenario_arrays
from oran_gym.sim import kernels, reference
from oran_gym.sim.obs_layout import observation_size
from oran_gym.sim.params import unpack_params

SEEDS = range(40)
RTOL = 1e-12


def assert_same(a, b, name=""):
    """Equal arrays (or scalars): exact for ints/bools, rtol 1e-12 for floats, inf where inf."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (name, a.shape, b.shape)
    if a.dtype.kind in "biu" and b.dtype.kind in "biu":
        np.testing.assert_array_equal(a, b, err_msg=name)
    else:
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=0, err_msg=name)


def test_all_kernels_have_a_twin():
    names = [n for n, f in vars(kernels).items() if hasattr(f, "py_func") and f.py_func.__module__ == kernels.__name__]
    assert len(names) >= 30
    for n in names:
        assert callable(getattr(reference, n, None)), f"kernels.{n} has no NumPy twin"


@pytest.mark.parametrize("seed", range(5))
def test_equation_helpers_match_their_twins(seed):
    """Each equation's one numba home (eqs. 4, 5-6, 9, 10, 14, 16, 22) against its NumPy twin on random inputs."""
    rng = np.random.default_rng(seed)
    cfg, net, alloc, _ = random_instance(seed, int(rng.integers(1, 4)))
    params = scenario_arrays(cfg)[0]
    owner, power = alloc.owner, alloc.power_w
    for b, m in zip(*np.nonzero(owner >= 0), strict=True):
        got = kernels.prb_sinr_lin(net.gain_lin, owner, power, b, m, 1e-13)
        assert got == pytest.approx(reference.prb_sinr_lin(net.gain_lin, owner, power, b, m, 1e-13), rel=RTOL, abs=0)
    for _ in range(50):
        s_lin, s = float(rng.choice([0.0, rng.exponential(1e3)])), int(rng.integers(0, 2))
        r, load, n = float(rng.choice([0.0, rng.exponential(1e6)])), float(rng.exponential(1e6)), int(rng.integers(0, 40))
        obj = float(rng.exponential(1e8))
        pairs = [
            ("sinr_db_of", (s_lin,)), ("capped_rate_bps", (s_lin, s, params)), ("fronthaul_load", (s_lin, params)),
            ("ue_delay_s", (r, s, params)), ("rate_violated", (r, load)), ("delay_violated", (r * 1e-9, s, params)),
            ("weighted_rate_bps", (r, s, params)), ("reward_rate_term", (obj, params)),
            ("reward_violation_term", (n, params)), ("tti_reward", (obj, n, params)), ("reward_rate_per_bps", (params,)),
        ]
        for name, args in pairs:
            assert_same(getattr(kernels, name)(*args), getattr(reference, name)(*args), name)


def test_scalar_scalings_and_gain_fill_match_their_twins():
    rng = np.random.default_rng(4)
    cfg, net, _, _ = random_instance(4, 2)
    params = scenario_arrays(cfg)[0]
    for x in rng.uniform(-250.0, 10.0, size=50):
        assert kernels.unit_gain_db(x) == pytest.approx(float(reference.unit_gain_db(x)), abs=1e-15)
    for r in np.r_[0.0, rng.uniform(0.0, 1e9, size=50)]:
        assert kernels.unit_rate_bps(r, params) == pytest.approx(float(reference.unit_rate_bps(r, params)), rel=1e-12)
    shape = net.fading_power.shape
    out = [np.empty(shape) for _ in range(4)]
    kernels.fill_channel_gain(net.large_scale_db, net.fading_power, out[0], out[1])
    reference.fill_channel_gain(net.large_scale_db, net.fading_power, out[2], out[3])
    np.testing.assert_allclose(out[0], out[2], rtol=1e-12)
    np.testing.assert_allclose(out[1], out[3], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("num_rus", [1, 2, 3])
@pytest.mark.parametrize("seed", SEEDS)
def test_kernels_match_reference(seed, num_rus):
    cfg, net, alloc, rng = random_instance(seed, num_rus)
    params, ue_slice, levels = scenario_arrays(cfg)
    gains, load = net.gain_lin, net.offered_load_bps
    if seed % 4 == 0:  # infeasible QoS: loads far above any rate
        load = load * 1e4
    p_nb, n_nb = kernels.project_power(alloc.owner, alloc.power_w, ue_slice, params)
    p_np, n_np = reference.project_power(alloc.owner, alloc.power_w, ue_slice, params)
    assert_same(p_nb, p_np, "project_power")
    assert n_nb == n_np
    ev_nb = kernels.evaluate_kernel(gains, alloc.owner, p_nb, ue_slice, load, params)
    ev_np = reference.evaluate_kernel(gains, alloc.owner, p_np, ue_slice, load, params)
    for name, x, y in zip(
        ["sinr", "prb_rate", "ue_rate", "ru_power", "fronthaul", "delay", "rate_v", "delay_v", "objective"], ev_nb, ev_np
    ):
        assert_same(x, y, name)
    assert_same(kernels.compute_sinr_db(ev_nb[0], alloc.owner), reference.compute_sinr_db(ev_np[0], alloc.owner), "sinr_db")
    buf_nb = kernels.evaluate_packed(gains, alloc.owner, alloc.power_w, ue_slice, load, params)
    buf_np = reference.evaluate_packed(gains, alloc.owner, alloc.power_w, ue_slice, load, params)
    for x, y in zip(buf_nb, buf_np):
        assert_same(x, y, "evaluate_packed")
    nviol = int(rng.integers(0, 10))
    assert kernels.compute_reward(ev_nb[8], nviol, params) == pytest.approx(reference.compute_reward(ev_np[8], nviol, params), rel=RTOL)
    # full-action decoding, with association conflicts when B > 1
    action = rng.integers(0, cfg.num_ues * cfg.num_power_levels + 1, size=cfg.num_rus * cfg.num_prbs)
    for x, y in zip(
        kernels.decode_full_action(action, ue_slice, levels, cfg.num_rus, cfg.num_prbs),
        reference.decode_full_action(action, ue_slice, levels, cfg.num_rus, cfg.num_prbs),
    ):
        assert_same(x, y, "decode_full_action")
    # masks at every cursor on the projected allocation's RU powers
    derived_assoc = Allocation.from_owner(alloc.owner, p_nb, cfg.num_ues).assoc
    for cursor in range(cfg.num_rus * cfg.num_prbs):
        mask = np.zeros(cfg.num_ues * cfg.num_power_levels + 1, dtype=bool)
        kernels.fill_prb_action_mask(mask, cursor, derived_assoc, ev_nb[3], ue_slice, levels, params, cfg.num_prbs)
        assert_same(
            mask,
            reference.compute_prb_action_mask(cursor, derived_assoc, ev_nb[3], ue_slice, levels, params, cfg.num_prbs),
            "mask",
        )


@pytest.mark.parametrize("num_rus", [1, 3])
@pytest.mark.parametrize("seed", range(15))
def test_observation_and_step_kernels_match_reference(seed, num_rus):
    cfg, net, alloc, rng = random_instance(seed, num_rus, csi_error_db=2.0)
    params, ue_slice, levels = scenario_arrays(cfg)
    feats_nb = kernels.tti_observation_features(net.observed_gain_db, net.offered_load_bps, params)
    feats_np = reference.tti_observation_features(net.observed_gain_db, net.offered_load_bps, params)
    for x, y in zip(feats_nb, feats_np):
        assert_same(x, y, "features")
    gain_norm, wide_norm, off_norm = feats_nb
    gl_nb = kernels.channel_gain_lin(net.large_scale_db, net.fading_power)
    gl_np = reference.channel_gain_lin(net.large_scale_db, net.fading_power)
    for x, y in zip(gl_nb, gl_np):
        assert_same(x, y, "channel_gain_lin")
    rate = rng.uniform(0, 5e6, size=cfg.num_ues)
    qos = rng.random(cfg.num_ues) < 0.5
    assoc = rng.integers(-1, cfg.num_rus, size=cfg.num_ues)
    assert_same(
        kernels.build_full_observation(gain_norm, wide_norm, ue_slice, off_norm, rate, qos, assoc, params),
        reference.build_full_observation(gain_norm, wide_norm, ue_slice, off_norm, rate, qos, assoc, params),
        "full obs",
    )


@pytest.mark.parametrize("obs_mode", ["full", "paper"])
@pytest.mark.parametrize("seed", range(8))
def test_prb_mode_env_steps_match_the_reference_transition(seed, obs_mode):
    """The env's prb mode (the batched kernels on a batch of one) against `reference.prb_transition`,
    a NumPy twin that re-evaluates the whole allocation each step, over two TTIs of masked random actions."""
    from oran_gym.envs.slicing_env import ORANSlicingEnv

    rng = np.random.default_rng(seed)
    cfg, _, _, _ = random_instance(seed, int(rng.integers(1, 4)), csi_error_db=float(rng.choice([0.0, 2.0])))
    env = ORANSlicingEnv(cfg, obs_mode=obs_mode, reward_mode="marginal", invalid_action="raise")
    obs, info = env.reset(seed=seed)
    params, ue_slice, levels = scenario_arrays(cfg)
    per_tti = cfg.num_rus * cfg.num_prbs
    for _ in range(2):
        gains, load = env.gains, env.offered_load_bps
        features = reference.tti_observation_features(env.observed_gains_db, load, params)
        alloc = (np.full((cfg.num_rus, cfg.num_prbs), -1), np.zeros((cfg.num_rus, cfg.num_prbs)), np.full(cfg.num_ues, -1))
        previous = reference.tti_reward(0.0, cfg.num_ues + int(np.count_nonzero(load > 0)), params)
        for cursor in range(per_tti):
            action = int(rng.choice(np.flatnonzero(env.action_masks())))
            obs, reward, _, _, info = env.step(action)
            out, mask, objective, n_rate, n_delay, rate_term, viol_term, tti_reward = reference.prb_transition(
                action, cursor, gains, features, alloc, ue_slice, load, levels, params)
            n_obs = observation_size("full", "prb", cfg.num_rus, cfg.num_ues, cfg.num_prbs)
            ue_rate = out[n_obs:n_obs + cfg.num_ues]
            assert_same(info["ue_rate_bps"], ue_rate, "ue rate")
            assert_same(info["ru_power_w"], alloc[1].sum(axis=1), "RU power")
            assert info["objective"] == pytest.approx(objective, rel=RTOL)
            assert (info["violations"]["rate"], info["violations"]["delay"]) == (n_rate, n_delay)
            assert reward == pytest.approx(tti_reward - previous, rel=1e-9, abs=1e-9)
            previous = tti_reward
            if cursor + 1 < per_tti:
                assert_same(info["action_mask"].astype(bool), mask, "mask")
                if obs_mode == "full":
                    np.testing.assert_allclose(obs, out[:n_obs].astype(np.float32), rtol=0, atol=1e-7)
                else:
                    qos = out[-cfg.num_ues:]
                    assert_same(obs, np.r_[qos, (cursor + 1) / per_tti].astype(np.float32), "paper obs")


def test_hand_computed_single_ru_two_ues():
    """1 RU, UE 0 eMBB and UE 1 URLLC, 2 PRBs, gains chosen so every number is easy by hand."""
    cfg = ScenarioConfig(num_embb_ues=1, num_urllc_ues=1, num_prbs=2, noise_psd_dbm_per_hz=-174.0)
    noise = cfg.noise_power_w  # 10^(-17.4) * 180e3 W
    assert noise == pytest.approx(10 ** (-17.4) * 1e-3 * 180e3, rel=1e-12)
    gains = np.zeros((1, 2, 2))
    gains[0, 0, 0] = 3.0 * noise  # UE 0 on PRB 0 at 1 W: SINR 3 -> 2 bit/s/Hz
    gains[0, 1, 1] = 15.0 * noise / 0.5  # UE 1 on PRB 1 at 0.5 W: SINR 15 -> 4, capped at 2 (URLLC)
    alloc = Allocation(assoc=np.array([0, 0]), owner=np.array([[0, 1]]), power_w=np.array([[1.0, 0.5]]))
    load = np.array([300e3, 256e3])
    m = evaluate_allocation(cfg, gains, alloc, load)
    np.testing.assert_allclose(m.sinr_db, [[10 * math.log10(3.0), 10 * math.log10(15.0)]], rtol=1e-12)
    np.testing.assert_allclose(m.ue_rate_bps, [360e3, 360e3], rtol=1e-12)
    assert m.objective == pytest.approx(1.0 * 360e3 + 2.0 * 360e3, rel=1e-12)
    fibre = 26e3 / 2e8
    np.testing.assert_allclose(m.delay_s, [fibre + 8000 / 360e3, fibre + 256 / 360e3], rtol=1e-12)
    # eMBB delay 22.35 ms > 10 ms budget: one violation; rates meet the loads
    assert m.violations == {"rate": 0, "delay": 1, "power_projection": 0, "association": 0}
    assert m.reward == pytest.approx(1.08 - 5.0, rel=1e-12)
    np.testing.assert_allclose(m.ru_power_w, [1.5])
    assert m.fronthaul_bps_per_hz[0] == pytest.approx(math.log2(1 + 1.5 / cfg.fronthaul_quant_noise_w), rel=1e-12)
    # idle UE 0: rate 0, infinite delay, both constraints violated
    idle = Allocation(assoc=np.array([-1, 0]), owner=np.array([[-1, 1]]), power_w=np.array([[0.0, 0.5]]))
    m2 = evaluate_allocation(cfg, gains, idle, load)
    assert m2.ue_rate_bps[0] == 0.0 and math.isinf(m2.delay_s[0]) and m2.sinr_db[0, 0] == -np.inf
    assert m2.violations["rate"] == 1 and m2.violations["delay"] == 1


def test_interference_hand_computed():
    """2 RUs on the same PRB: SINR = h_own p_own / (h_cross p_cross + noise)."""
    cfg = ScenarioConfig(num_rus=2, num_embb_ues=2, num_urllc_ues=0, num_prbs=1)
    n = cfg.noise_power_w
    gains = np.zeros((2, 2, 1))
    gains[0, 0, 0], gains[1, 0, 0] = 10 * n, 4 * n  # UE 0 served by RU 0, hears RU 1
    gains[1, 1, 0], gains[0, 1, 0] = 20 * n, 1 * n  # UE 1 served by RU 1, hears RU 0
    alloc = Allocation(np.array([0, 1]), np.array([[0], [1]]), np.array([[1.0], [0.5]]))
    m = evaluate_allocation(cfg, gains, alloc, np.zeros(2))
    eta0 = 10 * 1.0 / (4 * 0.5 + 1)
    eta1 = 20 * 0.5 / (1 * 1.0 + 1)
    np.testing.assert_allclose(m.sinr_db[:, 0], 10 * np.log10([eta0, eta1]), rtol=1e-12)


def test_rate_cap_binds():
    cfg = ScenarioConfig(num_embb_ues=1, num_urllc_ues=0, num_prbs=1, embb_max_se_bps_per_hz=3.0)
    gains = np.full((1, 1, 1), 1e6 * cfg.noise_power_w)
    m = evaluate_allocation(cfg, gains, Allocation(np.array([0]), np.array([[0]]), np.array([[1.0]])), np.zeros(1))
    assert m.ue_rate_bps[0] == pytest.approx(3.0 * 180e3, rel=1e-12)


@pytest.mark.parametrize("seed", range(60))
def test_allocation_invariants(seed):
    cfg, net, alloc, _ = random_instance(seed, 1 + seed % 3)
    m = evaluate_allocation(cfg, net.gain_lin, alloc, net.offered_load_bps)
    limit = cfg.ru_power_limit_w
    # projection: hard limits hold afterwards
    assert np.all(m.power_w.sum(axis=1) <= limit * (1 + 1e-9))
    assert np.all(m.fronthaul_bps_per_hz <= cfg.fronthaul_capacity_bps_per_hz + 1e-9)
    _, ue_slice, levels = scenario_arrays(cfg)
    caps = levels[:, -1]
    served = alloc.owner >= 0
    assert np.all(m.power_w[served] <= caps[ue_slice[alloc.owner[served]]] * (1 + 1e-9))
    assert np.all(m.power_w[~served] == 0)
    # one owner per PRB by construction; every owner associated with that PRB's RU
    rus = np.nonzero(served)[0]
    assert np.all(alloc.assoc[alloc.owner[served]] == rus)
    assert np.all(m.ue_rate_bps >= 0)
    assert np.all(np.isfinite(m.delay_s[m.ue_rate_bps > 0]))
    assert np.all(np.isinf(m.delay_s[m.ue_rate_bps == 0]))
    # a projection happened exactly when the raw powers broke a limit
    raw = np.where(served, alloc.power_w, 0.0)
    broke = (raw.sum(axis=1) > limit * (1 + 1e-9)) | np.any(served & (alloc.power_w > caps[ue_slice[np.maximum(alloc.owner, 0)]] * (1 + 1e-9)), axis=1) | np.any(~served & (alloc.power_w != 0), axis=1)
    assert m.violations["power_projection"] == int(broke.sum())
    assert m.num_violations == m.violations["rate"] + m.violations["delay"] + m.violations["power_projection"]
    assert m.reward == pytest.approx(m.objective / cfg.rate_scale_bps - 5.0 * m.num_violations, rel=1e-12, abs=1e-12)


def test_numba_disabled_matches(tmp_path):
    """The kernels' Python bodies (NUMBA_DISABLE_JIT=1) give the same numbers: run in a subprocess."""
    import subprocess
    import sys

    code = (
        "import numpy as np, sys; sys.path.insert(0, 'tests');"
        "from conftest import random_instance;"
        "from oran_gym import evaluate_allocation;"
        "cfg, net, alloc, _ = random_instance(3, 2);"
        "m = evaluate_allocation(cfg, net.gain_lin, alloc, net.offered_load_bps);"
        "print(repr(m.objective), repr(m.reward))"
    )
    env = {**__import__("os").environ, "NUMBA_DISABLE_JIT": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout.split()
    cfg, net, alloc, _ = random_instance(3, 2)
    m = evaluate_allocation(cfg, net.gain_lin, alloc, net.offered_load_bps)
    assert float(out[0]) == pytest.approx(m.objective, rel=1e-12)
    assert float(out[1]) == pytest.approx(m.reward, rel=1e-12)


def test_evaluate_allocation_validates():
    cfg = ScenarioConfig.preset("tiny")
    gains = np.ones((1, 4, 3)) * 1e-10
    ok = Allocation.from_owner(np.array([[0, 1, -1]]), np.array([[0.5, 0.5, 0.0]]), 4)
    load = np.zeros(4)
    with pytest.raises(ValueError, match=r"gains must have shape \(1, 4, 3\)"):
        evaluate_allocation(cfg, np.ones((1, 4, 2)), ok, load)
    with pytest.raises(ValueError, match=r"gains\[0, 0, 0\] = nan"):
        g = gains.copy()
        g[0, 0, 0] = np.nan
        evaluate_allocation(cfg, g, ok, load)
    with pytest.raises(ValueError, match=r"offered_load_bps\[2\] = -1.0"):
        evaluate_allocation(cfg, gains, ok, np.array([0, 0, -1.0, 0]))
    with pytest.raises(ValueError, match=r"allocation.owner\[0, 2\] = 7 is not a UE index; allowed -1..3"):
        evaluate_allocation(cfg, gains, Allocation(ok.assoc, np.array([[0, 1, 7]]), ok.power_w), load)
    with pytest.raises(ValueError, match=r"allocation.power_w\[0, 1\] = -0.5"):
        evaluate_allocation(cfg, gains, Allocation(ok.assoc, ok.owner, np.array([[0.5, -0.5, 0.0]])), load)
    with pytest.raises(ValueError, match=r"assoc\[1\] = -1: a UE can only own PRBs of the RU"):
        evaluate_allocation(cfg, gains, Allocation(np.array([0, -1, -1, -1]), ok.owner, ok.power_w), load)
    with pytest.raises(TypeError, match="allocation.owner must hold integers"):
        evaluate_allocation(cfg, gains, Allocation(ok.assoc, ok.owner.astype(float), ok.power_w), load)
    with pytest.raises(ValueError, match="backend"):
        evaluate_allocation(cfg, gains, ok, load, backend="jax")


def test_power_limit_is_min_of_ru_and_fronthaul():
    cfg = ScenarioConfig.preset("paper")
    params, _, _ = scenario_arrays(cfg)
    assert cfg.fronthaul_power_limit_w == pytest.approx(1e-12 * (2**46 - 1))
    assert unpack_params(params).ru_power_limit_w == pytest.approx(10.0)  # eq. (11) binds: 40 dBm
    assert 10 * math.log10(cfg.fronthaul_power_limit_w * 1e3) == pytest.approx(48.47, abs=0.01)
    old = cfg.replace(fronthaul_quant_noise_w=1e-13)  # before issue 16: the fronthaul bound at 38.5 dBm
    assert unpack_params(scenario_arrays(old)[0]).ru_power_limit_w == pytest.approx(1e-13 * (2**46 - 1))
