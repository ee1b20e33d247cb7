"""ORANSlicing-v0: both checkers, registration, seeding, spaces, masks, rewards, info, errors, render."""

from __future__ import annotations

import json
import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import EnvSpec
from gymnasium.utils.env_checker import check_env

import oran_gym
from oran_gym import ScenarioConfig, evaluate_allocation
from oran_gym.envs.slicing_env import ORANSlicingEnv

PRESETS = ["tiny", "paper", "multi_cell"]
INFO_KEYS = {
    "objective", "reward_terms", "ue_rate_bps", "sinr_db", "ru_power_w", "fronthaul_bps_per_hz", "delay_s",
    "violations", "action_mask", "invalid_action", "tti", "tti_complete",
}


def masked_random_action(env, rng):
    u = env.unwrapped
    if u.action_mode == "prb":
        return int(rng.choice(np.flatnonzero(u.action_masks())))
    return rng.integers(0, u._num_actions, size=u.action_space.shape)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("action_mode", ["prb", "full"])
@pytest.mark.parametrize("obs_mode", ["full", "paper"])
def test_both_checkers_pass_without_warnings(preset, action_mode, obs_mode):
    sb3_check_env = pytest.importorskip("stable_baselines3.common.env_checker").check_env
    env = gym.make("ORANSlicing-v0", config=preset, action_mode=action_mode, obs_mode=obs_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped, warn=True)


def test_render_check_and_frames():
    env = gym.make("ORANSlicing-v0", config="tiny", render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)  # includes the render check of every declared mode
    env.reset(seed=0)
    env.step(1)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3 and frame.shape[0] > 100
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 10  # an actual picture, not a blank canvas
    text = gym.make("ORANSlicing-v0", config="multi_cell", render_mode="ansi", action_mode="full")
    text.reset(seed=1)
    text.step(text.action_space.sample())
    table = text.render()
    assert "RU 2: power" in table and "urllc" in table and table.count("\n") == 18 + 3 + 2


def test_frames_show_the_completed_tti_and_its_kpis(capsys):
    """After the last PRB of a TTI the frame shows that TTI's allocation (not the next TTI's empty grid)."""
    from oran_gym.envs import rendering

    env = gym.make("ORANSlicing-v0", config="tiny", render_mode="ansi")
    u = env.unwrapped
    env.reset(seed=0)
    for _ in range(u.config.prbs_per_tti):
        env.step(1)  # every PRB to UE 0 at the lowest level
    alloc, info, tti, complete = rendering._shown(u)
    assert complete and tti == 0 and (alloc.owner == 0).all() and u.cursor == 0
    assert (u.allocation.owner == -1).all()  # the env itself has moved on to the next TTI
    table = env.render()
    assert "TTI 0 (completed)" in table and "reward" in table
    env.step(1)  # the next TTI's first PRB: the frame follows the TTI being decided again
    assert not rendering._shown(u)[3]
    human = gym.make("ORANSlicing-v0", config="tiny", render_mode="human")
    human.reset(seed=0)  # headless: the KPI table goes to stdout
    assert "ORANSlicing-v0  TTI 0" in capsys.readouterr().out
    assert human.render() is None


def test_registration_forms():
    assert "ORANSlicing-v0" in gym.registry
    e1 = gym.make("ORANSlicing-v0", config="tiny")
    e2 = gym.make("oran_gym:ORANSlicing-v0", config="tiny")
    assert type(e1.unwrapped) is type(e2.unwrapped) is ORANSlicingEnv
    gym.register_envs(oran_gym)
    # every constructor kwarg passes through gym.make, scenario overrides included
    e3 = gym.make("ORANSlicing-v0", config="tiny", action_mode="full", obs_mode="paper", reward_mode="tti",
                  invalid_action="idle", render_mode="ansi", num_prbs=5, ru_max_power_dbm=43.0)
    u = e3.unwrapped
    assert (u.action_mode, u.obs_mode, u.reward_mode, u.invalid_action, u.render_mode) == ("full", "paper", "tti", "idle", "ansi")
    assert u.config.num_prbs == 5 and u.config.ru_max_power_dbm == 43.0 and u.action_space.shape == (5,)


