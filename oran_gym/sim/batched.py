"""Batched numba kernels: N environments stepped in one call (`ORANSlicingVectorEnv`, and the
single env's prb mode as a batch of one through the serial twins, `*_serial`).

Every equation comes from the scalar helpers of `oran_gym.sim.kernels`, in the same order of
floating-point operations as the full evaluation (`evaluate_allocation`). The prb step is
incremental: an action changes one PRB, so only the SINR of that PRB index on every RU, the rate
of the UEs that own those PRBs and the power of one RU are recomputed (each recomputed sum runs
over the same terms in the same order as the full evaluation, so the result is identical). The
tests compare the vector env with `SyncVectorEnv` over the single env (full mode: independent
code; both modes: the dynamics and the autoreset), and the single env's prb steps with the NumPy
reference transition of `oran_gym.sim.reference`, which re-evaluates everything each step.

Interface: every kernel takes the sub-envs to work on (`env_ids`), the actions where it steps,
and `st`, the batch's `oran_gym.sim.batch_state.BatchState`: every state array by name (leading
axis: N sub-environments; per-environment shapes are those of the single env, `[B, U, M]` gains,
`[B, M]` owners, ...) and the batch's settings. The field table of `batch_state` is the one
definition of that state. The TTI's random draws (fading, arrivals, CSI error) come from each
sub-env's own stream `st.stream[e]`, through the same functions of `oran_gym.sim.rng` that
`NetworkState` calls, in the same order, so that the streams equal the single env's. Nothing here
imports gymnasium or torch.
"""

from __future__ import annotations

import types as pytypes

import numba
import numpy as np
from numba import njit, prange

