"""An exact oracle for multi-cell TTIs: a MILP over each PRB's joint power pattern (HiGHS).

With several RUs the rate of a PRB depends on what the other RUs transmit on it (eq. 4), so the
single-RU MILP is only a relaxation there. Powers are discrete, though: on PRB m every RU sends
one of the levels or nothing, so the RUs' joint *power pattern* on m takes one of `(|P| + 1)^B`
values (`P` the distinct power levels). Given the pattern, every SINR is a constant, and so is
every rate. One binary per (pattern, RU, UE, PRB) therefore makes the problem linear and exact:

* `z[m, k]`: PRB m carries pattern k (the all-idle pattern included), `sum_k z[m, k] = 1`;
* `y[k, b, u, m]`: UE u owns PRB m of RU b under pattern k (only where RU b transmits in k, at a
  level u's slice offers within its cap (13)), `sum_u y[k, b, u, m] = z[m, k]`;
* UE u's rate is `sum r[k, b, u, m] y[k, b, u, m]`, with `r` the exact rate of eqs. (4)-(6);
* RU power and fronthaul, (11) and (15): `sum_{m, k} p_k[b] z[m, k] <= min(P_b^max, fronthaul limit)`;
* association (17)-(21): `a[u, b]` binaries, `sum_b a[u, b] <= 1`, `sum_k y[k, b, u, m] <= a[u, b]`;
* the objective and the QoS flags exactly as `MILPOracle`'s (eq. 22, or Algorithm 1's eq. 10
  with every constraint hard under `objective="constrained"`; the backlog model given the FIFOs).

Every allocation of the TTI is one assignment of these variables and back, so the MILP's optimum
is the TTI's optimum, interference included. HiGHS proves it, or, at the time limit, returns its
incumbent (polished by local search, or `LocalSearchOracle`'s allocation if better) and a proven
upper bound: a certified gap.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
from oran_gym.baselines.common import check_number
from oran_gym.baselines.oracles import (
    POWER_RTOL,
    LocalSearchOracle,
    OracleSolution,
    _bound_and_gap,
    _check_instance,
    _check_objective,
    _check_queue,
    _infeasible,
    _local_search,
    _qos_rows,
    _queue_array,
    _queue_rows,
    _Rows,
    _run_milp,
)

from oran_gym import Allocation, ScenarioConfig, evaluate_allocation
from oran_gym.allocation import scenario_arrays
from oran_gym.sim import reference
from oran_gym.sim.params import unpack_params
from oran_gym.sim.queue import QueueStatus

__all__ = ["ExactMultiCellOracle", "power_patterns"]


def power_patterns(cfg: ScenarioConfig) -> tuple[np.ndarray, np.ndarray]:
    """Every joint power pattern of a PRB across the RUs.

    Returns `(pattern_power_w [K, B], level_values_w [|P|])`: row k gives what each RU transmits on
    a PRB under pattern k (0 = idle), over the distinct power levels any slice may use within its
    cap (13). Row 0 is the all-idle pattern; `K = (|P| + 1)^B`.
    """
    params, ue_slice, levels = scenario_arrays(cfg)
    caps = unpack_params(params).prb_max_power_w
    slices = np.unique(ue_slice)
    allowed = np.concatenate([levels[s][levels[s] <= caps[s] * (1 + POWER_RTOL)] for s in slices])
    values = np.unique(allowed[allowed > 0])
    choices = np.concatenate([[0.0], values])
    idx = np.array(list(itertools.product(range(choices.size), repeat=cfg.num_rus)), dtype=np.int64)
    return choices[idx], values


def _model_size(cfg: ScenarioConfig, pattern_power: np.ndarray) -> int:
    """Variables of the model: a binary per (transmitting pattern-RU pair, UE, PRB), per (PRB,
    pattern) and per (UE, RU) with several RUs, and three flags per UE."""
    active = int((pattern_power > 0).sum())  # (pattern, RU) pairs that transmit
    B, U, M = cfg.num_rus, cfg.num_ues, cfg.num_prbs
    return active * U * M + M * pattern_power.shape[0] + (U * B if B > 1 else 0) + 3 * U


class ExactMultiCellOracle:
    """Exact optimum of a TTI with inter-RU interference, any number of RUs (see the module docstring).

    `solve(cfg, gains, offered_load_bps) -> (Allocation, value)` with the other oracles' contract:
    `value == evaluate_allocation(...).reward`; `solve_detailed` adds the proven upper bound, the
    solve time and the solver status. With one RU it is `MILPOracle`'s model written per pattern.

    Size: `(|P| + 1)^B` patterns per PRB and about `B |P| (|P| + 1)^(B-1) U M` binaries (64,800
    on `multi_cell`); above `max_variables` it refuses with the count.
    """

    name = "exact_multicell"
    uses_true_state = True

    def __init__(self, time_limit_s: float | None = 60.0, mip_rel_gap: float = 0.0, objective: str = "reward",
                 max_variables: int = 2_000_000, polish_sweeps: int = 50) -> None:
        """`time_limit_s`: limit on building the model plus HiGHS's search (None: none). At the limit
        HiGHS's incumbent is polished by up to `polish_sweeps` local-search sweeps and compared with
        `LocalSearchOracle`'s allocation; the better is returned with the tighter of HiGHS's proven
        bound and the relaxed MILP's (`proven_optimal=False`), so the answer is never worse than the
        old bracket. That fallback runs after the limit. `mip_rel_gap`: 0 proves optimality.
        `objective`: "reward" (eq. 22, default) or "constrained" (the paper's Algorithm 1; an
        infeasible instance gives `(None, -inf)`). `max_variables`: the model-size cap."""
        self.time_limit_s = check_number("ExactMultiCellOracle", "time_limit_s", time_limit_s, lo=0, lo_open=True, allow_none=True)
        self.mip_rel_gap = check_number("ExactMultiCellOracle", "mip_rel_gap", mip_rel_gap, lo=0, hi=1, hi_open=True)
        self.objective = _check_objective("ExactMultiCellOracle", objective)
        self.max_variables = check_number("ExactMultiCellOracle", "max_variables", max_variables, lo=1, integer=True)
        self.polish_sweeps = check_number("ExactMultiCellOracle", "polish_sweeps", polish_sweeps, lo=0, integer=True)

    def num_variables(self, cfg: ScenarioConfig) -> int:
        """Binaries and flags of the model for `cfg` (before HiGHS's presolve)."""
        return _model_size(cfg, power_patterns(cfg)[0])

    def _build(self, cfg: ScenarioConfig, gains: np.ndarray, load: np.ndarray, queue: QueueStatus | None,
               pattern_power: np.ndarray):
        params, ue_slice, levels = scenario_arrays(cfg)
        kp = unpack_params(params)
        B, U, M = cfg.num_rus, cfg.num_ues, cfg.num_prbs
        K = pattern_power.shape[0]
        pairs_k, pairs_b = np.nonzero(pattern_power > 0)  # (pattern, RU) pairs that transmit, [A]
        A = pairs_k.size
        p_a = pattern_power[pairs_k, pairs_b]  # [A] the RU's power under the pattern
        # interference each pair's RU sees on (u, m): sum over the other RUs, in RU order (eq. 4)
        interference = np.zeros((A, U, M))
        for j in range(B):
            other = (pairs_b != j)[:, None, None]
            interference += np.where(other, gains[j][None] * pattern_power[pairs_k, j][:, None, None], 0.0)
        sinr = gains[pairs_b] * p_a[:, None, None] / (interference + kp.noise_w)
        rate_mbps = reference.capped_rate_bps(sinr, ue_slice[None, :, None], params) / 1e6  # [A, U, M]
        caps = kp.prb_max_power_w[ue_slice]  # [U]
        offered = (levels[ue_slice][None, :, :] == p_a[:, None, None]) & (levels[ue_slice] <= caps[:, None] * (1 + POWER_RTOL))[None]
        eligible = offered.any(axis=2)[:, :, None] & (rate_mbps > 0)  # [A, U, M]; a zero rate is dominated by idling

        ny = A * U * M
        iy = np.arange(ny).reshape(A, U, M)
        iz = ny + np.arange(M * K).reshape(M, K)
        na = U * B if B > 1 else 0
        ia = ny + M * K + np.arange(na).reshape(U, B) if na else None
        first_v = ny + M * K + na
        iv_rate, iv_delay = first_v + np.arange(U), first_v + U + np.arange(U)
        n = first_v + 2 * U + (U if queue is not None else 0)
        scale = kp.theta_rate / kp.rate_scale_bps * 1e6  # reward per Mbit/s of objective
        c = np.zeros(n)
        c[:ny] = -(scale * kp.slice_weight[ue_slice][None, :, None] * rate_mbps).ravel()
        c[iv_rate] = kp.theta_violation
        c[iv_delay] = kp.theta_violation
        ub = np.ones(n)
        ub[:ny] = eligible.ravel().astype(float)
        integrality = np.ones(n)
        rows = _Rows()
        add = rows.add
        add(iz, 1.0, 1.0, 1.0)  # one pattern per PRB
        # the pattern's transmitting RUs each have exactly one owner: sum_u y[a, u, m] - z[m, k_a] = 0
        owners = np.concatenate([iy.transpose(0, 2, 1), iz[:, pairs_k].T[:, :, None]], axis=2)  # [A, M, U + 1]
        add(owners, np.concatenate([np.ones(U), [-1.0]]), 0.0, 0.0)
        for b in range(B):  # eqs. (11) and (15)
            add(iz.ravel(), np.tile(pattern_power[:, b], M), -np.inf, kp.ru_power_limit_w)
        if na:
            for u in range(U):
                add(ia[u], 1.0, -np.inf, 1.0)
            for b in range(B):  # sum_k y[k, b, u, m] <= a[u, b]
                a_b = np.flatnonzero(pairs_b == b)
                cols = np.concatenate([iy[a_b].transpose(1, 2, 0), np.broadcast_to(ia[:, b][:, None, None], (U, M, 1))], axis=2)
                add(cols, np.concatenate([np.ones(a_b.size), [-1.0]]), -np.inf, 0.0)
        ue_cols = [iy[:, u].ravel() for u in range(U)]
        ue_rates_mbps = [rate_mbps[:, u].ravel() for u in range(U)]
        if queue is not None:
            _queue_rows(add, c, ub, integrality, queue, kp, ue_slice, ue_cols, ue_rates_mbps, ny, iv_rate, iv_delay, first_v + 2 * U)
        else:
            _qos_rows(add, ub, load, params, ue_slice, ue_cols, ue_rates_mbps, iv_rate, iv_delay)
        if self.objective == "constrained":
            ub[first_v : first_v + 2 * U] = 0.0  # no violation allowed
        return c, ub, integrality, rows.constraint(n), (pairs_k, pairs_b, p_a, iy)

    def solve_detailed(self, cfg: ScenarioConfig, gains: np.ndarray, offered_load_bps: np.ndarray,
                       queue: QueueStatus | None = None) -> OracleSolution:
        """Solve one TTI: the optimum (`proven_optimal`), or at the time limit the best allocation
        found with HiGHS's proven `upper_bound` (`queue`: on the backlog model, given the FIFOs)."""
        pattern_power, level_values = power_patterns(cfg)
        size = _model_size(cfg, pattern_power)
        if size > self.max_variables:
            raise ValueError(
                f"ExactMultiCellOracle: the model for num_rus={cfg.num_rus}, num_ues={cfg.num_ues}, num_prbs={cfg.num_prbs} "
                f"and {level_values.size} power levels has {size:,} variables, above max_variables="
                f"{self.max_variables:,}; raise max_variables, or use LocalSearchOracle for a bracket"
            )
        gains, load = _check_instance(cfg, gains, offered_load_bps)
        queue = _check_queue(cfg, queue)
        params, ue_slice, levels = scenario_arrays(cfg)
        t0 = time.perf_counter()
        c, ub, integrality, constraints, (pairs_k, pairs_b, p_a, iy) = self._build(cfg, gains, load, queue, pattern_power)
        res = _run_milp("ExactMultiCellOracle", c, ub, integrality, constraints, time.perf_counter() - t0, self.time_limit_s,
                        self.mip_rel_gap)
        if res.status == 2 and self.objective == "constrained":
            return _infeasible(time.perf_counter() - t0, res.message, self.time_limit_s, self.mip_rel_gap)
        B, U, M = cfg.num_rus, cfg.num_ues, cfg.num_prbs
        owner = np.full((B, M), -1, dtype=np.int64)
        power = np.zeros((B, M))
        if res.x is not None:
            a_i, u_i, m_i = np.nonzero(res.x[: iy.size].reshape(iy.shape) > 0.5)
            owner[pairs_b[a_i], m_i] = u_i
            power[pairs_b[a_i], m_i] = p_a[a_i]
        elif self.objective == "constrained":
            raise RuntimeError(
                f"ExactMultiCellOracle: HiGHS found no feasible allocation in {time.perf_counter() - t0:.2f} s "
                f"(time_limit_s={self.time_limit_s}) and proved none infeasible: {res.message}; raise time_limit_s"
            )
        proven = res.status == 0
        status = res.message
        bound, gap = _bound_and_gap(res, unpack_params(params).theta_bias)
        fallback = None
        if not proven and self.objective == "reward":
            # at the limit: polish HiGHS's incumbent, and keep the old bracket's ends where they are better
            owner, power, _, sweeps = _local_search(gains, owner, power, ue_slice, load, levels, params, self.polish_sweeps, _queue_array(queue))
            fallback = LocalSearchOracle(time_limit_s=self.time_limit_s, max_sweeps=self.polish_sweeps).solve_detailed(cfg, gains, load, queue)
            bound = min(bound, fallback.upper_bound)
            status = f"{res.message}; incumbent polished by {sweeps} local-search sweep(s)"
        alloc = Allocation.from_owner(owner, power, U)
        value = evaluate_allocation(cfg, gains, alloc, load, queue=queue).reward
        if fallback is not None and fallback.value > value:
            alloc, value = fallback.allocation, fallback.value
            status += "; LocalSearchOracle's allocation was better"
        return OracleSolution(alloc, value, max(bound, value), proven, time.perf_counter() - t0, status, gap,
                              self.time_limit_s, self.mip_rel_gap)

    def solve(self, cfg: ScenarioConfig, gains: np.ndarray, offered_load_bps: np.ndarray,
              queue: QueueStatus | None = None) -> tuple[Allocation | None, float]:
        """`(optimal allocation, its reward)` (the best found at the time limit, see `solve_detailed`);
        `(None, -inf)` for an infeasible instance under `objective="constrained"`."""
        sol = self.solve_detailed(cfg, gains, offered_load_bps, queue)
        return sol.allocation, sol.value
