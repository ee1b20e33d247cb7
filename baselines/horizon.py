"""The perfect-forecast bound of the backlog model: a MILP over a horizon of H TTIs.

`HorizonBound().solve(cfg, gains, arrived_bits, fifo_bits, overflow_bits)` maximises the reward of
H TTIs of `queue_model="backlog"` with every channel and every arrival of the horizon known in
advance (a perfect forecast), and returns a proven upper bound on what any policy can earn over
those H TTIs from that start. It is a relaxation of the true sequential problem:

* per TTI t the allocation binaries `x[t, b, u, m, l]` with the per-TTI constraints of
  `MILPOracle` (one owner per PRB, RU power, one RU per UE), and interference-free rates (with one
  RU exact; with several an upper bound);
* every UE's bits as *cohorts* by arrival TTI (the FIFO's buckets at the start, then each TTI's
  arrivals); `y[u, c, t] >= 0` bits of cohort c served in TTI t, `sum_c y[u, c, t] <= T R_u(t)`,
  `sum_t y[u, c, t] <= size(c)`, no service after a cohort's URLLC deadline or expiry;
* a drop flag per (UE, TTI) when a cohort reaching its deadline or expiry is not fully served
  (and, in the first TTI, when the arrivals overflowed), and a late flag per (UE, TTI) when eMBB
  bits past their budget are left;
* objective: sum over the horizon of eq. (22) with the delivered rate, as the env's reward.

Relaxed against the env: the order of service is free (the env serves first-in first-out, which
never loses a drop or a miss the free order avoids), arrivals after the first TTI never overflow,
and the floor of `R T` is dropped. Each only enlarges what the bound may do, so
`bound >= sum of the env's rewards over the horizon` for every policy, the myopic optimum
(`MILPOracle(queue=...)` TTI by TTI) included; the difference measures what planning with a
perfect forecast could be worth at most.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
from oran_gym.baselines.common import check_number, prb_rates_bps
from oran_gym.baselines.oracles import _bound_and_gap, _Rows, _run_milp

from oran_gym import ScenarioConfig
from oran_gym.allocation import scenario_arrays
from oran_gym.config import URLLC
from oran_gym.sim.params import unpack_params

__all__ = ["HorizonBound", "HorizonSolution", "future_of"]


@dataclasses.dataclass
class HorizonSolution:
    """The horizon MILP's answer: `upper_bound` (proven; the incumbent `value` when optimal) and the
    plan's per-TTI served bits `[H, U]` and flags."""

    upper_bound: float
    value: float
    proven_optimal: bool
    served_bits: np.ndarray
    drops: np.ndarray
    late: np.ndarray
    solve_time_s: float
    status: str


