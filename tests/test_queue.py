"""The backlog model (`queue_model="backlog"`, oran_gym.sim.queue): conservation, its packet-by-packet
twin, the reward, the observation and the configuration errors."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import oran_gym
from oran_gym import Allocation, ScenarioConfig, evaluate_allocation
from oran_gym.sim import queue as queue_lib
from oran_gym.sim import reference
from oran_gym.sim.dynamics import ue_slices
from oran_gym.sim.params import pack_params

# loaded so that FIFOs overflow, URLLC bits miss deadlines, eMBB bits run late and expire
HEAVY = {"queue_model": "backlog", "max_backlog_bits": 40000.0, "embb_packet_rate_pps": 1500.0,
         "embb_delay_budget_s": 0.003, "max_queue_delay_s": 0.006, "episode_length_tti": 12}


def masked_random_action(env, rng):
    u = env.unwrapped
    if u.action_mode == "prb":
        return int(rng.choice(np.flatnonzero(u.action_masks())))
    return rng.integers(0, u._num_actions, size=u.action_space.shape)


def completed_ttis(env, rng, ttis):
    """Yield (queue status at the TTI's start, queued bits by age, the TTI's info) for `ttis` TTIs."""
    u = env.unwrapped
    for _ in range(ttis):
        status, fifo = u.queue_status, u.queue_bits
        while True:
            *_, truncated, info = env.step(masked_random_action(env, rng))
            if info["tti_complete"]:
                break
        yield status, fifo, info
        if truncated:
            env.reset()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(action_mode=st.sampled_from(["prb", "full"]), seed=st.integers(0, 2**31 - 1),
       arrival=st.sampled_from(["poisson", "onoff"]), backlog_packets=st.integers(1, 12),
       rate_pps=st.sampled_from([125.0, 800.0, 3000.0]), expiry_ttis=st.integers(3, 8))
def test_every_bit_is_accounted_for_in_every_tti(action_mode, seed, arrival, backlog_packets, rate_pps, expiry_ttis):
    """arrived = served + dropped + (queued after - queued before), exactly, for every UE and TTI."""
    cfg = ScenarioConfig.preset("tiny").replace(**{**HEAVY, "max_backlog_bits": 8000.0 * backlog_packets,
                                                   "embb_packet_rate_pps": rate_pps, "embb_arrival_process": arrival,
                                                   "max_queue_delay_s": expiry_ttis * 1e-3})
    env = gym.make("ORANSlicing-v0", config=cfg, action_mode=action_mode)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    totals = np.zeros(4, np.int64)
    queued_before = np.zeros(cfg.num_ues, np.int64)
    for status, fifo, info in completed_ttis(env, rng, 30):
        q = info["queue"]
        if info["tti"] == 0:
            queued_before[:] = 0
        arrived, served, dropped, queued = (q[k] for k in queue_lib.QUEUE_COUNTS)
        assert all(v.dtype == np.int64 and (v >= 0).all() for v in (arrived, served, dropped, queued))
        np.testing.assert_array_equal(queued_before + arrived, served + dropped + queued)
        np.testing.assert_array_equal(fifo.sum(axis=1), status.backlog_bits)  # the status is the FIFO's
        np.testing.assert_array_equal(served, np.minimum(np.floor(info["ue_rate_bps"] * 1e-3), status.backlog_bits))
        assert (q["hol_delay_s"] <= cfg.max_queue_delay_s + 1e-12).all()
        totals += [a.sum() for a in (arrived, served, dropped, queued)]
        queued_before = queued
    assert totals[0] > 0 and totals[1] > 0


def test_the_heavy_load_exercises_every_drop_and_miss():
    """The loaded config overflows, drops URLLC bits at their deadline, expires eMBB bits and runs late."""
    env = gym.make("ORANSlicing-v0", config="tiny", action_mode="full", **HEAVY)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    overflow = urgent = late = misses = 0
    for status, _, info in completed_ttis(env, rng, 60):
        overflow += status.overflow_bits.sum()
        urgent += status.urgent_bits.sum()
        late += status.late_bits.sum()
        misses += info["violations"]["delay"]
    assert overflow > 0 and urgent > 0 and late > 0 and misses > 0


@pytest.mark.parametrize("kwargs", [HEAVY, {**HEAVY, "urllc_delay_budget_s": 0.002, "urllc_packet_interval_s": 4e-4},
                                    {**HEAVY, "max_backlog_bits": 1e6, "max_queue_delay_s": 0.05}])
def test_the_age_buckets_equal_the_packet_by_packet_twin(kwargs):
    """`oran_gym.sim.queue` (FIFOs as age buckets) against `reference.QueueTwin` (lists of packets)."""
    cfg = ScenarioConfig.preset("tiny").replace(**kwargs)
    params, ue_slice = pack_params(cfg), ue_slices(cfg)
    U, H = cfg.num_ues, cfg.queue_horizon_ttis
    twin = reference.QueueTwin(params, ue_slice, H)
    q_bits = np.zeros((U, H), np.int64)
    rng = np.random.default_rng(5)
    arrived, overflow, backlog, urgent, late = (np.zeros(U, np.int64) for _ in range(5))
    hol = np.zeros(U)
    counts, delays = np.zeros((U, 4), np.int64), np.zeros((U, 2))
    for tti in range(200):
        embb = rng.poisson(3.0, size=cfg.num_embb_ues)
        queue_lib.queue_begin(q_bits, tti, embb, ue_slice, params, arrived, overflow, backlog, urgent, late, hol)
        status, twin_arrived, twin_hol = twin.begin(tti, embb)
        np.testing.assert_array_equal(arrived, twin_arrived)
        for got, want in zip((backlog, urgent, late, overflow), status, strict=True):
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(hol, twin_hol)
        rates = rng.choice([0.0, 3e5, 2.5e6, 2e7], size=U)
        # the partial outcome leaves the FIFO alone; the committed one applies the same numbers
        before = q_bits.copy()
        queue_lib.queue_tti_outcome(q_bits, tti, rates, arrived, overflow, ue_slice, params, counts, delays, False)
        np.testing.assert_array_equal(q_bits, before)
        preview = counts.copy()
        queue_lib.queue_tti_outcome(q_bits, tti, rates, arrived, overflow, ue_slice, params, counts, delays, True)
        np.testing.assert_array_equal(counts, preview)
        twin_counts, twin_delays = twin.end(tti, rates)
        np.testing.assert_array_equal(counts, twin_counts)
        np.testing.assert_allclose(delays, twin_delays, rtol=1e-12, atol=0)
        # the per-UE outcome the prb step uses agrees with the walk over the FIFO
        served, dropped, rate_v, delay_v, _ = queue_lib.queue_terms(rates, backlog, urgent, late, overflow, ue_slice, params)
        np.testing.assert_array_equal(served, counts[:, 1])
        np.testing.assert_array_equal(dropped, counts[:, 2])
        tw = reference.queue_terms(rates, backlog, urgent, late, overflow, ue_slice, params)
        for got, want in zip((served, dropped, rate_v, delay_v), tw[:4], strict=True):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("preset", ["paper_queue", "tiny"])
def test_full_mode_reward_equals_evaluate_allocation_with_the_queue(preset):
    env = gym.make("ORANSlicing-v0", config=preset, action_mode="full", **({} if preset == "paper_queue" else HEAVY))
    u = env.unwrapped
    env.reset(seed=3)
    rng = np.random.default_rng(1)
    for _ in range(8):
        gains, load, status = u.gains, u.offered_load_bps, u.queue_status
        _, reward, _, _, info = env.step(masked_random_action(env, rng))
        extra = {k: info["violations"][k] for k in ("association", "power_projection")}
        for backend in ("numba", "numpy"):
            m = evaluate_allocation(u.config, gains, u.last_tti_allocation, load, queue=status, extra_violations=extra,
                                    backend=backend)
            assert reward == pytest.approx(m.reward, rel=1e-12, abs=1e-12)
            assert m.violations == info["violations"]
            np.testing.assert_array_equal(m.served_bits, info["queue"]["served_bits"])
            np.testing.assert_array_equal(m.dropped_bits, info["queue"]["dropped_bits"])
        # the env keeps what it evaluated: the multi-agent reward split reads it
        kept = u.last_tti_metrics
        assert kept.reward == m.reward and kept.violations == m.violations
        for field in ("ue_rate_bps", "rate_violated", "delay_violated", "served_bits", "power_w"):
            np.testing.assert_array_equal(getattr(kept, field), getattr(m, field))
        kept.ue_rate_bps[:] = -1.0  # a copy: the env's record does not change
        assert (u.last_tti_metrics.ue_rate_bps >= 0).all()
        weights = np.where(u.ue_slice == 1, u.config.urllc_weight, u.config.embb_weight)
        # the objective is the weighted delivered rate: sum_u w_s served_u / T
        assert info["objective"] == pytest.approx(float(weights @ info["queue"]["served_bits"]) / u.config.tti_duration_s, rel=1e-12)


@pytest.mark.parametrize("preset", ["paper_queue", "tiny"])
def test_prb_marginal_rewards_sum_to_the_queue_tti_reward_minus_the_empty_allocations(preset):
    env = gym.make("ORANSlicing-v0", config=preset, **({} if preset == "paper_queue" else HEAVY))
    u = env.unwrapped
    env.reset(seed=2)
    rng = np.random.default_rng(4)
    for _ in range(6):
        gains, load, status = u.gains, u.offered_load_bps, u.queue_status
        total = 0.0
        for _ in range(u.config.prbs_per_tti):
            _, r, _, truncated, info = env.step(masked_random_action(env, rng))
            total += r
        metrics = evaluate_allocation(u.config, gains, u.last_tti_allocation, load, queue=status)
        empty = evaluate_allocation(u.config, gains, Allocation.empty(u.config), load, queue=status)
        assert u.last_tti_metrics is None  # the prb kernels build no AllocationMetrics
        assert total == pytest.approx(metrics.reward - empty.reward, rel=1e-9, abs=1e-9)
        assert info["objective"] == pytest.approx(metrics.objective, rel=1e-12)
        np.testing.assert_array_equal(info["queue"]["served_bits"], metrics.served_bits)
        if truncated:
            env.reset()


@pytest.mark.parametrize("action_mode", ["prb", "full"])
@pytest.mark.parametrize("obs_mode", ["full", "paper"])
def test_the_observation_shows_backlog_and_head_of_line_delay(action_mode, obs_mode):
    env = gym.make("ORANSlicing-v0", config="tiny", action_mode=action_mode, obs_mode=obs_mode, **HEAVY)
    u = env.unwrapped
    obs, _ = env.reset(seed=1)
    layout = u.observation_layout
    cfg = u.config
    assert layout["size"] == obs.shape[0] == env.observation_space.shape[0]
    rng = np.random.default_rng(0)
    seen_delay = False
    for _ in range(10 * (cfg.prbs_per_tti if action_mode == "prb" else 1)):
        status = u.queue_status
        np.testing.assert_allclose(obs[layout["backlog"]], np.minimum(1.0, status.backlog_bits / cfg.max_backlog_bits), rtol=1e-6)
        hol = u.queue_bits
        ages = np.array([np.flatnonzero(row).max() if row.any() else 0 for row in hol])
        np.testing.assert_allclose(obs[layout["hol_delay"]], ages * cfg.tti_duration_s / cfg.max_queue_delay_s, rtol=1e-6)
        seen_delay |= bool((ages > 0).any())
        obs, *_ = env.step(masked_random_action(env, rng))
    assert seen_delay


@pytest.mark.parametrize("action_mode", ["prb", "full"])
def test_both_checkers_pass_on_the_queue_preset(action_mode):
    import warnings

    from gymnasium.utils.env_checker import check_env

    sb3_check_env = pytest.importorskip("stable_baselines3.common.env_checker").check_env
    for kwargs in ({}, {"embb_arrival_process": "onoff"}):
        env = gym.make("ORANSlicing-v0", config="paper_queue", action_mode=action_mode, **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            check_env(env.unwrapped, skip_render_check=True)
            sb3_check_env(env.unwrapped, warn=True)


def test_the_paper_preset_has_no_queue_and_the_same_observation():
    plain = gym.make("ORANSlicing-v0", config="paper")
    _, info = plain.reset(seed=0)
    assert plain.unwrapped.queue_status is None and plain.unwrapped.queue_bits is None and "queue" not in info
    queued = gym.make("ORANSlicing-v0", config="paper_queue")
    assert queued.observation_space.shape[0] == plain.observation_space.shape[0] + 2 * 20


def test_onoff_source_keeps_the_long_run_rate_and_comes_in_bursts():
    cfg = ScenarioConfig.preset("tiny").replace(embb_arrival_process="onoff", embb_packet_rate_pps=1000.0,
                                                embb_on_mean_s=0.01, embb_off_mean_s=0.03)
    from oran_gym.sim.dynamics import NetworkState

    net = NetworkState.initial(cfg, np.random.default_rng(0))
    counts, states = [], []
    for _ in range(20000):
        net.advance()
        counts.append(net.arrivals.copy())
        states.append(net.embb_on.copy())
    counts, states = np.array(counts), np.array(states)
    assert counts.mean() == pytest.approx(1.0, rel=0.05)  # 1000 packets/s x 1 ms
    assert states.mean() == pytest.approx(0.25, abs=0.03)  # ON 10 ms of every 40 ms
    assert counts[~states].sum() == 0 and counts[states].mean() == pytest.approx(4.0, rel=0.05)


def test_trace_driven_rates_scale_the_queue_arrivals():
    cfg = ScenarioConfig.preset("tiny").replace(queue_model="backlog", traffic_trace="synthetic", embb_packet_rate_pps=2000.0)
    from oran_gym.sim.dynamics import NetworkState

    net = NetworkState.initial(cfg, np.random.default_rng(1))
    factors, counts = [], []
    for _ in range(3000):
        net.advance()
        factors.append(net.trace_factor()[: cfg.num_embb_ues])
        counts.append(net.arrivals.copy())
    factors, counts = np.array(factors).ravel(), np.array(counts).ravel()
    # E[arrivals | factor] = 2 factor: the regression slope through the origin
    assert np.dot(factors, counts) / np.dot(factors, factors) == pytest.approx(2.0, rel=0.05)
    assert np.corrcoef(factors, counts)[0, 1] > 0.15
    # without queues the trace scales the offered load, not the arrivals
    plain = NetworkState.initial(cfg.replace(queue_model="none"), np.random.default_rng(1))
    plain_counts = []
    for _ in range(3000):
        plain.advance()
        plain_counts.append(plain.arrivals.copy())
    assert abs(np.corrcoef(factors, np.array(plain_counts).ravel())[0, 1]) < 0.06


@pytest.mark.parametrize("changes, match", [
    ({"queue_model": "fifo"}, r"queue_model must be one of \['none', 'backlog'\], got 'fifo'"),
    ({"embb_arrival_process": "bursty"}, r"embb_arrival_process must be one of"),
    ({"queue_model": "backlog", "urllc_delay_budget_s": 5e-4}, r"urllc_delay_budget_s = 0.0005 is shorter than one TTI"),
    ({"queue_model": "backlog", "max_queue_delay_s": 0.005}, r"max_queue_delay_s = 0.005 is shorter than embb_delay_budget_s"),
    ({"queue_model": "backlog", "max_backlog_bits": 4000.0}, r"max_backlog_bits = 4000.0 is smaller than one packet \(8000 bits\)"),
    ({"queue_model": "backlog", "max_queue_delay_s": 10.0, "tti_duration_s": 1e-4, "urllc_delay_budget_s": 1e-3},
     r"= 100,000 TTIs exceeds 10,000"),
    ({"embb_arrival_process": "onoff", "embb_on_mean_s": 1e-4}, r"embb_on_mean_s = 0.0001 is shorter than one TTI"),
    ({"max_backlog_bits": 0.5}, r"max_backlog_bits must be a number in \[1, 1e\+12\]"),
])
def test_bad_queue_configs_are_named(changes, match):
    with pytest.raises(ValueError, match=match):
        ScenarioConfig.preset("tiny").replace(**changes)


def test_bad_queue_status_is_named():
    cfg = ScenarioConfig.preset("tiny")
    gains = np.ones((1, 4, 3))
    alloc, load = Allocation.empty(cfg), np.zeros(4)
    z = np.zeros(4, np.int64)
    with pytest.raises(TypeError, match="queue must be an oran_gym.sim.queue.QueueStatus"):
        evaluate_allocation(cfg, gains, alloc, load, queue=(z, z, z, z))
    with pytest.raises(ValueError, match=r"queue.late_bits\[2\] = -1; bit counts must be >= 0"):
        evaluate_allocation(cfg, gains, alloc, load, queue=oran_gym.QueueStatus(z, z, np.array([0, 0, -1, 0]), z))
    with pytest.raises(ValueError, match=r"urgent_bits\[0\] \+ late_bits\[0\] exceed backlog_bits\[0\] = 0"):
        evaluate_allocation(cfg, gains, alloc, load, queue=oran_gym.QueueStatus(z, np.array([8, 0, 0, 0]), z, z))


def test_myopic_milp_equals_exhaustive_search_on_queue_states():
    """Both oracles maximise the TTI's reward given the FIFOs (the myopic optimum) and agree."""
    from oran_gym.baselines import ExhaustiveSearchOracle, MILPOracle, OraclePolicy

    env = gym.make("ORANSlicing-v0", config="tiny", action_mode="full", **HEAVY)
    u = env.unwrapped
    obs, _ = env.reset(seed=7)
    policy = OraclePolicy(env, MILPOracle())
    esa, kinds = ExhaustiveSearchOracle(), set()
    for _ in range(12):
        status = u.queue_status
        kinds |= {k for k, v in status._asdict().items() if v.any()}
        _, v_esa = esa.solve(u.config, u.gains, u.offered_load_bps, queue=status)
        action, _ = policy.predict(obs)
        obs, reward, *_ = env.step(action)
        sol = policy.last_solution
        # the MILP drops the floor of served bits: at most one bit per UE of reward apart
        slack = u.config.num_ues * u.config.urllc_weight / (u.config.tti_duration_s * u.config.rate_scale_bps)
        assert sol.value == reward and v_esa - slack <= sol.value <= v_esa
    assert kinds == {"backlog_bits", "urgent_bits", "late_bits", "overflow_bits"}  # every term was exercised


