"""Exact oracles for one TTI: exhaustive search (the paper's ESA), a HiGHS MILP, and a local search.

The objective of all three is the per-TTI reward of DESIGN.md section 2 (eq. 22): weighted sum
rate over the rate scale minus the penalty per violated QoS constraint, over every allocation
that meets the hard constraints (a UE on at most one RU, one owner per PRB, RU power within
min(P_b^max, fronthaul limit), discrete power levels). `solve(cfg, gains, offered_load_bps)`
returns `(Allocation, value)` with `value == evaluate_allocation(cfg, gains, allocation,
offered_load_bps).reward`; `solve_detailed` adds the bound, the solve time and the solver status.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np
from numba import njit
from oran_gym.baselines.common import AllocationPolicy, check_number, delay_rate_floor_bps, prb_rates_bps
from scipy import optimize, sparse

from oran_gym import Allocation, ScenarioConfig, evaluate_allocation
from oran_gym.allocation import scenario_arrays
from oran_gym.sim import kernels
from oran_gym.sim.queue import QueueStatus, queue_terms
from oran_gym.sim.params import ru_power_limit_w, unpack_params

__all__ = [
    "OBJECTIVES",
    "OracleSolution",
    "ExhaustiveSearchOracle",
    "MILPOracle",
    "LocalSearchOracle",
    "OraclePolicy",
    "num_candidates",
]

POWER_RTOL = kernels.POWER_RTOL


@dataclasses.dataclass
class OracleSolution:
    """An oracle's answer for one TTI.

    Attributes:
        allocation: the chosen allocation (powers are discrete levels); None when
            `objective="constrained"` and no allocation meets every constraint.
        value: its reward, exactly `evaluate_allocation(...).reward` (-inf when infeasible).
        upper_bound: a proven upper bound on the optimum (== value when proven optimal).
        proven_optimal: whether `value` is the optimum (within the MIP gap for the MILP).
        solve_time_s: wall-clock time of the solve.
        status: solver status text.
        mip_gap: relative gap reported by HiGHS (0 for exhaustive search; NaN where not applicable).
        time_limit_s / mip_rel_gap: the limits the solve ran under (None where not applicable).
    """

    allocation: Allocation | None
    value: float
    upper_bound: float
    proven_optimal: bool
    solve_time_s: float
    status: str
    mip_gap: float = float("nan")
    time_limit_s: float | None = None
    mip_rel_gap: float | None = None


def num_candidates(cfg: ScenarioConfig) -> int:
    """Allocations the exhaustive search enumerates before pruning: (U L + 1)^(B M)."""
    return (cfg.num_ues * cfg.num_power_levels + 1) ** (cfg.num_rus * cfg.num_prbs)


OBJECTIVES = ("reward", "constrained")
"""`objective="reward"`: maximise eq. (22), soft constraints penalised. `"constrained"`: the paper's
Algorithm 1, maximise eq. (10) with every constraint hard (DESIGN.md section 4)."""


def _check_objective(owner: str, objective: str) -> str:
    if objective not in OBJECTIVES:
        raise ValueError(f"{owner}: objective must be one of {list(OBJECTIVES)}, got {objective!r}")
    return objective


def _infeasible(elapsed: float, why: str, time_limit_s=None, mip_rel_gap=None) -> OracleSolution:
    """The answer for an instance with no allocation meeting every constraint: `(None, -inf)`."""
    return OracleSolution(None, -math.inf, -math.inf, True, elapsed, f"infeasible: {why}", float("nan"), time_limit_s, mip_rel_gap)


def _check_queue(cfg: ScenarioConfig, queue: QueueStatus | None) -> QueueStatus | None:
    """The FIFOs' status checked (as `evaluate_allocation` does); None on the per-TTI model."""
    if queue is None:
        return None
    from oran_gym.allocation import _check_queue_status

    return _check_queue_status(queue, cfg.num_ues)


def _check_instance(cfg: ScenarioConfig, gains: np.ndarray, offered_load_bps: np.ndarray):
    from oran_gym.allocation import _as_array

    B, U, M = cfg.num_rus, cfg.num_ues, cfg.num_prbs
    gains = _as_array("gains", gains, (B, U, M), "float", nonneg=True)
    load = _as_array("offered_load_bps", offered_load_bps, (U,), "float", nonneg=True)
    return np.ascontiguousarray(gains), np.ascontiguousarray(load)


