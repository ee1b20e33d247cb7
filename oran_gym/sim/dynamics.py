"""Across-TTI dynamics: the network state (positions, large-scale loss, fading, traffic) and its evolution.

`NetworkState.initial(cfg, rng)` draws a scenario from the generator it is given and seeds the
state's own random stream from it (`oran_gym.sim.rng`); `state.advance()` moves it one TTI on,
drawing from that stream in a fixed order, so one seed fixes a trajectory.
Nothing here imports gymnasium or torch.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numba import njit

from oran_gym.config import EMBB, URLLC, ScenarioConfig
from oran_gym.sim import channel, kernels
from oran_gym.sim import rng as random_stream

__all__ = ["NetworkState", "advance_tti", "trace_part", "ue_slices"]

_NO_SCALE = np.zeros(0)


def trace_part(cfg: ScenarioConfig, length: int) -> tuple[int, int]:
    """The samples `[start, stop)` of a trace of `length` the env replays (`trace_start_fraction`,
    `trace_stop_fraction`; at least one sample)."""
    start = min(int(math.floor(cfg.trace_start_fraction * length)), length - 1)
    stop = max(start + 1, min(length, int(math.floor(cfg.trace_stop_fraction * length))))
    return start, stop


def ue_slices(cfg: ScenarioConfig) -> np.ndarray:
    """Slice of each UE `[U]`: the eMBB UEs first (0), then the URLLC UEs (1)."""
    return np.concatenate(
        [np.full(cfg.num_embb_ues, EMBB, dtype=np.int64), np.full(cfg.num_urllc_ues, URLLC, dtype=np.int64)]
    )


@njit(cache=True, inline="always")
def fill_gains(stream, large_scale_db, fading_power, gain_lin, observed_gain_db, use_csi_noise, csi_std_db):
    """The TTI's gains and their dB values (`kernels.fill_channel_gain`), then the CSI error on the
    dB values from the state's stream, in place."""
    kernels.fill_channel_gain(large_scale_db, fading_power, gain_lin, observed_gain_db)
    if use_csi_noise:
        random_stream.add_normal_noise(stream, observed_gain_db, csi_std_db)


@njit(cache=True, inline="always")
def fill_offered_load(window_packets, embb_bps_per_packet, urllc_load_bps, offered_load_bps):
    """R_min before any trace: the eMBB UEs' window packets times bits per packet, then the URLLC
    UEs' load (`offered_load_bps [U]`, in place)."""
    num_embb = window_packets.shape[0]
    for u in range(num_embb):
        offered_load_bps[u] = window_packets[u] * embb_bps_per_packet
    for u in range(num_embb, offered_load_bps.shape[0]):
        offered_load_bps[u] = urllc_load_bps


@njit(cache=True)
def advance_tti(stream, fading, fading_power, rho, arrivals, arrival_mean, onoff, embb_on, p_leave_on, p_leave_off,
                lam_on, scale, window_packets, embb_window, window_pos, large_scale_db, gain_lin, observed_gain_db,
                use_csi_noise, csi_std_db, offered_load_bps, embb_bps_per_packet, urllc_load_bps):
    """The draws and refreshes of one TTI of `NetworkState.advance`, in place, in one numba call
    (the Python around it, six calls, cost more than their arithmetic); returns the new window
    position.

    From the state's stream, in this order: the fading (`fill_fading`), the eMBB arrivals (means
    times `scale` when it is not empty) into the sliding window, the gains and their dB values
    with the CSI error (`fill_gains`); then the offered loads before any trace
    (`fill_offered_load`). The vector env's `batched.advance_dynamics` calls it on each sub-env's
    rows of the batch, so the single env and the vector env share this code.
    """
    random_stream.fill_fading(stream, fading, fading_power, rho, False)
    num_embb = window_packets.shape[0]
    if num_embb:
        random_stream.draw_embb_arrivals(stream, arrivals, arrival_mean, onoff, embb_on, p_leave_on, p_leave_off,
                                         lam_on, scale)
        for u in range(num_embb):
            window_packets[u] += arrivals[u] - embb_window[u, window_pos]
            embb_window[u, window_pos] = arrivals[u]
        window_pos = (window_pos + 1) % embb_window.shape[1]
    fill_gains(stream, large_scale_db, fading_power, gain_lin, observed_gain_db, use_csi_noise, csi_std_db)
    fill_offered_load(window_packets, embb_bps_per_packet, urllc_load_bps, offered_load_bps)
    return window_pos