def test_spec_json_round_trip_with_config_object():
    cfg = ScenarioConfig.preset("tiny").replace(power_level_fractions=(0.3, 0.9))
    env = gym.make("ORANSlicing-v0", config=cfg)
    spec = EnvSpec.from_json(env.spec.to_json())
    env2 = gym.make(spec)
    assert env2.unwrapped.config == cfg
    o1, _ = env.reset(seed=3)
    o2, _ = env2.reset(seed=3)
    np.testing.assert_array_equal(o1, o2)
    # a config dict round-trips through JSON too
    assert ScenarioConfig.from_mapping(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_single_mapping_like_rllib_env_config():
    env = ORANSlicingEnv({"preset": "tiny", "action_mode": "full", "num_prbs": 4})
    assert env.action_mode == "full" and env.config.num_prbs == 4 and env.config.num_ues == 4


@pytest.mark.parametrize("action_mode", ["prb", "full"])
def test_same_seed_same_trajectory_different_seed_differs(action_mode):
    def rollout(seed):
        env = gym.make("ORANSlicing-v0", config="multi_cell", action_mode=action_mode, csi_error_db=1.0,
                       ue_speed_mps=3.0, fading_rho=None)
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(123)
        out = [obs]
        for _ in range(60 if action_mode == "prb" else 4):
            obs, r, te, tr, info = env.step(masked_random_action(env, rng))
            out += [obs, np.array([r]), info["ue_rate_bps"], env.unwrapped.gains]
        return out

    a, b, c = rollout(7), rollout(7), rollout(8)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_pickle_round_trip_continues_identically():
    env = gym.make("ORANSlicing-v0", config="tiny")
    env.reset(seed=0)
    env.step(1)
    clone = pickle.loads(pickle.dumps(env))
    for a in (0, 2, 3):
        o1, r1, *_ = env.step(a)
        o2, r2, *_ = clone.step(a)
        np.testing.assert_array_equal(o1, o2)
        assert r1 == r2


@pytest.mark.parametrize("preset", PRESETS)
def test_prb_marginal_rewards_sum_to_the_tti_reward_minus_the_empty_allocations(preset):
    env = gym.make("ORANSlicing-v0", config=preset)
    u = env.unwrapped
    env.reset(seed=1)
    rng = np.random.default_rng(0)
    for _ in range(2):
        gains, load = u.gains, u.offered_load_bps
        total = 0.0
        for _ in range(u.config.prbs_per_tti):
            _, r, _, _, info = env.step(masked_random_action(env, rng))
            total += r
        assert np.all(u.allocation.owner == -1)  # the next TTI has started: empty
        metrics = evaluate_allocation(u.config, gains, u.last_tti_allocation, load)
        empty = evaluate_allocation(u.config, gains, oran_gym.Allocation.empty(u.config), load)
        assert total == pytest.approx(metrics.reward - empty.reward, rel=1e-9, abs=1e-9)
        assert info["objective"] == pytest.approx(metrics.objective, rel=1e-12)
        np.testing.assert_allclose(info["ue_rate_bps"], metrics.ue_rate_bps, rtol=1e-12)


def test_tti_reward_mode_matches_marginal_sum():
    rewards = {}
    for mode in ("marginal", "tti"):
        env = gym.make("ORANSlicing-v0", config="tiny", reward_mode=mode)
        env.reset(seed=4)
        rng = np.random.default_rng(9)
        rs = [env.step(masked_random_action(env, rng))[1] for _ in range(3 * env.unwrapped.config.prbs_per_tti)]
        rewards[mode] = np.array(rs).reshape(3, -1)
    assert np.all(rewards["tti"][:, :-1] == 0.0)
    # tiny: 4 UEs, all with a positive load, so the empty allocation's reward is -5 x (4 + 4)
    np.testing.assert_allclose(rewards["tti"][:, -1], rewards["marginal"].sum(axis=1) - 40.0, rtol=1e-9)
    # an idle step changes nothing
    env = gym.make("ORANSlicing-v0", config="tiny")
    env.reset(seed=0)
    assert env.step(0)[1] == 0.0


def test_full_mode_reward_and_info_match_evaluate_allocation():
    env = gym.make("ORANSlicing-v0", config="multi_cell", action_mode="full")
    u = env.unwrapped
    env.reset(seed=2)
    rng = np.random.default_rng(0)
    for _ in range(3):
        gains, load = u.gains, u.offered_load_bps
        action = rng.integers(0, u._num_actions, size=u.action_space.shape)
        obs, r, term, trunc, info = env.step(action)
        assert set(info) == INFO_KEYS | {"owner", "power_w"}
        alloc = u.allocation
        assert alloc == u.last_tti_allocation
        np.testing.assert_array_equal(alloc.owner, info["owner"])
        # the allocation kept is the projected one: re-evaluating it projects nothing
        assert evaluate_allocation(u.config, gains, alloc, load).violations["power_projection"] == 0
        m = evaluate_allocation(u.config, gains, alloc, load, extra_violations={
            "association": info["violations"]["association"], "power_projection": info["violations"]["power_projection"]})
        assert r == pytest.approx(m.reward, rel=1e-12)
        assert m.violations == info["violations"]
        assert info["violations"]["association"] > 0  # random actions on 3 RUs do conflict
        assert np.all(info["ru_power_w"] <= u.config.ru_power_limit_w * (1 + 1e-9))


def test_info_is_fresh_and_complete_every_step():
    env = gym.make("ORANSlicing-v0", config="tiny")
    _, info0 = env.reset(seed=0)
    assert set(info0) == INFO_KEYS
    _, _, _, _, info1 = env.step(0)
    _, _, _, _, info2 = env.step(0)
    for k in ("ue_rate_bps", "sinr_db", "delay_s", "action_mask"):
        assert not np.shares_memory(info1[k], info2[k])
    assert info1["sinr_db"].shape == (1, 3) and info1["ru_power_w"].shape == (1,)
    assert info1["action_mask"].dtype == np.int8 and info1["action_mask"][0] == 1


def test_masks_block_power_overrun_and_second_ru():
    # sigma_q^2 = 1e-13 W: the fronthaul limit (15) binds at 7.04 W, below eq. (11)'s 10 W
    env = gym.make("ORANSlicing-v0", config="paper", invalid_action="raise", fronthaul_quant_noise_w=1e-13)
    u = env.unwrapped
    env.reset(seed=0)
    L = u.config.num_power_levels
    top = lambda ue: 1 + ue * L + (L - 1)  # noqa: E731  1 W
    for prb in range(7):  # 7 W of the 7.04 W limit
        env.step(top(prb))
    mask = u.action_masks()
    # 0.04 W of headroom left: every level (>= 0.25 W) of every UE is masked, idle is not
    assert mask.tolist() == [True] + [False] * (len(mask) - 1)
    with pytest.raises(ValueError, match=r"action \d+ \(UE 10, level 2\) is masked for PRB 7 of RU 0: power level 2"):
        env.step(top(10))
    # multi-cell: a UE served by RU 0 cannot get a PRB of RU 1
    env = gym.make("ORANSlicing-v0", config="multi_cell", invalid_action="raise")
    u = env.unwrapped
    env.reset(seed=0)
    env.step(1)  # UE 0 on RU 0
    for _ in range(u.config.num_prbs - 1):
        env.step(0)
    assert u.cursor == u.config.num_prbs  # now on RU 1
    assert not u.action_masks()[1:1 + L].any()
    with pytest.raises(ValueError, match="UE 0 is associated with RU 0"):
        env.step(1)


def test_power_mask_is_exact_at_the_limit():
    cfg = ScenarioConfig.preset("paper")
    env = gym.make("ORANSlicing-v0", config=cfg)
    u = env.unwrapped
    env.reset(seed=0)
    L = cfg.num_power_levels
    for prb in range(7):
        env.step(1 + prb * L + (L - 1))
    headroom = cfg.ru_power_limit_w - 7.0
    mask = u.action_masks()
    for lvl, frac in enumerate(cfg.power_level_fractions):
        assert mask[1 + 10 * L + lvl] == (frac * 1.0 <= headroom)


def test_invalid_action_idle_turns_masked_into_idle():
    env = gym.make("ORANSlicing-v0", config="multi_cell", invalid_action="idle")
    u = env.unwrapped
    env.reset(seed=0)
    env.step(1)
    for _ in range(u.config.num_prbs - 1):
        env.step(0)
    env.step(1)  # masked: UE 0 is on RU 0
    assert u.allocation.owner[1, 0] == -1


@pytest.mark.parametrize(
    "action, match",
    [
        (999, r"action 999 is out of range for Discrete\(9\): allowed 0..8"),
        (-1, r"out of range"),
        (1.5, r"action must be an integer in \[0, 9\)"),
        ("3", r"action must be an integer"),
        (np.array([1, 2]), r"action must be an integer"),
        (True, r"action must be an integer"),
    ],
)
def test_bad_prb_actions_raise_clear_errors(action, match):
    env = gym.make("ORANSlicing-v0", config="tiny")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        env.step(action)


def test_prb_action_accepts_numpy_forms():
    env = gym.make("ORANSlicing-v0", config="tiny")
    env.reset(seed=0)
    env.step(np.int64(1))
    env.step(np.array(2))
    env.step(np.array([3]))
    assert env.unwrapped.last_tti_allocation.owner.tolist() == [[0, 0, 1]]


@pytest.mark.parametrize(
    "action, match",
    [
        (np.zeros(4, dtype=int), r"shape \(3,\)"),
        (np.array([0, 9, 0]), r"action\[1\] = 9 is out of range"),
        (np.array([0.0, 1.0, 2.0]), r"integer array"),
        (3, r"integer array of shape \(3,\)"),
        ([1, [2], 3], r"action must be an integer array of shape \(3,\) for MultiDiscrete\(\[9 9 9\]\), got a ragged list \[1, \[2\], 3\]"),
        ([True, False, True], r"integer array of shape \(3,\) .* dtype bool"),
        ({"a": 1}, r"integer array of shape \(3,\) .*got dict"),
    ],
)
def test_bad_full_actions_raise_clear_errors(action, match):
    env = gym.make("ORANSlicing-v0", config="tiny", action_mode="full")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        env.step(action)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"action_mode": "joint"}, r"action_mode must be one of \['prb', 'full'\], got 'joint'"),
        ({"obs_mode": "dict"}, r"obs_mode must be one of"),
        ({"reward_mode": "sum"}, r"reward_mode must be one of"),
        ({"invalid_action": "clip"}, r"invalid_action must be one of"),
        ({"render_mode": "rgb"}, r"render_mode must be None or one of"),
        ({"config": "papr"}, r"unknown scenario preset 'papr'.*did you mean 'paper'"),
        ({"num_prb": 5}, r"unknown ScenarioConfig field\(s\): 'num_prb' \(did you mean 'num_prbs'\?\)"),
        ({"num_prbs": 0}, r"ScenarioConfig.num_prbs must be an integer in \[1, 1000\] .*got 0"),
        ({"config": 5}, r"config must be a ScenarioConfig"),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ORANSlicingEnv(**kwargs)