# ------------------------------------------------------------------------------------------------
# exhaustive search
# ------------------------------------------------------------------------------------------------
@njit(cache=True)
def _tti_reward(gain_lin, owner, power_w, ue_slice, offered_load_bps, params, queue, constrained=False):
    """The TTI's reward (eq. 22); `queue` `[4, U]` (backlog, urgent, late, overflow bits) scores it
    on the backlog model, an empty `[0, 0]` array on the paper's model. `constrained`: -inf unless
    every soft constraint holds (the paper's Algorithm 1 keeps only those allocations)."""
    ev = kernels.evaluate_kernel(gain_lin, owner, power_w, ue_slice, offered_load_bps, params)
    if queue.shape[0] == 0:
        n = ev[6].sum() + ev[7].sum()
        objective = ev[8]
    else:
        _, _, rate_v, delay_v, objective = queue_terms(ev[2], queue[0], queue[1], queue[2], queue[3], ue_slice, params)
        n = rate_v.sum() + delay_v.sum()
    if constrained and n > 0:
        return -np.inf
    return kernels.compute_reward(objective, n, params)


_NO_QUEUE = np.zeros((0, 0), np.int64)


def _queue_array(queue: QueueStatus | None) -> np.ndarray:
    return _NO_QUEUE if queue is None else np.ascontiguousarray(np.stack(queue), dtype=np.int64)


@njit(cache=True)
def _exhaustive_search(gain_lin, ue_slice, offered_load_bps, levels_w, params, queue, constrained):
    """Depth-first enumeration of every feasible allocation; returns the best in enumeration order.

    PRBs are visited in (RU, PRB) order, actions 0 (idle), 1 + u L + l; branches that would give a
    UE a second RU or push an RU over its power limit are cut. Ties keep the first allocation
    found (idle first, lower UE and level first). Returns `(best actions [B M], best reward,
    leaves evaluated)`.
    """
    num_rus, num_ues, num_prbs = gain_lin.shape
    num_levels = levels_w.shape[1]
    num_actions = num_ues * num_levels + 1
    depth = num_rus * num_prbs
    limit = ru_power_limit_w(params) * (1.0 + POWER_RTOL)
    owner = np.full((num_rus, num_prbs), -1, dtype=np.int64)
    power = np.zeros((num_rus, num_prbs))
    ru_power = np.zeros(num_rus)
    assoc = np.full(num_ues, -1, dtype=np.int64)
    assoc_count = np.zeros(num_ues, dtype=np.int64)
    digit = np.full(depth, -1, dtype=np.int64)
    applied = np.zeros(depth, dtype=np.bool_)  # whether digit[k] is applied (a pruned one is not)
    best = np.zeros(depth, dtype=np.int64)
    best_value = -np.inf
    leaves = 0
    k = 0
    while k >= 0:
        b = k // num_prbs
        m = k % num_prbs
        a = digit[k]
        if applied[k] and a > 0:  # undo the previous choice at this depth
            u = (a - 1) // num_levels
            ru_power[b] -= power[b, m]
            power[b, m] = 0.0
            owner[b, m] = -1
            assoc_count[u] -= 1
            if assoc_count[u] == 0:
                assoc[u] = -1
        applied[k] = False
        a += 1
        digit[k] = a
        if a == num_actions:
            digit[k] = -1
            k -= 1
            continue
        if a > 0:
            u = (a - 1) // num_levels
            p = levels_w[ue_slice[u], (a - 1) % num_levels]
            if (assoc[u] >= 0 and assoc[u] != b) or ru_power[b] + p > limit:
                continue
            owner[b, m] = u
            power[b, m] = p
            ru_power[b] += p
            assoc[u] = b
            assoc_count[u] += 1
        applied[k] = True
        if k == depth - 1:
            leaves += 1
            value = _tti_reward(gain_lin, owner, power, ue_slice, offered_load_bps, params, queue, constrained)
            if value > best_value:
                best_value = value
                best[:] = digit
        else:
            k += 1
    return best, best_value, leaves


