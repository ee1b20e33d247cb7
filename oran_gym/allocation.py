"""The canonical decision of one TTI (`Allocation`) and its evaluation (`evaluate_allocation`).

Every action mode, oracle and policy decodes into an `Allocation`; `evaluate_allocation` is the
one place where an allocation becomes KPIs and a reward. It validates its inputs, projects powers
onto the hard constraints (11), (13), (15), then runs the kernels of `oran_gym.sim.kernels` (or
their NumPy twins with `backend="numpy"`).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np

from oran_gym.config import ScenarioConfig
from oran_gym.sim import kernels, reference
from oran_gym.sim import queue as queue_lib
from oran_gym.sim.queue import QueueStatus
from oran_gym.sim.dynamics import ue_slices
from oran_gym.sim.kernels import packed_slices
from oran_gym.sim.params import pack_params, power_levels_w, unpack_params

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
    served_bits: np.ndarray | None = None
    """Backlog model only: bits each UE's FIFO delivers in the TTI, `[U]` int64 (else None)."""
    dropped_bits: np.ndarray | None = None
    """Backlog model only: bits each UE drops in the TTI (overflow, deadline, expiry), `[U]` int64."""

    @property
    def qos_satisfied(self) -> np.ndarray:
        """Per UE: both the rate (14) and the delay (16) constraint hold, `[U]` bool."""
        return ~(self.rate_violated | self.delay_violated)

    @property
    def num_violations(self) -> int:
        """Total violations counted in the reward."""
        return int(sum(self.violations.values()))

    def copy(self) -> AllocationMetrics:
        """Deep copy: every array and dict its own (field by field, about 3x faster than `copy.deepcopy`)."""
        def own(value: Any) -> Any:
            if isinstance(value, np.ndarray):
                return value.copy()
            return dict(value) if isinstance(value, dict) else value

        return AllocationMetrics(**{f.name: own(getattr(self, f.name)) for f in dataclasses.fields(self)})


def _as_array(name: str, value: Any, shape: tuple[int, ...], kind: str, nonneg: bool = False) -> np.ndarray:
    """`value` as an int64 / float64 array of `shape`; float arrays must be finite (and >= 0 if asked)."""
    arr = np.asarray(value)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if kind == "int":
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if arr.size:
        lo, hi = arr.min(), arr.max()
        # NaN fails both comparisons, so one min/max pass checks finiteness and sign
        if not (lo >= (0.0 if nonneg else -np.inf) and hi < np.inf):
            bad = ~np.isfinite(arr) | ((arr < 0) if nonneg else False)
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            allowed = "finite and >= 0" if nonneg else "finite"
            raise ValueError(f"{name}{list(idx)} = {float(arr[idx])!r}; values must be {allowed}")
    return arr