def test_reset_options_and_state_before_reset():
    env = ORANSlicingEnv(config="tiny")
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)
    with pytest.raises(gym.error.ResetNeeded):
        _ = env.gains
    with pytest.raises(ValueError, match=r"takes no keys.*\['trace'\]"):
        env.reset(options={"trace": 1})
    env.reset(options={})


def test_public_state_shapes_and_copies():
    env = gym.make("ORANSlicing-v0", config="multi_cell")
    u = env.unwrapped
    env.reset(seed=0)
    B, U, M = 3, 18, 25
    assert u.gains.shape == (B, U, M) and u.offered_load_bps.shape == (U,) and u.ue_slice.shape == (U,)
    assert u.ue_slice.tolist() == [0] * 9 + [1] * 9
    g = u.gains
    g[:] = 0
    assert u.gains.max() > 0  # a copy, not the env's state
    a = u.allocation
    assert a.owner.shape == (B, M) and a.assoc.shape == (U,) and a.power_w.shape == (B, M)


def test_episode_truncates_after_configured_ttis():
    for mode, steps in (("prb", 3 * 3), ("full", 3)):
        env = gym.make("ORANSlicing-v0", config="tiny", action_mode=mode, episode_length_tti=3)
        env.reset(seed=0)
        flags = [env.step(env.action_space.sample() if mode == "full" else 0)[3] for _ in range(steps)]
        assert flags == [False] * (steps - 1) + [True]