class HorizonBound:
    """Perfect-forecast upper bound over H TTIs of the backlog model (see the module docstring)."""

    name = "horizon"

    def __init__(self, time_limit_s: float | None = 120.0, mip_rel_gap: float = 0.0) -> None:
        """`time_limit_s`: HiGHS's limit (None: none); on a timeout the bound is HiGHS's dual bound."""
        self.time_limit_s = check_number("HorizonBound", "time_limit_s", time_limit_s, lo=0, lo_open=True, allow_none=True)
        self.mip_rel_gap = check_number("HorizonBound", "mip_rel_gap", mip_rel_gap, lo=0, hi=1, hi_open=True)

    def solve(self, cfg: ScenarioConfig, gains: np.ndarray, arrived_bits: np.ndarray, fifo_bits: np.ndarray,
              overflow_bits: np.ndarray) -> HorizonSolution:
        """Bound the reward of the H TTIs whose true gains are `gains [H, B, U, M]`.

        Args:
            cfg: a scenario with `queue_model="backlog"`.
            gains: the true linear gains of each TTI of the horizon.
            arrived_bits: `[H, U]` bits arriving in each TTI (row 0 is ignored: the first TTI's
                arrivals are already in `fifo_bits`).
            fifo_bits: `[U, A]` queued bits by age at the first TTI's start (column k arrived k TTIs
                ago; `env.unwrapped.queue_bits`).
            overflow_bits: `[U]` bits the first TTI's arrivals dropped (`queue_status.overflow_bits`).
        """
        if cfg.queue_model != "backlog":
            raise ValueError(f"HorizonBound needs queue_model='backlog', got {cfg.queue_model!r}")
        gains = np.asarray(gains, dtype=np.float64)
        H = gains.shape[0]
        B, U, M, L = cfg.num_rus, cfg.num_ues, cfg.num_prbs, cfg.num_power_levels
        if gains.ndim != 4 or gains.shape[1:] != (B, U, M) or H < 1:
            raise ValueError(f"gains must have shape (H >= 1, {B}, {U}, {M}), got {gains.shape}")
        arrived_bits = np.asarray(arrived_bits)
        fifo_bits = np.asarray(fifo_bits)
        if arrived_bits.shape != (H, U):
            raise ValueError(f"arrived_bits must have shape ({H}, {U}), got {arrived_bits.shape}")
        if fifo_bits.ndim != 2 or fifo_bits.shape[0] != U:
            raise ValueError(f"fifo_bits must have shape ({U}, ages), got {fifo_bits.shape}")
        params, ue_slice, levels = scenario_arrays(cfg)
        kp = unpack_params(params)
        tti, expiry = kp.tti_s, cfg.queue_horizon_ttis
        t0 = time.perf_counter()

        # cohorts per UE: (arrival TTI relative to the horizon's start, Mbit)
        cohorts: list[list[tuple[int, float]]] = []
        for u in range(U):
            row = [(-k, fifo_bits[u, k] / 1e6) for k in range(fifo_bits.shape[1] - 1, -1, -1) if fifo_bits[u, k] > 0]
            row += [(t, arrived_bits[t, u] / 1e6) for t in range(1, H) if arrived_bits[t, u] > 0]
            cohorts.append(row)

        def last_tti(u: int, a: int) -> int:
            """The last TTI (relative) in which cohort arrival a of UE u may be served."""
            d = int(kp.deadline_ttis[ue_slice[u]])
            end = a + expiry - 1
            return min(end, a + d - 1) if ue_slice[u] == URLLC else end

        # variable layout
        nx = H * B * U * M * L
        ix = np.arange(nx).reshape(H, B, U, M, L)
        n = nx
        ia = None
        if B > 1:
            ia = n + np.arange(H * U * B).reshape(H, U, B)
            n += H * U * B
        y_index: dict[tuple[int, int, int], int] = {}
        for u in range(U):
            for c, (a, _) in enumerate(cohorts[u]):
                for t in range(max(a, 0), min(H - 1, last_tti(u, a)) + 1):
                    y_index[(u, c, t)] = n
                    n += 1
        iv_drop = n + np.arange(H * U).reshape(H, U)
        iv_late = n + H * U + np.arange(H * U).reshape(H, U)
        n += 2 * H * U
        c_vec = np.zeros(n)
        integrality = np.ones(n)
        ub = np.ones(n)
        scale = kp.theta_rate / kp.rate_scale_bps * 1e6 / tti  # reward per Mbit served in a TTI
        for (u, _, _), j in y_index.items():
            c_vec[j] = -scale * kp.slice_weight[ue_slice[u]]
            integrality[j] = 0.0
            ub[j] = np.inf
        c_vec[iv_drop] = kp.theta_violation
        c_vec[iv_late] = kp.theta_violation
        rate_mbit = np.stack([prb_rates_bps(cfg, gains[t]) for t in range(H)]) * tti / 1e6  # [H, B, U, M, L] Mbit per TTI
        power = np.broadcast_to(levels[ue_slice][None, :, None, :], (B, U, M, L))
        ub[:nx] = np.broadcast_to(power <= kp.prb_max_power_w[ue_slice][None, :, None, None] * (1 + 1e-9), (H, B, U, M, L)).ravel()

        rows = _Rows()

        def add(cols_, vals_, lo_, hi_):
            """One row over `cols_` (any shape, read flat)."""
            rows.add(np.ravel(cols_), np.ravel(vals_), lo_, hi_)

        for t in range(H):
            for b in range(B):
                for m in range(M):
                    add(ix[t, b, :, m, :], 1.0, -np.inf, 1.0)  # one owner per PRB
                add(ix[t, b], power[b], -np.inf, kp.ru_power_limit_w)  # eqs. (11), (15)
            if ia is not None:
                for u in range(U):
                    add(ia[t, u], 1.0, -np.inf, 1.0)
                    for b in range(B):
                        add(np.concatenate([ix[t, b, u].ravel(), [ia[t, u, b]]]),
                            np.concatenate([np.ones(M * L), [-float(M * L)]]), -np.inf, 0.0)
        for u in range(U):
            s = ue_slice[u]
            d = int(kp.deadline_ttis[s])
            for t in range(H):
                served = [y_index[(u, c, t)] for c in range(len(cohorts[u])) if (u, c, t) in y_index]
                # sum_c y[u, c, t] <= T R_u(t)
                add(np.concatenate([served, ix[t, :, u].ravel()]),
                    np.concatenate([np.ones(len(served)), -rate_mbit[t, :, u].ravel()]), -np.inf, 0.0)
            for c, (a, size) in enumerate(cohorts[u]):
                ys = [y_index[(u, c, t)] for t in range(H) if (u, c, t) in y_index]
                if ys:
                    add(ys, 1.0, -np.inf, size)
                end = last_tti(u, a)
                if 0 <= end < H:  # the cohort is dropped at the end of TTI `end` unless fully served
                    add(np.concatenate([ys, [iv_drop[end, u]]]), np.concatenate([np.ones(len(ys)), [size]]), size, np.inf)
            if overflow_bits[u] > 0:
                add([iv_drop[0, u]], 1.0, 1.0, 1.0)
            if s != URLLC:
                for t in range(H):
                    # late at t: cohorts of age in [d - 1, expiry - 2] left after TTI t
                    late = [(c, size) for c, (a, size) in enumerate(cohorts[u]) if d - 1 <= t - a <= expiry - 2]
                    if not late:
                        ub[iv_late[t, u]] = 0.0
                        continue
                    big = sum(size for _, size in late)
                    ys = [y_index[(u, c, tau)] for c, _ in late for tau in range(t + 1) if (u, c, tau) in y_index]
                    # sum (size - served so far) <= big v_late
                    add(np.concatenate([ys, [iv_late[t, u]]]), np.concatenate([np.ones(len(ys)), [big]]), big, np.inf)
            else:
                ub[iv_late[:, u]] = 0.0
        # the time limit is HiGHS's alone here (build time 0 to _run_milp)
        res = _run_milp("HorizonBound", c_vec, ub, integrality, rows.constraint(n), 0.0, self.time_limit_s, self.mip_rel_gap)
        elapsed = time.perf_counter() - t0
        bias = H * kp.theta_bias
        bound, _ = _bound_and_gap(res, bias)
        if math.isinf(bound):
            raise RuntimeError(f"HorizonBound: HiGHS gave no bound in {elapsed:.1f} s: {res.message}")
        value = -float(res.fun) + bias if res.x is not None else float("-inf")
        served = np.zeros((H, U))
        drops = np.zeros((H, U), bool)
        late = np.zeros((H, U), bool)
        if res.x is not None:
            for (u, _, t), j in y_index.items():
                served[t, u] += res.x[j] * 1e6
            drops = res.x[iv_drop] > 0.5
            late = res.x[iv_late] > 0.5
        return HorizonSolution(max(bound, value), value, res.status == 0, served, drops, late, elapsed, res.message)


def future_of(env, ttis: int) -> tuple[np.ndarray, np.ndarray]:
    """The true gains `[H, B, U, M]` and arrivals `[H, U]` of the next `ttis` TTIs of a backlog-model
    env (a full-mode `ORANSlicingEnv`), read from a copy stepped with idle actions: channels and
    arrivals do not depend on the actions, so they are the env's own future (a perfect forecast).
    The env itself is not touched."""
    import copy

    twin = copy.deepcopy(env.unwrapped)
    if twin.action_mode != "full":
        raise ValueError("future_of needs a full-mode env (action_mode='full')")
    idle = np.zeros(twin.action_space.shape, dtype=np.int64)
    gains, arrived = [], []
    for _ in range(ttis):
        gains.append(twin.gains)
        *_, info = twin.step(idle)
        arrived.append(info["queue"]["arrived_bits"])
    return np.stack(gains), np.stack(arrived)