class ExhaustiveSearchOracle:
    """The paper's exhaustive search (ESA, Algorithm 1), compiled with numba, any number of RUs.

    Enumerates every allocation of the TTI (owner and power level of every PRB of every RU, with
    consistent association), evaluates each with the env's own kernels (interference included) and
    keeps the best. Exponential: `(U L + 1)^(B M)` candidates before pruning; above
    `max_candidates` it refuses and suggests `MILPOracle`.

    What "best" means is `objective`. The default, "reward", maximises the penalised reward of
    eq. (22): a soft constraint may be broken at a price. The paper's Algorithm 1 instead keeps only
    the allocations that meet every constraint, (11)-(16), and maximises the weighted sum rate of
    eq. (10): that is `objective="constrained"`, which returns `(None, -inf)` when no allocation
    qualifies.
    """

    name = "esa"

    def __init__(self, max_candidates: int = 20_000_000, objective: str = "reward") -> None:
        """`max_candidates`: the size cap, in candidates before pruning. `objective`: "reward"
        (eq. 22, default) or "constrained" (the paper's Algorithm 1: eq. (10) with (11)-(16) hard;
        an instance with no feasible allocation gives `(None, -inf)`)."""
        self.max_candidates = check_number("ExhaustiveSearchOracle", "max_candidates", max_candidates, lo=1, integer=True)
        self.objective = _check_objective("ExhaustiveSearchOracle", objective)

    def solve_detailed(self, cfg: ScenarioConfig, gains: np.ndarray, offered_load_bps: np.ndarray,
                       queue: QueueStatus | None = None) -> OracleSolution:
        """Best allocation of one TTI, with the number of leaves evaluated in `status` (`queue`:
        on the backlog model, given the FIFOs)."""
        n = num_candidates(cfg)
        if n > self.max_candidates:
            count = f"{n:,}" if n < 10**15 else f"{n:.3e}"
            raise ValueError(
                f"exhaustive search over (U L + 1)^(B M) = ({cfg.num_ues} x {cfg.num_power_levels} + 1)^"
                f"({cfg.num_rus} x {cfg.num_prbs}) = {count} candidates exceeds max_candidates="
                f"{self.max_candidates:,}; use MILPOracle (exact, single RU) or LocalSearchOracle, "
                "or raise max_candidates"
            )
        gains, load = _check_instance(cfg, gains, offered_load_bps)
        queue = _check_queue(cfg, queue)
        params, ue_slice, levels = scenario_arrays(cfg)
        t0 = time.perf_counter()
        constrained = self.objective == "constrained"
        best, best_value, leaves = _exhaustive_search(gains, ue_slice, load, levels, params, _queue_array(queue), constrained)
        elapsed = time.perf_counter() - t0
        if best_value == -np.inf:
            return _infeasible(elapsed, f"none of {leaves:,} allocations meets every constraint")
        owner, power, assoc, _ = kernels.decode_full_action(best, ue_slice, levels, cfg.num_rus, cfg.num_prbs)
        alloc = Allocation(assoc, owner, power)
        value = evaluate_allocation(cfg, gains, alloc, load, queue=queue).reward
        return OracleSolution(alloc, value, value, True, elapsed, f"optimal ({leaves:,} feasible allocations evaluated)", 0.0)

    def solve(self, cfg: ScenarioConfig, gains: np.ndarray, offered_load_bps: np.ndarray,
              queue: QueueStatus | None = None) -> tuple[Allocation | None, float]:
        """`(best allocation, its reward)`; `(None, -inf)` for an infeasible instance under
        `objective="constrained"`."""
        sol = self.solve_detailed(cfg, gains, offered_load_bps, queue)
        return sol.allocation, sol.value


# ------------------------------------------------------------------------------------------------
# MILP (HiGHS)
# ------------------------------------------------------------------------------------------------
class _Rows:
    """The sparse constraint matrix of a MILP, appended block by block."""

    def __init__(self) -> None:
        self.rows, self.cols, self.vals, self.lo, self.hi = [], [], [], [], []
        self.count = 0

    def add(self, cols_, vals_, lo_, hi_) -> None:
        """Append rows: `cols_` is [k, n] (k rows of n entries) or [n] (one row)."""
        cols_ = np.asarray(cols_, dtype=np.int64)  # an empty list of columns reads as float otherwise
        cols_ = cols_.reshape(-1, cols_.shape[-1]) if cols_.ndim > 1 else cols_.reshape(1, -1)
        k = cols_.shape[0]
        self.rows.append(np.repeat(np.arange(self.count, self.count + k), cols_.shape[1]))
        self.cols.append(cols_.ravel())
        self.vals.append(np.broadcast_to(np.asarray(vals_, dtype=float), cols_.shape).ravel())
        self.lo.append(np.full(k, lo_, dtype=float))
        self.hi.append(np.full(k, hi_, dtype=float))
        self.count += k

    def constraint(self, n: int) -> optimize.LinearConstraint:
        """The rows as one `LinearConstraint` over `n` variables."""
        a_mat = sparse.csr_array(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))), shape=(self.count, n)
        )
        return optimize.LinearConstraint(a_mat, np.concatenate(self.lo), np.concatenate(self.hi))


