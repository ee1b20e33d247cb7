"""Batched numba kernels: N environments stepped in one call (`ORANSlicingVectorEnv`).

These kernels give, for every sub-environment, the same numbers bit for bit as the single env's
kernels (`oran_gym.sim.kernels`): they use the same formulas in the same order of floating-point
operations. The prb step is incremental: an action changes one PRB, so only the SINR of that PRB
index on every RU, the rate of the UEs that own those PRBs and the power of one RU are recomputed
(each recomputed sum runs over the same terms in the same order as the full evaluation, so the
result is identical). The tests compare every output with `SyncVectorEnv` over the single env.

Layout: every state array has a leading axis of N sub-environments; per-environment shapes are
those of the single env (`[B, U, M]` gains, `[B, M]` owners, ...). Random draws never happen
here: the vector env draws from each sub-env's own `numpy.random.Generator` (so that the streams
equal the single env's) and passes the draws in. Nothing here imports gymnasium or torch.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from oran_gym.sim.kernels import (
    LN10_OVER_10,
    POWER_RTOL,
    build_full_observation,
    capped_rate_bps,
    compute_sinr_db,
    decode_full_action,
    delay_violated,
    evaluate_kernel,
    fill_channel_gain,
    fronthaul_load,
    prb_sinr_lin,
    project_power,
    rate_violated,
    reward_rate_per_bps,
    reward_rate_term,
    reward_violation_term,
    sinr_db_of,
    tti_observation_features,
    ue_delay_s,
    unit_gain_db,
    unit_rate_bps,
    weighted_rate_bps,
)
from oran_gym.sim.params import fronthaul_capacity, noise_w, ru_power_limit_w, theta_bias

__all__ = [
    "advance_dynamics",
    "begin_tti",
    "full_step",
    "prb_step",
    "refresh_gains",
]


@njit(cache=True, inline="always")
def _write_ue_entries(e, u, ue_slice, rate_norm, qos_ok, assoc, num_rus, paper_obs, obs_out):
    """The entries of UE u that change within a TTI: rate, QoS and association (paper: QoS only)."""
    if paper_obs:
        obs_out[e, u] = 1.0 if qos_ok[e, u] else 0.0
        return
    base = u * (num_rus + 5)
    obs_out[e, base + num_rus + 2] = rate_norm[e, u]
    obs_out[e, base + num_rus + 3] = 1.0 if qos_ok[e, u] else 0.0
    obs_out[e, base + num_rus + 4] = (assoc[e, u] + 1.0) / num_rus


@njit(cache=True, inline="always")
def _write_prb_part(e, cursor, prb_gain_obs, ru_power, fronthaul, params, num_rus, num_ues, num_prbs, paper_obs, obs_out):
    """The entries that describe the PRB at `cursor` (paper: the allocation progress)."""
    if paper_obs:
        obs_out[e, num_ues] = cursor / (num_rus * num_prbs)
        return
    k = num_ues * (num_rus + 5)
    b = min(cursor // num_prbs, num_rus - 1)
    m = cursor % num_prbs
    obs_out[e, k] = m / num_prbs
    obs_out[e, k + 1] = b / num_rus
    limit = ru_power_limit_w(params)
    obs_out[e, k + 2] = min(max((limit - ru_power[e, b]) / limit, 0.0), 1.0)
    cap = fronthaul_capacity(params)
    obs_out[e, k + 3] = min(max((cap - fronthaul[e, b]) / cap, 0.0), 1.0)
    row = b * num_prbs + m
    for u in range(num_ues):
        obs_out[e, k + 4 + u] = prb_gain_obs[e, row, u]


@njit(cache=True, inline="always")
def _write_prb_obs(e, cursor, prb_gain_obs, wideband_norm, ue_slice, offered_norm, rate_norm, qos_ok, assoc, ru_power,
                   fronthaul, params, paper_obs, obs_out):
    """The whole observation of sub-env `e` for the PRB at `cursor` (as `kernels.build_prb_observation`)."""
    num_rus, num_ues = wideband_norm.shape[1], wideband_norm.shape[2]
    num_prbs = prb_gain_obs.shape[1] // num_rus
    if not paper_obs:
        stride = num_rus + 5
        for u in range(num_ues):
            base = u * stride
            for b in range(num_rus):
                obs_out[e, base + b] = wideband_norm[e, b, u]
            obs_out[e, base + num_rus] = ue_slice[u]
            obs_out[e, base + num_rus + 1] = offered_norm[e, u]
    for u in range(num_ues):
        _write_ue_entries(e, u, ue_slice, rate_norm, qos_ok, assoc, num_rus, paper_obs, obs_out)
    _write_prb_part(e, cursor, prb_gain_obs, ru_power, fronthaul, params, num_rus, num_ues, num_prbs, paper_obs, obs_out)


@njit(cache=True, inline="always")
def _write_prb_mask(e, cursor, assoc, ru_power, ue_slice, levels_w, params, num_prbs, mask_out):
    """Action mask of sub-env `e` for the PRB at `cursor` (as `kernels.compute_prb_action_mask`)."""
    num_ues = ue_slice.shape[0]
    num_levels = levels_w.shape[1]
    b = cursor // num_prbs
    mask_out[e, 0] = True
    headroom = ru_power_limit_w(params) * (1.0 + POWER_RTOL) - ru_power[e, b]
    for u in range(num_ues):
        ok = not (assoc[e, u] >= 0 and assoc[e, u] != b)
        for lvl in range(num_levels):
            mask_out[e, 1 + u * num_levels + lvl] = ok and levels_w[ue_slice[u], lvl] <= headroom


@njit(cache=True, parallel=True)
def prb_step(
    env_ids, actions, cursor, tti, gain_lin, prb_gain_obs, wideband_norm, owner, power_w, assoc, sinr_db, prb_rate,
    ue_rate, rate_norm, delay, rate_v, delay_v, qos_ok, ru_power, fronthaul, reward_so_far, ue_slice,
    offered_load_bps, offered_norm, levels_w, params, paper_obs, marginal, episode_length,
    obs_out, mask_out, reward_out, scalar_out, int_out, ue_rate_out, sinr_db_out, ru_power_out, fronthaul_out,
    delay_out,
):
    """One prb-mode step of the sub-envs `env_ids` (actions already checked against their masks).

    Updates the allocation state in place and writes, per stepped env e: `obs_out[e]` and
    `mask_out[e]` for the next PRB (left for `begin_tti` when the step ends the TTI), the reward,
    `scalar_out[e] = (objective, rate term, violation term)`, `int_out[e] = (rate violations,
    delay violations, tti of the KPIs, tti complete, truncated)` and the KPIs of the step's info
    (`*_out[e]`).
    """
    num_rus, num_prbs = owner.shape[1], owner.shape[2]
    num_ues = ue_slice.shape[0]
    num_levels = levels_w.shape[1]
    per_tti = num_rus * num_prbs
    theta_r_per_bps = reward_rate_per_bps(params)
    for i in prange(env_ids.shape[0]):
        e = env_ids[i]
        c = cursor[e]
        b = c // num_prbs
        m = c % num_prbs
        a = actions[e]
        if a > 0:
            u = (a - 1) // num_levels
            lvl = (a - 1) % num_levels
            owner[e, b, m] = u
            power_w[e, b, m] = levels_w[ue_slice[u], lvl]
            assoc[e, u] = b
            # SINR and rate of PRB m on every RU (interference couples them), eqs. (4)-(6)
            for j in range(num_rus):
                uj = owner[e, j, m]
                if uj < 0:
                    continue
                s = prb_sinr_lin(gain_lin[e], owner[e], power_w[e], j, m, noise_w(params))
                sinr_db[e, j, m] = sinr_db_of(s)
                prb_rate[e, j, m] = capped_rate_bps(s, ue_slice[uj], params)
            # rate, delay and QoS of the UEs owning those PRBs: sums in (RU, PRB) order, as the full evaluation
            for j in range(num_rus):
                uj = owner[e, j, m]
                if uj < 0:
                    continue
                r = 0.0
                for bb in range(num_rus):
                    for mm in range(num_prbs):
                        if owner[e, bb, mm] == uj:
                            r += prb_rate[e, bb, mm]
                ue_rate[e, uj] = r
                rate_norm[e, uj] = unit_rate_bps(r, params)
                d = ue_delay_s(r, ue_slice[uj], params)
                delay[e, uj] = d
                rate_v[e, uj] = rate_violated(r, offered_load_bps[e, uj])
                delay_v[e, uj] = delay_violated(d, ue_slice[uj], params)
                qos_ok[e, uj] = not (rate_v[e, uj] or delay_v[e, uj])
            p = 0.0
            for mm in range(num_prbs):
                p += power_w[e, b, mm]
            ru_power[e, b] = p
            fronthaul[e, b] = fronthaul_load(p, params)
        objective = 0.0
        n_rate = 0
        n_delay = 0
        for u in range(num_ues):
            objective += weighted_rate_bps(ue_rate[e, u], ue_slice[u], params)
            n_rate += rate_v[e, u]
            n_delay += delay_v[e, u]
        rate_term = theta_r_per_bps * objective
        viol_term = reward_violation_term(n_rate + n_delay, params)
        tti_reward = rate_term + viol_term + theta_bias(params)
        last = c + 1 == per_tti
        if marginal:
            reward_out[e] = tti_reward - reward_so_far[e]
            reward_so_far[e] = tti_reward
        else:
            reward_out[e] = tti_reward if last else 0.0
        scalar_out[e, 0] = objective
        scalar_out[e, 1] = rate_term
        scalar_out[e, 2] = viol_term
        int_out[e, 0] = n_rate
        int_out[e, 1] = n_delay
        int_out[e, 2] = tti[e]
        int_out[e, 3] = last
        int_out[e, 4] = 0
        for u in range(num_ues):
            ue_rate_out[e, u] = ue_rate[e, u]
            delay_out[e, u] = delay[e, u]
        for bb in range(num_rus):
            ru_power_out[e, bb] = ru_power[e, bb]
            fronthaul_out[e, bb] = fronthaul[e, bb]
            for mm in range(num_prbs):
                sinr_db_out[e, bb, mm] = sinr_db[e, bb, mm]
        cursor[e] = c + 1
        if last:
            tti[e] += 1
            int_out[e, 4] = tti[e] >= episode_length
        else:
            # the observation row holds the previous step's: only the changed UEs and the PRB part move
            _write_prb_mask(e, c + 1, assoc, ru_power, ue_slice, levels_w, params, num_prbs, mask_out)
            if a > 0:
                for j in range(num_rus):
                    uj = owner[e, j, m]
                    if uj >= 0:
                        _write_ue_entries(e, uj, ue_slice, rate_norm, qos_ok, assoc, num_rus, paper_obs, obs_out)
            _write_prb_part(e, c + 1, prb_gain_obs, ru_power, fronthaul, params, num_rus, num_ues, num_prbs, paper_obs,
                            obs_out)


@njit(cache=True, parallel=True)
def advance_dynamics(
    env_ids, normals, arrivals, csi_noise_db, use_csi_noise, rho, large_scale_db, fading, gain_lin, observed_gain_db,
    embb_window, window_pos, window_packets, offered_load_bps, embb_bps_per_packet, urllc_load_bps,
):
    """`NetworkState.advance` without UE movement or traces, for `env_ids`, from pre-drawn randoms.

    `normals[e]` `[B, U, M, 2]` are the standard normals of the fading innovation, `arrivals[e]`
    the eMBB packet arrivals, `csi_noise_db[e]` the CSI error (when `use_csi_noise`), each drawn
    from sub-env e's generator in the single env's order.
    """
    num_rus, num_ues, num_prbs = fading.shape[1], fading.shape[2], fading.shape[3]
    num_embb = window_packets.shape[1]
    window_len = embb_window.shape[2]
    s = np.sqrt(0.5)
    a = np.sqrt(1.0 - rho * rho)
    for i in prange(env_ids.shape[0]):
        e = env_ids[i]
        for b in range(num_rus):
            for u in range(num_ues):
                for m in range(num_prbs):
                    w = complex(normals[e, b, u, m, 0] * s, normals[e, b, u, m, 1] * s)
                    if rho == 0.0:
                        fading[e, b, u, m] = w
                    else:
                        g = fading[e, b, u, m]
                        fading[e, b, u, m] = complex(rho * g.real + a * w.real, rho * g.imag + a * w.imag)
        pos = window_pos[e]
        for u in range(num_embb):
            window_packets[e, u] += arrivals[e, u] - embb_window[e, u, pos]
            embb_window[e, u, pos] = arrivals[e, u]
        window_pos[e] = (pos + 1) % window_len
        _refresh_gain(e, large_scale_db, fading, csi_noise_db, use_csi_noise, gain_lin, observed_gain_db)
        _refresh_load(e, window_packets, offered_load_bps, embb_bps_per_packet, urllc_load_bps)


@njit(cache=True, inline="always")
def _refresh_gain(e, large_scale_db, fading, csi_noise_db, use_csi_noise, gain_lin, observed_gain_db):
    """`NetworkState._refresh_gains` of sub-env e (`kernels.fill_channel_gain`, then the CSI error), in place."""
    fill_channel_gain(large_scale_db[e], fading[e], gain_lin[e], observed_gain_db[e])
    if use_csi_noise:
        num_rus, num_ues, num_prbs = fading.shape[1], fading.shape[2], fading.shape[3]
        for b in range(num_rus):
            for u in range(num_ues):
                for m in range(num_prbs):
                    observed_gain_db[e, b, u, m] += csi_noise_db[e, b, u, m]


@njit(cache=True, inline="always")
def _refresh_load(e, window_packets, offered_load_bps, embb_bps_per_packet, urllc_load_bps):
    """`NetworkState._refresh_offered_load` of sub-env e (no trace)."""
    num_embb = window_packets.shape[1]
    for u in range(num_embb):
        offered_load_bps[e, u] = window_packets[e, u] * embb_bps_per_packet
    for u in range(num_embb, offered_load_bps.shape[1]):
        offered_load_bps[e, u] = urllc_load_bps


@njit(cache=True, parallel=True)
def refresh_gains(env_ids, large_scale_db, fading, csi_noise_db, use_csi_noise, gain_lin, observed_gain_db,
                  window_packets, offered_load_bps, embb_bps_per_packet, urllc_load_bps):
    """Gains, observed gains and offered loads of `env_ids` from their fading, large-scale loss and traffic."""
    for i in prange(env_ids.shape[0]):
        e = env_ids[i]
        _refresh_gain(e, large_scale_db, fading, csi_noise_db, use_csi_noise, gain_lin, observed_gain_db)
        _refresh_load(e, window_packets, offered_load_bps, embb_bps_per_packet, urllc_load_bps)


@njit(cache=True, parallel=True)
def begin_tti(
    env_ids, prb_mode, cursor, observed_gain_db, offered_load_bps, prb_gain_obs, wideband_norm, offered_norm, owner,
    power_w, assoc, sinr_db, prb_rate, ue_rate, rate_norm, delay, rate_v, delay_v, qos_ok, ru_power, fronthaul,
    reward_so_far, ue_slice, levels_w, params, paper_obs, prev_ue_rate, prev_qos, prev_assoc, obs_out, mask_out,
):
    """Start a TTI in `env_ids`: the empty allocation and its KPIs, the scaled features, mask and observation."""
    num_rus, num_prbs = owner.shape[1], owner.shape[2]
    num_ues = ue_slice.shape[0]
    for i in prange(env_ids.shape[0]):
        e = env_ids[i]
        cursor[e] = 0
        owner[e] = -1
        power_w[e] = 0.0
        assoc[e] = -1
        sinr_db[e] = -np.inf
        prb_rate[e] = 0.0
        ue_rate[e] = 0.0
        rate_norm[e] = unit_rate_bps(0.0, params)
        delay[e] = np.inf
        ru_power[e] = 0.0
        fronthaul[e] = fronthaul_load(0.0, params)
        n_pos = 0
        for u in range(num_ues):
            rate_v[e, u] = rate_violated(0.0, offered_load_bps[e, u])
            delay_v[e, u] = delay_violated(np.inf, ue_slice[u], params)
            qos_ok[e, u] = not (rate_v[e, u] or delay_v[e, u])
            if offered_load_bps[e, u] > 0:
                n_pos += 1
        reward_so_far[e] = reward_violation_term(num_ues + n_pos, params) + theta_bias(params)
        if prb_mode:
            # `kernels.tti_observation_features`' arithmetic, written straight into the batch arrays
            for b in range(num_rus):
                for u in range(num_ues):
                    acc = 0.0
                    for m in range(num_prbs):
                        x = observed_gain_db[e, b, u, m]
                        acc += np.exp(x * LN10_OVER_10)
                        prb_gain_obs[e, b * num_prbs + m, u] = unit_gain_db(x)
                    w = 10.0 * np.log10(acc / num_prbs)
                    wideband_norm[e, b, u] = unit_gain_db(w)
            for u in range(num_ues):
                offered_norm[e, u] = unit_rate_bps(offered_load_bps[e, u], params)
            _write_prb_mask(e, 0, assoc, ru_power, ue_slice, levels_w, params, num_prbs, mask_out)
            # the single env observes the TTI's start with no QoS satisfied and no rate
            for u in range(num_ues):
                qos_ok[e, u] = False
            _write_prb_obs(e, 0, prb_gain_obs, wideband_norm, ue_slice, offered_norm, rate_norm, qos_ok, assoc, ru_power,
                           fronthaul, params, paper_obs, obs_out)
            continue
        gn, wn, on = tti_observation_features(observed_gain_db[e], offered_load_bps[e], params)
        wideband_norm[e] = wn
        offered_norm[e] = on
        if paper_obs:
            for u in range(num_ues):
                obs_out[e, u] = 1.0 if prev_qos[e, u] else 0.0
            obs_out[e, num_ues] = 0.0
        else:
            obs = build_full_observation(gn, wn, ue_slice, on, prev_ue_rate[e], prev_qos[e], prev_assoc[e], params)
            for k in range(obs.shape[0]):
                obs_out[e, k] = obs[k]


@njit(cache=True, parallel=True)
def full_step(
    env_ids, actions, gain_lin, ue_slice, offered_load_bps, levels_w, params, owner_out, power_out, assoc_out,
    ue_rate_out, sinr_db_out, ru_power_out, fronthaul_out, delay_out, qos_out, scalar_out, int_out,
):
    """Decode, project and evaluate one full-mode action per sub-env (as the single env's `_step_full`).

    Writes per env e the evaluated allocation (`owner_out`, projected `power_out`, `assoc_out`),
    its KPIs, `scalar_out[e] = (objective, reward, rate term, violation term)` and `int_out[e] =
    (rate, delay, power projection, association violations)`.
    """
    num_rus, num_prbs = owner_out.shape[1], owner_out.shape[2]
    for i in prange(env_ids.shape[0]):
        e = env_ids[i]
        owner, power_w, assoc, conflicts = decode_full_action(actions[e], ue_slice, levels_w, num_rus, num_prbs)
        power, num_projected = project_power(owner, power_w, ue_slice, params)
        sinr, _, ue_rate, ru_power, fronthaul, delay, rate_v, delay_v, objective = evaluate_kernel(
            gain_lin[e], owner, power, ue_slice, offered_load_bps[e], params
        )
        n_rate = 0
        n_delay = 0
        for u in range(ue_slice.shape[0]):
            n_rate += rate_v[u]
            n_delay += delay_v[u]
            qos_out[e, u] = not (rate_v[u] or delay_v[u])
        n = n_rate + n_delay + num_projected + conflicts
        rate_term = reward_rate_term(objective, params)
        viol_term = reward_violation_term(n, params)
        scalar_out[e, 0] = objective
        scalar_out[e, 1] = rate_term + viol_term + theta_bias(params)
        scalar_out[e, 2] = rate_term
        scalar_out[e, 3] = viol_term
        int_out[e, 0] = n_rate
        int_out[e, 1] = n_delay
        int_out[e, 2] = num_projected
        int_out[e, 3] = conflicts
        owner_out[e] = owner
        power_out[e] = power
        assoc_out[e] = assoc
        ue_rate_out[e] = ue_rate
        sinr_db_out[e] = compute_sinr_db(sinr, owner)
        ru_power_out[e] = ru_power
        fronthaul_out[e] = fronthaul
        delay_out[e] = delay