def test_traffic_statistics():
    """URLLC CBR is exactly 256 kbit/s; eMBB Poisson load averages 1 Mbit/s over many TTIs."""
    env = gym.make("ORANSlicing-v0", config="paper", action_mode="full", episode_length_tti=10_000)
    u = env.unwrapped
    env.reset(seed=0)
    loads = []
    zero = np.zeros(env.action_space.shape, dtype=np.int64)
    for _ in range(400):
        loads.append(u.offered_load_bps)
        env.step(zero)
    loads = np.array(loads)
    assert np.all(loads[:, 10:] == 256e3)
    mean = loads[:, :10].mean()
    assert 0.9e6 < mean < 1.1e6
    assert loads[:, :10].std() > 0.1e6  # it fluctuates


def test_jakes_correlation_and_path_loss():
    from oran_gym.sim import channel

    assert channel.jakes_rho(0.0, 2e9, 1e-3) == 1.0
    assert 0.9 < channel.jakes_rho(3.0, 2e9, 1e-3) < 1.0
    # path loss at 100 m, 2 GHz: 13.54 + 78.16 + 6.02
    assert channel.pathloss_db(np.array([100.0]), 2e9)[0] == pytest.approx(97.72, abs=0.01)


def test_ue_drops_stay_in_annulus_and_move():
    env = gym.make("ORANSlicing-v0", config="multi_cell", ue_speed_mps=30.0, action_mode="full", episode_length_tti=500)
    u = env.unwrapped
    env.reset(seed=0)
    home = u._net.ru_pos_m[u._net.home_ru]
    start = u.ue_positions_m
    for _ in range(200):
        env.step(np.zeros(env.action_space.shape, dtype=np.int64))
        r = np.linalg.norm(u.ue_positions_m - home, axis=1)
        assert np.all((r >= 10.0 - 1e-9) & (r <= 500.0 + 1e-9))
    moved = np.linalg.norm(u.ue_positions_m - start, axis=1)
    assert np.all(moved > 0)