def _qos_rows(add, ub, load, params, ue_slice, ue_cols, ue_rates_mbps, iv_rate, iv_delay) -> None:
    """The per-TTI model's QoS flags: UE u's rate is `sum(ue_rates_mbps[u] * x[ue_cols[u]])` (Mbit/s).

    Rate QoS (14): `R_u + (R_min + eps) v_rate[u] >= R_min + eps`; delay QoS (16): the same form with
    the rate that meets the delay budget and `v_delay`. `eps` (1 bit/s) keeps solver tolerances from
    counting a UE as satisfied a hair below its requirement.
    """
    eps = 1e-6  # Mbit/s
    delay_floor_bps = delay_rate_floor_bps(params, ue_slice)
    for u in range(ue_slice.shape[0]):
        req_rate = load[u] / 1e6
        req_delay = delay_floor_bps[u] / 1e6
        for req, iv in ((req_rate, iv_rate[u]), (req_delay, iv_delay[u])):
            if math.isinf(req):
                add(np.array([iv]), 1.0, 1.0, 1.0)  # unattainable: always violated
            elif req > 0:
                add(np.concatenate([ue_cols[u], [iv]]), np.concatenate([ue_rates_mbps[u], [req + eps]]), req + eps, np.inf)
            else:
                ub[iv] = 0.0  # nothing required: never violated


def _queue_rows(add, c, ub, integrality, queue, kp, ue_slice, ue_cols, ue_rates_mbps, nx, iv_rate, iv_delay, first_served):
    """The backlog model's objective and flags (oran_gym.sim.queue), given the FIFOs' status.

    Per UE a continuous `s[u]` in [0, backlog] (bits served, Mbit) with `s <= T R_u` replaces
    the rate in the objective (weight `w_s Theta_r / (rate_scale T)`); `v_rate` is forced to 1
    by an overflow and otherwise by `T R_u < urgent` (whole bits, so exact for floor(R T));
    `v_delay` by `T R_u < urgent + late`. The served bits drop their floor: the model's value
    exceeds the evaluated reward by at most one bit per UE.
    """
    U = ue_slice.shape[0]
    tti = kp.tti_s
    i_s = first_served + np.arange(U)
    scale = kp.theta_rate / kp.rate_scale_bps * 1e6 / tti  # reward per Mbit served in the TTI
    c[:nx] = 0.0
    c[i_s] = -scale * kp.slice_weight[ue_slice]
    integrality[i_s] = 0.0
    backlog, urgent, late, overflow = (np.asarray(a, dtype=float) / 1e6 for a in queue)  # Mbit
    ub[i_s] = backlog
    for u in range(U):
        t_rate = tti * ue_rates_mbps[u]  # Mbit this TTI per choice
        add(np.concatenate([[i_s[u]], ue_cols[u]]), np.concatenate([[1.0], -t_rate]), -np.inf, 0.0)
        if overflow[u] > 0:
            add(np.array([iv_rate[u]]), 1.0, 1.0, 1.0)  # dropped at arrival: violated whatever is done
        elif urgent[u] > 0:
            add(np.concatenate([ue_cols[u], [iv_rate[u]]]), np.concatenate([t_rate, [urgent[u]]]), urgent[u], np.inf)
        else:
            ub[iv_rate[u]] = 0.0
        need = urgent[u] + late[u]
        if late[u] > 0:
            add(np.concatenate([ue_cols[u], [iv_delay[u]]]), np.concatenate([t_rate, [need]]), need, np.inf)
        else:
            ub[iv_delay[u]] = 0.0


def _run_milp(owner: str, c, ub, integrality, constraints, build_s: float, time_limit_s: float | None, mip_rel_gap: float):
    """HiGHS (`scipy.optimize.milp`) on a built model; `time_limit_s` covers building the model too, so
    the search gets what is left after `build_s` (a `TimeoutError` naming `owner` if nothing is)."""
    options = {"mip_rel_gap": mip_rel_gap}
    if time_limit_s is not None:
        left = time_limit_s - build_s
        if left <= 0:
            raise TimeoutError(
                f"{owner}: building the model ({c.size:,} variables, {constraints.A.shape[0]:,} constraints) took "
                f"{build_s:.2f} s, all of time_limit_s={time_limit_s}; raise time_limit_s"
            )
        options["time_limit"] = left
    return optimize.milp(c, integrality=integrality, bounds=optimize.Bounds(0.0, ub), constraints=constraints, options=options)


