"""The dynamics' random stream (`oran_gym.sim.rng`): known answers, its pure-Python twin, statistics."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from oran_gym.sim import reference, rng


def test_xoshiro_and_splitmix_known_answers():
    # the reference vectors of xoshiro256** (state 1, 2, 3, 4) and SplitMix64 (seed 1234567)
    s = np.array([1, 2, 3, 4], np.uint64)
    assert [int(rng.next_u64(s)) for _ in range(10)] == [
        11520, 0, 1509978240, 1215971899390074240, 1216172134540287360, 607988272756665600,
        16172922978634559625, 8476171486693032832, 10595114339597558777, 2904607092377533576]
    assert rng.splitmix64_state(1234567).tolist() == [6457827717110365317, 3203168211198807973, 9817491932198370423,
                                                      4593380528125082431]


@pytest.mark.parametrize("seed", [0, 1, 2**63 + 5])
def test_samplers_equal_their_pure_python_twin(seed):
    state = rng.splitmix64_state(seed)
    twin = reference.Xoshiro256(state)
    s = state.copy()
    for _ in range(200):
        assert int(rng.next_u64(s)) == twin.next_u64()
        assert rng.uniform(s) == twin.uniform()
        assert rng.exponential(s) == twin.exponential()
        assert rng.normal(s) == twin.normal()
        for lam in (0.0, 0.125, 3.0, 9.99, 10.0, 57.5, 1e4, 1e7):
            assert rng.poisson(s, lam) == twin.poisson(lam)
    assert s.tolist() == twin.s


@pytest.mark.parametrize("rho, fresh", [(0.0, True), (0.9, True), (0.9, False)])
def test_fading_fill_equals_its_twin(rho, fresh):
    s = rng.splitmix64_state(7)
    twin = reference.Xoshiro256(s)
    shape = (2, 3, 4)
    start = (np.arange(24).reshape(shape) * (0.1 + 0.2j)) if rho else np.zeros((0, 0, 0), np.complex128)
    fading, power = start.copy(), np.empty(shape)
    rng.fill_fading(s, fading, power, rho, fresh)
    tw_fading, tw_power = twin.fading(start.copy(), rho, fresh, shape)
    assert np.array_equal(power, tw_power) and np.array_equal(fading, tw_fading)
    assert s.tolist() == twin.s


def test_seeding_follows_np_random():
    a = rng.seed_state(np.random.default_rng(3))
    assert np.array_equal(a, rng.seed_state(np.random.default_rng(3)))
    assert not np.array_equal(a, rng.seed_state(np.random.default_rng(4)))
    assert a.dtype == np.uint64 and a.any()


def test_distributions():
    s = rng.splitmix64_state(11)
    n = 100_000
    u = np.array([rng.uniform(s) for _ in range(n)])
    assert u.min() >= 0.0 and u.max() < 1.0 and stats.kstest(u, "uniform").pvalue > 1e-3
    e = np.array([rng.exponential(s) for _ in range(n)])
    assert stats.kstest(e, "expon").pvalue > 1e-3
    z = np.array([rng.normal(s) for _ in range(n)])
    assert stats.kstest(z, "norm").pvalue > 1e-3
    for lam in (0.125, 4.0, 30.0, 2e4):
        k = np.empty(20_000, np.int64)
        rng.fill_poisson(s, k, lam)
        assert k.min() >= 0
        # mean and variance both lam, within 5 standard errors
        assert abs(k.mean() - lam) < 5 * np.sqrt(lam / k.size)
        assert abs(k.var() / lam - 1.0) < 5 * np.sqrt(2.0 / k.size) + 0.01
        values, counts = np.unique(k, return_counts=True)
        expected = stats.poisson.pmf(values, lam) * k.size
        keep = expected > 20
        if keep.sum() > 2:
            chi2 = ((counts[keep] - expected[keep]) ** 2 / expected[keep]).sum()
            assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-4, lam


def test_fading_statistics_and_correlation():
    s = rng.splitmix64_state(5)
    shape = (1, 1, 200_000)
    none = np.zeros((0, 0, 0), np.complex128)
    power = np.empty(shape)
    rng.fill_fading(s, none, power, 0.0, True)
    assert power.mean() == pytest.approx(1.0, abs=0.01) and stats.kstest(power.ravel(), "expon").pvalue > 1e-3
    g, p = np.zeros(shape, np.complex128), np.empty(shape)
    rng.fill_fading(s, g, p, 0.9, True)
    g0 = g.copy()
    rng.fill_fading(s, g, p, 0.9, False)
    assert np.mean(np.abs(g) ** 2) == pytest.approx(1.0, abs=0.01) and np.allclose(p, np.abs(g) ** 2)
    assert np.abs(np.mean(g * np.conj(g0))) == pytest.approx(0.9, abs=0.01)


def test_normal_noise_and_poisson_fill_walk_memory_order():
    s, t = rng.splitmix64_state(9), rng.splitmix64_state(9)
    x = np.zeros((3, 4))
    rng.add_normal_noise(s, x, 2.0)
    assert np.array_equal(x.ravel(), [2.0 * rng.normal(t) for _ in range(12)])