def test_observation_bounds_hold_under_extreme_channels():
    env = gym.make("ORANSlicing-v0", config="paper", csi_error_db=30.0, shadowing_std_db=30.0, cell_min_radius_m=1.0)
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(100):
        assert env.observation_space.contains(obs)
        obs, *_ = env.step(masked_random_action(env, rng))


@pytest.mark.parametrize("action_mode", ["prb", "full"])
@pytest.mark.parametrize("obs_mode", ["full", "paper"])
@pytest.mark.parametrize("preset", ["tiny", "multi_cell"])
def test_observation_layout_names_what_the_observation_holds(preset, action_mode, obs_mode):
    """The one layout definition (oran_gym.sim.obs_layout) matches the observations the kernels build."""
    env = gym.make("ORANSlicing-v0", config=preset, action_mode=action_mode, obs_mode=obs_mode, invalid_action="idle")
    u = env.unwrapped
    layout = u.observation_layout
    obs, info = env.reset(seed=1)
    assert layout["size"] == env.observation_space.shape[0] == obs.shape[0]
    cfg = u.config
    if obs_mode == "paper":
        assert obs[layout["progress"]] == 0.0 and obs[layout["qos_satisfied"]].shape == (cfg.num_ues,)
        return
    np.testing.assert_array_equal(obs[layout["slice"]], u.ue_slice)
    assert (obs[layout["association"]] == 0.0).all()  # nobody associated yet
    if action_mode == "prb":
        assert obs[layout["prb_index"]] == 0.0 and obs[layout["prb_ru"]] == 0.0
        obs, *_ = env.step(1)  # PRB 0 of RU 0 to UE 0 at the lowest level
        assert obs[layout["prb_index"]] == pytest.approx(1 / cfg.num_prbs) or cfg.num_prbs == 1
        assert obs[layout["association"]][0] == pytest.approx(1 / cfg.num_rus)
        assert obs[layout["rate"]][0] > 0.0
        assert obs[layout["prb_gains"]].shape == (cfg.num_ues,)
    else:
        assert obs[layout["gains"]].shape == (cfg.num_rus * cfg.num_ues * cfg.num_prbs,)