def _bound_and_gap(res, theta_bias: float) -> tuple[float, float]:
    """HiGHS's proven upper bound on the reward (inf when it has none yet) and its relative MIP gap (NaN)."""
    bound = -float(res.mip_dual_bound) + theta_bias if res.mip_dual_bound is not None else math.inf
    gap = float(res.mip_gap) if res.mip_gap is not None else float("nan")
    return bound, gap


class MILPOracle:
    """Exact optimum of a single-RU TTI as a mixed-integer linear program solved by HiGHS.

    Without interference the rate of (UE u, PRB m, level l) is a constant, so with one binary
    `x[b, u, m, l]` per choice the problem is linear:

    * maximise `Theta_r / rate_scale * sum w_s(u) r x - Theta_c * sum (v_rate + v_delay) + Theta_bias`
    * PRB exclusivity: `sum_{u, l} x[b, u, m, l] <= 1`
    * RU power and fronthaul (eq. 15 is `P^b <= sigma_q^2 (2^C^max - 1)`, linear in power):
      `sum p x <= min(P_b^max, fronthaul limit)`
    * slice power caps (13): choices with `p_l > P_s^max` are fixed to 0
    * rate QoS (14): `R_u + (R_min + eps) v_rate[u] >= R_min + eps`
    * delay QoS (16): `D_u <= D^max` is `R_u >= mu_s / (D^max - fibre delay)`, the same form with `v_delay`
    * several RUs: association binaries `a[u, b]`, `sum_b a[u, b] <= 1`, `sum_l x[b, u, m, l] <= a[u, b]`

    `eps` (1 bit/s) keeps solver tolerances from counting a UE as satisfied a hair below its
    requirement. With several RUs the model ignores interference, so it is only an upper bound:
    `relax_interference=True` must be passed to accept that (the value returned is then the true
    reward of the relaxed plan, and `upper_bound` the relaxation's proven bound).
    """

    name = "milp"

    def __init__(self, time_limit_s: float | None = 60.0, mip_rel_gap: float = 0.0, relax_interference: bool = False,
                 objective: str = "reward") -> None:
        """`time_limit_s`: limit on building the model plus HiGHS's search (None: none); scipy's
        hand-over of the model to HiGHS, about 0.7 us per variable, is outside it.
        `mip_rel_gap`: 0 proves optimality. `objective`: "reward" (eq. 22, default) or
        "constrained" (the paper's Algorithm 1: the violation variables are fixed to 0, so every
        soft constraint becomes hard; an infeasible instance gives `(None, -inf)`)."""
        self.objective = _check_objective("MILPOracle", objective)
        self.time_limit_s = check_number("MILPOracle", "time_limit_s", time_limit_s, lo=0, lo_open=True, allow_none=True)
        self.mip_rel_gap = check_number("MILPOracle", "mip_rel_gap", mip_rel_gap, lo=0, hi=1, hi_open=True)
        if not isinstance(relax_interference, (bool, np.bool_)):
            raise TypeError(f"MILPOracle: relax_interference must be True or False, got {relax_interference!r}")
        self.relax_interference = bool(relax_interference)

    def _build(self, cfg: ScenarioConfig, gains: np.ndarray, load: np.ndarray, queue: QueueStatus | None = None):
        params, ue_slice, levels = scenario_arrays(cfg)
        kp = unpack_params(params)
        B, U, M, L = cfg.num_rus, cfg.num_ues, cfg.num_prbs, cfg.num_power_levels
        rate_mbps = prb_rates_bps(cfg, gains) / 1e6  # [B, U, M, L]
        power = np.broadcast_to(levels[ue_slice][None, :, None, :], (B, U, M, L))
        nx = B * U * M * L
        na = U * B if B > 1 else 0
        n = nx + na + 2 * U + (U if queue is not None else 0)
        ix = np.arange(nx).reshape(B, U, M, L)
        iv_rate = nx + na + np.arange(U)
        iv_delay = nx + na + U + np.arange(U)
        scale = kp.theta_rate / kp.rate_scale_bps * 1e6  # reward per Mbit/s of objective
        c = np.zeros(n)
        c[:nx] = -(scale * kp.slice_weight[ue_slice][None, :, None, None] * rate_mbps).ravel()
        c[iv_rate] = kp.theta_violation
        c[iv_delay] = kp.theta_violation
        ub = np.ones(n)
        integrality = np.ones(n)
        pmax = kp.prb_max_power_w  # [2], eMBB and URLLC
        ub[:nx] = (power <= pmax[ue_slice][None, :, None, None] * (1 + POWER_RTOL)).ravel().astype(float)
        rows = _Rows()
        add = rows.add
        for b in range(B):
            add(ix[b].transpose(1, 0, 2).reshape(M, U * L), 1.0, -np.inf, 1.0)  # one owner per PRB
            add(ix[b].ravel(), power[b].ravel(), -np.inf, kp.ru_power_limit_w)  # eqs. (11) and (15)
        ue_cols = [ix[:, u].ravel() for u in range(U)]
        ue_rates_mbps = [rate_mbps[:, u].ravel() for u in range(U)]
        if queue is not None:
            _queue_rows(add, c, ub, integrality, queue, kp, ue_slice, ue_cols, ue_rates_mbps, nx, iv_rate, iv_delay, nx + na + 2 * U)
        else:
            _qos_rows(add, ub, load, params, ue_slice, ue_cols, ue_rates_mbps, iv_rate, iv_delay)
        if B > 1:
            ia = nx + np.arange(U * B).reshape(U, B)
            link = np.concatenate([np.ones(L), [-1.0]])
            for u in range(U):
                add(ia[u], 1.0, -np.inf, 1.0)
                # x[b, u, m, l] <= a[u, b] for every (b, m), in (b, m) order
                add(np.concatenate([ix[:, u], np.broadcast_to(ia[u][:, None, None], (B, M, 1))], axis=2), link, -np.inf, 0.0)
        constraints = rows.constraint(n)
        return c, ub, integrality, constraints, ix, nx

    def solve_detailed(self, cfg: ScenarioConfig, gains: np.ndarray, offered_load_bps: np.ndarray,
                       queue: QueueStatus | None = None) -> OracleSolution:
        """Solve one TTI; `upper_bound` is HiGHS's proven bound (of the relaxation if B > 1).

        `queue` (backlog model, `env.unwrapped.queue_status`): maximise the TTI's reward given the
        FIFOs, the myopic optimum of the sequential problem."""
        if cfg.num_rus > 1 and not self.relax_interference:
            raise ValueError(
                f"MILPOracle is exact only for one RU (got num_rus={cfg.num_rus}): with interference the rates "
                "are not linear. Pass relax_interference=True for the interference-free upper bound, and use "
                "LocalSearchOracle for a feasible lower bound"
            )
        gains, load = _check_instance(cfg, gains, offered_load_bps)
        queue = _check_queue(cfg, queue)
        params, ue_slice, levels = scenario_arrays(cfg)
        t0 = time.perf_counter()
        c, ub, integrality, constraints, ix, nx = self._build(cfg, gains, load, queue)
        if self.objective == "constrained":
            B, U = cfg.num_rus, cfg.num_ues
            first_v = nx + (U * B if B > 1 else 0)
            ub[first_v : first_v + 2 * U] = 0.0  # no violation allowed
        build_s = time.perf_counter() - t0
        res = _run_milp("MILPOracle", c, ub, integrality, constraints, build_s, self.time_limit_s, self.mip_rel_gap)
        elapsed = time.perf_counter() - t0
        if res.status == 2:  # HiGHS proved the model infeasible
            if self.objective == "constrained":
                return _infeasible(elapsed, res.message, self.time_limit_s, self.mip_rel_gap)
        if res.x is None:
            raise RuntimeError(
                f"HiGHS found no solution for this TTI in {elapsed:.2f} s (model built in {build_s:.2f} s, "
                f"time_limit_s={self.time_limit_s}): {res.message}"
            )
        x = res.x[:nx].reshape(ix.shape) > 0.5
        B, U, M, L = ix.shape
        owner = np.full((B, M), -1, dtype=np.int64)
        power = np.zeros((B, M))
        b_i, u_i, m_i, l_i = np.nonzero(x)
        owner[b_i, m_i] = u_i
        power[b_i, m_i] = levels[ue_slice[u_i], l_i]
        alloc = Allocation.from_owner(owner, power, U)
        value = evaluate_allocation(cfg, gains, alloc, load, queue=queue).reward
        bound, gap = _bound_and_gap(res, unpack_params(params).theta_bias)
        proven = res.status == 0 and cfg.num_rus == 1
        return OracleSolution(alloc, value, max(bound, value), proven, elapsed, res.message, gap, self.time_limit_s, self.mip_rel_gap)

    def solve(self, cfg: ScenarioConfig, gains: np.ndarray, offered_load_bps: np.ndarray,
              queue: QueueStatus | None = None) -> tuple[Allocation | None, float]:
        """`(optimal allocation, its reward)` (`queue`: on the backlog model, given the FIFOs);
        `(None, -inf)` for an infeasible instance under `objective="constrained"`."""
        sol = self.solve_detailed(cfg, gains, offered_load_bps, queue)
        return sol.allocation, sol.value


