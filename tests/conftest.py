"""Shared fixtures: scenarios, seeded random instances, a headless matplotlib; the test tiers.

Tiers: `python -m pytest -m "not slow"` is the fast tier (every module's quick tests); the whole
suite is what CI runs. Tests of the optional extras (`requires_torch`: torch and SB3 from the
`agents` extra) are skipped, with the install command as the reason, when those are missing, so
the core tests run on the base install; CI sets ORAN_GYM_REQUIRE_EXTRAS=1, which turns a missing
extra into a failure instead of a skip.
"""

from __future__ import annotations

import importlib.util
import os

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")
if "PYTEST_XDIST_WORKER" in os.environ:
    # one intra-op thread per xdist worker: two workers of torch's default two threads each on two
    # cores made a small LSTM fit 25x slower (8 s alone, 228 s under `-n 2`)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

from oran_gym import Allocation, ScenarioConfig  # noqa: E402
from oran_gym.sim.dynamics import NetworkState  # noqa: E402


def random_instance(seed: int, num_rus: int = 1, **overrides):
    """A random scenario (sizes drawn from the seed), its network state and a random allocation.

    The allocation mixes idle PRBs, zero powers, powers above the slice cap and RU totals above
    the limit, so projection and every QoS outcome get exercised.
    """
    rng = np.random.default_rng(seed)
    cfg = ScenarioConfig(
        num_rus=num_rus,
        num_embb_ues=int(rng.integers(0, 5)),
        num_urllc_ues=int(rng.integers(1, 5)),
        num_prbs=int(rng.integers(1, 9)),
        power_level_fractions=(0.25, 0.5, 1.0),
        embb_max_se_bps_per_hz=float(rng.uniform(2, 10)),
        urllc_max_se_bps_per_hz=float(rng.uniform(1, 4)),
        ru_max_power_dbm=float(rng.uniform(25, 40)),
        **overrides,
    )
    net = NetworkState.initial(cfg, rng)
    owner = rng.integers(-1, cfg.num_ues, size=(cfg.num_rus, cfg.num_prbs))
    # association: each UE to one RU; keep only owners consistent with it
    assoc_ru = rng.integers(0, cfg.num_rus, size=cfg.num_ues)
    owner = np.where((owner >= 0) & (assoc_ru[np.maximum(owner, 0)] == np.arange(cfg.num_rus)[:, None]), owner, -1)
    power = rng.choice([0.0, 0.1, 0.5, 1.0, 3.0], size=owner.shape)
    alloc = Allocation.from_owner(owner, power, cfg.num_ues)
    return cfg, net, alloc, rng


@pytest.fixture
def tiny_cfg() -> ScenarioConfig:
    """The brute-force-sized preset."""
    return ScenarioConfig.preset("tiny")


AGENTS_EXTRA = ("torch", "stable_baselines3")


def pytest_collection_modifyitems(config, items):
    """Skip `requires_torch` tests when the agents extra is missing (fail instead under ORAN_GYM_REQUIRE_EXTRAS)."""
    missing = [m for m in AGENTS_EXTRA if importlib.util.find_spec(m) is None]
    if not missing:
        return
    if os.environ.get("ORAN_GYM_REQUIRE_EXTRAS"):
        raise pytest.UsageError(f"ORAN_GYM_REQUIRE_EXTRAS is set but {', '.join(missing)} are not installed")
    skip = pytest.mark.skip(reason=f"needs the agents extra ({', '.join(missing)} missing): "
                                   "pip install torch==2.13.0 && pip install 'oran-gym[agents]'")
    for item in items:
        if "requires_torch" in item.keywords:
            item.add_marker(skip)