def test_default_accepts_every_action_and_reports_masked_ones():
    """invalid_action="idle" is the default: a masked action leaves the PRB idle and says so."""
    env = gym.make("ORANSlicing-v0", config="paper", fronthaul_quant_noise_w=1e-13)
    assert env.unwrapped.invalid_action == "idle"
    obs, info = env.reset(seed=0)
    assert info["invalid_action"] is False and info["action_mask"].dtype == np.int8
    L = env.unwrapped.config.num_power_levels
    for prb in range(7):  # 7 W of the 7.04 W limit (sigma_q^2 = 1e-13 W): every level is masked afterwards
        _, _, _, _, info = env.step(1 + prb * L + (L - 1))
        assert info["invalid_action"] is False
    twin = gym.make("ORANSlicing-v0", config="paper", fronthaul_quant_noise_w=1e-13)
    twin.reset(seed=0)
    for prb in range(7):
        twin.step(1 + prb * L + (L - 1))
    obs_a, r_a, *_, info_a = env.step(1 + 10 * L + (L - 1))  # masked: becomes idle
    obs_b, r_b, *_, info_b = twin.step(0)
    assert info_a["invalid_action"] is True and info_b["invalid_action"] is False
    np.testing.assert_array_equal(obs_a, obs_b)
    assert r_a == r_b and env.unwrapped.allocation.owner[0, 7] == -1


@pytest.mark.parametrize("preset", ["paper", "multi_cell"])
def test_action_space_sample_takes_the_info_mask(preset):
    env = gym.make("ORANSlicing-v0", config=preset)
    _, info = env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(2 * env.unwrapped.config.num_prbs * env.unwrapped.config.num_rus):
        a = env.action_space.sample(mask=info["action_mask"])
        _, _, _, _, info = env.step(a)
        assert info["invalid_action"] is False  # a sampled masked action never happens


def test_random_actions_run_on_the_paper_preset_vector_env():
    """gym.make_vec with random actions used to stop after about 7 steps under the old default."""
    envs = gym.make_vec("ORANSlicing-v0", num_envs=64, config="paper")
    envs.reset(seed=0)
    envs.action_space.seed(0)
    seen = 0
    for _ in range(60):
        *_, info = envs.step(envs.action_space.sample())
        seen += int(info["invalid_action"].sum())
    assert seen > 0 and info["action_mask"].dtype == np.int8


def test_seeds_of_any_integer_type_and_a_warning_after_truncation():
    env = gym.make("ORANSlicing-v0", config="tiny", action_mode="full", episode_length_tti=1)
    o1, _ = env.reset(seed=np.int64(5))
    o2, _ = env.reset(seed=5)
    np.testing.assert_array_equal(o1, o2)
    for bad in (True, 1.5, "5"):
        with pytest.raises(ValueError, match="seed must be None or a non-negative integer"):
            env.reset(seed=bad)
    env.reset(seed=0)
    *_, truncated, _ = env.step(env.action_space.sample())
    assert truncated
    with pytest.warns(UserWarning, match="after the episode ended"):
        env.step(env.action_space.sample())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per episode, and none after a reset
        env.step(env.action_space.sample())
        env.reset(seed=1)
