"""The PettingZoo ParallelEnv (oran_gym.multiagent): API and seed tests, the merge of the agents'
actions, the reward split, and the RLlib multi-agent route."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

if os.environ.get("ORAN_GYM_REQUIRE_EXTRAS"):
    import pettingzoo  # noqa: F401  CI installs the multiagent extra: missing must fail there
else:
    pytest.importorskip("pettingzoo", reason="needs the multiagent extra: pip install 'oran-gym[multiagent]'")

from pettingzoo.test import parallel_api_test, parallel_seed_test

import oran_gym  # noqa: F401
from oran_gym import ScenarioConfig
from oran_gym.envs.slicing_env import ORANSlicingEnv
from oran_gym.multiagent import parallel_env

CASES = [("ru", "multi_cell"), ("ru", "paper_queue"), ("slice", "paper"), ("slice", "multi_cell")]


@pytest.mark.parametrize("agents, preset", CASES)
def test_pettingzoo_parallel_api_and_seed_tests_pass_without_warnings(agents, preset):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(parallel_env(config=preset, agents=agents), num_cycles=25)
        parallel_seed_test(lambda: parallel_env(config=preset, agents=agents), num_cycles=25)


@pytest.mark.parametrize("agents, preset", CASES + [("ru", "urban_macro")])
def test_agent_rewards_sum_to_the_tti_reward_and_team_reward_shares_it(agents, preset):
    env = parallel_env(config=preset, agents=agents)
    team = parallel_env(config=preset, agents=agents, team_reward=True)
    env.reset(seed=4)
    team.reset(seed=4)
    for space in (env.action_space(a) for a in env.agents):
        space.seed(0)
    for _ in range(6):
        actions = {a: env.action_space(a).sample() for a in env.agents}
        _, rewards, _, _, infos = env.step(actions)
        _, team_rewards, _, _, _ = team.step(actions)
        tti_reward = infos[env.possible_agents[0]]["team_reward"]
        assert sum(rewards.values()) == pytest.approx(tti_reward, rel=1e-12, abs=1e-9)
        assert set(team_rewards.values()) == {tti_reward}
        if len(rewards) > 1:
            assert len(set(rewards.values())) > 1  # the split is not an even share


def test_ru_agents_act_out_the_full_mode_action_of_the_single_env():
    env = parallel_env(config="multi_cell", agents="ru")
    single = ORANSlicingEnv("multi_cell", action_mode="full")
    obs, _ = env.reset(seed=9)
    single_obs, _ = single.reset(seed=9)
    cfg = single.config
    B, U, M = cfg.num_rus, cfg.num_ues, cfg.num_prbs
    rng = np.random.default_rng(0)
    for _ in range(4):
        block = single_obs[single.observation_layout["ue_block"]]
        gains = single_obs[single.observation_layout["gains"]].reshape(B, U, M)
        for b in range(B):
            view = obs[f"ru_{b}"]
            np.testing.assert_array_equal(view[: block.size], block)
            np.testing.assert_array_equal(view[block.size : block.size + U * M], gains[b].ravel())
            np.testing.assert_array_equal(view[-B:], np.eye(B)[b])
        full = rng.integers(0, single.action_space.nvec[0], size=B * M)
        obs, rewards, _, truncations, infos = env.step({f"ru_{b}": full[b * M : (b + 1) * M] for b in range(B)})
        single_obs, reward, _, truncated, info = single.step(full)
        assert infos["ru_0"]["team_reward"] == reward
        np.testing.assert_array_equal(env.unwrapped.last_tti_allocation.owner, single.last_tti_allocation.owner)
        assert truncations["ru_0"] == truncated


def test_slice_xapps_bids_merge_by_the_documented_conflict_rule():
    cfg = ScenarioConfig.preset("tiny").replace(num_rus=2)  # UEs 0, 1 eMBB; 2, 3 URLLC; 2 levels
    env = parallel_env(config=cfg, agents="slice")
    env.reset(seed=0)
    B, M, L = cfg.num_rus, cfg.num_prbs, cfg.num_power_levels
    embb = np.zeros(B * M, dtype=np.int64)
    urllc = np.zeros(B * M, dtype=np.int64)
    embb[0] = 1 + 1 * L + 1       # PRB 0 of RU 0: eMBB UE 1 at level 1 ...
    urllc[0] = 1 + 0 * L + 0      # ... and URLLC's first UE (UE 2) at level 0: URLLC (weight 2) wins
    embb[1] = 1 + 1 * L + 0       # PRB 1 of RU 0: eMBB alone, UE 1
    urllc[M] = 1 + 1 * L + 1      # PRB 0 of RU 1: URLLC alone, its second UE (UE 3)
    _, _, _, _, infos = env.step({"embb": embb, "urllc": urllc})
    owner = env.unwrapped.last_tti_allocation.owner
    power = env.unwrapped.last_tti_allocation.power_w
    levels = np.array(cfg.power_level_fractions)
    urllc_cap_w = 10 ** ((cfg.urllc_max_prb_power_dbm - 30) / 10)
    assert owner[0, 0] == 2 and owner[0, 1] == 1 and owner[1, 0] == 3
    assert (owner >= 0).sum() == 3
    assert power[0, 0] == pytest.approx(levels[0] * urllc_cap_w)
    assert power[1, 0] == pytest.approx(levels[1] * urllc_cap_w)
    assert infos["embb"]["lost_bids"] == 1 and infos["urllc"]["lost_bids"] == 0
    # equal weights: eMBB first
    env = parallel_env(config=cfg.replace(urllc_weight=cfg.embb_weight), agents="slice")
    env.reset(seed=0)
    env.step({"embb": embb, "urllc": urllc})
    assert env.unwrapped.last_tti_allocation.owner[0, 0] == 1


def test_episodes_truncate_and_bad_input_is_named():
    env = parallel_env(config=ScenarioConfig.preset("tiny").replace(episode_length_tti=3), agents="ru")
    env.reset(seed=1)
    for t in range(3):
        _, _, terms, truncs, _ = env.step({a: env.action_space(a).sample() for a in env.agents})
    assert truncs == {"ru_0": True} and terms == {"ru_0": False} and env.agents == []
    with pytest.raises(RuntimeError, match="finished episode: call reset"):
        env.step({"ru_0": np.zeros(3, dtype=np.int64)})
    env.reset(seed=1)
    with pytest.raises(ValueError, match=r"missing \['ru_0'\], unknown \['ru_9'\]"):
        env.step({"ru_9": np.zeros(3, dtype=np.int64)})
    with pytest.raises(ValueError, match=r"action of 'ru_0' must be in MultiDiscrete\(\[9 9 9\]\).*got \[0 9 0\]"):
        env.step({"ru_0": np.array([0, 9, 0])})
    with pytest.raises(ValueError, match=r"agents must be one of \['ru', 'slice'\], got 'cell'"):
        parallel_env(agents="cell")
    with pytest.raises(ValueError, match=r"action_mode must be one of \['full', 'slice'\], got 'prb'"):
        parallel_env(action_mode="prb")
    with pytest.raises(ValueError, match=r"obs_mode must be 'full'"):
        parallel_env(obs_mode="paper")
    with pytest.raises(ValueError, match=r"\['mac_scheduler'\] belong to action_mode='slice', not 'full'"):
        parallel_env(mac_scheduler="max_sinr")
    with pytest.raises(ValueError, match=r"control_period_tti must be an integer >= 1"):
        parallel_env(action_mode="slice", control_period_tti=0)
    env = parallel_env(config="multi_cell", action_mode="slice")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action of 'ru_1' must be in Box\(-1.0, 1.0, \(4,\), float32\)"):
        env.step({"ru_0": np.zeros(4, np.float32), "ru_1": np.full(4, 1.5, np.float32), "ru_2": np.zeros(4, np.float32)})


SLICE_CASES = [("ru", "multi_cell", {}), ("slice", "paper", {"discrete_levels": 4}),
               ("slice", "multi_cell", {"control_period_tti": 2}), ("ru", "paper_queue", {"mac_scheduler": "round_robin"})]


@pytest.mark.parametrize("agents, preset, kwargs", SLICE_CASES)
def test_slice_action_mode_passes_the_api_and_seed_tests_and_splits_the_reward(agents, preset, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(parallel_env(config=preset, agents=agents, action_mode="slice", **kwargs), num_cycles=20)
        parallel_seed_test(lambda: parallel_env(config=preset, agents=agents, action_mode="slice", **kwargs), num_cycles=20)
    env = parallel_env(config=preset, agents=agents, action_mode="slice", **kwargs)
    env.reset(seed=1)
    for _ in range(3):
        _, rewards, _, _, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
        assert sum(rewards.values()) == pytest.approx(infos[env.possible_agents[0]]["team_reward"], rel=1e-12, abs=1e-9)


def test_slice_mode_agents_act_out_the_single_slice_env():
    import gymnasium as gym

    env = parallel_env(config="multi_cell", agents="slice", action_mode="slice", control_period_tti=2)
    single = gym.make("ORANSlicing-v0", config="multi_cell", action_mode="slice", control_period_tti=2).unwrapped
    env.reset(seed=6)
    single.reset(seed=6)
    rng = np.random.default_rng(1)
    for _ in range(3):
        joint = rng.uniform(-1, 1, size=(3, 2, 2)).astype(np.float32)  # [RU, slice, (share, power)]
        _, _, _, _, infos = env.step({"embb": joint[:, 0].ravel(), "urllc": joint[:, 1].ravel()})
        _, reward, _, _, info = single.step(joint.ravel())
        assert infos["embb"]["team_reward"] == pytest.approx(reward, rel=1e-12)
        np.testing.assert_array_equal(env.unwrapped.last_tti_allocation.owner, single.last_tti_allocation.owner)


def _require_ray():
    if os.environ.get("ORAN_GYM_REQUIRE_RAY"):
        import ray

        return ray
    return pytest.importorskip("ray")


@pytest.mark.slow
@pytest.mark.parametrize("shared_policy", [True, False])
def test_rllib_trains_multi_agent_ppo_on_the_parallel_env(shared_policy):
    ray = _require_ray()
    from oran_gym.rllib import multiagent_ppo_config, register_rllib_multiagent_env

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        register_rllib_multiagent_env()
        env_config = {"config": "tiny", "num_rus": 2, "agents": "ru", "episode_length_tti": 5}
        config = (
            multiagent_ppo_config(env_config, shared_policy=shared_policy)
            .env_runners(num_env_runners=0)
            .training(train_batch_size=100, minibatch_size=50, num_epochs=1)
            .debugging(seed=0)
        )
        algo = config.build_algo()
        try:
            results = [algo.train() for _ in range(2)]
            modules = set(algo.env_runner.module.keys())  # the MultiRLModule's policies
        finally:
            algo.stop()
        assert results[-1]["training_iteration"] == 2
        assert results[-1]["num_env_steps_sampled_lifetime"] >= 200
        assert np.isfinite(results[-1]["env_runners"]["episode_return_mean"])
        assert modules == ({"shared"} if shared_policy else {"ru_0", "ru_1"})
    finally:
        ray.shutdown()


@pytest.mark.slow
def test_multiagent_benchmark_writes_its_table_against_the_optimum(tmp_path):
    _require_ray()
    import json
    import shutil
    from pathlib import Path

    from oran_gym.benchmarks import reproduce_multiagent

    oracle_csv = Path(reproduce_multiagent.RESULTS) / "multicell_oracle.csv"
    shutil.copy(oracle_csv, tmp_path / "multicell_oracle.csv")  # the optima of instances 0..19
    assert reproduce_multiagent.main(["--seeds", "1", "--iterations", "1", "--batch", "20", "--instances", "2",
                                      "--shared-only", "--no-progress", "--out-dir", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "multiagent.json").read_text())
    s = result["summary"]
    assert {"PPO, shared policy", "slice: equal_split", "slice: oracle_quota", "optimum (ExactMultiCellOracle)"} <= set(s)
    assert s["optimum (ExactMultiCellOracle)"]["gap_to_optimum"] == 0.0
    for name, entry in s.items():  # nothing beats the proven optimum on these two instances
        if name != "relaxed MILP bound":
            assert entry["gap_to_optimum"] >= -1e-9, name
    assert result["optimum_proven_on"] == 2