def scenario_arrays(cfg: ScenarioConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(params, ue_slice, power levels [2, L])` of a config, computed once: do not modify them.

    They are memoised on the (frozen) config instance itself: hashing a 40-field dataclass for an
    lru_cache costs more than the kernels. They stay writeable, because numba's fast dispatch
    path does not cover read-only arrays.
    """
    arrays = cfg.__dict__.get("_kernel_arrays")
    if arrays is None:
        arrays = (pack_params(cfg), ue_slices(cfg), power_levels_w(cfg))
        object.__setattr__(cfg, "_kernel_arrays", arrays)
    return arrays


def check_allocation(cfg: ScenarioConfig, allocation: Allocation) -> Allocation:
    """Validate an allocation's shapes, ranges and structural constraints (17)-(21).

    Returns the allocation with int64 / float64 arrays (no copy when they already are). Raises
    `ValueError` naming the field, the value and what is allowed.
    """
    B, U, M = cfg.num_rus, cfg.num_ues, cfg.num_prbs
    assoc = _as_array("allocation.assoc", allocation.assoc, (U,), "int")
    owner = _as_array("allocation.owner", allocation.owner, (B, M), "int")
    power = _as_array("allocation.power_w", allocation.power_w, (B, M), "float", nonneg=True)
    if U and not (assoc.min() >= -1 and assoc.max() < B):
        u = int(np.argmax((assoc < -1) | (assoc >= B)))
        raise ValueError(f"allocation.assoc[{u}] = {int(assoc[u])} is not an RU index; allowed -1..{B - 1}")
    if not (owner.min() >= -1 and owner.max() < U):
        b, m = np.argwhere((owner < -1) | (owner >= U))[0]
        raise ValueError(f"allocation.owner[{b}, {m}] = {int(owner[b, m])} is not a UE index; allowed -1..{U - 1}")
    served = owner >= 0
    # the RU each PRB's owner is associated with must be the PRB's RU
    wrong = served & (assoc[owner] != _ru_index(B, M))
    if wrong.any():
        b, m = np.argwhere(wrong)[0]
        u = owner[b, m]
        raise ValueError(
            f"allocation.owner[{b}, {m}] = {int(u)} but allocation.assoc[{u}] = {int(assoc[u])}: a UE can only own "
            f"PRBs of the RU it is associated with (constraints 17-21)"
        )
    return Allocation(assoc, owner, power)


_packed_slices = functools.lru_cache(maxsize=64)(packed_slices)


@functools.lru_cache(maxsize=64)
def _ru_index(num_rus: int, num_prbs: int) -> np.ndarray:
    return np.repeat(np.arange(num_rus)[:, None], num_prbs, axis=1)


def evaluate_allocation(
    cfg: ScenarioConfig,
    gains: np.ndarray,
    allocation: Allocation,
    offered_load_bps: np.ndarray,
    *,
    backend: str = "numba",
    extra_violations: dict[str, int] | None = None,
    validate: bool = True,
    queue: QueueStatus | None = None,
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
        validate: check every input (default). `False` skips the checks for trusted inputs in hot
            loops (oracles, dataset generation); bad input then gives undefined results.
        queue: the UEs' FIFOs at the TTI's start (`oran_gym.sim.queue.QueueStatus`, what
            `env.unwrapped.queue_status` returns) to score the allocation on the backlog model
            (DESIGN.md section 6): the objective is the weighted delivered rate, a "rate"
            violation a UE that drops bits, a "delay" violation a UE left with late eMBB bits.
            None (default): the paper's per-TTI model.

    Returns:
        `AllocationMetrics`; `metrics.reward` is eq. (22) (with the queue's terms when `queue` is given).
    """
    if backend not in ("numba", "numpy"):
        raise ValueError(f"backend must be 'numba' or 'numpy', got {backend!r}")
    if validate:
        if not isinstance(cfg, ScenarioConfig):
            raise TypeError(f"cfg must be a ScenarioConfig, got {type(cfg).__name__}")
        B, U, M = cfg.num_rus, cfg.num_ues, cfg.num_prbs
        gains = _as_array("gains", gains, (B, U, M), "float", nonneg=True)
        offered_load_bps = _as_array("offered_load_bps", offered_load_bps, (U,), "float", nonneg=True)
        allocation = check_allocation(cfg, allocation)
        if queue is not None:
            queue = _check_queue_status(queue, cfg.num_ues)
    alloc = allocation
    lib = kernels if backend == "numba" else reference
    params, ue_slice, _ = scenario_arrays(cfg)
    buf, objective, num_projected = lib.evaluate_packed(gains, alloc.owner, alloc.power_w, ue_slice, offered_load_bps, params)
    B, U, M = alloc.owner.shape[0], ue_slice.shape[0], alloc.owner.shape[1]
    sl = _packed_slices(B, U, M)
    grid = (B, M)
    ue_rate = buf[sl["ue_rate_bps"]]
    rate_v, delay_v = buf[sl["rate_violated"]] > 0.5, buf[sl["delay_violated"]] > 0.5
    served = dropped = None
    if queue is not None:
        terms = queue_lib.queue_terms if backend == "numba" else reference.queue_terms
        served, dropped, rate_v, delay_v, objective = terms(ue_rate, *queue, ue_slice, params)
    metrics = _metrics(
        objective=objective,
        ue_rate=ue_rate,
        prb_rate=buf[sl["prb_rate_bps"]].reshape(grid),
        sinr_db=buf[sl["sinr_db"]].reshape(grid),
        ru_power=buf[sl["ru_power_w"]],
        fronthaul=buf[sl["fronthaul_bps_per_hz"]],
        delay=buf[sl["delay_s"]],
        rate_v=rate_v,
        delay_v=delay_v,
        power=buf[sl["power_w"]].reshape(grid),
        params=params,
        num_projected=num_projected,
        extra_violations=extra_violations or {},
    )
    metrics.served_bits, metrics.dropped_bits = served, dropped
    return metrics


def _check_queue_status(queue: Any, num_ues: int) -> QueueStatus:
    """`queue` as a `QueueStatus` of int64 `[U]` arrays of bits >= 0, or an error naming the field."""
    if not isinstance(queue, QueueStatus):
        raise TypeError(f"queue must be an oran_gym.sim.queue.QueueStatus (env.unwrapped.queue_status), got {type(queue).__name__}")
    fields = {}
    for name, value in zip(QueueStatus._fields, queue, strict=True):
        arr = _as_array(f"queue.{name}", value, (num_ues,), "int")
        if arr.size and arr.min() < 0:
            u = int(np.argmin(arr))
            raise ValueError(f"queue.{name}[{u}] = {int(arr[u])}; bit counts must be >= 0")
        fields[name] = arr
    if np.any(fields["urgent_bits"] + fields["late_bits"] > fields["backlog_bits"]):
        u = int(np.argmax(fields["urgent_bits"] + fields["late_bits"] > fields["backlog_bits"]))
        raise ValueError(f"queue: urgent_bits[{u}] + late_bits[{u}] exceed backlog_bits[{u}] = {int(fields['backlog_bits'][u])}; "
                         "urgent and late bits are part of the backlog")
    return QueueStatus(**fields)


def _metrics(*, objective, ue_rate, prb_rate, sinr_db, ru_power, fronthaul, delay, rate_v, delay_v, power,
             params, num_projected, extra_violations) -> AllocationMetrics:
    kp = unpack_params(params)
    violations = {
        "rate": int(np.count_nonzero(rate_v)),
        "delay": int(np.count_nonzero(delay_v)),
        "power_projection": int(num_projected),
        "association": 0,
    }
    if extra_violations:
        violations.update({k: int(v) for k, v in extra_violations.items()})
    n = sum(violations.values())
    terms = {  # eq. (22), term by term (kernels.tti_reward is their sum)
        "rate": float(kernels.reward_rate_term(objective, params)),
        "violation": float(kernels.reward_violation_term(n, params)),
        "bias": float(kp.theta_bias),
    }
    return AllocationMetrics(
        objective=float(objective),
        reward=terms["rate"] + terms["violation"] + terms["bias"],
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
        power_w=power,
    )