from oran_gym.sim.dynamics import advance_tti, fill_gains, fill_offered_load
from oran_gym.sim.kernels import (
    LN10_OVER_10,
    build_full_observation,
    capped_rate_bps,
    compute_sinr_db,
    decode_full_action,
    delay_violated,
    evaluate_kernel,
    fill_prb_action_mask,
    fill_prb_fields,
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
from oran_gym.sim.obs_layout import (
    PRB_FIELDS,
    UE_ASSOC,
    UE_FIELDS,
    UE_OFFERED,
    UE_QOS,
    UE_RATE,
    UE_SLICE,
)
from oran_gym.sim.params import noise_w, theta_bias
from oran_gym.sim.queue import (
    queue_begin,
    queue_observation,
    queue_terms,
    queue_tti_outcome,
    served_bits,
    served_rate_bps,
    ue_outcome,
)
from oran_gym.sim.rng import draw_onoff_states, fill_fading, fill_poisson

__all__ = [
    "advance_dynamics",
    "begin_tti",
    "full_step",
    "prb_step",
    "draw_initial",
]


@njit(cache=True, inline="always")
def _write_ue_entries(st, e, u, num_rus):
    """The entries of UE u that change within a TTI: rate, QoS and association (paper: QoS only)."""
    obs_out = st.obs
    if st.paper_obs:
        obs_out[e, u] = 1.0 if st.qos_ok[e, u] else 0.0
        return
    base = u * (num_rus + UE_FIELDS)
    obs_out[e, base + num_rus + UE_RATE] = st.rate_norm[e, u]
    obs_out[e, base + num_rus + UE_QOS] = 1.0 if st.qos_ok[e, u] else 0.0
    obs_out[e, base + num_rus + UE_ASSOC] = (st.assoc[e, u] + 1.0) / num_rus


@njit(cache=True, inline="always")
def _write_prb_part(st, e, cursor, num_rus, num_ues, num_prbs):
    """The entries that describe the PRB at `cursor` (paper: the allocation progress)."""
    obs_out = st.obs
    if st.paper_obs:
        obs_out[e, num_ues] = cursor / (num_rus * num_prbs)
        return
    k = num_ues * (num_rus + UE_FIELDS)
    b, m = fill_prb_fields(obs_out[e], k, cursor, st.ru_power[e], st.fronthaul[e], st.params, num_rus, num_prbs)
    row = b * num_prbs + m
    for u in range(num_ues):
        obs_out[e, k + PRB_FIELDS + u] = st.prb_gain_obs[e, row, u]


@njit(cache=True, inline="always")
def _write_prb_obs(st, e, cursor, num_rus, num_ues, num_prbs):
    """The whole observation of sub-env `e` for the PRB at `cursor` (as `kernels.build_prb_observation`)."""
    if not st.paper_obs:
        obs_out = st.obs
        stride = num_rus + UE_FIELDS
        for u in range(num_ues):
            base = u * stride
            for b in range(num_rus):
                obs_out[e, base + b] = st.wideband_norm[e, b, u]
            obs_out[e, base + num_rus + UE_SLICE] = st.ue_slice[u]
            obs_out[e, base + num_rus + UE_OFFERED] = st.offered_norm[e, u]
    for u in range(num_ues):
        _write_ue_entries(st, e, u, num_rus)
    _write_prb_part(st, e, cursor, num_rus, num_ues, num_prbs)


@njit(cache=True, inline="always")
def _write_prb_mask(st, e, cursor, num_prbs):
    """Action mask of sub-env `e` for the PRB at `cursor` (`kernels.fill_prb_action_mask` on its row)."""
    fill_prb_action_mask(st.mask[e], cursor, st.assoc[e], st.ru_power[e], st.ue_slice, st.levels_w, st.params, num_prbs)


@njit(cache=True, parallel=True)
def prb_step(env_ids, actions, st):
    """One prb-mode step of the sub-envs `env_ids` (actions already checked against their masks).

    Updates the allocation state in place and writes, per stepped env e: `st.obs[e]` and
    `st.mask[e]` for the next PRB (left for `begin_tti` when the step ends the TTI),
    `st.reward_out[e]`, `st.scalar_out[e, :3] = (objective, rate term, violation term)`,
    `st.int_out[e] = (rate violations, delay violations, tti of the KPIs, tti complete,
    truncated)` and the KPIs of the step's info (`st.*_out[e]`).
    """
    owner, power_w, assoc, gain_lin = st.owner, st.power_w, st.assoc, st.gain_lin
    sinr_db, prb_rate, ue_rate, delay = st.sinr_db, st.prb_rate, st.ue_rate, st.delay
    rate_v, delay_v, qos_ok, ru_power, fronthaul = st.rate_v, st.delay_v, st.qos_ok, st.ru_power, st.fronthaul
    ue_slice, levels_w, params, offered_load_bps = st.ue_slice, st.levels_w, st.params, st.offered_load_bps
    cursor, tti, reward_so_far = st.cursor, st.tti, st.reward_so_far
    reward_out, scalar_out, int_out = st.reward_out, st.scalar_out, st.int_out
    num_rus, num_prbs = owner.shape[1], owner.shape[2]
    num_ues = ue_slice.shape[0]
    num_levels = levels_w.shape[1]
    per_tti = num_rus * num_prbs
    theta_r_per_bps = reward_rate_per_bps(params)
    marginal, episode_length, queue = st.marginal, st.episode_length, st.queue
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
                st.rate_norm[e, uj] = unit_rate_bps(r, params)
                d = ue_delay_s(r, ue_slice[uj], params)
                delay[e, uj] = d
                if queue:
                    _, dropped, late_left = ue_outcome(r, st.q_backlog[e, uj], st.q_urgent[e, uj], st.q_late[e, uj],
                                                       st.q_overflow[e, uj], params)
                    rate_v[e, uj] = dropped > 0
                    delay_v[e, uj] = late_left > 0
                else:
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
            if queue:  # the delivered rate (oran_gym.sim.queue)
                served = served_bits(ue_rate[e, u], st.q_backlog[e, u], params)
                objective += weighted_rate_bps(served_rate_bps(served, params), ue_slice[u], params)
            else:
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
            st.ue_rate_out[e, u] = ue_rate[e, u]
            st.delay_out[e, u] = delay[e, u]
        for bb in range(num_rus):
            st.ru_power_out[e, bb] = ru_power[e, bb]
            st.fronthaul_out[e, bb] = fronthaul[e, bb]
            for mm in range(num_prbs):
                st.sinr_db_out[e, bb, mm] = sinr_db[e, bb, mm]
        if queue:  # what the allocation so far serves and drops; the TTI's last step applies it
            queue_tti_outcome(st.q_bits[e], tti[e], ue_rate[e], st.q_arrived[e], st.q_overflow[e], ue_slice, params,
                              st.queue_bits_out[e], st.queue_delay_out[e], last)
        cursor[e] = c + 1
        if last:
            tti[e] += 1
            int_out[e, 4] = tti[e] >= episode_length
        else:
            # the observation row holds the previous step's: only the changed UEs and the PRB part move
            _write_prb_mask(st, e, c + 1, num_prbs)
            if a > 0:
                for j in range(num_rus):
                    uj = owner[e, j, m]
                    if uj >= 0:
                        _write_ue_entries(st, e, uj, num_rus)
            _write_prb_part(st, e, c + 1, num_rus, num_ues, num_prbs)


@njit(cache=True, parallel=True)
def advance_dynamics(env_ids, st):
    """`NetworkState.advance` without UE movement or traces, for `env_ids`: `dynamics.advance_tti`
    on each sub-env's rows (fading, arrivals, CSI error from its stream, then gains and loads)."""
    for i in prange(env_ids.shape[0]):
        e = env_ids[i]
        st.window_pos[e] = advance_tti(
            st.stream[e], st.fading[e], st.fading_power[e], st.rho, st.arrivals[e], st.arrival_mean, st.onoff,
            st.embb_on[e], st.p_leave_on, st.p_leave_off, st.lam_on, st.no_scale, st.window_packets[e],
            st.embb_window[e], st.window_pos[e], st.large_scale_db[e], st.gain_lin[e], st.observed_gain_db[e],
            st.use_csi_noise, st.csi_std_db, st.offered_load_bps[e], st.embb_bps_per_packet, st.urllc_load_bps,
        )


@njit(cache=True, parallel=True)
def draw_initial(env_ids, st):
    """The draws of `NetworkState.initial` that come from the stream, for `env_ids` (whose
    `st.stream[e]` was just seeded): the first fading, a warm traffic window, then gains, CSI
    error and offered loads."""
    embb_window, window_packets = st.embb_window, st.window_packets
    for i in prange(env_ids.shape[0]):
        e = env_ids[i]
        stream = st.stream[e]
        fill_fading(stream, st.fading[e], st.fading_power[e], st.rho, True)
        fill_poisson(stream, embb_window[e], st.arrival_mean)
        for u in range(window_packets.shape[1]):
            window_packets[e, u] = embb_window[e, u].sum()
            st.arrivals[e, u] = embb_window[e, u, embb_window.shape[2] - 1]
        st.window_pos[e] = 0
        if st.onoff:
            draw_onoff_states(stream, st.embb_on[e], st.p_on)
        _refresh_gain(st, e)
        _refresh_load(st, e)


@njit(cache=True, inline="always")
def _refresh_gain(st, e):
    """`NetworkState._refresh_gains` of sub-env e (`dynamics.fill_gains`: the gains, then the CSI error), in place."""
    fill_gains(st.stream[e], st.large_scale_db[e], st.fading_power[e], st.gain_lin[e], st.observed_gain_db[e],
               st.use_csi_noise, st.csi_std_db)


@njit(cache=True, inline="always")
def _queue_begin(st, e):
    """The backlog model's start of a TTI in sub-env e (`queue.queue_begin` on its row)."""
    queue_begin(st.q_bits[e], st.tti[e], st.arrivals[e], st.ue_slice, st.params, st.q_arrived[e], st.q_overflow[e],
                st.q_backlog[e], st.q_urgent[e], st.q_late[e], st.q_hol_s[e])


@njit(cache=True, inline="always")
def _refresh_load(st, e):
    """`NetworkState._refresh_offered_load` of sub-env e (no trace; `dynamics.fill_offered_load`)."""
    fill_offered_load(st.window_packets[e], st.embb_bps_per_packet, st.urllc_load_bps, st.offered_load_bps[e])


@njit(cache=True, parallel=True)
def begin_tti(env_ids, st):
    """Start a TTI in `env_ids`: the empty allocation and its KPIs, the scaled features, mask and observation."""
    owner, ue_slice, params = st.owner, st.ue_slice, st.params
    observed_gain_db, offered_load_bps = st.observed_gain_db, st.offered_load_bps
    rate_v, delay_v, qos_ok = st.rate_v, st.delay_v, st.qos_ok
    wideband_norm, offered_norm, prb_gain_obs = st.wideband_norm, st.offered_norm, st.prb_gain_obs
    num_rus, num_prbs = owner.shape[1], owner.shape[2]
    num_ues = ue_slice.shape[0]
    prb_mode, paper_obs, queue = st.prb_mode, st.paper_obs, st.queue
    for i in prange(env_ids.shape[0]):
        e = env_ids[i]
        st.cursor[e] = 0
        owner[e] = -1
        st.power_w[e] = 0.0
        st.assoc[e] = -1
        st.sinr_db[e] = -np.inf
        st.prb_rate[e] = 0.0
        st.ue_rate[e] = 0.0
        st.rate_norm[e] = unit_rate_bps(0.0, params)
        st.delay[e] = np.inf
        st.ru_power[e] = 0.0
        st.fronthaul[e] = fronthaul_load(0.0, params)
        if queue:
            _queue_begin(st, e)
            n_viol = 0
            for u in range(num_ues):
                _, dropped, late_left = ue_outcome(0.0, st.q_backlog[e, u], st.q_urgent[e, u], st.q_late[e, u],
                                                   st.q_overflow[e, u], params)
                rate_v[e, u] = dropped > 0
                delay_v[e, u] = late_left > 0
                qos_ok[e, u] = not (rate_v[e, u] or delay_v[e, u])
                n_viol += rate_v[e, u] + delay_v[e, u]
            st.reward_so_far[e] = reward_violation_term(n_viol, params) + theta_bias(params)
            queue_observation(st.q_backlog[e], st.q_hol_s[e], params, st.obs[e], st.obs.shape[1] - 2 * num_ues)
        else:
            n_pos = 0
            for u in range(num_ues):
                rate_v[e, u] = rate_violated(0.0, offered_load_bps[e, u])
                delay_v[e, u] = delay_violated(np.inf, ue_slice[u], params)
                qos_ok[e, u] = not (rate_v[e, u] or delay_v[e, u])
                if offered_load_bps[e, u] > 0:
                    n_pos += 1
            st.reward_so_far[e] = reward_violation_term(num_ues + n_pos, params) + theta_bias(params)
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
            _write_prb_mask(st, e, 0, num_prbs)
            # the single env observes the TTI's start with no QoS satisfied and no rate
            for u in range(num_ues):
                qos_ok[e, u] = False
            _write_prb_obs(st, e, 0, num_rus, num_ues, num_prbs)
            continue
        gn, wn, on = tti_observation_features(observed_gain_db[e], offered_load_bps[e], params)
        wideband_norm[e] = wn
        offered_norm[e] = on
        obs_out = st.obs
        if paper_obs:
            for u in range(num_ues):
                obs_out[e, u] = 1.0 if st.prev_qos[e, u] else 0.0
            obs_out[e, num_ues] = 0.0
        else:
            obs = build_full_observation(gn, wn, ue_slice, on, st.prev_ue_rate[e], st.prev_qos[e], st.prev_assoc[e], params)
            for k in range(obs.shape[0]):
                obs_out[e, k] = obs[k]


@njit(cache=True, parallel=True)
def full_step(env_ids, actions, st):
    """Decode, project and evaluate one full-mode action per sub-env (as the single env's `_step_full`).

    Writes per env e the evaluated allocation (`st.owner_out`, projected `st.power_out`,
    `st.assoc_out`), its KPIs, `st.scalar_out[e] = (objective, reward, rate term, violation
    term)` and `st.int_out[e, :4] = (rate, delay, power projection, association violations)`.
    """
    ue_slice, levels_w, params = st.ue_slice, st.levels_w, st.params
    scalar_out, int_out = st.scalar_out, st.int_out
    num_rus, num_prbs = st.owner_out.shape[1], st.owner_out.shape[2]
    for i in prange(env_ids.shape[0]):
        e = env_ids[i]
        owner, power_w, assoc, conflicts = decode_full_action(actions[e], ue_slice, levels_w, num_rus, num_prbs)
        power, num_projected = project_power(owner, power_w, ue_slice, params)
        sinr, _, ue_rate, ru_power, fronthaul, delay, rate_v, delay_v, objective = evaluate_kernel(
            st.gain_lin[e], owner, power, ue_slice, st.offered_load_bps[e], params
        )
        if st.queue:  # the backlog model's objective and flags, then the TTI's service
            _, _, rate_v, delay_v, objective = queue_terms(ue_rate, st.q_backlog[e], st.q_urgent[e], st.q_late[e],
                                                           st.q_overflow[e], ue_slice, params)
            queue_tti_outcome(st.q_bits[e], st.tti[e], ue_rate, st.q_arrived[e], st.q_overflow[e], ue_slice, params,
                              st.queue_bits_out[e], st.queue_delay_out[e], True)
        n_rate = 0
        n_delay = 0
        for u in range(ue_slice.shape[0]):
            n_rate += rate_v[u]
            n_delay += delay_v[u]
            st.qos_out[e, u] = not (rate_v[u] or delay_v[u])
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
        st.owner_out[e] = owner
        st.power_out[e] = power
        st.assoc_out[e] = assoc
        st.ue_rate_out[e] = ue_rate
        st.sinr_db_out[e] = compute_sinr_db(sinr, owner)
        st.ru_power_out[e] = ru_power
        st.fronthaul_out[e] = fronthaul
        st.delay_out[e] = delay


@njit(cache=True)
def check_prb_actions(env_ids, actions, mask, num_actions, idle, invalid_out):
    """Check the prb-mode actions of the sub-envs `env_ids` in place (one call instead of a dozen
    small NumPy operations, which dominate a step at small N).

    First every action must lie in `0 .. num_actions - 1`; then each must be allowed by its row of
    `mask [N, A]`. With `idle`, a masked action becomes 0 (idle) and `invalid_out[e]` is set;
    `invalid_out` is cleared first. Returns `(0, -1)` when all pass, else `(1, e)` for the first
    sub-env out of range, or `(2, e)` for the first masked one (without `idle`).
    """
    invalid_out[:] = False
    for i in range(env_ids.shape[0]):
        e = env_ids[i]
        if actions[e] < 0 or actions[e] >= num_actions:
            return 1, e
    for i in range(env_ids.shape[0]):
        e = env_ids[i]
        if not mask[e, actions[e]]:
            if not idle:
                return 2, e
            actions[e] = 0
            invalid_out[e] = True
    return 0, -1


def _serial(kernel):
    """`kernel` compiled without `parallel=True`, so `prange` runs as `range` on the calling thread:
    the same source, no parallel launch (about 6 us a call), for batches too small to share.

    The copy gets its own qualified name, so numba caches it apart from the parallel kernel.
    """
    f = kernel.py_func
    g = pytypes.FunctionType(f.__code__, f.__globals__, f.__name__ + "_serial", f.__defaults__, f.__closure__)
    g.__qualname__ = f.__qualname__ + "_serial"
    g.__module__ = f.__module__
    g.__doc__ = f"`{f.__name__}` on the calling thread (see `_serial`)."
    return njit(cache=True)(g)


def entry_point(kernel, *args):
    """`kernel`'s compiled function for the numba types of `args`, to call without dispatch.

    A call through the dispatcher first types every argument; for the batch's structref numba
    falls back to Python, which costs about 0.8 us a call (more than a serial prb step's physics
    at N = 1). The returned entry point (what `Dispatcher.compile` returns) skips that: it unboxes
    its arguments as the types it was compiled for, without checking them. So call it only with
    arguments of exactly these types, arrays the caller owns and the batch's structref, and keep
    the dispatcher for anything else. Falls back to `kernel` itself if numba returns no callable.
    """
    fn = kernel.compile(tuple(numba.typeof(a) for a in args))
    return fn if callable(fn) else kernel


prb_step_serial = _serial(prb_step)
full_step_serial = _serial(full_step)
begin_tti_serial = _serial(begin_tti)
advance_dynamics_serial = _serial(advance_dynamics)
draw_initial_serial = _serial(draw_initial)