# ------------------------------------------------------------------------------------------------
# local search (feasible lower bound with interference)
# ------------------------------------------------------------------------------------------------
@njit(cache=True)
def _local_search(gain_lin, owner, power, ue_slice, offered_load_bps, levels_w, params, max_sweeps, queue):
    """Best-improvement moves PRB by PRB (any action, feasibility kept) until no move helps."""
    num_rus, num_ues, num_prbs = gain_lin.shape
    num_levels = levels_w.shape[1]
    limit = ru_power_limit_w(params) * (1.0 + POWER_RTOL)
    assoc_count = np.zeros(num_ues, dtype=np.int64)
    assoc = np.full(num_ues, -1, dtype=np.int64)
    ru_power = np.zeros(num_rus)
    for b in range(num_rus):
        for m in range(num_prbs):
            u = owner[b, m]
            ru_power[b] += power[b, m]
            if u >= 0:
                assoc_count[u] += 1
                assoc[u] = b
    value = _tti_reward(gain_lin, owner, power, ue_slice, offered_load_bps, params, queue)
    sweeps = 0
    improved = True
    while improved and sweeps < max_sweeps:
        improved = False
        sweeps += 1
        for b in range(num_rus):
            for m in range(num_prbs):
                old_u = owner[b, m]
                old_p = power[b, m]
                best_u, best_p, best_v = old_u, old_p, value
                # detach the PRB, then try every alternative
                if old_u >= 0:
                    assoc_count[old_u] -= 1
                    if assoc_count[old_u] == 0:
                        assoc[old_u] = -1
                ru_power[b] -= old_p
                for a in range(num_ues * num_levels + 1):
                    if a == 0:
                        u, p = -1, 0.0
                    else:
                        u = (a - 1) // num_levels
                        p = levels_w[ue_slice[u], (a - 1) % num_levels]
                        if (assoc[u] >= 0 and assoc[u] != b) or ru_power[b] + p > limit:
                            continue
                    if u == old_u and p == old_p:
                        continue
                    owner[b, m] = u
                    power[b, m] = p
                    v = _tti_reward(gain_lin, owner, power, ue_slice, offered_load_bps, params, queue)
                    if v > best_v + 1e-12 * abs(best_v):
                        best_u, best_p, best_v = u, p, v
                owner[b, m] = best_u
                power[b, m] = best_p
                ru_power[b] += best_p
                if best_u >= 0:
                    assoc_count[best_u] += 1
                    assoc[best_u] = b
                if best_v > value:
                    improved = True
                    value = best_v
    return owner, power, value, sweeps


