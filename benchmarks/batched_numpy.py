"""The batched NumPy reference: `oran_gym.sim.batched` written as a NumPy user would, a speed baseline.

Same names and signatures as the numba kernels (`(env_ids, [actions,] state)`, the state read by
name), vectorised over the sub-env axis with NumPy array operations and without the numba
kernels' incremental tricks: each prb step re-evaluates the whole allocation of every stepped
sub-env (eqs. 4-16). The speed benchmark runs `ORANSlicingVectorEnv(..., backend=batched_numpy)`
(this module) as the reference; a test checks it agrees with the numba kernels to
floating-point rounding (not bit for bit). It lives with the benchmarks: the single env's test
oracle is the NumPy twin in `oran_gym.sim.reference`. The random draws come from each sub-env's
stream through `oran_gym.sim.rng`, one sub-env at a time, as the numba kernels draw them.
"""

from __future__ import annotations

import numpy as np

from oran_gym.sim import reference, rng
from oran_gym.sim.kernels import POWER_RTOL
from oran_gym.sim.params import GAIN_DB_MAX, GAIN_DB_MIN, unpack_params

__all__ = ["advance_dynamics", "begin_tti", "draw_initial", "full_step", "prb_step"]


def _rate_norm(rate_bps, params):
    return np.clip(np.log10(1.0 + rate_bps / 1e3) / unpack_params(params).rate_norm_denom, 0.0, 1.0)


def _norm_db(x):
    return np.clip((x - GAIN_DB_MIN) / (GAIN_DB_MAX - GAIN_DB_MIN), 0.0, 1.0)


def _evaluate(gain_lin, owner, power_w, ue_slice, offered, params):
    """Every KPI of K allocations at once: gains `[K, B, U, M]`, owners and powers `[K, B, M]`."""
    kp = unpack_params(params)
    K, B, U, M = gain_lin.shape
    served = owner >= 0
    idx = np.where(served, owner, 0)
    e = np.arange(K)[:, None, None, None]
    j = np.arange(B)[None, :, None, None]
    mm = np.arange(M)[None, None, None, :]
    # g[k, j, b, m]: gain from RU j to the UE served on PRB m of RU b
    g = gain_lin[e, j, idx[:, None, :, :], mm]
    rx = g * power_w[:, :, None, :]  # received power from RU j
    signal = np.einsum("kbbm->kbm", rx)
    interference = rx.sum(axis=1) - signal
    sinr = np.where(served, signal / (interference + kp.noise_w), 0.0)
    prb_rate = np.where(served, reference.capped_rate_bps(sinr, ue_slice[idx], params), 0.0)
    flat = (np.arange(K)[:, None, None] * U + idx)[served]
    ue_rate = np.bincount(flat, weights=prb_rate[served], minlength=K * U).reshape(K, U)
    ru_power = power_w.sum(axis=2)
    fronthaul = np.log2(1.0 + ru_power / kp.quant_noise_w)
    with np.errstate(divide="ignore"):
        delay = np.where(ue_rate > 0, kp.fibre_delay_s + kp.packet_bits[ue_slice] / ue_rate, np.inf)
        sinr_db = np.where(served & (sinr > 0), 10.0 * np.log10(np.where(sinr > 0, sinr, 1.0)), -np.inf)
    rate_v = ue_rate < offered
    delay_v = delay > kp.delay_budget_s[ue_slice]
    objective = (kp.slice_weight[ue_slice] * ue_rate).sum(axis=1)
    return sinr_db, prb_rate, ue_rate, ru_power, fronthaul, delay, rate_v, delay_v, objective


def _mask(cursor, assoc, ru_power, ue_slice, levels_w, params, num_prbs):
    b = cursor // num_prbs
    headroom = unpack_params(params).ru_power_limit_w * (1.0 + POWER_RTOL) - ru_power[np.arange(len(b)), b]
    ok = ~((assoc >= 0) & (assoc != b[:, None]))  # [K, U]
    fits = levels_w[ue_slice][None, :, :] <= headroom[:, None, None]  # [K, U, L]
    mask = (ok[:, :, None] & fits).reshape(len(b), -1)
    return np.concatenate([np.ones((len(b), 1), dtype=np.bool_), mask], axis=1)