def test_the_horizon_bound_bounds_every_policy_and_is_tight_over_one_tti():
    """`HorizonBound` >= the return of myopic and random play over the same H TTIs; with H = 1 it
    is the myopic optimum (to one bit per UE: the floor of R T)."""
    import copy

    from oran_gym.baselines import MILPOracle, OraclePolicy
    from oran_gym.baselines.horizon import HorizonBound, future_of

    env = gym.make("ORANSlicing-v0", config="tiny", action_mode="full", **{**HEAVY, "episode_length_tti": 40})
    u = env.unwrapped
    obs, _ = env.reset(seed=3)
    rng = np.random.default_rng(0)
    slack = u.config.num_ues * u.config.urllc_weight / (u.config.tti_duration_s * u.config.rate_scale_bps)
    for start in range(4):
        for horizon in (1, 4):
            gains, arrived = future_of(env, horizon)
            sol = HorizonBound().solve(u.config, gains, arrived, u.queue_bits, u.queue_status.overflow_bits)
            assert sol.proven_optimal
            returns = []
            for policy in ("myopic", "random", "random"):
                play = copy.deepcopy(env)
                oracle = OraclePolicy(play, MILPOracle())
                o, total = play.unwrapped.last_observation, 0.0
                for _ in range(horizon):
                    a = oracle.predict(o)[0] if policy == "myopic" else masked_random_action(play, rng)
                    o, r, *_ = play.step(a)
                    total += r
                returns.append(total)
            assert max(returns) <= sol.upper_bound + 1e-9
            if horizon == 1:
                assert sol.upper_bound <= returns[0] + slack + 1e-9
        obs, *_ = env.step(OraclePolicy(env, MILPOracle()).predict(obs)[0])


