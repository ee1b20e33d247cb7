"""The canonical decision of one TTI (`Allocation`) and its evaluation (`evaluate_allocation`).

Every action mode, oracle and policy decodes into an `Allocation`; `evaluate_allocation` is the
one place where an allocation becomes KPIs and a reward. It validates its inputs, projects powers
onto the hard constraints (11), (13), (15), then runs the kernels of `oran_gym.sim.kernels` (or
their NumPy twins with `backend="numpy"`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from oran_gym.config import ScenarioConfig
from oran_gym.sim import kernels, reference
from oran_gym.sim.dynamics import ue_slices
from oran_gym.sim.params import RATE_SCALE_BPS, THETA_BIAS, THETA_C, THETA_R, pack_params, power_levels_w

__all__ = ["Allocation", "AllocationMetrics", "evaluate_allocation", "check_allocation"]


@dataclasses.dataclass
class Allocation:
    """UE association, PRB owners and per-PRB power of one TTI.

    Attributes:
        assoc: RU serving each UE, or -1, `[U]` int64.
        owner: UE served on each PRB of each RU, or -1 (idle), `[B, M]` int64.
        power_w: transmit power of each PRB in watts, `[B, M]` float64.
    """

    assoc: np.ndarray
    owner: np.ndarray
    power_w: np.ndarray

    @classmethod
    def empty(cls, cfg: ScenarioConfig) -> Allocation:
        """All PRBs idle, no UE associated."""
        return cls(
            assoc=np.full(cfg.num_ues, -1, dtype=np.int64),
            owner=np.full((cfg.num_rus, cfg.num_prbs), -1, dtype=np.int64),
            power_w=np.zeros((cfg.num_rus, cfg.num_prbs)),
        )

    @classmethod
    def from_owner(cls, owner: np.ndarray, power_w: np.ndarray, num_ues: int) -> Allocation:
        """Build with the association implied by the owners (a UE with no PRB is unassociated)."""
        owner = np.asarray(owner, dtype=np.int64)
        assoc = np.full(num_ues, -1, dtype=np.int64)
        rus, _ = np.nonzero(owner >= 0)
        assoc[owner[owner >= 0]] = rus
        return cls(assoc=assoc, owner=owner.copy(), power_w=np.asarray(power_w, dtype=np.float64).copy())

    def copy(self) -> Allocation:
        """Deep copy."""
        return Allocation(self.assoc.copy(), self.owner.copy(), self.power_w.copy())

    def __eq__(self, other: object) -> bool:
        """Equal when every array is equal."""
        if not isinstance(other, Allocation):
            return NotImplemented
        return (
            np.array_equal(self.assoc, other.assoc)
            and np.array_equal(self.owner, other.owner)
            and np.array_equal(self.power_w, other.power_w)
        )


@dataclasses.dataclass
class AllocationMetrics:
    """KPIs of one evaluated TTI (SI units). `power_w` is the power after projection."""

    objective: float
    reward: float
    reward_terms: dict[str, float]
    ue_rate_bps: np.ndarray
    prb_rate_bps: np.ndarray
    sinr_db: np.ndarray
    ru_power_w: np.ndarray
    fronthaul_bps_per_hz: np.ndarray
    delay_s: np.ndarray
    rate_violated: np.ndarray
    delay_violated: np.ndarray
    violations: dict[str, int]
    power_w: np.ndarray

    @property
    def qos_satisfied(self) -> np.ndarray:
        """Per UE: both the rate (14) and the delay (16) constraint hold, `[U]` bool."""
        return ~(self.rate_violated | self.delay_violated)

    @property
    def num_violations(self) -> int:
        """Total violations counted in the reward."""
        return int(sum(self.violations.values()))


def _as_array(name: str, value: Any, shape: tuple[int, ...], kind: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if kind == "int":
        if not (np.issubdtype(arr.dtype, np.integer) or (arr.size == 0)):
            raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
        return arr.astype(np.int64)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} must be finite; {name}[{', '.join(map(str, bad))}] = {arr[tuple(bad)]!r}")
    return arr


def check_allocation(cfg: ScenarioConfig, allocation: Allocation) -> Allocation:
    """Validate an allocation's shapes, ranges and structural constraints (17)-(21).

    Returns a normalised copy (int64 / float64). Raises `ValueError` naming the field, the value and
    what is allowed.
    """
    B, U, M = cfg.num_rus, cfg.num_ues, cfg.num_prbs
    assoc = _as_array("allocation.assoc", allocation.assoc, (U,), "int")
    owner = _as_array("allocation.owner", allocation.owner, (B, M), "int")
    power = _as_array("allocation.power_w", allocation.power_w, (B, M), "float")
    if np.any((assoc < -1) | (assoc >= B)):
        u = int(np.argmax((assoc < -1) | (assoc >= B)))
        raise ValueError(f"allocation.assoc[{u}] = {assoc[u]} is not an RU index; allowed -1..{B - 1}")
    if np.any((owner < -1) | (owner >= U)):
        b, m = np.argwhere((owner < -1) | (owner >= U))[0]
        raise ValueError(f"allocation.owner[{b}, {m}] = {owner[b, m]} is not a UE index; allowed -1..{U - 1}")
    if np.any(power < 0):
        b, m = np.argwhere(power < 0)[0]
        raise ValueError(f"allocation.power_w[{b}, {m}] = {power[b, m]!r} is negative; powers must be >= 0 W")
    rus = np.broadcast_to(np.arange(B)[:, None], (B, M))
    served = owner >= 0
    wrong = served & (assoc[np.where(served, owner, 0)] != rus)
    if np.any(wrong):
        b, m = np.argwhere(wrong)[0]
        u = owner[b, m]
        raise ValueError(
            f"allocation.owner[{b}, {m}] = {u} but allocation.assoc[{u}] = {assoc[u]}: a UE can only own "
            f"PRBs of the RU it is associated with (constraints 17-21)"
        )
    return Allocation(assoc, owner, power)


def evaluate_allocation(
    cfg: ScenarioConfig,
    gains: np.ndarray,
    allocation: Allocation,
    offered_load_bps: np.ndarray,
    *,
    backend: str = "numba",
    extra_violations: dict[str, int] | None = None,
) -> AllocationMetrics:
    """Evaluate one TTI's allocation: SINR, rates, power, fronthaul, delay, QoS, objective, reward.

    Args:
        cfg: the scenario.
        gains: true linear power gain h, `[B, U, M]`.
        allocation: the decision; powers breaking (11), (13) or (15) are projected and each
            projected RU counts as one violation (`violations["power_projection"]`).
        offered_load_bps: R_min of each UE, `[U]`.
        backend: "numba" (kernels) or "numpy" (the reference twins).
        extra_violations: further violation counts to report and charge in the reward
            (the env passes full-mode association conflicts here).

    Returns:
        `AllocationMetrics`; `metrics.reward` is eq. (22).
    """
    if backend not in ("numba", "numpy"):
        raise ValueError(f"backend must be 'numba' or 'numpy', got {backend!r}")
    if not isinstance(cfg, ScenarioConfig):
        raise TypeError(f"cfg must be a ScenarioConfig, got {type(cfg).__name__}")
    B, U, M = cfg.num_rus, cfg.num_ues, cfg.num_prbs
    gains = _as_array("gains", gains, (B, U, M), "float")
    if np.any(gains < 0):
        raise ValueError("gains must be linear power gains >= 0")
    offered = _as_array("offered_load_bps", offered_load_bps, (U,), "float")
    if np.any(offered < 0):
        u = int(np.argmax(offered < 0))
        raise ValueError(f"offered_load_bps[{u}] = {offered[u]!r} is negative; loads must be >= 0 bit/s")
    alloc = check_allocation(cfg, allocation)
    lib = kernels if backend == "numba" else reference
    params = pack_params(cfg)
    ue_slice = ue_slices(cfg)
    power, num_projected = lib.project_power(alloc.owner, alloc.power_w, ue_slice, params)
    ev = lib.evaluate_kernel(gains, alloc.owner, power, ue_slice, offered, params)
    return metrics_from_kernel(ev, power, alloc.owner, params, num_projected, extra_violations or {}, lib)


def metrics_from_kernel(ev, power_w, owner, params, num_projected, extra_violations, lib=kernels) -> AllocationMetrics:
    """Package the tuple of `evaluate_kernel` as `AllocationMetrics` (shared with the env)."""
    sinr, prb_rate, ue_rate, ru_power, fronthaul, delay, rate_v, delay_v, objective = ev
    violations = {
        "rate": int(rate_v.sum()),
        "delay": int(delay_v.sum()),
        "power_projection": int(num_projected),
        "association": 0,
    }
    violations.update({k: int(v) for k, v in extra_violations.items()})
    n = sum(violations.values())
    reward = float(lib.compute_reward(objective, n, params))
    terms = {
        "rate": float(params[THETA_R] * objective / params[RATE_SCALE_BPS]),
        "violation": float(-params[THETA_C] * n),
        "bias": float(params[THETA_BIAS]),
    }
    sinr_db = lib.compute_sinr_db(sinr, owner)
    return AllocationMetrics(
        objective=float(objective),
        reward=reward,
        reward_terms=terms,
        ue_rate_bps=ue_rate,
        prb_rate_bps=prb_rate,
        sinr_db=sinr_db,
        ru_power_w=ru_power,
        fronthaul_bps_per_hz=fronthaul,
        delay_s=delay,
        rate_violated=rate_v,
        delay_violated=delay_v,
        violations=violations,
        power_w=power_w,
    )


def power_levels(cfg: ScenarioConfig) -> np.ndarray:
    """Power in watts of each level for each slice, `[2, L]` (re-exported for baselines)."""
    return power_levels_w(cfg)