@dataclasses.dataclass
class NetworkState:
    """Everything that evolves across TTIs. Arrays are owned by the state; callers copy."""

    cfg: ScenarioConfig
    ue_slice: np.ndarray  # [U] int
    ru_pos_m: np.ndarray  # [B, 2]
    home_ru: np.ndarray  # [U] int
    ue_pos_m: np.ndarray  # [U, 2]
    velocity_mps: np.ndarray  # [U, 2]
    shadowing_db: np.ndarray  # [B, U]
    large_scale_db: np.ndarray  # [B, U] path loss + shadowing
    fading: np.ndarray  # [B, U, M] complex small-scale fading g (empty when rho = 0: only |g|^2 is drawn)
    fading_power: np.ndarray  # [B, U, M] |g|^2
    gain_lin: np.ndarray  # [B, U, M] true power gain of the current TTI
    observed_gain_db: np.ndarray  # [B, U, M] what the agent sees (CSI error)
    embb_window: np.ndarray  # [U_embb, W] arrivals (packets) per TTI of the sliding window
    window_pos: int
    window_packets: np.ndarray  # [U_embb] running sum of embb_window over its TTIs (exact integers)
    arrivals: np.ndarray  # [U_embb] the current TTI's eMBB packet arrivals (at reset: the window's last TTI)
    embb_on: np.ndarray  # [U_embb] bool: ON/OFF source states (all True for Poisson arrivals)
    offered_load_bps: np.ndarray  # [U]
    rho: float
    stream: np.ndarray  # uint64[4] state of the dynamics' random stream (oran_gym.sim.rng)
    trace: np.ndarray | None = None  # [T, 4] KPI trace; column 0 (internet) scales the loads
    trace_shift: np.ndarray | None = None  # [U] per-UE offset into the trace, in samples
    los_draw: np.ndarray | None = None  # [B, U] uniform per link: LOS while below P_LOS(d) ("uma_38901")
    tti: int = 0

    @classmethod
    def initial(cls, cfg: ScenarioConfig, rng: np.random.Generator) -> NetworkState:
        """Draw a new scenario from `rng` (drops, shadowing, headings, trace offsets), seed the
        dynamics' own stream from it, and draw the first TTI's fading, a warm traffic window and
        the CSI error from that stream."""
        num_ues, num_rus, num_prbs = cfg.num_ues, cfg.num_rus, cfg.num_prbs
        ru_pos = channel.ru_positions_m(num_rus, cfg.inter_site_distance_m)
        home = channel.ue_home_ru(num_ues, num_rus)
        ue_pos = channel.drop_ues(rng, ru_pos[home], cfg.cell_min_radius_m, cfg.cell_radius_m)
        los_draw = None
        if cfg.pathloss_model == "uma_38901":
            # standard normals, scaled by the link's LOS state at every refresh, and one uniform per link
            shadowing = rng.normal(0.0, 1.0, size=(num_rus, num_ues))
            los_draw = rng.uniform(0.0, 1.0, size=(num_rus, num_ues))
        elif cfg.shadowing_std_db > 0:
            shadowing = rng.normal(0.0, cfg.shadowing_std_db, size=(num_rus, num_ues))
        else:
            shadowing = np.zeros((num_rus, num_ues))
        if cfg.ue_speed_mps > 0:
            heading = rng.uniform(0.0, 2.0 * np.pi, size=num_ues)
            velocity = cfg.ue_speed_mps * np.column_stack([np.cos(heading), np.sin(heading)])
        else:
            velocity = np.zeros((num_ues, 2))
        trace = shift = None
        if cfg.traffic_trace is not None:
            from oran_gym.data import load_trace  # pandas only when a trace is used

            trace = load_trace(cfg.traffic_trace)
            start, stop = trace_part(cfg, trace.shape[0])
            shift = rng.integers(start, stop, size=num_ues)
        stream = random_stream.seed_state(rng)
        rho = channel.fading_correlation(cfg)
        fading = np.zeros((num_rus, num_ues, num_prbs) if rho != 0.0 else (0, 0, 0), np.complex128)
        fading_power = np.empty((num_rus, num_ues, num_prbs))
        random_stream.fill_fading(stream, fading, fading_power, rho, True)
        window = np.empty((cfg.num_embb_ues, cfg.load_window_ttis), np.int64)
        random_stream.fill_poisson(stream, window, cfg.embb_packets_per_tti)
        embb_on = np.ones(cfg.num_embb_ues, np.bool_)
        if cfg.embb_arrival_process == "onoff":
            random_stream.draw_onoff_states(stream, embb_on, cfg.onoff_source[3])
        state = cls(
            cfg=cfg,
            ue_slice=ue_slices(cfg),
            ru_pos_m=ru_pos,
            home_ru=home,
            ue_pos_m=ue_pos,
            velocity_mps=velocity,
            shadowing_db=shadowing,
            large_scale_db=np.zeros((num_rus, num_ues)),
            fading=fading,
            fading_power=fading_power,
            gain_lin=np.zeros((num_rus, num_ues, num_prbs)),
            observed_gain_db=np.zeros((num_rus, num_ues, num_prbs)),
            embb_window=window,
            window_pos=0,
            window_packets=window.sum(axis=1),
            arrivals=window[:, -1].copy(),
            embb_on=embb_on,
            offered_load_bps=np.zeros(num_ues),
            rho=rho,
            stream=stream,
            trace=trace,
            trace_shift=shift,
            los_draw=los_draw,
        )
        state._refresh_large_scale()
        state._refresh_gains()
        state._refresh_offered_load()
        return state

    def advance(self) -> None:
        """Move one TTI on: UE movement, then from the state's stream fading, traffic arrivals and
        the CSI error (in this order)."""
        cfg = self.cfg
        self.tti += 1
        if cfg.ue_speed_mps > 0:
            self.ue_pos_m, self.velocity_mps = channel.move_ues(
                self.ue_pos_m, self.velocity_mps, self.ru_pos_m[self.home_ru],
                cfg.cell_min_radius_m, cfg.cell_radius_m, cfg.tti_duration_s,
            )
            self._refresh_large_scale()
        leave_on, leave_off, lam_on, _ = cfg.onoff_source
        self.window_pos = advance_tti(
            self.stream, self.fading, self.fading_power, self.rho, self.arrivals, cfg.embb_packets_per_tti,
            cfg.embb_arrival_process == "onoff", self.embb_on, leave_on, leave_off, lam_on, self._arrival_scale(),
            self.window_packets, self.embb_window, self.window_pos, self.large_scale_db, self.gain_lin,
            self.observed_gain_db, cfg.csi_error_db > 0, cfg.csi_error_db, self.offered_load_bps,
            cfg.embb_load_bps_per_packet, cfg.urllc_load_bps,
        )
        if self.trace is not None and cfg.queue_model == "none":
            self.offered_load_bps *= self.trace_factor()

    # ---------------------------------------------------------------------------------------
    def _refresh_large_scale(self) -> None:
        cfg = self.cfg
        d = channel.distances_m(self.ue_pos_m, self.ru_pos_m, cfg.cell_min_radius_m)
        if self.los_draw is None:
            self.large_scale_db = channel.pathloss_db(d, cfg.carrier_freq_hz) + self.shadowing_db
            return
        # TR 38.901: a link is LOS while its fixed uniform is below P_LOS at the current distance
        los = self.los_draw < channel.uma_los_probability(d)
        std = np.where(los, channel.UMA_LOS_SHADOWING_DB, channel.UMA_NLOS_SHADOWING_DB)
        pl = channel.uma_38901_pathloss_db(d, cfg.carrier_freq_hz, cfg.ru_height_m, cfg.ue_height_m, los)
        self.large_scale_db = pl + std * self.shadowing_db

    @property
    def los(self) -> np.ndarray | None:
        """Which (RU, UE) links are line of sight now, `[B, U]` bool (None for the "uma_nlos" model)."""
        if self.los_draw is None:
            return None
        d = channel.distances_m(self.ue_pos_m, self.ru_pos_m, self.cfg.cell_min_radius_m)
        return self.los_draw < channel.uma_los_probability(d)

    def _refresh_gains(self) -> None:
        # a fading draw of exactly 0 would give -inf dB: the dB value is floored at -300 dB
        fill_gains(self.stream, self.large_scale_db, self.fading_power, self.gain_lin, self.observed_gain_db,
                   self.cfg.csi_error_db > 0, self.cfg.csi_error_db)

    def _refresh_offered_load(self) -> None:
        cfg = self.cfg
        load = np.empty(cfg.num_ues)
        fill_offered_load(self.window_packets, cfg.embb_load_bps_per_packet, cfg.urllc_load_bps, load)
        if self.trace is not None and cfg.queue_model == "none":
            load *= self.trace_factor()
        self.offered_load_bps = load

    def _arrival_scale(self) -> np.ndarray:
        """Per eMBB UE factor on the arrival rate: the trace factor with queues and a trace (the
        backlog model's trace-driven rates), otherwise empty (the plain source)."""
        if self.trace is None or self.cfg.queue_model == "none":
            return _NO_SCALE
        return self.trace_factor()[: self.cfg.num_embb_ues]

    def trace_index(self) -> np.ndarray:
        """Index into the trace of each UE at the current TTI, `[U]`."""
        step = self.tti // self.cfg.trace_ttis_per_sample
        start, stop = trace_part(self.cfg, self.trace.shape[0])
        return start + (self.trace_shift - start + step) % (stop - start)

    def trace_factor(self) -> np.ndarray:
        """Each UE's demand multiplier: internet KPI at its trace index over the trace's mean, `[U]`."""
        return self.trace[self.trace_index(), 0] / self.trace[:, 0].mean()
