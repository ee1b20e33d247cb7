"""`ORANSlicingVectorEnv` against `SyncVectorEnv` over the single env: equal step for step."""

from __future__ import annotations

import gymnasium as gym
import numba
import numpy as np
import pytest

import oran_gym  # noqa: F401  (registers ORANSlicing-v0)
from oran_gym.envs.slicing_env import ORANSlicingEnv
from oran_gym.envs.vector_env import ORANSlicingVectorEnv


def assert_same(a, b, path="", exact=True):
    """Recursive equality of batched results (dicts of arrays with their `_key` masks)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{path}: keys differ: {set(a) ^ set(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{path}/{k}", exact)
        return
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), f"{path}: tuples differ"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]", exact)
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{path}: shape {a.shape} != {b.shape}"
    assert a.dtype == b.dtype, f"{path}: dtype {a.dtype} != {b.dtype}"
    if exact or a.dtype.kind not in "fc":
        assert np.array_equal(a, b, equal_nan=True), f"{path}: values differ at {np.argwhere(a != b)[:3].tolist()}"
    else:
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg=path)


def random_actions(envs, rng):
    """A valid random action per sub-env (prb: uniform over the mask; full: uniform over the space)."""
    if isinstance(envs.single_action_space, gym.spaces.Discrete):
        masks = envs.action_masks() if hasattr(envs, "action_masks") else None
        return np.array([rng.choice(np.flatnonzero(row)) for row in masks])
    return rng.integers(0, envs.single_action_space.nvec[0], size=envs.action_space.shape)


# loaded so that FIFOs overflow, URLLC bits miss deadlines, eMBB bits run late and expire
HEAVY_QUEUE = {"queue_model": "backlog", "max_backlog_bits": 40000.0, "embb_packet_rate_pps": 1500.0,
               "embb_delay_budget_s": 0.003, "max_queue_delay_s": 0.006, "episode_length_tti": 12}


def run_pair(num_envs, steps, seed=3, exact=True, **kwargs):
    """Step the native vector env and a reference side by side with the same actions; compare all."""
    backend = kwargs.pop("reference_backend", None)
    threads = kwargs.pop("num_threads", None)
    native = gym.make_vec("ORANSlicing-v0", num_envs=num_envs, vectorization_mode="vector_entry_point", num_threads=threads,
                          **kwargs)
    if backend is None:
        ref = gym.make_vec("ORANSlicing-v0", num_envs=num_envs, vectorization_mode="sync", **kwargs)
    else:
        ref = ORANSlicingVectorEnv(num_envs, backend=backend, **kwargs)
    assert isinstance(native.unwrapped, ORANSlicingVectorEnv)
    assert native.single_observation_space == ref.single_observation_space
    assert native.single_action_space == ref.single_action_space
    assert native.observation_space == ref.observation_space and native.action_space == ref.action_space
    o1, i1 = native.reset(seed=seed)
    o2, i2 = ref.reset(seed=seed)
    assert_same(o1, o2, "reset obs", exact)
    assert_same(i1, i2, "reset info", exact)
    rng = np.random.default_rng(seed)
    truncations = 0
    for t in range(steps):
        actions = random_actions(native, rng)
        out1, out2 = native.step(actions), ref.step(actions)
        for name, x, y in zip(("obs", "reward", "terminated", "truncated", "info"), out1, out2):
            assert_same(x, y, f"step {t} {name}", exact)
        assert native.observation_space.contains(out1[0])
        truncations += int(out1[3].sum())
    native.close()
    ref.close()
    return truncations


@pytest.mark.parametrize(
    "kwargs, steps",
    [
        ({"config": "tiny"}, 130),  # 30 steps per episode: several autoresets
        ({"config": "tiny", "obs_mode": "paper", "reward_mode": "tti"}, 70),
        ({"config": "multi_cell", "episode_length_tti": 2}, 160),
        ({"config": "paper", "episode_length_tti": 2}, 110),
        ({"config": "tiny", "csi_error_db": 2.0, "fading_rho": 0.6, "shadowing_std_db": 0.0}, 70),
        ({"config": "tiny", "ue_speed_mps": 30.0, "fading_rho": None}, 70),  # movement: the compat path
        ({"config": "tiny", "fading_rho": None}, 70),  # static UEs, Jakes correlation of speed 0: rho = 1
        ({"config": "tiny", "action_mode": "full"}, 25),
        ({"config": "multi_cell", "action_mode": "full", "csi_error_db": 1.0, "episode_length_tti": 3}, 8),
        ({"config": "tiny", "action_mode": "full", "obs_mode": "paper"}, 25),
        ({"config": {"num_embb_ues": 0, "num_urllc_ues": 3, "num_prbs": 4}, "invalid_action": "idle"}, 90),
        # the backlog model, loaded so that FIFOs overflow, URLLC misses deadlines and eMBB bits expire
        ({"config": "tiny", **HEAVY_QUEUE}, 130),
        ({"config": "paper_queue", "episode_length_tti": 2}, 110),
        ({"config": "tiny", **HEAVY_QUEUE, "obs_mode": "paper", "reward_mode": "tti", "embb_arrival_process": "onoff"}, 70),
        ({"config": "tiny", **HEAVY_QUEUE, "action_mode": "full"}, 30),
        ({"config": "multi_cell", **HEAVY_QUEUE, "action_mode": "full", "embb_arrival_process": "onoff", "episode_length_tti": 3}, 8),
        ({"config": "tiny", **HEAVY_QUEUE, "traffic_trace": "synthetic", "embb_arrival_process": "onoff"}, 70),  # compat path
    ],
)
def test_equals_sync_vector_env_step_for_step(kwargs, steps):
    assert run_pair(3, steps, **kwargs) > 0  # every case crosses at least one autoreset


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two numba threads")
def test_equals_sync_with_threads_and_the_thread_pool_of_draws():
    # 70 sub-envs on 2 threads: parallel kernels, and the random draws run on the thread pool
    run_pair(70, 35, config="tiny", num_threads=2)


@pytest.mark.parametrize("kwargs", [{"config": "tiny"}, {"config": "multi_cell", "episode_length_tti": 1},
                                    {"config": "tiny", "action_mode": "full"}, {"config": "tiny", "obs_mode": "paper"}])
def test_numpy_backend_is_the_numba_kernels_twin(kwargs):
    from oran_gym.benchmarks import batched_numpy

    run_pair(4, 60, exact=False, reference_backend=batched_numpy, **kwargs)


def test_backend_must_be_numba_or_a_kernel_module():
    with pytest.raises(ValueError, match="oran_gym.benchmarks.batched_numpy"):
        ORANSlicingVectorEnv(2, "tiny", backend="numpy")
    with pytest.raises(ValueError, match="a module with prb_step"):
        ORANSlicingVectorEnv(2, "tiny", backend=np)
    from oran_gym.benchmarks import batched_numpy

    with pytest.raises(ValueError, match="does not model queues; queue_model='backlog' needs backend='numba'"):
        ORANSlicingVectorEnv(2, "paper_queue", backend=batched_numpy)


def test_autoreset_is_next_step():
    envs = ORANSlicingVectorEnv(2, "tiny", invalid_action="idle")
    obs, _ = envs.reset(seed=0)
    per_episode = envs.config.episode_length_tti * envs.config.num_rus * envs.config.num_prbs
    for _ in range(per_episode - 1):
        _, _, term, trunc, _ = envs.step(np.zeros(2, dtype=np.int64))
        assert not trunc.any() and not term.any()
    _, _, _, trunc, info = envs.step(np.zeros(2, dtype=np.int64))
    assert trunc.all() and info["tti_complete"].all()
    # the next step resets: the action is ignored (even an out-of-mask one), reward 0, flags False
    single = ORANSlicingEnv("tiny")
    ref_obs, ref_info = single.reset(seed=0)
    single.reset(seed=0)
    obs, reward, term, trunc, info = envs.step(np.full(2, envs.single_action_space.n - 1))
    assert (reward == 0).all() and not term.any() and not trunc.any()
    assert (info["tti"] == 0).all() and not info["tti_complete"].any()
    # sub-env 0 continues its own generator: a fresh episode, not the seed-0 one
    assert not np.array_equal(obs[0], ref_obs)
    _, _, _, trunc, _ = envs.step(np.zeros(2, dtype=np.int64))
    assert not trunc.any()


def test_sub_env_i_is_seeded_seed_plus_i():
    envs = ORANSlicingVectorEnv(3, "paper", episode_length_tti=1)
    obs, info = envs.reset(seed=11)
    for i in range(3):
        single = ORANSlicingEnv("paper", episode_length_tti=1)
        o, inf = single.reset(seed=11 + i)
        np.testing.assert_array_equal(obs[i], o)
        np.testing.assert_array_equal(info["action_mask"][i], inf["action_mask"])
    again, _ = ORANSlicingVectorEnv(3, "paper").reset(seed=11)
    np.testing.assert_array_equal(again, obs)
    other, _ = ORANSlicingVectorEnv(3, "paper").reset(seed=12)
    assert not np.array_equal(other, obs)
    np.testing.assert_array_equal(other[0], obs[1])  # seed 12 + 0 == seed 11 + 1
    listed, _ = ORANSlicingVectorEnv(3, "paper").reset(seed=[11, 12, 13])
    np.testing.assert_array_equal(listed, obs)


def test_partial_reset_with_reset_mask_equals_sync():
    native = ORANSlicingVectorEnv(3, "tiny")
    sync = gym.make_vec("ORANSlicing-v0", num_envs=3, vectorization_mode="sync", config="tiny")
    native.reset(seed=5)
    sync.reset(seed=5)
    rng = np.random.default_rng(0)
    for _ in range(4):
        a = random_actions(native, rng)
        native.step(a)
        sync.step(a)
    mask = np.array([False, True, False])
    o1, i1 = native.reset(seed=[None, 40, None], options={"reset_mask": mask})
    o2, i2 = sync.reset(seed=[None, 40, None], options={"reset_mask": mask.copy()})
    assert_same(o1, o2, "obs")
    assert_same(i1, i2, "info")
    for _ in range(40):  # the sub-envs are now out of step with each other
        a = random_actions(native, rng)
        assert_same(native.step(a), sync.step(a), "step")


def test_batched_action_masks():
    envs = ORANSlicingVectorEnv(4, "multi_cell")
    singles = [ORANSlicingEnv("multi_cell") for _ in range(4)]
    _, info = envs.reset(seed=0)
    for i, env in enumerate(singles):
        env.reset(seed=i)
    masks = envs.action_masks()
    assert masks.shape == (4, envs.single_action_space.n) and masks.dtype == np.bool_
    np.testing.assert_array_equal(masks, info["action_mask"])
    rng = np.random.default_rng(1)
    seen_masked = False
    for _ in range(60):
        actions = random_actions(envs, rng)
        _, _, _, _, info = envs.step(actions)
        for i, env in enumerate(singles):
            env.step(int(actions[i]))
            np.testing.assert_array_equal(envs.action_masks()[i], env.action_masks())
        np.testing.assert_array_equal(envs.action_masks(), info["action_mask"])
        seen_masked |= not envs.action_masks().all()
    assert seen_masked  # with 3 RUs, associated UEs are masked on the other RUs
    full = ORANSlicingVectorEnv(2, "tiny", action_mode="full")
    full.reset(seed=0)
    assert full.action_masks().shape == (2, full.single_action_space.shape[0] * full.single_action_space.nvec[0])


def test_make_vec_default_is_native_and_sync_still_available():
    envs = gym.make_vec("ORANSlicing-v0", num_envs=2, config="tiny")
    assert isinstance(envs.unwrapped, ORANSlicingVectorEnv)
    assert envs.unwrapped.spec.id == "ORANSlicing-v0"
    sync = gym.make_vec("ORANSlicing-v0", num_envs=2, vectorization_mode="sync", config="tiny")
    assert isinstance(sync, gym.vector.SyncVectorEnv)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_envs": 0}, "num_envs must be an integer >= 1"),
        ({"num_envs": 2, "backend": "jax"}, "backend must be"),
        ({"num_envs": 2, "render_mode": "rgb_array"}, "does not render"),
        ({"num_envs": 2, "max_episode_steps": 5}, "episode_length_tti"),
        ({"num_envs": 2, "action_mode": "per_prb"}, "action_mode must be one of"),
        ({"num_envs": 2, "num_prbs": 0}, "num_prbs"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ORANSlicingVectorEnv(config="tiny", **kwargs)


def test_bad_actions_are_named():
    envs = ORANSlicingVectorEnv(2, "tiny")
    with pytest.raises(RuntimeError, match="reset"):
        envs.step(np.zeros(2, dtype=np.int64))
    envs.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        envs.step(np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="integer array"):
        envs.step(np.zeros(2))
    with pytest.raises(ValueError, match=r"actions must be an integer array of shape \(2,\) .*got a ragged list \[1, \[2\]\]"):
        envs.step([1, [2]])
    full = ORANSlicingVectorEnv(2, "tiny", action_mode="full")
    full.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions must be an integer array of shape \(2, 3\) .*got a ragged list"):
        full.step([[1, 2, 3], [1, [2], 3]])
    with pytest.raises(ValueError, match=r"actions\[1\] = 99 is out of range"):
        envs.step(np.array([0, 99]))
    multi = ORANSlicingVectorEnv(2, "multi_cell", invalid_action="raise")
    multi.reset(seed=0)
    multi.step(np.array([1, 0]))  # sub-env 0: UE 0 on RU 0
    for _ in range(multi.config.num_prbs - 1):
        multi.step(np.zeros(2, dtype=np.int64))
    assert not multi.action_masks()[0, 1] and multi.action_masks()[1, 1]  # now on RU 1
    with pytest.raises(ValueError, match=r"actions\[0\] = 1 \(UE 0, level 0\) is masked .* sub-env 0"):
        multi.step(np.array([1, 1]))
    with pytest.raises(ValueError, match="reset_mask"):
        envs.reset(options={"reset_mask": np.array([1, 0])})
    with pytest.raises(ValueError, match="takes only 'reset_mask'"):
        envs.reset(options={"difficulty": 3})
    full = ORANSlicingVectorEnv(2, "tiny", action_mode="full")
    full.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions\[1, 2\] = -1 is out of range"):
        a = np.zeros(full.action_space.shape, dtype=np.int64)
        a[1, 2] = -1
        full.step(a)


def test_check_prb_actions_kernel_equals_its_numpy_reading():
    """The vector env's one-call action check: range first, then the masks; 'idle' zeroes masked actions."""
    from oran_gym.sim.batched import check_prb_actions

    rng = np.random.default_rng(7)
    for trial in range(200):
        n, num_actions = int(rng.integers(1, 9)), int(rng.integers(2, 12))
        mask = rng.random((n, num_actions)) < 0.6
        mask[:, 0] = True  # idle is always allowed
        ids = np.sort(rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False)).astype(np.int64)
        acts = rng.integers(-1 if trial % 5 == 0 else 0, num_actions + (trial % 7 == 0), size=n).astype(np.int64)
        for idle in (True, False):
            got, invalid = acts.copy(), np.ones(n, np.bool_)
            code, e = check_prb_actions(ids, got, mask, num_actions, idle, invalid)
            sub = acts[ids]
            bad = (sub < 0) | (sub >= num_actions)
            if bad.any():
                assert (code, e) == (1, ids[np.argmax(bad)])
                continue
            masked = ~mask[ids, sub]
            if masked.any() and not idle:
                assert (code, e) == (2, ids[np.argmax(masked)])
                continue
            want, want_invalid = acts.copy(), np.zeros(n, np.bool_)
            want[ids[masked]], want_invalid[ids[masked]] = 0, True
            assert (code, e) == (0, -1)
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(invalid, want_invalid)


