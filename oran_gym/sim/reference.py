"""Pure-NumPy twins of `oran_gym.sim.kernels`: same names, same signatures, same results.

Written independently of the kernels (vectorised NumPy rather than loops), they are the test
oracle for the numba path and the `backend="numpy"` path of `evaluate_allocation`.
"""

from __future__ import annotations

import math

import numpy as np

from oran_gym.sim.link import cqi_efficiency_numpy
from oran_gym.sim.params import GAIN_DB_MAX, GAIN_DB_MIN, unpack_params
from oran_gym.sim.queue import QueueStatus

POWER_RTOL = 1e-9


# ---------------------------------------------------------------------------------------------
# twins of the per-equation scalar helpers (vectorised: each also takes arrays)
# ---------------------------------------------------------------------------------------------
def prb_sinr_lin(gain_lin, owner, power_w, b, m, noise_power_w):
    """Eq. (4) for PRB m of RU b."""
    u = owner[b, m]
    others = np.arange(gain_lin.shape[0]) != b
    return gain_lin[b, u, m] * power_w[b, m] / (np.sum(gain_lin[others, u, m] * power_w[others, m]) + noise_power_w)


def sinr_db_of(sinr_lin):
    """Linear SINR in dB, -inf where 0."""
    s = np.asarray(sinr_lin, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(s > 0, 10.0 * np.log10(np.where(s > 0, s, 1.0)), -np.inf)


def capped_rate_bps(sinr_lin, slice_id, params):
    """Eqs. (5)-(6): W min(log2(1 + eta), SE_max[s]) (the CQI table's efficiency instead of
    log2(1 + eta) with `link_model="cqi_table"`); element-wise over arrays of SINRs and slices."""
    kp = unpack_params(params)
    sinr_lin = np.asarray(sinr_lin, dtype=np.float64)
    se = cqi_efficiency_numpy(sinr_lin) if kp.link_cqi else np.log2(1.0 + sinr_lin)
    return kp.prb_bandwidth_hz * np.minimum(se, kp.se_max_bps_per_hz[slice_id])


def fronthaul_load(ru_power, params):
    """Eq. (9)."""
    return np.log2(1.0 + ru_power / unpack_params(params).quant_noise_w)


def ue_delay_s(rate_bps, slice_id, params):
    """Eq. (16); inf where the rate is 0."""
    kp = unpack_params(params)
    r = np.asarray(rate_bps, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(r > 0, kp.fibre_delay_s + kp.packet_bits[slice_id] / np.where(r > 0, r, 1.0), np.inf)


def rate_violated(rate_bps, offered_load_bps):
    """Constraint (14) broken."""
    return np.asarray(rate_bps) < np.asarray(offered_load_bps)


def delay_violated(delay, slice_id, params):
    """Constraint (16) broken."""
    return np.asarray(delay) > unpack_params(params).delay_budget_s[slice_id]


def weighted_rate_bps(rate_bps, slice_id, params):
    """w_s R_u."""
    return unpack_params(params).slice_weight[slice_id] * rate_bps


def reward_rate_term(objective_bps, params):
    """Theta_r objective / rate_scale."""
    kp = unpack_params(params)
    return kp.theta_rate * objective_bps / kp.rate_scale_bps


def reward_violation_term(num_violations, params):
    """-Theta_c #violations."""
    return -unpack_params(params).theta_violation * num_violations


def tti_reward(objective_bps, num_violations, params):
    """Eq. (22)."""
    return reward_rate_term(objective_bps, params) + reward_violation_term(num_violations, params) + unpack_params(params).theta_bias


def reward_rate_per_bps(params):
    """Theta_r / rate_scale."""
    kp = unpack_params(params)
    return kp.theta_rate / kp.rate_scale_bps


def _put(out, k, values):
    """NumPy twin of `kernels._put`."""
    flat = np.ravel(values)
    out[k : k + flat.size] = flat
    return k + flat.size


def _owner_gain(gain_lin: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """h[j, owner[b, m], m] for every (j, b, m); `[B, B, M]`, 0 where idle."""
    num_rus, _, num_prbs = gain_lin.shape
    safe = np.where(owner >= 0, owner, 0)
    m_idx = np.arange(num_prbs)[None, :]
    # [B_j, B_b, M]: gain from RU j to the owner of PRB m at RU b
    g = gain_lin[:, safe, m_idx]
    return np.where((owner >= 0)[None, :, :], g, 0.0)


def compute_sinr_lin(gain_lin, owner, power_w, noise_power_w):
    """NumPy twin of `kernels.compute_sinr_lin`."""
    num_rus = gain_lin.shape[0]
    g = _owner_gain(gain_lin, owner)  # [B_j, B_b, M]
    received = g * power_w[:, None, :]  # power from RU j at the owner of (b, m)
    own = received[np.arange(num_rus), np.arange(num_rus), :]
    # the other RUs' power only (not the total minus the own signal, which cancels badly when
    # the own signal dominates)
    interference = np.where(np.eye(num_rus, dtype=bool)[:, :, None], 0.0, received).sum(axis=0)
    sinr = own / (interference + noise_power_w)
    return np.where(owner >= 0, sinr, 0.0)


def compute_sinr_db(sinr_lin, owner):
    """NumPy twin of `kernels.compute_sinr_db`."""
    valid = (owner >= 0) & (sinr_lin > 0.0)
    with np.errstate(divide="ignore"):
        return np.where(valid, 10.0 * np.log10(np.where(valid, sinr_lin, 1.0)), -np.inf)


def compute_prb_rate_bps(sinr_lin, owner, ue_slice, params):
    """NumPy twin of `kernels.compute_prb_rate_bps`."""
    slice_of_prb = ue_slice[np.where(owner >= 0, owner, 0)]
    return np.where(owner >= 0, capped_rate_bps(sinr_lin, slice_of_prb, params), 0.0)


def compute_ue_rate_bps(prb_rate_bps, owner, num_ues):
    """NumPy twin of `kernels.compute_ue_rate_bps`."""
    served = owner >= 0
    return np.bincount(owner[served], weights=prb_rate_bps[served], minlength=num_ues).astype(np.float64)


def compute_ru_power_w(power_w):
    """NumPy twin of `kernels.compute_ru_power_w`."""
    return power_w.sum(axis=1)


def compute_fronthaul_bps_per_hz(ru_power_w, params):
    """NumPy twin of `kernels.compute_fronthaul_bps_per_hz`."""
    return np.log2(1.0 + ru_power_w / unpack_params(params).quant_noise_w)


def compute_delay_s(ue_rate_bps, ue_slice, params):
    """NumPy twin of `kernels.compute_delay_s`."""
    kp = unpack_params(params)
    with np.errstate(divide="ignore"):
        d = kp.fibre_delay_s + kp.packet_bits[ue_slice] / ue_rate_bps
    return np.where(ue_rate_bps > 0.0, d, np.inf)


def compute_qos_violations(ue_rate_bps, delay_s, offered_load_bps, ue_slice, params):
    """NumPy twin of `kernels.compute_qos_violations`."""
    return ue_rate_bps < offered_load_bps, delay_s > unpack_params(params).delay_budget_s[ue_slice]


def compute_objective(ue_rate_bps, ue_slice, params):
    """NumPy twin of `kernels.compute_objective`."""
    return float(np.dot(unpack_params(params).slice_weight[ue_slice], ue_rate_bps))


def compute_reward(objective_bps, num_violations, params):
    """NumPy twin of `kernels.compute_reward`."""
    kp = unpack_params(params)
    return kp.theta_rate * objective_bps / kp.rate_scale_bps - kp.theta_violation * num_violations + kp.theta_bias


def project_power(owner, power_w, ue_slice, params):
    """NumPy twin of `kernels.project_power`."""
    kp = unpack_params(params)
    served = owner >= 0
    cap = kp.prb_max_power_w[ue_slice[np.where(served, owner, 0)]]
    over_cap = served & (power_w > cap * (1.0 + POWER_RTOL))
    out = np.where(served, np.where(over_cap, cap, power_w), 0.0)
    idle_nonzero = (~served) & (power_w != 0.0)
    total = out.sum(axis=1)
    limit = kp.ru_power_limit_w
    over = total > limit * (1.0 + POWER_RTOL)
    scale = np.where(over, limit / np.where(over, total, 1.0), 1.0)
    out = out * scale[:, None]
    changed = over | over_cap.any(axis=1) | idle_nonzero.any(axis=1)
    return out, int(changed.sum())


def decode_full_action(action, ue_slice, levels_w, num_rus, num_prbs):
    """NumPy twin of `kernels.decode_full_action` (sequential by nature: association is first-come)."""
    num_ues = ue_slice.shape[0]
    num_levels = levels_w.shape[1]
    a = np.asarray(action, dtype=np.int64).reshape(num_rus, num_prbs)
    u_all = np.where(a > 0, (a - 1) // num_levels, -1)
    lvl_all = np.where(a > 0, (a - 1) % num_levels, 0)
    # first RU (in flat order) that each UE appears on
    assoc = np.full(num_ues, -1, dtype=np.int64)
    flat_u = u_all.ravel()
    order = np.nonzero(flat_u >= 0)[0]
    if order.size:
        first_idx = {}
        for i in order:  # first occurrence in (RU, PRB) order
            first_idx.setdefault(int(flat_u[i]), int(i))
        for u, i in first_idx.items():
            assoc[u] = i // num_prbs
    rus = np.arange(num_rus)[:, None]
    ok = (u_all >= 0) & (assoc[np.where(u_all >= 0, u_all, 0)] == rus)
    conflicts = int(((u_all >= 0) & ~ok).sum())
    owner = np.where(ok, u_all, -1).astype(np.int64)
    power_w = np.where(ok, levels_w[ue_slice[np.where(ok, u_all, 0)], lvl_all], 0.0)
    return owner, power_w, assoc, conflicts


def evaluate_kernel(gain_lin, owner, power_w, ue_slice, offered_load_bps, params):
    """NumPy twin of `kernels.evaluate_kernel`."""
    num_ues = ue_slice.shape[0]
    sinr = compute_sinr_lin(gain_lin, owner, power_w, unpack_params(params).noise_w)
    prb_rate = compute_prb_rate_bps(sinr, owner, ue_slice, params)
    ue_rate = compute_ue_rate_bps(prb_rate, owner, num_ues)
    ru_power = compute_ru_power_w(power_w)
    fronthaul = compute_fronthaul_bps_per_hz(ru_power, params)
    delay = compute_delay_s(ue_rate, ue_slice, params)
    rate_v, delay_v = compute_qos_violations(ue_rate, delay, offered_load_bps, ue_slice, params)
    objective = compute_objective(ue_rate, ue_slice, params)
    return sinr, prb_rate, ue_rate, ru_power, fronthaul, delay, rate_v, delay_v, objective


def compute_prb_action_mask(cursor, assoc, ru_power_w, ue_slice, levels_w, params, num_prbs):
    """The prb-mode action mask for the PRB at `cursor` (the reference for `kernels.fill_prb_action_mask`)."""
    b = cursor // num_prbs
    headroom = unpack_params(params).ru_power_limit_w * (1.0 + POWER_RTOL) - ru_power_w[b]
    ue_ok = (assoc < 0) | (assoc == b)  # [U]
    level_ok = levels_w[ue_slice] <= headroom  # [U, L]
    return np.concatenate([[True], (ue_ok[:, None] & level_ok).ravel()])


def fill_prb_action_mask(mask, cursor, assoc, ru_power_w, ue_slice, levels_w, params, num_prbs):
    """Twin of `kernels.fill_prb_action_mask`."""
    mask[:] = compute_prb_action_mask(cursor, assoc, ru_power_w, ue_slice, levels_w, params, num_prbs)


def fill_prb_fields(obs, k, cursor, ru_power_w, fronthaul_bps_per_hz, params, num_rus, num_prbs):
    """Twin of `kernels.fill_prb_fields`."""
    kp = unpack_params(params)
    b, m = min(cursor // num_prbs, num_rus - 1), cursor % num_prbs
    limit, cap = kp.ru_power_limit_w, kp.fronthaul_capacity_bps_per_hz
    obs[k : k + 4] = [m / num_prbs, b / num_rus, np.clip((limit - ru_power_w[b]) / limit, 0, 1),
                      np.clip((cap - fronthaul_bps_per_hz[b]) / cap, 0, 1)]
    return b, m


def unit_gain_db(x):
    """NumPy twin of `kernels.unit_gain_db` (scalars or arrays)."""
    return np.clip((x - GAIN_DB_MIN) / (GAIN_DB_MAX - GAIN_DB_MIN), 0.0, 1.0)


def unit_rate_bps(rate_bps, params):
    """NumPy twin of `kernels.unit_rate_bps` (scalars or arrays)."""
    return np.clip(np.log10(1.0 + rate_bps / 1e3) / unpack_params(params).rate_norm_denom, 0.0, 1.0)


def normalise_gain_db(gain_db):
    """NumPy twin of `kernels.normalise_gain_db`."""
    return np.clip((gain_db - GAIN_DB_MIN) / (GAIN_DB_MAX - GAIN_DB_MIN), 0.0, 1.0)


def normalise_rate_bps(rate_bps, params):
    """NumPy twin of `kernels.normalise_rate_bps`."""
    return np.clip(np.log10(1.0 + rate_bps / 1e3) / unpack_params(params).rate_norm_denom, 0.0, 1.0)


def build_ue_features(wideband_norm, ue_slice, offered_norm, ue_rate_bps, qos_ok, assoc, params, out):
    """NumPy twin of `kernels.build_ue_features`."""
    num_rus, num_ues = wideband_norm.shape
    block = np.column_stack(
        [
            wideband_norm.T,
            ue_slice,
            offered_norm,
            normalise_rate_bps(ue_rate_bps, params),
            qos_ok.astype(np.float64),
            (assoc + 1.0) / num_rus,
        ]
    ).ravel()
    out[: block.size] = block
    return block.size


def build_prb_observation(
    cursor, gain_norm, wideband_norm, ue_slice, offered_norm, ue_rate_bps, qos_ok, assoc, ru_power_w,
    fronthaul_bps_per_hz, params,
):
    """The prb-mode observation for the PRB at `cursor` (the reference for the batched kernels' observation rows)."""
    kp = unpack_params(params)
    num_rus, num_ues, num_prbs = gain_norm.shape
    obs = np.empty(num_ues * (num_rus + 6) + 4)
    k = build_ue_features(wideband_norm, ue_slice, offered_norm, ue_rate_bps, qos_ok, assoc, params, obs)
    b = min(cursor // num_prbs, num_rus - 1)
    m = cursor % num_prbs
    limit = kp.ru_power_limit_w
    cap = kp.fronthaul_capacity_bps_per_hz
    obs[k : k + 4] = [
        m / num_prbs,
        b / num_rus,
        np.clip((limit - ru_power_w[b]) / limit, 0.0, 1.0),
        np.clip((cap - fronthaul_bps_per_hz[b]) / cap, 0.0, 1.0),
    ]
    obs[k + 4 :] = gain_norm[b, :, m]
    return obs


def build_full_observation(gain_norm, wideband_norm, ue_slice, offered_norm, ue_rate_bps, qos_ok, assoc, params):
    """NumPy twin of `kernels.build_full_observation`."""
    num_rus, num_ues, num_prbs = gain_norm.shape
    obs = np.empty(num_ues * (num_rus + 5) + gain_norm.size)
    k = build_ue_features(wideband_norm, ue_slice, offered_norm, ue_rate_bps, qos_ok, assoc, params, obs)
    obs[k:] = gain_norm.ravel()
    return obs


def prb_step(action, cursor, gain_lin, owner, power_w, assoc, ue_slice, offered_load_bps, levels_w, params):
    """Apply a prb-mode action and re-evaluate the whole allocation (the reference step)."""
    num_prbs = owner.shape[1]
    num_levels = levels_w.shape[1]
    b, m = divmod(int(cursor), num_prbs)
    if action > 0:
        u, lvl = divmod(int(action) - 1, num_levels)
        owner[b, m] = u
        power_w[b, m] = levels_w[ue_slice[u], lvl]
        assoc[u] = b
    return evaluate_kernel(gain_lin, owner, power_w, ue_slice, offered_load_bps, params)


def prb_transition(action, cursor, gain_lin, features, allocation, ue_slice, offered_load_bps, levels_w, params):
    """One prb-mode step re-evaluated from scratch: the reference the env's prb mode (the batched
    kernels on a batch of one) is tested against, step by step (`tests/test_kernels.py`)."""
    gain_norm, wideband_norm, offered_norm = features
    owner, power_w, assoc = allocation
    sinr, _, ue_rate, ru_power, fronthaul, delay, rate_v, delay_v, objective = prb_step(
        action, cursor, gain_lin, owner, power_w, assoc, ue_slice, offered_load_bps, levels_w, params
    )
    nxt = min(cursor + 1, owner.size - 1)
    qos_ok = ~(rate_v | delay_v)
    mask = compute_prb_action_mask(nxt, assoc, ru_power, ue_slice, levels_w, params, owner.shape[1])
    obs = build_prb_observation(
        nxt, gain_norm, wideband_norm, ue_slice, offered_norm, ue_rate, qos_ok, assoc, ru_power, fronthaul, params
    )
    out = np.concatenate(
        [obs, ue_rate, compute_sinr_db(sinr, owner).ravel(), ru_power, fronthaul, delay, qos_ok.astype(np.float64)]
    )
    n_rate, n_delay = rate_v.sum(), delay_v.sum()
    kp = unpack_params(params)
    rate_term = kp.theta_rate / kp.rate_scale_bps * objective
    viol_term = -kp.theta_violation * (n_rate + n_delay)
    return out, mask, objective, n_rate, n_delay, rate_term, viol_term, rate_term + viol_term + kp.theta_bias


def tti_observation_features(observed_gain_db, offered_load_bps, params):
    """NumPy twin of `kernels.tti_observation_features`."""
    wideband_db = 10.0 * np.log10(np.mean(10.0 ** (observed_gain_db / 10.0), axis=2))
    return (
        normalise_gain_db(observed_gain_db),
        normalise_gain_db(wideband_db),
        normalise_rate_bps(offered_load_bps, params),
    )


def channel_gain_lin(large_scale_db, fading_power):
    """NumPy twin of `kernels.channel_gain_lin`."""
    gain = 10.0 ** (-large_scale_db / 10.0)[:, :, None] * fading_power
    return gain, 10.0 * np.log10(np.maximum(gain, 1e-30))


def fill_channel_gain(large_scale_db, fading_power, gain, gain_db):
    """NumPy twin of `kernels.fill_channel_gain`."""
    gain[...], gain_db[...] = channel_gain_lin(large_scale_db, fading_power)


# --- the random stream (oran_gym.sim.rng), in plain Python integers and floats -----------------
class Xoshiro256:
    """Pure-Python twin of `oran_gym.sim.rng`: the same bits and the same samplers, one at a time."""

    MASK = (1 << 64) - 1

    def __init__(self, state) -> None:
        self.s = [int(x) for x in state]

    def _rotl(self, x: int, k: int) -> int:
        return ((x << k) | (x >> (64 - k))) & self.MASK

    def next_u64(self) -> int:
        s, m = self.s, self.MASK
        result = (self._rotl((s[1] * 5) & m, 7) * 9) & m
        t = (s[1] << 17) & m
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def uniform(self) -> float:
        return (self.next_u64() >> 11) * (1.0 / 9007199254740992.0)

    def exponential(self) -> float:
        return -math.log(1.0 - self.uniform())

    def normal(self) -> float:
        r = math.sqrt(2.0 * self.exponential())
        return r * math.cos(2.0 * math.pi * self.uniform())

    def poisson(self, lam: float) -> int:
        if lam <= 0.0:
            return 0
        if lam < 10.0:
            limit, k, p = math.exp(-lam), 0, self.uniform()
            while p > limit:
                k += 1
                p *= self.uniform()
            return k
        slam, loglam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2.0)
        while True:
            u = self.uniform() - 0.5
            v = self.uniform()
            us = 0.5 - abs(u)
            k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return int(k)
            if k < 0 or (us < 0.013 and v > us):
                continue
            if math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= -lam + k * loglam - math.lgamma(k + 1.0):
                return int(k)

    def fading(self, fading, rho: float, fresh: bool, shape) -> tuple[np.ndarray, np.ndarray]:
        """Twin of `rng.fill_fading`: returns `(fading, fading_power)`."""
        power = np.empty(shape)
        out = np.zeros(shape, np.complex128) if rho != 0.0 else fading
        a = math.sqrt(1.0 - rho * rho)
        for idx in np.ndindex(*shape):
            if rho == 0.0:
                power[idx] = self.exponential()
                continue
            r = math.sqrt(self.exponential())
            theta = 2.0 * math.pi * self.uniform()
            w = complex(r * math.cos(theta), r * math.sin(theta))
            g = w if fresh else rho * fading[idx] + a * w
            out[idx] = g
            power[idx] = g.real * g.real + g.imag * g.imag
        return out, power


def evaluate_packed(gain_lin, owner, power_w, ue_slice, offered_load_bps, params):
    """NumPy twin of `kernels.evaluate_packed`."""
    power, num_projected = project_power(owner, power_w, ue_slice, params)
    sinr, prb_rate, ue_rate, ru_power, fronthaul, delay, rate_v, delay_v, objective = evaluate_kernel(
        gain_lin, owner, power, ue_slice, offered_load_bps, params
    )
    buf = np.concatenate(
        [compute_sinr_db(sinr, owner).ravel(), prb_rate.ravel(), ue_rate, ru_power, fronthaul, delay,
         rate_v.astype(np.float64), delay_v.astype(np.float64), power.ravel()]
    )
    return buf, objective, num_projected


# --- the backlog model (oran_gym.sim.queue), packet by packet ---------------------------------
def queue_terms(ue_rate_bps, backlog_bits, urgent_bits, late_bits, overflow_bits, ue_slice, params):
    """NumPy twin of `queue.queue_terms`: `(served, dropped, rate_violated, delay_violated, objective)`."""
    kp = unpack_params(params)
    cap = np.floor(np.asarray(ue_rate_bps, dtype=np.float64) * kp.tti_s)
    served = np.minimum(cap, backlog_bits).astype(np.int64)
    dropped = overflow_bits + np.maximum(0, urgent_bits - served)
    late_left = np.maximum(0, late_bits - np.maximum(0, served - urgent_bits))
    objective = 0.0
    for u in range(len(served)):  # in UE order, as the kernels sum
        objective += kp.slice_weight[ue_slice[u]] * (served[u] / kp.tti_s)
    return served, dropped, dropped > 0, late_left > 0, objective


class QueueTwin:
    """Pure-Python twin of the backlog model: each UE's FIFO as a list of packets
    `[arrival TTI, bits left]`, served bit by bit from the head (no age buckets).

    `begin(tti, embb_packets)` adds the TTI's arrivals (tail drop, packet by packet) and returns
    `(QueueStatus, arrived [U], hol_delay_s [U])`; `end(tti, ue_rate_bps)` serves and drops and
    returns the `queue.QUEUE_COUNTS` `[U, 4]` and `queue.QUEUE_DELAYS` `[U, 2]` of the TTI.
    """

    def __init__(self, params, ue_slice, horizon_ttis: int) -> None:
        self.kp = unpack_params(params)
        self.ue_slice = np.asarray(ue_slice)
        self.horizon = int(horizon_ttis)
        self.fifo: list[list[list[int]]] = [[] for _ in self.ue_slice]
        self.arrived = np.zeros(len(self.ue_slice), np.int64)
        self.overflow = np.zeros(len(self.ue_slice), np.int64)

    def _cbr(self, tti: int) -> int:
        r = self.kp.urllc_packets_per_tti
        return int(math.ceil((tti + 1) * r - 1e-9) - math.ceil(tti * r - 1e-9))

    def _expires(self, u: int, age: int) -> bool:
        s = self.ue_slice[u]
        return age >= self.horizon - 1 or (s == 1 and age >= int(self.kp.deadline_ttis[s]) - 1)

    def begin(self, tti: int, embb_packets):
        kp, n = self.kp, len(self.ue_slice)
        status = [np.zeros(n, np.int64) for _ in range(4)]
        hol = np.zeros(n)
        for u in range(n):
            s = int(self.ue_slice[u])
            pkt = int(kp.packet_bits[s])
            count = int(embb_packets[u]) if u < len(embb_packets) else self._cbr(tti)
            backlog = sum(p[1] for p in self.fifo[u])
            accepted = 0
            for _ in range(count):
                if backlog + pkt <= kp.max_backlog_bits:
                    self.fifo[u].append([tti, pkt])
                    backlog += pkt
                    accepted += 1
            self.arrived[u] = count * pkt
            self.overflow[u] = (count - accepted) * pkt
            d = int(kp.deadline_ttis[s])
            for arrival, bits in self.fifo[u]:
                age = tti - arrival
                status[0][u] += bits
                if self._expires(u, age):
                    status[1][u] += bits
                elif age >= d - 1:
                    status[2][u] += bits
            status[3][u] = self.overflow[u]
            hol[u] = (tti - self.fifo[u][0][0]) * kp.tti_s if self.fifo[u] else 0.0
        return QueueStatus(*status), self.arrived.copy(), hol

    def end(self, tti: int, ue_rate_bps):
        kp, n = self.kp, len(self.ue_slice)
        counts = np.zeros((n, 4), np.int64)
        delays = np.zeros((n, 2))
        for u in range(n):
            backlog = sum(p[1] for p in self.fifo[u])
            budget = min(int(math.floor(ue_rate_bps[u] * kp.tti_s)), backlog)
            served, waited = budget, 0.0
            for p in self.fifo[u]:
                take = min(p[1], budget)
                budget -= take
                p[1] -= take
                waited += take * (tti - p[0] + 1)
            dropped = int(self.overflow[u])
            keep = []
            for p in self.fifo[u]:
                if p[1] == 0:
                    continue
                if self._expires(u, tti - p[0]):
                    dropped += p[1]
                else:
                    keep.append(p)
            self.fifo[u] = keep
            counts[u] = (self.arrived[u], served, dropped, sum(p[1] for p in keep))
            delays[u, 0] = (tti - keep[0][0] + 1) * kp.tti_s if keep else 0.0
            delays[u, 1] = waited * kp.tti_s / served if served else 0.0
        return counts, delays