def test_the_horizon_bound_needs_the_backlog_model_and_consistent_shapes():
    from oran_gym.baselines.horizon import HorizonBound

    cfg = ScenarioConfig.preset("tiny")
    with pytest.raises(ValueError, match="HorizonBound needs queue_model='backlog', got 'none'"):
        HorizonBound().solve(cfg, np.ones((2, 1, 4, 3)), np.zeros((2, 4)), np.zeros((4, 5)), np.zeros(4))
    cfg = cfg.replace(queue_model="backlog")
    with pytest.raises(ValueError, match=r"arrived_bits must have shape \(2, 4\), got \(3, 4\)"):
        HorizonBound().solve(cfg, np.ones((2, 1, 4, 3)), np.zeros((3, 4)), np.zeros((4, 5)), np.zeros(4))
    with pytest.raises(ValueError, match="HorizonBound: time_limit_s"):
        HorizonBound(time_limit_s=-1)


def test_the_replayed_part_of_the_trace_is_honoured():
    from oran_gym.sim.dynamics import NetworkState, trace_part

    cfg = ScenarioConfig.preset("tiny").replace(traffic_trace="synthetic", trace_start_fraction=0.6, trace_stop_fraction=0.7)
    net = NetworkState.initial(cfg, np.random.default_rng(0))
    start, stop = trace_part(cfg, net.trace.shape[0])
    assert (start, stop) == (int(0.6 * net.trace.shape[0]), int(0.7 * net.trace.shape[0]))
    seen = []
    for _ in range(3 * (stop - start)):  # wraps around within the part
        seen.append(net.trace_index())
        net.advance()
    seen = np.concatenate(seen)
    assert seen.min() >= start and seen.max() < stop and len(np.unique(seen)) == stop - start
    with pytest.raises(ValueError, match=r"trace_stop_fraction \(0.5\) must exceed trace_start_fraction \(0.6\)"):
        cfg.replace(trace_stop_fraction=0.5)


