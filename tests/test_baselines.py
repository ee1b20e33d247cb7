"""Oracles against each other and brute force, heuristics' feasibility, the evaluation loop, datasets."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from oran_gym.baselines import (
    HEURISTICS,
    ExactMultiCellOracle,
    ExhaustiveSearchOracle,
    LocalSearchOracle,
    MILPOracle,
    OraclePolicy,
    make_policy,
    num_candidates,
)
from oran_gym.baselines.dataset import generate_dataset, load_dataset, sample_instance

import oran_gym  # noqa: F401
from oran_gym import Allocation, ScenarioConfig, evaluate_allocation
from oran_gym.allocation import scenario_arrays
from oran_gym.evaluation import evaluate_policy
from oran_gym.sim import kernels
from oran_gym.sim.dynamics import NetworkState


def random_tiny(seed: int, **overrides):
    """A tiny instance with randomised weights, budgets and loads so that many regimes appear."""
    rng = np.random.default_rng(seed)
    cfg = ScenarioConfig.preset("tiny").replace(
        urllc_weight=float(rng.uniform(0.5, 3)),
        ru_max_power_dbm=float(rng.uniform(28, 34)),
        reward_theta_violation=float(rng.choice([0.0, 1.0, 5.0])),
        **overrides,
    )
    net = NetworkState.initial(cfg, rng)
    load = net.offered_load_bps * rng.uniform(0.2, 5.0, size=cfg.num_ues)
    return cfg, net.gain_lin, load


def brute_force(cfg, gains, load):
    """Pure-Python enumeration of every full action, keeping the feasible ones."""
    params, ue_slice, levels = scenario_arrays(cfg)
    best = -np.inf
    for act in itertools.product(range(cfg.num_ues * cfg.num_power_levels + 1), repeat=cfg.num_rus * cfg.num_prbs):
        owner, power, assoc, conflicts = kernels.decode_full_action(np.array(act), ue_slice, levels, cfg.num_rus, cfg.num_prbs)
        if conflicts or np.any(power.sum(axis=1) > cfg.ru_power_limit_w * (1 + 1e-9)):
            continue
        best = max(best, evaluate_allocation(cfg, gains, Allocation(assoc, owner, power), load).reward)
    return best


def assert_feasible(cfg, alloc: Allocation):
    params, ue_slice, levels = scenario_arrays(cfg)
    served = alloc.owner >= 0
    assert np.all(alloc.assoc[alloc.owner[served]] == np.nonzero(served)[0])
    assert np.all(alloc.power_w[~served] == 0)
    assert np.all(alloc.power_w.sum(axis=1) <= cfg.ru_power_limit_w * (1 + 1e-9))
    for b, m in zip(*np.nonzero(served)):
        assert np.isclose(levels[ue_slice[alloc.owner[b, m]]], alloc.power_w[b, m]).any()


@pytest.mark.parametrize("block", range(4))
def test_milp_equals_exhaustive_search_on_random_tiny_instances(block):
    esa, milp = ExhaustiveSearchOracle(), MILPOracle()
    for seed in range(block * 60, (block + 1) * 60):  # 240 instances in all
        cfg, gains, load = random_tiny(seed)
        a = esa.solve_detailed(cfg, gains, load)
        b = milp.solve_detailed(cfg, gains, load)
        assert b.proven_optimal and a.proven_optimal
        assert b.value == pytest.approx(a.value, rel=1e-9, abs=1e-9), seed
        assert b.value == evaluate_allocation(cfg, gains, b.allocation, load).reward
        assert b.upper_bound >= b.value - 1e-6
        assert_feasible(cfg, a.allocation)
        assert_feasible(cfg, b.allocation)


@pytest.mark.parametrize("seed", range(4))
def test_exhaustive_search_equals_brute_force_single_and_two_rus(seed):
    for num_rus, num_prbs in ((1, 3), (2, 2)):
        cfg, gains, load = random_tiny(seed, num_rus=num_rus, num_prbs=num_prbs)
        sol = ExhaustiveSearchOracle().solve_detailed(cfg, gains, load)
        assert sol.value == pytest.approx(brute_force(cfg, gains, load), rel=1e-12)
        assert_feasible(cfg, sol.allocation)


def test_local_search_brackets_the_two_ru_optimum():
    for seed in range(5):
        cfg, gains, load = random_tiny(seed, num_rus=2)
        opt = ExhaustiveSearchOracle().solve(cfg, gains, load)[1]
        sol = LocalSearchOracle().solve_detailed(cfg, gains, load)
        assert sol.value <= opt + 1e-9 <= sol.upper_bound + 2e-9
        assert not sol.proven_optimal
        assert_feasible(cfg, sol.allocation)


@pytest.mark.parametrize("objective", ["reward", "constrained"])
@pytest.mark.parametrize("num_rus, num_prbs", [(2, 3), (3, 2)])
def test_exact_multicell_oracle_equals_exhaustive_search_with_interference(objective, num_rus, num_prbs):
    esa, exact = ExhaustiveSearchOracle(objective=objective), ExactMultiCellOracle(objective=objective)
    infeasible, seeds = 0, 20 if num_rus == 2 else 8  # 3 RUs: 531,441 leaves per exhaustive search
    for seed in range(seeds):
        cfg, gains, load = random_tiny(seed, num_rus=num_rus, num_prbs=num_prbs)
        if objective == "constrained":
            load = load * 0.3  # feasible and infeasible instances both
        a = esa.solve_detailed(cfg, gains, load)
        b = exact.solve_detailed(cfg, gains, load)
        assert b.proven_optimal, (seed, b.status)
        if a.value == -np.inf:
            infeasible += 1
            assert b.allocation is None and b.value == -np.inf, seed
            continue
        assert b.value == pytest.approx(a.value, rel=1e-9, abs=1e-9), seed
        assert b.value == evaluate_allocation(cfg, gains, b.allocation, load).reward
        assert b.value - 1e-9 <= b.upper_bound <= b.value + 1e-6 * max(1.0, abs(b.value))
        assert_feasible(cfg, b.allocation)
        if objective == "constrained":
            assert sum(evaluate_allocation(cfg, gains, b.allocation, load).violations.values()) == 0
    if objective == "constrained":
        assert 0 < infeasible < seeds  # both kinds of instance were exercised


def test_exact_multicell_oracle_equals_exhaustive_search_on_two_ru_queue_states():
    """On the backlog model both maximise the TTI's reward given the FIFOs (the MILP drops the floor
    of served bits: at most one bit per UE of reward apart, as MILPOracle)."""
    heavy = {"queue_model": "backlog", "max_backlog_bits": 40000.0, "embb_packet_rate_pps": 1500.0,
             "embb_delay_budget_s": 0.003, "max_queue_delay_s": 0.006, "episode_length_tti": 12}
    env = gym.make("ORANSlicing-v0", config=ScenarioConfig.preset("tiny").replace(num_rus=2, num_prbs=2, **heavy),
                   action_mode="full")
    u = env.unwrapped
    obs, _ = env.reset(seed=3)
    policy = OraclePolicy(env, ExactMultiCellOracle())
    esa, backlogged = ExhaustiveSearchOracle(), 0
    for _ in range(8):
        status = u.queue_status
        backlogged += int(status.backlog_bits.any())
        _, v_esa = esa.solve(u.config, u.gains, u.offered_load_bps, queue=status)
        action, _ = policy.predict(obs)
        obs, reward, *_ = env.step(action)
        slack = u.config.num_ues * u.config.urllc_weight / (u.config.tti_duration_s * u.config.rate_scale_bps)
        assert policy.last_solution.value == reward and v_esa - slack <= reward <= v_esa
    assert backlogged > 0


@pytest.mark.slow
def test_exact_multicell_oracle_certifies_a_gap_at_its_time_limit_on_multi_cell():
    env = gym.make("ORANSlicing-v0", config="multi_cell", action_mode="full")
    u = env.unwrapped
    env.reset(seed=1)
    cfg, gains, load = u.config, u.gains, u.offered_load_bps
    sol = ExactMultiCellOracle(time_limit_s=5.0).solve_detailed(cfg, gains, load)
    lower = LocalSearchOracle().solve_detailed(cfg, gains, load)
    assert not sol.proven_optimal and "time limit" in sol.status.lower()
    assert sol.value == evaluate_allocation(cfg, gains, sol.allocation, load).reward
    assert_feasible(cfg, sol.allocation)
    # a certified gap: the bound holds for every feasible allocation, the local search's included
    assert sol.value <= sol.upper_bound and lower.value <= sol.upper_bound + 1e-9


@pytest.mark.slow
def test_bench_multicell_brackets_each_instance(tmp_path):
    import json

    from oran_gym.benchmarks import bench_multicell

    assert bench_multicell.main(["--instances", "1", "--time-limit", "10", "--no-progress", "--out-dir", str(tmp_path)]) == 0
    s = json.loads((tmp_path / "multicell_oracle.json").read_text())["summary"]
    row = pd.read_csv(tmp_path / "multicell_oracle.csv").iloc[0]
    # the local search is feasible and the relaxed and exact bounds are proven: both hold the exact answer in between
    assert row["local_search_value"] <= row["exact_value"] + 1e-9 <= row["exact_bound"] + 2e-9
    assert row["exact_value"] <= row["relaxed_bound"] + 1e-9
    assert s["instances"] == 1 and (tmp_path / "multicell_oracle.png").exists()


def test_exact_multicell_oracle_refuses_oversized_models_and_bad_arguments():
    cfg = ScenarioConfig.preset("multi_cell")
    with pytest.raises(ValueError, match=r"has 66,508 variables, above max_variables=1,000; raise max_variables"):
        ExactMultiCellOracle(max_variables=1000).solve(cfg, np.ones((3, 18, 25)), np.zeros(18))
    with pytest.raises(ValueError, match=r"ExactMultiCellOracle: objective must be one of \['reward', 'constrained'\], got 'sum'"):
        ExactMultiCellOracle(objective="sum")
    with pytest.raises(ValueError, match=r"ExactMultiCellOracle: time_limit_s must be a number > 0 or None, got 0"):
        ExactMultiCellOracle(time_limit_s=0)
    with pytest.raises(ValueError, match=r"gains"):
        ExactMultiCellOracle().solve(cfg, np.ones((3, 18, 24)), np.zeros(18))


@pytest.mark.parametrize("seed", range(3))
def test_optimum_beats_heuristics_and_10000_random_allocations_on_the_paper_preset(seed):
    env = gym.make("ORANSlicing-v0", config="paper", action_mode="full")
    u = env.unwrapped
    env.reset(seed=seed)
    cfg, gains, load = u.config, u.gains, u.offered_load_bps
    opt = MILPOracle().solve_detailed(cfg, gains, load)
    assert opt.proven_optimal and opt.upper_bound == pytest.approx(opt.value, abs=1e-6)
    for name in HEURISTICS:
        alloc = make_policy(name, env).plan(u)
        assert_feasible(cfg, alloc)
        assert evaluate_allocation(cfg, gains, alloc, load).reward <= opt.value + 1e-9, name
    rng = np.random.default_rng(seed)
    params, ue_slice, levels = scenario_arrays(cfg)
    best_random = -np.inf
    for _ in range(10_000):
        owner = rng.integers(-1, cfg.num_ues, size=(1, cfg.num_prbs))
        lvl = rng.integers(0, cfg.num_power_levels, size=owner.shape)
        power = np.where(owner >= 0, levels[ue_slice[np.maximum(owner, 0)], lvl], 0.0)
        while power.sum() > cfg.ru_power_limit_w:  # make it feasible: drop random PRBs
            k = rng.choice(np.flatnonzero(owner[0] >= 0))
            owner[0, k], power[0, k] = -1, 0.0
        alloc = Allocation.from_owner(owner, power, cfg.num_ues)
        best_random = max(best_random, evaluate_allocation(cfg, gains, alloc, load, validate=False).reward)
    assert best_random <= opt.value + 1e-9


@pytest.mark.parametrize("name", sorted(HEURISTICS) + [pytest.param("oracle", marks=pytest.mark.slow)])
@pytest.mark.parametrize("preset", ["tiny", "multi_cell"])
def test_policies_emit_feasible_allocations_in_both_modes(name, preset):
    results = {}
    for mode in ("prb", "full"):
        env = gym.make("ORANSlicing-v0", config=preset, action_mode=mode, episode_length_tti=2)  # invalid actions raise
        policy = make_policy(name, env)
        res = evaluate_policy(policy, env, n_episodes=2, seed=3)
        assert len(res.per_tti) == 4
        assert (res.per_tti["power_projections"] == 0).all() and (res.per_tti["association_violations"] == 0).all()
        assert_feasible(env.unwrapped.config, env.unwrapped.last_tti_allocation)
        results[mode] = res.per_tti.drop(columns=["decision_time_ms"])
    if name != "random":  # random draws differ between the modes' call patterns
        np.testing.assert_allclose(results["prb"]["reward"], results["full"]["reward"], rtol=1e-9)


def test_oracle_policy_acts_out_the_optimum():
    env = gym.make("ORANSlicing-v0", config="paper", action_mode="prb", episode_length_tti=1)
    policy = OraclePolicy(env)
    assert policy.uses_true_state
    res = evaluate_policy(policy, env, n_episodes=2, seed=0)
    for ep in range(2):
        e = gym.make("ORANSlicing-v0", config="paper")
        e.reset(seed=ep)
        u = e.unwrapped
        _, value = MILPOracle().solve(u.config, u.gains, u.offered_load_bps)
        assert res.per_tti["reward"][ep] == pytest.approx(value, rel=1e-9)


def test_evaluation_is_deterministic_and_summarised():
    env = gym.make("ORANSlicing-v0", config="paper", action_mode="full")
    a = evaluate_policy(make_policy("proportional_fair", env), env, n_episodes=3, seed=5)
    b = evaluate_policy(make_policy("proportional_fair", env), env, n_episodes=3, seed=5)
    cols = [c for c in a.per_tti if c != "decision_time_ms"]
    assert a.per_tti[cols].equals(b.per_tti[cols])
    s = a.summary
    per_ep = a.per_tti.groupby("episode")["reward"].mean()
    assert s.loc["reward", "mean"] == pytest.approx(per_ep.mean())
    from scipy import stats

    half = stats.t.ppf(0.975, 2) * per_ep.std(ddof=1) / np.sqrt(3)
    assert s.loc["reward", "ci95_high"] - s.loc["reward", "mean"] == pytest.approx(half)
    assert len(a.per_tti) == 3 * 10 and set(a.per_tti["seed"]) == {5, 6, 7}


def test_evaluate_policy_takes_an_sb3_model():
    from stable_baselines3 import DQN

    env = gym.make("ORANSlicing-v0", config="tiny", invalid_action="idle", episode_length_tti=2)
    model = DQN("MlpPolicy", env, learning_starts=10, seed=0)
    res = evaluate_policy(model, env, n_episodes=2, seed=0, policy_name="dqn")
    assert len(res.per_tti) == 4 and (res.per_tti["policy"] == "dqn").all()


def test_size_cap_and_misuse_errors():
    cfg = ScenarioConfig.preset("paper")
    gains, load = np.full((1, 20, 25), 1e-10), np.zeros(20)
    assert num_candidates(cfg) == 61**25
    with pytest.raises(ValueError, match=r"4\.298e\+44 candidates exceeds max_candidates=20,000,000; use MILPOracle"):
        ExhaustiveSearchOracle().solve(cfg, gains, load)
    tiny = ScenarioConfig.preset("tiny")
    with pytest.raises(ValueError, match="729 candidates exceeds max_candidates=100"):
        ExhaustiveSearchOracle(max_candidates=100).solve(tiny, np.ones((1, 4, 3)), np.zeros(4))
    multi = ScenarioConfig.preset("multi_cell")
    with pytest.raises(ValueError, match="exact only for one RU.*relax_interference=True"):
        MILPOracle().solve(multi, np.ones((3, 18, 25)), np.zeros(18))
    with pytest.raises(ValueError, match=r"gains must have shape \(1, 4, 3\)"):
        MILPOracle().solve(tiny, np.ones((1, 4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="unknown policy 'maxsinr'.*did you mean 'max_sinr'"):
        make_policy("maxsinr", gym.make("ORANSlicing-v0"))
    with pytest.raises(ValueError, match="power_rule must be one of"):
        make_policy("max_sinr", gym.make("ORANSlicing-v0"), power_rule="max")


def test_milp_time_limit_is_reported():
    cfg = ScenarioConfig.preset("paper")
    net = NetworkState.initial(cfg, np.random.default_rng(0))
    sol = MILPOracle(time_limit_s=30.0, mip_rel_gap=0.0).solve_detailed(cfg, net.gain_lin, net.offered_load_bps)
    assert sol.time_limit_s == 30.0 and sol.mip_rel_gap == 0.0 and sol.mip_gap <= 1e-6


def test_dataset_is_seeded_resumable_and_labelled_optimally(tmp_path):
    out = tmp_path / "tiny.npz"
    generate_dataset("tiny", 30, out, seed=4, oracle="milp", workers=2, shard_size=8, progress=False)
    shards = sorted((tmp_path / "tiny.npz.shards").glob("shard_*.npz"))
    assert len(shards) == 4
    first = load_dataset(out)
    shards[1].unlink()  # lose a shard, then grow the dataset: only missing work is redone
    generate_dataset("tiny", 40, out, seed=4, oracle="milp", workers=1, shard_size=8, progress=False)
    data = load_dataset(out)
    assert data["gains"].shape == (40, 1, 4, 3) and data["owner"].shape == (40, 1, 3)
    np.testing.assert_array_equal(data["gains"][:30], first["gains"])
    np.testing.assert_array_equal(data["value"][:30], first["value"])
    cfg = data["config"]
    for i in (0, 17, 39):
        gains, load = sample_instance(cfg, 4, i)
        np.testing.assert_array_equal(gains, data["gains"][i])
        assert data["value"][i] == pytest.approx(ExhaustiveSearchOracle().solve(cfg, gains, load)[1], rel=1e-9)
    assert data["proven_optimal"].all()
    with pytest.raises(ValueError, match="different run"):
        generate_dataset("tiny", 40, out, seed=5, oracle="milp", progress=False)


def test_cli_evaluate(tmp_path):
    out = tmp_path / "ev.csv"
    r = subprocess.run(
        [sys.executable, "-m", "oran_gym.cli", "evaluate", "round_robin", "--preset", "tiny", "--episodes", "2", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "reward" in r.stdout and "ci95_low" in r.stdout and out.exists()
    import pandas as pd

    df = pd.read_csv(out)
    assert len(df) == 20 and set(df["episode"]) == {0, 1}


@pytest.mark.requires_torch
@pytest.mark.parametrize("name", ["slice_aware", "proportional_fair", "oracle"])
def test_sb3_evaluate_policy_on_a_vec_env_scores_a_baseline_as_our_loop(name):
    """make_policy(name, vec_env) acts per sub-env: SB3's evaluate_policy then equals the package's loop."""
    pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy as sb3_evaluate

    k = 3
    kwargs = {"config": "paper", "action_mode": "full", "episode_length_tti": 4}
    vec = make_vec_env("ORANSlicing-v0", n_envs=k, env_kwargs=kwargs)
    vec.seed(0)  # sub-env i is seeded 0 + i at its first reset, as episode i of our loop
    rewards, lengths = sb3_evaluate(make_policy(name, vec), vec, n_eval_episodes=k, deterministic=True, return_episode_rewards=True)
    env = gym.make("ORANSlicing-v0", **kwargs)
    ours = evaluate_policy(make_policy(name, env), env, n_episodes=k, seed=0).per_tti.groupby("episode")["reward"].sum()
    # SB3's Monitor rounds episode returns to 6 decimals
    np.testing.assert_allclose(sorted(rewards), sorted(ours.tolist()), rtol=0, atol=1e-5)
    assert lengths == [4] * k


def test_a_baseline_never_acts_on_another_envs_state():
    env_a = gym.make("ORANSlicing-v0", config="tiny", action_mode="full")
    env_b = gym.make("ORANSlicing-v0", config="tiny", action_mode="full")
    policy = make_policy("slice_aware", env_a)
    with pytest.raises(gym.error.ResetNeeded, match="has not been reset"):
        policy.predict(env_b.reset(seed=0)[0])
    env_a.reset(seed=0)
    obs_b, _ = env_b.reset(seed=1)
    with pytest.raises(ValueError, match=r"bound to ORANSlicingEnv at 0x[0-9a-f]+.*not that env's current one"):
        policy.predict(obs_b)
    obs_a = env_a.unwrapped.last_observation
    action, _ = policy.predict(obs_a)  # its own env's observation: fine
    assert env_a.action_space.contains(action)
    with pytest.raises(TypeError, match="need sub-envs in this process"):
        make_policy("slice_aware", type("RemoteVec", (), {"num_envs": 2})())


def test_dataset_runner_hygiene(tmp_path):
    """Leftover temp files are ignored, a second writer is refused, the output carries a manifest."""
    from oran_gym.artefacts import ArtefactError, manifest_path
    from oran_gym.baselines.dataset import OutputLock, default_workers

    out = tmp_path / "d.npz"
    shards = tmp_path / "d.npz.shards"
    shards.mkdir()
    (shards / "shard_00000000_00000002.npz.tmp.npz").write_bytes(b"half a zip")  # the old temp name's leftover
    (shards / ".shard_00000000_00000002.npz.123.abcd.partial").write_bytes(b"junk")
    generate_dataset("tiny", 4, out, seed=0, oracle="esa", workers=1, shard_size=2, progress=False)
    d = load_dataset(out)
    assert d["value"].shape == (4,) and manifest_path(out).exists()
    with OutputLock(shards):
        with pytest.raises(RuntimeError, match=r"being written by another run \(PID \d+\)"):
            generate_dataset("tiny", 4, out, seed=0, oracle="esa", workers=1, shard_size=2, progress=False)
    (shards / ".lock").write_text("999999999")  # a stale lock of a dead run is taken over
    generate_dataset("tiny", 4, out, seed=0, oracle="esa", workers=1, shard_size=2, progress=False)
    assert not (shards / ".lock").exists()
    out.write_bytes(out.read_bytes()[:-10])  # truncated after saving
    with pytest.raises(ArtefactError, match="truncated or replaced"):
        load_dataset(out)
    assert 1 <= default_workers(100) <= max(1, (__import__("os").cpu_count() or 1) - 1)


@pytest.mark.slow
def test_killing_a_multi_worker_dataset_run_leaves_no_orphans(tmp_path):
    """Fault injection: SIGKILL the parent of `oran-gym dataset --workers 2`; its workers must exit too."""
    import os
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-m", "oran_gym.cli", "dataset", "--preset", "paper", "--samples", "400",
                             "--workers", "2", "--out", str(tmp_path / "big.npz")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def children(pid):
        out = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    stat = open(f"/proc/{d}/stat").read()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d))
        return out

    deadline = time.time() + 120
    workers = []
    while time.time() < deadline and len(workers) < 2:
        time.sleep(0.5)
        workers = [c for c in children(proc.pid)]
    assert len(workers) >= 2, "the pool did not start"
    time.sleep(2.0)  # the workers are solving
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 20
    while time.time() < deadline and any(os.path.exists(f"/proc/{w}") and "Z" not in open(f"/proc/{w}/stat").read().rsplit(")", 1)[1].split()[0] for w in workers):
        time.sleep(0.2)
    alive = [w for w in workers if os.path.exists(f"/proc/{w}") and "Z" not in open(f"/proc/{w}/stat").read().rsplit(")", 1)[1].split()[0]]
    assert not alive, f"orphaned workers still running: {alive}"


@pytest.mark.parametrize("make, exc, match", [
    (lambda: MILPOracle(time_limit_s="5"), TypeError, r"MILPOracle: time_limit_s must be a number > 0 or None, got '5' of type str"),
    (lambda: MILPOracle(time_limit_s=0), ValueError, r"MILPOracle: time_limit_s must be a number > 0 or None, got 0"),
    (lambda: MILPOracle(time_limit_s=float("nan")), ValueError, r"MILPOracle: time_limit_s must be .* got nan"),
    (lambda: MILPOracle(mip_rel_gap=1.0), ValueError, r"MILPOracle: mip_rel_gap must be a number >= 0 and < 1, got 1.0"),
    (lambda: MILPOracle(relax_interference="yes"), TypeError, r"relax_interference must be True or False, got 'yes'"),
    (lambda: ExhaustiveSearchOracle(max_candidates=float("nan")), TypeError, r"ExhaustiveSearchOracle: max_candidates must be an integer >= 1, got nan of type float"),
    (lambda: ExhaustiveSearchOracle(max_candidates=0), ValueError, r"ExhaustiveSearchOracle: max_candidates must be an integer >= 1, got 0"),
    (lambda: LocalSearchOracle(max_sweeps=-1), ValueError, r"LocalSearchOracle: max_sweeps must be an integer >= 0, got -1"),
    (lambda: LocalSearchOracle(time_limit_s=[1]), TypeError, r"MILPOracle: time_limit_s must be a number > 0 or None, got \[1\]"),
])
def test_oracle_arguments_are_checked_by_name(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_oracle_arguments_accept_numpy_numbers():
    o = MILPOracle(time_limit_s=np.float32(2.5), mip_rel_gap=np.float64(0.0))
    assert o.time_limit_s == 2.5 and type(o.time_limit_s) is float
    assert ExhaustiveSearchOracle(max_candidates=np.int64(10)).max_candidates == 10


def test_milp_time_limit_covers_building_the_model(monkeypatch):
    from scipy import optimize

    from oran_gym.baselines import oracles

    cfg = ScenarioConfig.preset("tiny")
    net = NetworkState.initial(cfg, np.random.default_rng(0))
    real_build, real_milp = oracles.MILPOracle._build, optimize.milp
    seen = {}

    def slow_build(self, *a):
        time.sleep(0.3)
        return real_build(self, *a)

    def spy_milp(*a, options, **kw):
        seen.update(options)
        return real_milp(*a, options=options, **kw)

    monkeypatch.setattr(oracles.MILPOracle, "_build", slow_build)
    monkeypatch.setattr(oracles.optimize, "milp", spy_milp)
    sol = MILPOracle(time_limit_s=1.0).solve_detailed(cfg, net.gain_lin, net.offered_load_bps)
    assert sol.proven_optimal and 0 < seen["time_limit"] <= 0.7  # what was left after building
    with pytest.raises(TimeoutError, match=r"MILPOracle: building the model \(\d+ variables, \d+ constraints\) took 0\.\d+ s, all of time_limit_s=0.2"):
        MILPOracle(time_limit_s=0.2).solve_detailed(cfg, net.gain_lin, net.offered_load_bps)


def test_constrained_objective_is_the_papers_algorithm_1_in_both_oracles():
    """objective="constrained": maximise eq. (10) over allocations meeting every constraint; the
    MILP and the exhaustive search agree, and an instance with none gives (None, -inf)."""
    import math

    from oran_gym.baselines import ExhaustiveSearchOracle, MILPOracle
    from oran_gym.sim.dynamics import NetworkState

    cfg = ScenarioConfig.preset("tiny").replace(num_prbs=5)  # tiny's 3 PRBs cannot give all 4 UEs a rate
    feasible = infeasible = 0
    for seed in range(12):
        net = NetworkState.initial(cfg, np.random.default_rng(seed))
        load = net.offered_load_bps * (0.2 if seed % 2 else 3.0)  # light and heavy TTIs
        a_esa, v_esa = ExhaustiveSearchOracle(objective="constrained").solve(cfg, net.gain_lin, load)
        a_milp, v_milp = MILPOracle(objective="constrained").solve(cfg, net.gain_lin, load)
        if a_esa is None:
            infeasible += 1
            assert a_milp is None and v_esa == v_milp == -math.inf
            continue
        feasible += 1
        m = evaluate_allocation(cfg, net.gain_lin, a_milp, load)
        assert m.num_violations == 0 and v_milp == m.reward
        assert v_milp == pytest.approx(v_esa, rel=1e-9)
        # never better than the penalised optimum, which may trade a violation for rate
        assert v_milp <= MILPOracle().solve(cfg, net.gain_lin, load)[1] + 1e-9
    assert feasible and infeasible
    with pytest.raises(ValueError, match=r"MILPOracle: objective must be one of \['reward', 'constrained'\], got 'rate'"):
        MILPOracle(objective="rate")


def test_constrained_labels_mark_infeasible_drops_and_match_the_esa(tmp_path):
    """generate_dataset(objective="constrained"): the paper's labels; MILP and ESA agree drop by drop,
    and drops with no feasible allocation carry feasible=False, an idle label and -inf."""
    from oran_gym.baselines.dataset import feasible_only

    cfg = ScenarioConfig.preset("tiny").replace(num_prbs=4)  # 10 of these 12 drops have a feasible allocation
    kw = {"seed": 3, "objective": "constrained", "workers": 1, "progress": False}
    milp = load_dataset(generate_dataset(cfg, 12, tmp_path / "milp.npz", oracle="milp", **kw))
    esa = load_dataset(generate_dataset(cfg, 12, tmp_path / "esa.npz", oracle="esa", **kw))
    assert milp["objective"] == "constrained"
    np.testing.assert_array_equal(milp["feasible"], esa["feasible"])
    assert 0 < milp["feasible"].sum() < 12, milp["feasible"]
    bad = ~milp["feasible"]
    assert np.all(np.isneginf(milp["value"][bad])) and np.all(milp["owner"][bad] == -1) and np.all(milp["power_w"][bad] == 0)
    np.testing.assert_allclose(milp["value"][~bad], esa["value"][~bad], rtol=1e-9)
    kept = feasible_only(milp)
    assert len(kept["value"]) == milp["feasible"].sum() and np.isfinite(kept["value"]).all()
    assert kept["gains"].shape[0] == len(kept["value"]) and kept["config"] == milp["config"]
    # every kept label meets every constraint
    for i in range(len(kept["value"])):
        a = Allocation(kept["assoc"][i], kept["owner"][i], kept["power_w"][i])
        assert evaluate_allocation(cfg, kept["gains"][i], a, kept["offered_load_bps"][i]).num_violations == 0
    # reward-labelled datasets are all feasible; the local search has no constrained objective
    plain = load_dataset(generate_dataset(cfg, 2, tmp_path / "plain.npz", seed=3, oracle="esa", workers=1, progress=False))
    assert plain["objective"] == "reward" and plain["feasible"].all()
    with pytest.raises(ValueError, match="objective='constrained' needs oracle='milp' or 'esa'"):
        generate_dataset(cfg, 2, tmp_path / "ls.npz", oracle="local_search", objective="constrained")
    with pytest.raises(ValueError, match="objective must be 'reward' or 'constrained', got 'rate'"):
        generate_dataset(cfg, 2, tmp_path / "x.npz", objective="rate")


def test_repair_allocation_restores_feasibility_and_never_lowers_the_reward():
    from oran_gym.baselines import repair_allocation
    from oran_gym.sim.params import ru_power_limit_w

    cfg = ScenarioConfig.preset("tiny").replace(num_rus=2, num_prbs=4)
    params, ue_slice, levels = scenario_arrays(cfg)
    for seed in range(6):
        net = NetworkState.initial(cfg, np.random.default_rng(seed))
        rng = np.random.default_rng(100 + seed)
        owner = rng.integers(-1, cfg.num_ues, size=(cfg.num_rus, cfg.num_prbs))
        power = np.where(owner >= 0, 2.0 * levels[ue_slice[np.maximum(owner, 0)], -1], 0.0)  # above the slice cap
        # a UE on both RUs and powers above the limits: not a valid allocation yet
        raw = Allocation(np.full(cfg.num_ues, -1), owner, power)
        fixed, value = repair_allocation(cfg, net.gain_lin, raw, net.offered_load_bps, max_sweeps=0)
        ru_of = {}
        for b in range(cfg.num_rus):
            for u in fixed.owner[b][fixed.owner[b] >= 0]:
                assert ru_of.setdefault(int(u), b) == b  # one RU per UE
            assert fixed.power_w[b].sum() <= ru_power_limit_w(params) * (1 + kernels.POWER_RTOL)
        # no PRB above its owner's slice cap (eq. 13)
        served = fixed.owner >= 0
        assert np.all(fixed.power_w[served] <= levels[ue_slice[fixed.owner[served]], -1] * (1 + kernels.POWER_RTOL))
        assert value == evaluate_allocation(cfg, net.gain_lin, fixed, net.offered_load_bps).reward
        # sweeps only improve: more sweeps, never a lower reward
        values = [repair_allocation(cfg, net.gain_lin, fixed, net.offered_load_bps, max_sweeps=k)[1] for k in (0, 1, 3)]
        assert values[0] == pytest.approx(value) and values[0] <= values[1] + 1e-9 <= values[2] + 2e-9
    with pytest.raises(ValueError, match="max_sweeps"):
        repair_allocation(cfg, net.gain_lin, fixed, net.offered_load_bps, max_sweeps=-1)
