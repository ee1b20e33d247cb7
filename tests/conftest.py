"""Shared fixtures: scenarios, seeded random instances, a headless matplotlib."""

from __future__ import annotations

import os

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

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