def test_vector_env_trace_indices_and_loads_equal_the_single_envs():
    from oran_gym.envs.slicing_env import ORANSlicingEnv
    from oran_gym.envs.vector_env import ORANSlicingVectorEnv

    kwargs = {"config": "tiny", "traffic_trace": "synthetic", "queue_model": "backlog", "trace_start_fraction": 0.5}
    venv = ORANSlicingVectorEnv(3, **kwargs)
    with pytest.raises(RuntimeError, match="call reset"):
        venv.trace_indices()
    venv.reset(seed=4)
    singles = [ORANSlicingEnv(**kwargs) for _ in range(3)]
    for i, env in enumerate(singles):
        env.reset(seed=4 + i)
    np.testing.assert_array_equal(venv.trace_indices(), np.stack([e.trace_index for e in singles]))
    np.testing.assert_array_equal(venv.offered_load_bps, np.stack([e.offered_load_bps for e in singles]))
    plain = ORANSlicingVectorEnv(1, "tiny")
    plain.reset(seed=0)
    assert plain.trace_indices() is None


@pytest.mark.slow
def test_the_queue_experiments_run_end_to_end(tmp_path):
    """Smoke runs of the three issue-15 experiments (the committed results come from full runs)."""
    from oran_gym.benchmarks import reproduce_queue, reproduce_queue_forecast, reproduce_urban_macro
    from oran_gym.data import data_dir

    assert reproduce_queue.main(["--instances", "1", "--horizon", "2", "--warmup", "1", "--out-dir", str(tmp_path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "queue_horizon.json").read_text())["summary"]
    assert all(s["mean_gap"] >= -1e-9 for s in summary.values())  # the bound is never below myopic play
    assert reproduce_urban_macro.main(["--seeds", "1", "--timesteps", "1000", "--episodes", "1", "--out-dir", str(tmp_path),
                                       "--no-progress"]) == 0
    um = json.loads((tmp_path / "urban_macro.json").read_text())
    assert um["bracket"]["lower"] <= um["bracket"]["upper"]
    root = data_dir()
    if root is None:
        pytest.skip("no real operator-KPI data at ../shared/data or $ORAN_GYM_DATA")
    folder = root / "operator_kpis" / "network_operator_KPIs_time_series_dataset"
    assert reproduce_queue_forecast.main(["--seeds", "2", "--timesteps", "1000", "--episodes", "1", "--epochs", "1",
                                          "--data", str(folder), "--out-dir", str(tmp_path), "--no-progress"]) == 0
    qf = json.loads((tmp_path / "queue_forecast.json").read_text())
    assert [r["variant"] for r in qf["table"]] == ["no forecast", "persistence", "bilstm", "perfect"]
    assert qf["table"][3]["next_sample_mae_kpi_units"] == 0.0  # the perfect forecast is the next sample