def test_floor_at_one_reports_the_info_layout_against_the_single_step():
    from oran_gym.benchmarks.bench_vector import floor_at_one

    f = floor_at_one(50, repeats=1)
    assert set(f) == {"native@1_step_us", "info_layout_us", "single_step_us", "info_layout_over_single_step",
                      "bound_on_native@1_over_single", "steps", "repeats"}
    assert (f["steps"], f["repeats"]) == (50, 1)
    assert all(np.isfinite(v) and v > 0 for v in f.values())
    assert f["bound_on_native@1_over_single"] == pytest.approx(f["single_step_us"] / f["info_layout_us"])
    assert f["info_layout_over_single_step"] * f["bound_on_native@1_over_single"] == pytest.approx(1.0)


def test_entry_points_step_the_batch_exactly_as_the_dispatchers():
    """`batched.entry_point` (the compiled kernel called without numba's dispatch) leaves every
    array of the batch bit-equal to the dispatcher's call, over whole TTIs of random valid actions."""
    from oran_gym.sim import batch_state, batched

    fast_env, slow_env = (ORANSlicingVectorEnv(3, "tiny", invalid_action="idle") for _ in range(2))
    fast_env.reset(seed=5)
    slow_env.reset(seed=5)
    ids, acts = fast_env._all, np.zeros(3, np.int64)
    prb_step = batched.entry_point(batched.prb_step_serial, ids, acts, fast_env._st)
    begin_tti = batched.entry_point(batched.begin_tti_serial, ids, fast_env._st)
    advance = batched.entry_point(batched.advance_dynamics_serial, ids, fast_env._st)
    assert prb_step is not batched.prb_step_serial and callable(prb_step)
    rng = np.random.default_rng(11)
    per_tti = fast_env.config.num_rus * fast_env.config.num_prbs
    for tti in range(3):
        for _ in range(per_tti):
            acts = np.array([rng.choice(np.flatnonzero(m)) for m in fast_env._a.mask], dtype=np.int64)
            prb_step(ids, acts.copy(), fast_env._st)
            batched.prb_step_serial(ids, acts.copy(), slow_env._st)
        assert fast_env._a.int_out[:, 3].all()  # the TTI is complete
        advance(ids, fast_env._st)
        batched.advance_dynamics_serial(ids, slow_env._st)
        begin_tti(ids, fast_env._st)
        batched.begin_tti_serial(ids, slow_env._st)
        for name, *_ in batch_state.FIELDS:
            np.testing.assert_array_equal(getattr(fast_env._a, name), getattr(slow_env._a, name), err_msg=name)


