"""The backlog model (`queue_model="backlog"`, DESIGN.md section 6): per-UE FIFOs carried across TTIs.

Each UE's FIFO is an int64 row `q_bits[u, :]` of `H = queue_horizon_ttis` buckets: the bits that
arrived in TTI t and are still queued sit in bucket `t % H`, so the bucket of age k (arrived k
TTIs ago) is `(tti - k) % H`. Packets of a slice all have one size, so a bucket is a whole number
of packets, and service is first-in first-out, bit by bit (the head packet may be partly served).
Everything is in whole bits, so nothing is lost to rounding: every TTI and UE,

    queued before + arrived = served + dropped + queued after        (exactly, in int64)

One TTI of one UE, in order:

1. `queue_arrive`: the TTI's arrivals (eMBB Poisson or ON/OFF packets, URLLC CBR packets) join
   the bucket `tti % H`; packets that would lift the backlog above `max_backlog_bits` are dropped
   whole (tail drop) and counted as overflow.
2. `queue_status`: what the agent sees and what the TTI's reward needs: the backlog, the
   head-of-line delay (age of the oldest bit x TTI), the *urgent* bits (dropped at the TTI's end
   unless served: URLLC bits that cannot meet their budget any more, and bits of age H - 1, which
   expire) and the *late* eMBB bits (past their budget at the TTI's end unless served). FIFO
   order puts the urgent bits first, then the late ones.
3. The allocation's rate R_u serves `min(floor(R_u T), backlog)` bits from the head
   (`ue_outcome`, `served_bits`); a bit served at age k waited k + 1 TTIs.
4. `queue_tti_outcome` (with `commit`): removes the served bits, drops the urgent bits left, and
   reports arrived, served, dropped and queued bits, the head-of-line delay after the TTI and the
   mean sojourn of the bits served.

The TTI's reward (eq. 22 with the queue's terms): the objective is the weighted *delivered* bit
rate, `sum_u w_s served_u / T`; a UE counts a "rate" violation when it dropped bits this TTI
(overflow, a URLLC deadline or expiry) and a "delay" violation when late eMBB bits stay queued.

Numba functions on one environment's arrays: the single env and the batched kernels
(`oran_gym.sim.batched`, one row per sub-env) call the same code. `oran_gym.sim.reference`
holds the pure-Python twin the tests compare with. Nothing here imports gymnasium or torch.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from oran_gym.config import URLLC
from oran_gym.sim.kernels import weighted_rate_bps
from oran_gym.sim.params import (
    deadline_ttis,
    max_backlog_bits,
    max_queue_delay_s,
    packet_bits,
    tti_s,
    urllc_packets_per_tti,
)

__all__ = [
    "QUEUE_COUNTS",
    "QUEUE_DELAYS",
    "QueueStatus",
    "arrived_bits",
    "cbr_packets",
    "info_arrays",
    "queue_arrive",
    "queue_begin",
    "queue_observation",
    "queue_status",
    "queue_terms",
    "queue_tti_outcome",
    "served_bits",
    "served_rate_bps",
    "ue_outcome",
]

QUEUE_COUNTS = ("arrived_bits", "served_bits", "dropped_bits", "queued_bits")
"""Columns of a TTI's integer outcome per UE (`queue_tti_outcome`'s `out_bits`)."""
QUEUE_DELAYS = ("hol_delay_s", "sojourn_s")
"""Columns of a TTI's delay outcome per UE (`out_delay_s`): head-of-line delay after the TTI,
mean sojourn of the bits served in it (0 when none)."""


def info_arrays(counts: np.ndarray, delays: np.ndarray) -> dict[str, np.ndarray]:
    """`info["queue"]` from the step outputs `counts [..., U, 4]` (`QUEUE_COUNTS`) and
    `delays [..., U, 2]` (`QUEUE_DELAYS`): one `[..., U]` copy per key (the single env passes its
    row, the vector env the whole batch)."""
    info = {name: counts[..., k].copy() for k, name in enumerate(QUEUE_COUNTS)}
    info.update({name: delays[..., k].copy() for k, name in enumerate(QUEUE_DELAYS)})
    return info


class QueueStatus(NamedTuple):
    """Each UE's FIFO at the start of a TTI, after its arrivals (int64 bits, `[U]` each): what
    `evaluate_allocation(..., queue=...)` needs to score an allocation on the backlog model."""

    backlog_bits: np.ndarray
    urgent_bits: np.ndarray
    late_bits: np.ndarray
    overflow_bits: np.ndarray


@njit(cache=True, inline="always")
def cbr_packets(tti, per_tti):
    """Packets a CBR source sending at times 0, I, 2I, ... emits in TTI `tti` (per_tti = T / I)."""
    return int(math.ceil((tti + 1) * per_tti - 1e-9) - math.ceil(tti * per_tti - 1e-9))


@njit(cache=True)
def arrived_bits(embb_packets, tti, ue_slice, params, out):
    """The TTI's arrivals per UE in bits into `out [U]`: the eMBB UEs' packets (`embb_packets [E]`,
    the eMBB UEs come first) and the URLLC UEs' CBR packets."""
    num_embb = embb_packets.shape[0]
    for u in range(ue_slice.shape[0]):
        s = ue_slice[u]
        n = embb_packets[u] if u < num_embb else cbr_packets(tti, urllc_packets_per_tti(params))
        out[u] = n * int(packet_bits(params, s))