def repair_allocation(cfg: ScenarioConfig, gains: np.ndarray, allocation: Allocation, offered_load_bps: np.ndarray,
                      max_sweeps: int = 2, queue: QueueStatus | None = None) -> tuple[Allocation, float]:
    """Repair a decoded or heuristic allocation: feasibility first, then QoS, by local moves.

    1. Feasibility: a UE served by several RUs keeps only its first RU's PRBs (one association,
       eq. 16), and `kernels.project_power` projects the powers onto the slice caps and the RU and
       fronthaul limit (eq. 11, 13, 15), as `evaluate_allocation` would.
    2. QoS: up to `max_sweeps` sweeps of best-improvement moves, PRB by PRB (any owner and level,
       feasibility kept), on the reward (22), whose penalty counts every violated rate and delay
       constraint, so a move that meets a UE's rate or delay is taken when nothing else pays more.

    Returns `(repaired allocation, its reward)`. It never lowers the reward of a feasible start.
    """
    max_sweeps = check_number("repair_allocation", "max_sweeps", max_sweeps, lo=0, integer=True)
    gains, load = _check_instance(cfg, gains, offered_load_bps)
    queue = _check_queue(cfg, queue)
    params, ue_slice, levels = scenario_arrays(cfg)
    owner = np.array(allocation.owner, dtype=np.int64).copy()
    power = np.array(allocation.power_w, dtype=np.float64).copy()
    first_ru = np.full(cfg.num_ues, -1, dtype=np.int64)
    for b in range(cfg.num_rus):
        for m in range(cfg.num_prbs):
            u = owner[b, m]
            if u >= 0 and first_ru[u] < 0:
                first_ru[u] = b
            if u >= 0 and first_ru[u] != b:
                owner[b, m], power[b, m] = -1, 0.0
    power, _ = kernels.project_power(owner, power, ue_slice, params)
    owner, power, value, _ = _local_search(gains, owner, power, ue_slice, load, levels, params, int(max_sweeps), _queue_array(queue))
    alloc = Allocation.from_owner(owner, power, cfg.num_ues)
    return alloc, evaluate_allocation(cfg, gains, alloc, load, queue=queue).reward