def test_floor_at_scale_splits_the_native_step_into_its_phases():
    from oran_gym.benchmarks.bench_vector import floor_at_scale

    f = floor_at_scale(4, repeats=1)
    cfg = oran_gym.ScenarioConfig.coerce("paper")
    assert (f["num_envs"], f["repeats"]) == (4, 1)
    assert f["steps"] == cfg.episode_length_tti * cfg.num_rus * cfg.num_prbs + 1
    share = f["share_of_native_step"]
    assert list(share)[-1] == "Python outputs (obs, rewards, info)"
    assert sum(share.values()) == pytest.approx(1.0)
    assert all(v > 0 for k, v in share.items() if k != "Python outputs (obs, rewards, info)")
    # the phases' microseconds per env-step are their shares of the native loop, rescaled
    native_us = 1e6 / f["native_env_steps_per_s"]
    for phase, us in f["kernel_us_per_env_step"].items():
        assert us == pytest.approx(share[phase] * native_us)
    if f["envpool_env_steps_per_s"] is not None:
        assert f["bound_on_native_over_envpool"] == pytest.approx(f["kernels_env_steps_per_s"] / f["envpool_env_steps_per_s"])


def test_paired_timing_alternates_bursts_of_both_envs():
    from oran_gym.benchmarks.bench_vector import _paired

    made = []

    def make(name):
        def f():
            env = gym.make(name, **({"config": "tiny", "invalid_action": "idle"} if name == "ORANSlicing-v0" else {}))
            made.append(env)
            return env
        return f

    rates = _paired({"single": make("ORANSlicing-v0"), "cartpole": make("CartPole-v1")}, min_s=0.01, burst=20)
    assert set(rates) == {"single", "cartpole"}
    assert all(np.isfinite(v) and v > 0 for v in rates.values())
    assert len(made) == 2