@njit(cache=True)
def queue_arrive(q_bits, tti, arrived, ue_slice, params, overflow):
    """Step 1: `arrived [U]` bits join bucket `tti % H`; whole packets above the cap are dropped
    into `overflow [U]`."""
    horizon = q_bits.shape[1]
    pos = tti % horizon
    cap = max_backlog_bits(params)
    for u in range(q_bits.shape[0]):
        backlog = 0
        for k in range(horizon):
            backlog += q_bits[u, k]
        a = arrived[u]
        room = cap - backlog
        if a <= room:
            accept = a
        else:
            pkt = int(packet_bits(params, ue_slice[u]))
            accept = int(room // pkt) * pkt if room > 0 else 0
        q_bits[u, pos] += accept
        overflow[u] = a - accept


@njit(cache=True)
def queue_begin(q_bits, tti, embb_packets, ue_slice, params, arrived, overflow, backlog, urgent, late, hol_s):
    """Steps 1 and 2 at a TTI's start: the TTI's arrivals (`arrived_bits`) join the FIFOs
    (`queue_arrive`), then each UE's status (`queue_status`), into the `[U]` arrays given."""
    arrived_bits(embb_packets, tti, ue_slice, params, arrived)
    queue_arrive(q_bits, tti, arrived, ue_slice, params, overflow)
    queue_status(q_bits, tti, ue_slice, params, backlog, urgent, late, hol_s)


@njit(cache=True, inline="always")
def _urgent_age(k, horizon, s, deadline):
    """Whether bits of age k are dropped at the TTI's end unless served."""
    return k == horizon - 1 or (s == URLLC and k >= deadline - 1)


@njit(cache=True)
def queue_status(q_bits, tti, ue_slice, params, backlog, urgent, late, hol_s):
    """Step 2: per UE the backlog, urgent and late bits and the head-of-line delay (s), into the
    `[U]` arrays given."""
    horizon = q_bits.shape[1]
    pos = tti % horizon
    t = tti_s(params)
    for u in range(q_bits.shape[0]):
        s = ue_slice[u]
        d = deadline_ttis(params, s)
        b = 0
        urg = 0
        lt = 0
        oldest = -1
        for k in range(horizon):
            x = q_bits[u, (pos - k) % horizon]
            if x == 0:
                continue
            b += x
            oldest = k
            if _urgent_age(k, horizon, s, d):
                urg += x
            elif k >= d - 1:
                lt += x
        backlog[u] = b
        urgent[u] = urg
        late[u] = lt
        hol_s[u] = oldest * t if oldest >= 0 else 0.0


@njit(cache=True, inline="always")
def served_bits(rate_bps, backlog, params):
    """Step 3: bits a rate serves from a backlog in one TTI, `min(floor(R T), backlog)`."""
    cap = math.floor(rate_bps * tti_s(params))
    return backlog if cap >= backlog else int(cap)


@njit(cache=True, inline="always")
def ue_outcome(rate_bps, backlog, urgent, late, overflow, params):
    """One UE's TTI on the backlog model at rate R: `(served bits, dropped bits, late bits left)`.

    Dropped: the overflow at arrival plus the urgent bits not served; late eMBB bits are served
    after the urgent ones (FIFO), and those left make a budget miss.
    """
    served = served_bits(rate_bps, backlog, params)
    dropped = overflow + max(0, urgent - served)
    late_left = late - max(0, served - urgent)
    return served, dropped, max(0, late_left)


@njit(cache=True, inline="always")
def served_rate_bps(served, params):
    """Delivered bit rate of `served` bits in one TTI: the backlog model's rate in the objective."""
    return served / tti_s(params)


@njit(cache=True)
def queue_terms(ue_rate_bps, status_backlog, status_urgent, status_late, status_overflow, ue_slice, params):
    """The backlog model's objective and flags for a whole TTI: `(served [U], dropped [U],
    rate_violated [U], delay_violated [U], objective_bps)`; objective = sum_u w_s served_u / T,
    summed in UE order (as the prb step does)."""
    n = ue_slice.shape[0]
    served = np.zeros(n, np.int64)
    dropped = np.zeros(n, np.int64)
    rate_v = np.zeros(n, np.bool_)
    delay_v = np.zeros(n, np.bool_)
    objective = 0.0
    for u in range(n):
        sv, dr, lt = ue_outcome(ue_rate_bps[u], status_backlog[u], status_urgent[u], status_late[u], status_overflow[u], params)
        served[u] = sv
        dropped[u] = dr
        rate_v[u] = dr > 0
        delay_v[u] = lt > 0
        objective += weighted_rate_bps(served_rate_bps(sv, params), ue_slice[u], params)
    return served, dropped, rate_v, delay_v, objective


@njit(cache=True)
def queue_tti_outcome(q_bits, tti, ue_rate_bps, arrived, overflow, ue_slice, params, out_bits, out_delay_s, commit):
    """Step 4: serve each UE's FIFO from its head at its rate, drop the urgent bits left.

    Writes `out_bits [U, 4]` (`QUEUE_COUNTS`: arrived, served, dropped, queued after) and
    `out_delay_s [U, 2]` (`QUEUE_DELAYS`: head-of-line delay at the next TTI's start, mean sojourn
    of the bits served, k + 1 TTIs for a bit of age k). `commit`: also apply it to `q_bits` (the
    TTI's end); otherwise `q_bits` is only read (what the TTI's partial allocation would give).
    """
    horizon = q_bits.shape[1]
    pos = tti % horizon
    t = tti_s(params)
    for u in range(q_bits.shape[0]):
        s = ue_slice[u]
        d = deadline_ttis(params, s)
        backlog = 0
        for k in range(horizon):
            backlog += q_bits[u, k]
        todo = served_bits(ue_rate_bps[u], backlog, params)
        served = todo
        waited = 0.0
        dropped = overflow[u]
        queued = 0
        oldest = -1
        for k in range(horizon - 1, -1, -1):  # oldest first
            i = (pos - k) % horizon
            x = q_bits[u, i]
            if x == 0:
                continue
            take = x if x <= todo else todo
            todo -= take
            waited += take * (k + 1.0)
            left = x - take
            if left > 0 and _urgent_age(k, horizon, s, d):
                dropped += left
                left = 0
            if left > 0:
                queued += left
                if oldest < 0:
                    oldest = k
            if commit:
                q_bits[u, i] = left
        out_bits[u, 0] = arrived[u]
        out_bits[u, 1] = served
        out_bits[u, 2] = dropped
        out_bits[u, 3] = queued
        out_delay_s[u, 0] = (oldest + 1) * t if oldest >= 0 else 0.0
        out_delay_s[u, 1] = waited * t / served if served > 0 else 0.0


@njit(cache=True, inline="always")
def queue_observation(backlog, hol_s, params, out, k):
    """The observation's queue block from offset k: every UE's backlog / max_backlog_bits, then
    every UE's head-of-line delay / max_queue_delay_s (both clipped to [0, 1])."""
    n = backlog.shape[0]
    cap = max_backlog_bits(params)
    horizon_s = max_queue_delay_s(params)
    for u in range(n):
        out[k + u] = min(1.0, backlog[u] / cap)
        out[k + n + u] = min(1.0, hol_s[u] / horizon_s)