class LocalSearchOracle:
    """A feasible allocation with interference: the MILP's interference-free plan, improved PRB by PRB.

    With one RU the start is already optimal. With several RUs the result is a lower bound and
    `upper_bound` is the relaxed MILP's proven bound, so multi-cell results come as a bracket
    `[value, upper_bound]`.
    """

    name = "local_search"
    uses_true_state = True

    def __init__(self, time_limit_s: float | None = 60.0, mip_rel_gap: float = 0.0, max_sweeps: int = 50) -> None:
        """Limits of the relaxed MILP start and the number of improvement sweeps."""
        max_sweeps = check_number("LocalSearchOracle", "max_sweeps", max_sweeps, lo=0, integer=True)
        self.milp = MILPOracle(time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap, relax_interference=True)
        self.max_sweeps = int(max_sweeps)

    def solve_detailed(self, cfg: ScenarioConfig, gains: np.ndarray, offered_load_bps: np.ndarray,
                       queue: QueueStatus | None = None) -> OracleSolution:
        """Bracketed solution: `value` (feasible) <= optimum <= `upper_bound` (`queue`: on the backlog model)."""
        t0 = time.perf_counter()
        start = self.milp.solve_detailed(cfg, gains, offered_load_bps, queue)
        gains, load = _check_instance(cfg, gains, offered_load_bps)
        params, ue_slice, levels = scenario_arrays(cfg)
        owner, power, _, sweeps = _local_search(
            gains, start.allocation.owner.copy(), start.allocation.power_w.copy(), ue_slice, load, levels, params,
            self.max_sweeps, _queue_array(queue),
        )
        alloc = Allocation.from_owner(owner, power, cfg.num_ues)
        value = evaluate_allocation(cfg, gains, alloc, load, queue=queue).reward
        elapsed = time.perf_counter() - t0
        proven = cfg.num_rus == 1 and start.proven_optimal
        return OracleSolution(
            alloc, value, max(start.upper_bound, value), proven, elapsed,
            f"local search: {sweeps} sweep(s) from the relaxed MILP ({start.status})", start.mip_gap,
            self.milp.time_limit_s, self.milp.mip_rel_gap,
        )

    def solve(self, cfg: ScenarioConfig, gains: np.ndarray, offered_load_bps: np.ndarray,
              queue: QueueStatus | None = None) -> tuple[Allocation, float]:
        """`(feasible allocation, its reward)`."""
        sol = self.solve_detailed(cfg, gains, offered_load_bps, queue)
        return sol.allocation, sol.value


class OraclePolicy(AllocationPolicy):
    """An oracle as a policy: it solves each TTI from the env's true state (`env.gains`) and acts it out.

    It declares `uses_true_state = True`: it reads the true channel, not the agent's observation.
    """

    uses_true_state = True

    def __init__(self, env, oracle: Any = None) -> None:
        """`oracle`: any object with the oracles' `solve_detailed(cfg, gains, offered_load_bps, queue)`
        (`MILPOracle`, `ExhaustiveSearchOracle`, `LocalSearchOracle`, `ExactMultiCellOracle`); defaults
        to `MILPOracle` on one RU and `LocalSearchOracle` on several."""
        super().__init__(env)
        cfg = self.unwrapped.config
        self.oracle = oracle or (MILPOracle() if cfg.num_rus == 1 else LocalSearchOracle())
        self.name = f"oracle_{self.oracle.name}"
        self.last_solution: OracleSolution | None = None
        self.planned_ttis = 0
        """TTIs planned so far."""
        self.infeasible_ttis = 0
        """TTIs with no feasible allocation (objective="constrained" only), left idle."""

    def plan(self, env) -> Allocation:
        """Solve the current TTI from the true gains and offered loads (and the FIFOs' status on the
        backlog model: the myopic optimum of the sequential problem). A TTI with no feasible
        allocation under `objective="constrained"` is left idle (`last_solution.status` says so)."""
        self.last_solution = self.oracle.solve_detailed(env.config, env.gains, env.offered_load_bps, env.queue_status)
        self.planned_ttis += 1
        if self.last_solution.allocation is None:
            self.infeasible_ttis += 1
            return Allocation.empty(env.config)
        return self.last_solution.allocation