def _prb_obs(cursor, prb_gain_obs, wideband_norm, ue_slice, offered_norm, rate_norm, qos_ok, assoc, ru_power, fronthaul,
             params, paper_obs, num_prbs):
    kp = unpack_params(params)
    K, U = rate_norm.shape
    B = wideband_norm.shape[1]
    if paper_obs:
        return np.concatenate([qos_ok.astype(np.float64), (cursor / (B * num_prbs))[:, None]], axis=1)
    block = np.concatenate([
        wideband_norm.transpose(0, 2, 1), np.broadcast_to(ue_slice[None, :, None], (K, U, 1)).astype(np.float64),
        offered_norm[:, :, None], rate_norm[:, :, None], qos_ok[:, :, None].astype(np.float64),
        ((assoc + 1.0) / B)[:, :, None],
    ], axis=2).reshape(K, -1)
    b = np.minimum(cursor // num_prbs, B - 1)
    m = cursor % num_prbs
    rows = np.arange(K)
    limit, cap = kp.ru_power_limit_w, kp.fronthaul_capacity_bps_per_hz
    prb = np.stack([m / num_prbs, b / B, np.clip((limit - ru_power[rows, b]) / limit, 0, 1),
                    np.clip((cap - fronthaul[rows, b]) / cap, 0, 1)], axis=1)
    return np.concatenate([block, prb, prb_gain_obs[rows, b * num_prbs + m]], axis=1)


def prb_step(env_ids, actions, st):
    """Twin of `batched.prb_step`: apply the actions, then re-evaluate every stepped allocation in full."""
    (cursor, tti, gain_lin, prb_gain_obs, wideband_norm, owner, power_w, assoc, sinr_db, prb_rate, ue_rate, rate_norm, delay,
     rate_v, delay_v, qos_ok, ru_power, fronthaul, reward_so_far, ue_slice, offered_load_bps, offered_norm, levels_w,
     params) = (st.cursor, st.tti, st.gain_lin, st.prb_gain_obs, st.wideband_norm, st.owner, st.power_w, st.assoc,
                st.sinr_db, st.prb_rate, st.ue_rate, st.rate_norm, st.delay, st.rate_v, st.delay_v, st.qos_ok, st.ru_power,
                st.fronthaul, st.reward_so_far, st.ue_slice, st.offered_load_bps, st.offered_norm, st.levels_w, st.params)
    paper_obs, marginal, episode_length = st.paper_obs, st.marginal, st.episode_length
    obs_out, mask_out, reward_out, scalar_out, int_out = st.obs, st.mask, st.reward_out, st.scalar_out, st.int_out
    ue_rate_out, sinr_db_out, ru_power_out, fronthaul_out, delay_out = (st.ue_rate_out, st.sinr_db_out, st.ru_power_out,
                                                                         st.fronthaul_out, st.delay_out)
    kp = unpack_params(params)
    ids = env_ids
    num_rus, num_prbs = owner.shape[1], owner.shape[2]
    num_levels = levels_w.shape[1]
    c = cursor[ids]
    b, m, a = c // num_prbs, c % num_prbs, actions[ids]
    act = a > 0
    u, lvl = (a - 1) // num_levels, (a - 1) % num_levels
    ea, ba, ma, ua = ids[act], b[act], m[act], u[act]
    owner[ea, ba, ma] = ua
    power_w[ea, ba, ma] = levels_w[ue_slice[ua], lvl[act]]
    assoc[ea, ua] = ba
    sdb, pr, ur, rp, fh, dl, rv, dv, objective = _evaluate(
        gain_lin[ids], owner[ids], power_w[ids], ue_slice, offered_load_bps[ids], params)
    sinr_db[ids], prb_rate[ids], ue_rate[ids], ru_power[ids], fronthaul[ids], delay[ids] = sdb, pr, ur, rp, fh, dl
    rate_v[ids], delay_v[ids], qos_ok[ids] = rv, dv, ~(rv | dv)
    rate_norm[ids] = _rate_norm(ur, params)
    n_rate, n_delay = rv.sum(axis=1), dv.sum(axis=1)
    rate_term = kp.theta_rate / kp.rate_scale_bps * objective
    viol_term = -kp.theta_violation * (n_rate + n_delay)
    tti_reward = rate_term + viol_term + kp.theta_bias
    last = c + 1 == num_rus * num_prbs
    if marginal:
        reward_out[ids] = tti_reward - reward_so_far[ids]
        reward_so_far[ids] = tti_reward
    else:
        reward_out[ids] = np.where(last, tti_reward, 0.0)
    scalar_out[ids, :3] = np.stack([objective, rate_term, viol_term], axis=1)
    cursor[ids] = c + 1
    tti[ids[last]] += 1
    int_out[ids] = np.stack([n_rate, n_delay, tti[ids] - last, last, last & (tti[ids] >= episode_length)], axis=1)
    ue_rate_out[ids], sinr_db_out[ids], ru_power_out[ids], fronthaul_out[ids], delay_out[ids] = ur, sdb, rp, fh, dl
    go = ~last
    if go.any():
        g = ids[go]
        mask_out[g] = _mask(c[go] + 1, assoc[g], ru_power[g], ue_slice, levels_w, params, num_prbs)
        obs_out[g] = _prb_obs(c[go] + 1, prb_gain_obs[g], wideband_norm[g], ue_slice, offered_norm[g], rate_norm[g],
                              qos_ok[g], assoc[g], ru_power[g], fronthaul[g], params, paper_obs, num_prbs)


def _refresh(ids, st):
    """Gains (NumPy, vectorised), then each sub-env's CSI error from its stream, then offered loads."""
    h = 10.0 ** (-st.large_scale_db[ids] / 10.0)[..., None] * st.fading_power[ids]
    st.gain_lin[ids] = h
    st.observed_gain_db[ids] = 10.0 * np.log10(np.maximum(h, 1e-30))
    if st.use_csi_noise:
        for e in ids:
            rng.add_normal_noise(st.stream[e], st.observed_gain_db[e], st.csi_std_db)
    ue = st.window_packets.shape[1]
    st.offered_load_bps[ids, :ue] = st.window_packets[ids] * st.embb_bps_per_packet
    st.offered_load_bps[ids, ue:] = st.urllc_load_bps


def draw_initial(env_ids, st):
    """Twin of `batched.draw_initial` (the draws from each sub-env's stream, `oran_gym.sim.rng`)."""
    ids = env_ids
    for e in ids:
        rng.fill_fading(st.stream[e], st.fading[e], st.fading_power[e], st.rho, True)
        rng.fill_poisson(st.stream[e], st.embb_window[e], st.arrival_mean)
    st.window_packets[ids] = st.embb_window[ids].sum(axis=2)
    st.window_pos[ids] = 0
    _refresh(ids, st)


def advance_dynamics(env_ids, st):
    """Twin of `batched.advance_dynamics`."""
    ids = env_ids
    arrivals, embb_window, window_pos, window_packets = st.arrivals, st.embb_window, st.window_pos, st.window_packets
    for e in ids:
        rng.fill_fading(st.stream[e], st.fading[e], st.fading_power[e], st.rho, False)
        if arrivals.shape[1]:
            rng.fill_poisson(st.stream[e], arrivals[e], st.arrival_mean)
    if arrivals.shape[1]:
        pos = window_pos[ids]
        window_packets[ids] += arrivals[ids] - embb_window[ids, :, pos]
        embb_window[ids, :, pos] = arrivals[ids]
        window_pos[ids] = (pos + 1) % embb_window.shape[2]
    _refresh(ids, st)


def begin_tti(env_ids, st):
    """Twin of `batched.begin_tti`."""
    (prb_mode, cursor, observed_gain_db, offered_load_bps, prb_gain_obs, wideband_norm, offered_norm, owner, power_w, assoc,
     sinr_db, prb_rate, ue_rate, rate_norm, delay, rate_v, delay_v, qos_ok, ru_power, fronthaul, reward_so_far, ue_slice,
     levels_w, params, paper_obs, prev_ue_rate, prev_qos, prev_assoc, obs_out, mask_out) = (
        st.prb_mode, st.cursor, st.observed_gain_db, st.offered_load_bps, st.prb_gain_obs, st.wideband_norm,
        st.offered_norm, st.owner, st.power_w, st.assoc, st.sinr_db, st.prb_rate, st.ue_rate, st.rate_norm, st.delay,
        st.rate_v, st.delay_v, st.qos_ok, st.ru_power, st.fronthaul, st.reward_so_far, st.ue_slice, st.levels_w,
        st.params, st.paper_obs, st.prev_ue_rate, st.prev_qos, st.prev_assoc, st.obs, st.mask)
    kp = unpack_params(params)
    ids = env_ids
    K = ids.size
    num_rus, num_prbs = owner.shape[1], owner.shape[2]
    num_ues = ue_slice.shape[0]
    cursor[ids] = 0
    owner[ids], power_w[ids], assoc[ids] = -1, 0.0, -1
    sinr_db[ids], prb_rate[ids], ue_rate[ids], rate_norm[ids], delay[ids] = -np.inf, 0.0, 0.0, 0.0, np.inf
    ru_power[ids], fronthaul[ids] = 0.0, 0.0
    off = offered_load_bps[ids]
    rate_v[ids] = off > 0
    delay_v[ids] = True
    qos_ok[ids] = False
    reward_so_far[ids] = -kp.theta_violation * (num_ues + (off > 0).sum(axis=1)) + kp.theta_bias
    obs_db = observed_gain_db[ids]
    gn = _norm_db(obs_db)
    wn = _norm_db(10.0 * np.log10((10.0 ** (obs_db / 10.0)).mean(axis=3)))
    on = _rate_norm(off, params)
    wideband_norm[ids], offered_norm[ids] = wn, on
    zeros = np.zeros((K, num_rus))
    if prb_mode:
        prb_gain_obs[ids] = gn.transpose(0, 1, 3, 2).reshape(K, num_rus * num_prbs, num_ues)
        c0 = np.zeros(K, dtype=np.int64)
        mask_out[ids] = _mask(c0, assoc[ids], zeros, ue_slice, levels_w, params, num_prbs)
        obs_out[ids] = _prb_obs(c0, prb_gain_obs[ids], wn, ue_slice, on, np.zeros((K, num_ues)),
                                np.zeros((K, num_ues), np.bool_), assoc[ids], zeros, zeros, params, paper_obs, num_prbs)
    elif paper_obs:
        obs_out[ids] = np.concatenate([prev_qos[ids].astype(np.float64), np.zeros((K, 1))], axis=1)
    else:
        block = np.concatenate([
            wn.transpose(0, 2, 1), np.broadcast_to(ue_slice[None, :, None], (K, num_ues, 1)).astype(np.float64),
            on[:, :, None], _rate_norm(prev_ue_rate[ids], params)[:, :, None], prev_qos[ids][:, :, None].astype(np.float64),
            ((prev_assoc[ids] + 1.0) / num_rus)[:, :, None],
        ], axis=2).reshape(K, -1)
        obs_out[ids] = np.concatenate([block, gn.reshape(K, -1)], axis=1)


def full_step(env_ids, actions, st):
    """Twin of `batched.full_step` (the decoding loop runs per sub-env; the evaluation is batched)."""
    (gain_lin, ue_slice, offered_load_bps, levels_w, params, owner_out, power_out, assoc_out, ue_rate_out, sinr_db_out,
     ru_power_out, fronthaul_out, delay_out, qos_out, scalar_out, int_out) = (
        st.gain_lin, st.ue_slice, st.offered_load_bps, st.levels_w, st.params, st.owner_out, st.power_out, st.assoc_out,
        st.ue_rate_out, st.sinr_db_out, st.ru_power_out, st.fronthaul_out, st.delay_out, st.qos_out, st.scalar_out,
        st.int_out)
    kp = unpack_params(params)
    from oran_gym.sim import reference

    ids = env_ids
    num_rus, num_prbs = owner_out.shape[1], owner_out.shape[2]
    n_proj = np.zeros(ids.size, np.int64)
    conflicts = np.zeros(ids.size, np.int64)
    for i, e in enumerate(ids):
        owner, power_w, assoc, conflicts[i] = reference.decode_full_action(actions[e], ue_slice, levels_w, num_rus, num_prbs)
        power_out[e], n_proj[i] = reference.project_power(owner, power_w, ue_slice, params)
        owner_out[e], assoc_out[e] = owner, assoc
    sdb, _, ur, rp, fh, dl, rv, dv, objective = _evaluate(
        gain_lin[ids], owner_out[ids], power_out[ids], ue_slice, offered_load_bps[ids], params)
    n_rate, n_delay = rv.sum(axis=1), dv.sum(axis=1)
    rate_term = kp.theta_rate * objective / kp.rate_scale_bps
    viol_term = -kp.theta_violation * (n_rate + n_delay + n_proj + conflicts)
    scalar_out[ids] = np.stack([objective, rate_term + viol_term + kp.theta_bias, rate_term, viol_term], axis=1)
    int_out[ids, :4] = np.stack([n_rate, n_delay, n_proj, conflicts], axis=1)
    ue_rate_out[ids], sinr_db_out[ids], ru_power_out[ids], fronthaul_out[ids], delay_out[ids] = ur, sdb, rp, fh, dl
    qos_out[ids] = ~(rv | dv)
