"""action_mode="slice": slice PRB shares and power budgets per RU, filled by the in-env MAC scheduler."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from oran_gym.baselines.slice_policies import (
    DemandProportionalSlicePolicy,
    EqualSplitSlicePolicy,
    OracleQuotaSlicePolicy,
)

import oran_gym  # noqa: F401
from oran_gym import ScenarioConfig
from oran_gym.envs.slice_control import MAC_SCHEDULERS, ORANSliceControlEnv
from oran_gym.envs.slicing_env import ORANSlicingEnv


def make(preset="multi_cell", **kwargs):
    return gym.make("ORANSlicing-v0", config=preset, action_mode="slice", **kwargs)


@pytest.mark.parametrize("preset", ["paper", "multi_cell", "paper_queue", "urban_macro"])
@pytest.mark.parametrize("discrete_levels", [None, 4])
def test_both_checkers_pass_without_warnings(preset, discrete_levels):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = make(preset, discrete_levels=discrete_levels, control_period_tti=2)
        check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped)


def assert_slice_allocation(env, info):
    """Every allocation the MAC scheduler makes keeps the quotas, the slices and the power limit."""
    u = env.unwrapped
    cfg = u.config
    alloc = u.last_tti_allocation
    ue_slice = np.repeat([0, 1], [cfg.num_embb_ues, cfg.num_urllc_ues])
    prbs, prb_power = info["slice_prbs"], info["slice_prb_power_w"]
    for b in range(cfg.num_rus):
        start = 0
        for s in range(2):
            block = slice(start, start + prbs[b, s])
            start += prbs[b, s]
            owners = alloc.owner[b, block]
            served = owners >= 0
            assert np.all(ue_slice[owners[served]] == s)
            assert np.all(alloc.power_w[b, block][served] == prb_power[b, s])
        assert np.all(alloc.owner[b, start:] == -1)  # outside the quotas: idle
        assert alloc.power_w[b].sum() <= cfg.ru_power_limit_w * (1 + 1e-9)
    assert info["violations"]["power_projection"] == 0 and info["violations"]["association"] == 0


@pytest.mark.parametrize("scheduler", MAC_SCHEDULERS)
def test_random_actions_give_valid_slice_allocations_on_every_scheduler(scheduler):
    env = make("multi_cell", mac_scheduler=scheduler)
    env.reset(seed=3)
    env.action_space.seed(3)
    served_ues = set()
    for _ in range(10):
        _, reward, _, truncated, info = env.step(env.action_space.sample())
        assert np.isfinite(reward)
        assert_slice_allocation(env, info)
        served_ues |= set(env.unwrapped.last_tti_allocation.owner[env.unwrapped.last_tti_allocation.owner >= 0].tolist())
        if truncated:
            break
    assert len(served_ues) > 3


def test_shares_map_to_prbs_and_power_levels_and_oversubscription_is_scaled():
    env = make("paper")
    u = env.unwrapped
    env.reset(seed=0)
    M, limit = u.config.num_prbs, u.config.ru_power_limit_w
    levels = u.env._levels_w
    # 40 % of 25 PRBs = 10 for eMBB, 20 % = 5 for URLLC; power 30 % and 15 % of 10 W
    _, _, _, _, info = env.step(u.action_from_shares(np.array([[0.4, 0.2]]), np.array([[0.3, 0.15]])))
    assert info["slice_prbs"].tolist() == [[10, 5]]
    for s, budget in ((0, 0.3 * limit), (1, 0.15 * limit)):  # highest level within budget / PRBs
        n = info["slice_prbs"][0, s]
        assert info["slice_prb_power_w"][0, s] == levels[s][levels[s] <= budget / n * (1 + 1e-9)].max()
    # shares summing to 2 are halved: 1 + 1 -> 12 + 12 PRBs (floor of 12.5)
    _, _, _, _, info = env.step(u.action_from_shares(np.array([[1.0, 1.0]]), np.array([[1.0, 1.0]])))
    assert info["slice_prbs"].tolist() == [[12, 12]]
    assert_slice_allocation(env, info)
    # a budget below the lowest level on every PRB serves fewer PRBs at the lowest level
    low = levels[0, 0]
    _, _, _, _, info = env.step(u.action_from_shares(np.array([[0.8, 0.0]]), np.array([[3.5 * low / limit, 0.0]])))
    assert info["slice_prbs"].tolist() == [[3, 0]] and info["slice_prb_power_w"][0, 0] == low


def test_round_robin_continues_across_ttis_and_max_sinr_takes_the_best_observed_gain():
    env = make("paper", mac_scheduler="round_robin")
    u = env.unwrapped
    env.reset(seed=1)
    action = u.action_from_shares(np.array([[0.12, 0.0]]), np.array([[0.5, 0.0]]))  # 3 eMBB PRBs
    owners = []
    for _ in range(4):
        env.step(action)
        owners += u.last_tti_allocation.owner[0, :3].tolist()
    embb = np.flatnonzero(u.serving_ru() == 0)[: u.config.num_embb_ues]
    assert owners == [int(embb[k % embb.size]) for k in range(12)]
    env = make("paper", mac_scheduler="max_sinr")
    u = env.unwrapped
    env.reset(seed=1)
    gains = u.observed_gains_db
    env.step(action)
    ues = np.arange(u.config.num_embb_ues)
    assert u.last_tti_allocation.owner[0, :3].tolist() == [int(ues[np.argmax(gains[0, ues, m])]) for m in range(3)]


def test_control_period_sums_its_ttis_and_one_tti_equals_the_full_mode():
    env = make("paper", control_period_tti=3)
    env.reset(seed=2)
    steps, ttis = 0, 0
    while True:
        _, reward, _, truncated, info = env.step(env.action_space.sample())
        steps += 1
        ran = info["period_rewards"][~np.isnan(info["period_rewards"])]
        ttis += ran.size
        assert info["period_rewards"].shape == (3,) and reward == pytest.approx(ran.sum(), rel=1e-12)
        if truncated:
            break
    E = env.unwrapped.config.episode_length_tti
    assert ttis == E and steps == math.ceil(E / 3)
    # one TTI per step: the reward is the full mode's for the allocation the scheduler made
    slice_env = make("multi_cell")
    full = ORANSlicingEnv("multi_cell", action_mode="full")
    slice_env.reset(seed=5)
    full.reset(seed=5)
    for _ in range(3):
        _, reward, _, _, _ = slice_env.step(slice_env.action_space.sample())
        alloc = slice_env.unwrapped.last_tti_allocation
        L = full.config.num_power_levels
        levels = full._levels_w
        ue_slice = np.repeat([0, 1], [full.config.num_embb_ues, full.config.num_urllc_ues])
        action = np.where(alloc.owner >= 0, 1 + np.maximum(alloc.owner, 0) * L
                          + np.array([[int(np.flatnonzero(levels[ue_slice[o]] == p)[0]) if o >= 0 else 0
                                       for o, p in zip(row_o, row_p)] for row_o, row_p in zip(alloc.owner, alloc.power_w)]), 0)
        _, full_reward, _, _, _ = full.step(action.ravel())
        assert reward == full_reward


def test_seeded_runs_repeat_and_sync_vector_env_runs_it():
    def run():
        env = make("multi_cell", mac_scheduler="proportional_fair")
        obs, _ = env.reset(seed=11)
        env.action_space.seed(11)
        out = [obs]
        for _ in range(4):
            obs, r, *_ = env.step(env.action_space.sample())
            out += [obs, np.array([r])]
        return np.concatenate(out)

    np.testing.assert_array_equal(run(), run())
    vec = gym.make_vec("ORANSlicing-v0", num_envs=2, vectorization_mode="sync", config="tiny", action_mode="slice")
    obs, _ = vec.reset(seed=0)
    obs, rewards, *_ = vec.step(vec.action_space.sample())
    assert obs.shape[0] == 2 and rewards.shape == (2,)
    from oran_gym.envs.vector_env import ORANSlicingVectorEnv

    with pytest.raises(ValueError, match="is ORANSliceControlVectorEnv: build it with gym.make_vec"):
        ORANSlicingVectorEnv(2, action_mode="slice")


def test_slice_baselines_emit_their_quotas():
    env = make("multi_cell")
    u = env.unwrapped
    obs, _ = env.reset(seed=4)
    action, _ = EqualSplitSlicePolicy(env).predict(obs)
    _, _, _, _, info = env.step(action)
    assert info["slice_prbs"].tolist() == [[12, 12]] * 3
    policy = DemandProportionalSlicePolicy(env)
    prb_shares, power_shares = policy.quotas(u)
    ru, load = u.serving_ru(), u.offered_load_bps
    ue_slice = np.repeat([0, 1], [u.config.num_embb_ues, u.config.num_urllc_ues])
    for b in range(3):
        demand = np.array([load[(ru == b) & (ue_slice == s)].sum() for s in (0, 1)])
        np.testing.assert_allclose(prb_shares[b], demand / demand.sum() if demand.sum() > 0 else 0.5)
    np.testing.assert_array_equal(prb_shares, power_shares)
    # the oracle's quotas: its PRB count per (RU, slice)
    from oran_gym.baselines import MILPOracle

    env = make("paper")
    u = env.unwrapped
    obs, _ = env.reset(seed=4)
    alloc, _ = MILPOracle().solve(u.config, u.gains, u.offered_load_bps)
    counts = [[int(((alloc.owner[0] >= 0) & (np.repeat([0, 1], 10)[np.maximum(alloc.owner[0], 0)] == s)).sum()) for s in (0, 1)]]
    action, _ = OracleQuotaSlicePolicy(env).predict(obs)
    _, _, _, _, info = env.step(action)
    assert info["slice_prbs"].sum() <= sum(counts[0])
    assert info["slice_prbs"][0, 1] == counts[0][1]  # URLLC's count is kept (eMBB drops a PRB only if its power cannot fit)
    with pytest.raises(TypeError, match="needs an env made with action_mode='slice', got action_mode='prb'"):
        EqualSplitSlicePolicy(gym.make("ORANSlicing-v0"))


def test_bad_slice_mode_input_is_named():
    env = make("paper")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be in Box\(-1.0, 1.0, \(4,\), float32\): numbers in \[-1, 1\], got \[0. 2. 0. 0.\]"):
        env.step(np.array([0.0, 2.0, 0.0, 0.0], dtype=np.float32))
    with pytest.raises(ValueError, match=r"action must have shape \(4,\)"):
        env.step(np.zeros(3, dtype=np.float32))
    env = make("paper", discrete_levels=3)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"integers 0..3, got \[0 4 0 0\]"):
        env.step(np.array([0, 4, 0, 0]))
    with pytest.raises(ValueError, match=r"mac_scheduler must be one of \['round_robin', 'proportional_fair', 'max_sinr'\], got 'edf'"):
        make("paper", mac_scheduler="edf")
    with pytest.raises(ValueError, match=r"control_period_tti must be an integer >= 1 \(TTIs per control step\), got 0"):
        make("paper", control_period_tti=0)
    with pytest.raises(ValueError, match=r"discrete_levels must be None \(a Box action\) or an integer >= 1, got 0"):
        make("paper", discrete_levels=0)
    with pytest.raises(ValueError, match=r"action_mode='slice' is ORANSliceControlEnv"):
        ORANSlicingEnv("paper", action_mode="slice")
    # one mapping, as RLlib passes it: env arguments beside scenario fields
    mapping = ORANSliceControlEnv(ScenarioConfig.preset("tiny").to_dict() | {"mac_scheduler": "max_sinr", "action_mode": "slice"})
    assert mapping.mac_scheduler == "max_sinr" and mapping.config.num_prbs == 3


@pytest.mark.parametrize("preset, kwargs", [
    ("tiny", {"control_period_tti": 1, "mac_scheduler": "round_robin"}),
    ("multi_cell", {"control_period_tti": 3, "mac_scheduler": "proportional_fair"}),
    ("paper_queue", {"control_period_tti": 4, "discrete_levels": 4, "mac_scheduler": "max_sinr"}),
    ("urban_macro", {"control_period_tti": 3}),
])
def test_native_vector_env_equals_sync_vector_env_step_for_step(preset, kwargs):
    from test_vector_env import assert_same

    from oran_gym.envs.slice_vector_env import ORANSliceControlVectorEnv

    n = 3
    native = gym.make_vec("ORANSlicing-v0", num_envs=n, vectorization_mode="vector_entry_point", config=preset,
                          action_mode="slice", **kwargs)
    sync = gym.make_vec("ORANSlicing-v0", num_envs=n, vectorization_mode="sync", config=preset, action_mode="slice", **kwargs)
    assert isinstance(native.unwrapped, ORANSliceControlVectorEnv)
    assert native.action_space == sync.action_space and native.observation_space == sync.observation_space
    assert_same(native.reset(seed=5), sync.reset(seed=5), "reset")
    sync.action_space.seed(5)
    truncations = 0
    for t in range(14):
        actions = sync.action_space.sample()
        out_native, out_sync = native.step(actions), sync.step(actions)
        for name, x, y in zip(("obs", "reward", "terminated", "truncated", "info"), out_native, out_sync):
            assert_same(x, y, f"step {t} {name}")
        truncations += int(out_native[3].sum())
        if t == 6:  # reset one sub-env alone: the sub-envs fall out of phase
            mask = np.array([False, True, False])
            assert_same(native.reset(seed=9, options={"reset_mask": mask}),
                        _sync_reset_one(sync, 1, 9 + 1), "partial reset")
    assert truncations > 0  # episodes ended and were reset inside the run


def _sync_reset_one(sync, e, seed):
    """SyncVectorEnv has no reset_mask: reset its sub-env e alone and batch the result as the native env does."""
    obs, info = sync.envs[e].reset(seed=seed)
    sync._observations[e] = obs  # what its next batched observation holds
    sync._autoreset_envs[e] = False
    batched = {}
    batched = sync._add_info(batched, info, e)
    return sync._observations.copy(), batched
