"""The scenario parameters the kernels read: one packed float64 vector, read only by name.

Kernels take one `params` array instead of a dozen scalars: a numba call pays per argument, and the
per-PRB step of the environment is on the hot path. Named structures cost more per call (measured
with numba 0.68 on this machine, one call of a trivial kernel: float64 vector 0.6 us, NamedTuple of
floats and arrays 2.2-3.1 us, jitclass 1.5 us, structref 1.8 us, numpy record 5.8 us), so the vector
stays the transport, and nothing outside this module indexes it:

* numba code reads it through the inline accessors below (`noise_w(params)`, `se_max(params, s)`,
  ...), which compile to the same load as a literal index;
* NumPy code (the twins in `reference.py`, the baselines) reads `unpack_params(params)`, a
  `KernelParams` NamedTuple whose per-slice fields are arrays indexed by slice.

The layout (private index constants) lives here alone; adding a parameter touches this module only.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from oran_gym.config import EMBB, URLLC, ScenarioConfig

__all__ = [
    "KernelParams",
    "pack_params",
    "unpack_params",
    "power_levels_w",
    "GAIN_DB_MIN",
    "GAIN_DB_MAX",
    "noise_w",
    "prb_bandwidth_hz",
    "se_max",
    "slice_weight",
    "packet_bits",
    "delay_budget_s",
    "fibre_delay_s",
    "ru_power_limit_w",
    "prb_max_power_w",
    "quant_noise_w",
    "fronthaul_capacity",
    "rate_scale_bps",
    "theta_rate",
    "theta_violation",
    "theta_bias",
    "rate_norm_denom",
    "tti_s",
    "deadline_ttis",
    "max_backlog_bits",
    "max_queue_delay_s",
    "urllc_packets_per_tti",
    "link_cqi",
]

_NOISE_W = 0
_PRB_BW_HZ = 1
_SE_MAX = 2  # + slice
_WEIGHT = 4  # + slice
_PKT_BITS = 6  # + slice: mean packet size mu_s in bits, eq. (16)
_DELAY_BUDGET_S = 8  # + slice
_FIBRE_DELAY_S = 10
_RU_POWER_LIMIT_W = 11  # min(P_b^max, fronthaul limit): eqs. (11) and (15) in one bound
_PRB_PMAX_W = 12  # + slice, eq. (13)
_QUANT_NOISE_W = 14
_FRONTHAUL_CAP = 15
_RATE_SCALE_BPS = 16
_THETA_R = 17
_THETA_C = 18
_THETA_BIAS = 19
_RATE_NORM_DENOM = 20  # log10(1 + max UE rate / 1 kbit/s), observation scaling of rates
_TTI_S = 21
_DEADLINE_TTIS = 22  # + slice: the delay budget in whole TTIs (queue model)
_MAX_BACKLOG_BITS = 24
_MAX_QUEUE_DELAY_S = 25
_URLLC_PACKETS_PER_TTI = 26  # TTI / URLLC packet interval (CBR)
_LINK_CQI = 27  # 1: the CQI-table link abstraction (oran_gym.sim.link), 0: capped Shannon
_NUM_PARAMS = 28

GAIN_DB_MIN = -180.0
"""Observed gains are scaled to [0, 1] over [GAIN_DB_MIN, GAIN_DB_MAX] dB and clipped."""
GAIN_DB_MAX = -30.0


def _dbm_to_w(dbm: float) -> float:
    return 10.0 ** ((dbm - 30.0) / 10.0)


def pack_params(cfg: ScenarioConfig) -> np.ndarray:
    """Return the float64 parameter vector of `cfg` (layout: the index constants of this module)."""
    p = np.zeros(_NUM_PARAMS, dtype=np.float64)
    p[_NOISE_W] = cfg.noise_power_w
    p[_PRB_BW_HZ] = cfg.prb_bandwidth_hz
    p[_SE_MAX + EMBB] = cfg.embb_max_se_bps_per_hz
    p[_SE_MAX + URLLC] = cfg.urllc_max_se_bps_per_hz
    p[_WEIGHT + EMBB] = cfg.embb_weight
    p[_WEIGHT + URLLC] = cfg.urllc_weight
    p[_PKT_BITS + EMBB] = 8.0 * cfg.embb_packet_bytes
    p[_PKT_BITS + URLLC] = 8.0 * cfg.urllc_packet_bytes
    p[_DELAY_BUDGET_S + EMBB] = cfg.embb_delay_budget_s
    p[_DELAY_BUDGET_S + URLLC] = cfg.urllc_delay_budget_s
    p[_FIBRE_DELAY_S] = cfg.fibre_delay_s
    p[_RU_POWER_LIMIT_W] = cfg.ru_power_limit_w
    p[_PRB_PMAX_W + EMBB] = _dbm_to_w(cfg.embb_max_prb_power_dbm)
    p[_PRB_PMAX_W + URLLC] = _dbm_to_w(cfg.urllc_max_prb_power_dbm)
    p[_QUANT_NOISE_W] = cfg.fronthaul_quant_noise_w
    p[_FRONTHAUL_CAP] = cfg.fronthaul_capacity_bps_per_hz
    p[_RATE_SCALE_BPS] = cfg.rate_scale_bps
    p[_THETA_R] = cfg.reward_theta_rate
    p[_THETA_C] = cfg.reward_theta_violation
    p[_THETA_BIAS] = cfg.reward_theta_bias
    max_rate_bps = cfg.num_prbs * cfg.prb_bandwidth_hz * max(cfg.embb_max_se_bps_per_hz, cfg.urllc_max_se_bps_per_hz)
    p[_RATE_NORM_DENOM] = math.log10(1.0 + max_rate_bps / 1e3)
    p[_TTI_S] = cfg.tti_duration_s
    p[_DEADLINE_TTIS + EMBB] = cfg.deadline_ttis(cfg.embb_delay_budget_s)
    p[_DEADLINE_TTIS + URLLC] = cfg.deadline_ttis(cfg.urllc_delay_budget_s)
    p[_MAX_BACKLOG_BITS] = cfg.max_backlog_bits
    p[_MAX_QUEUE_DELAY_S] = cfg.queue_horizon_ttis * cfg.tti_duration_s
    p[_URLLC_PACKETS_PER_TTI] = cfg.tti_duration_s / cfg.urllc_packet_interval_s
    p[_LINK_CQI] = 1.0 if cfg.link_model == "cqi_table" else 0.0
    return p


def power_levels_w(cfg: ScenarioConfig) -> np.ndarray:
    """Power of each non-zero level for each slice, shape (2, L), in watts."""
    frac = np.asarray(cfg.power_level_fractions, dtype=np.float64)
    return np.stack(
        [frac * _dbm_to_w(cfg.embb_max_prb_power_dbm), frac * _dbm_to_w(cfg.urllc_max_prb_power_dbm)]
    )


class KernelParams(NamedTuple):
    """The packed parameters by name, for NumPy code; per-slice fields are `[2]` arrays (eMBB, URLLC)."""

    noise_w: float
    prb_bandwidth_hz: float
    se_max_bps_per_hz: np.ndarray
    slice_weight: np.ndarray
    packet_bits: np.ndarray
    delay_budget_s: np.ndarray
    fibre_delay_s: float
    ru_power_limit_w: float
    prb_max_power_w: np.ndarray
    quant_noise_w: float
    fronthaul_capacity_bps_per_hz: float
    rate_scale_bps: float
    theta_rate: float
    theta_violation: float
    theta_bias: float
    rate_norm_denom: float
    tti_s: float
    deadline_ttis: np.ndarray
    max_backlog_bits: float
    max_queue_delay_s: float
    urllc_packets_per_tti: float
    link_cqi: bool


def unpack_params(params: np.ndarray) -> KernelParams:
    """The named view of a packed vector (the same float64 values, per-slice fields as arrays)."""
    p = np.asarray(params, dtype=np.float64)
    if p.shape != (_NUM_PARAMS,):
        raise ValueError(f"params must be the packed vector of pack_params, shape ({_NUM_PARAMS},), got {p.shape}")

    def pair(i: int) -> np.ndarray:
        return p[i : i + 2].copy()

    return KernelParams(
        noise_w=float(p[_NOISE_W]),
        prb_bandwidth_hz=float(p[_PRB_BW_HZ]),
        se_max_bps_per_hz=pair(_SE_MAX),
        slice_weight=pair(_WEIGHT),
        packet_bits=pair(_PKT_BITS),
        delay_budget_s=pair(_DELAY_BUDGET_S),
        fibre_delay_s=float(p[_FIBRE_DELAY_S]),
        ru_power_limit_w=float(p[_RU_POWER_LIMIT_W]),
        prb_max_power_w=pair(_PRB_PMAX_W),
        quant_noise_w=float(p[_QUANT_NOISE_W]),
        fronthaul_capacity_bps_per_hz=float(p[_FRONTHAUL_CAP]),
        rate_scale_bps=float(p[_RATE_SCALE_BPS]),
        theta_rate=float(p[_THETA_R]),
        theta_violation=float(p[_THETA_C]),
        theta_bias=float(p[_THETA_BIAS]),
        rate_norm_denom=float(p[_RATE_NORM_DENOM]),
        tti_s=float(p[_TTI_S]),
        deadline_ttis=pair(_DEADLINE_TTIS),
        max_backlog_bits=float(p[_MAX_BACKLOG_BITS]),
        max_queue_delay_s=float(p[_MAX_QUEUE_DELAY_S]),
        urllc_packets_per_tti=float(p[_URLLC_PACKETS_PER_TTI]),
        link_cqi=bool(p[_LINK_CQI]),
    )


# ---------------------------------------------------------------------------------------------
# numba accessors: the only way kernels read the vector (inlined; `s` is a slice, 0 eMBB / 1 URLLC)
# ---------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def noise_w(params):
    """sigma^2 = N0 W (times the noise figure), watts."""
    return params[_NOISE_W]


@njit(cache=True, inline="always")
def prb_bandwidth_hz(params):
    """W, the bandwidth of one PRB, Hz."""
    return params[_PRB_BW_HZ]


@njit(cache=True, inline="always")
def se_max(params, s):
    """SE_max of slice s, bit/s/Hz."""
    return params[_SE_MAX + s]


@njit(cache=True, inline="always")
def slice_weight(params, s):
    """w_s of eq. (10)."""
    return params[_WEIGHT + s]


@njit(cache=True, inline="always")
def packet_bits(params, s):
    """mu_s, the mean packet size of slice s in bits (eq. 16)."""
    return params[_PKT_BITS + s]


@njit(cache=True, inline="always")
def delay_budget_s(params, s):
    """D^max of slice s, seconds."""
    return params[_DELAY_BUDGET_S + s]


@njit(cache=True, inline="always")
def fibre_delay_s(params):
    """Fibre propagation delay, seconds (eq. 16)."""
    return params[_FIBRE_DELAY_S]


@njit(cache=True, inline="always")
def ru_power_limit_w(params):
    """min(P_b^max, fronthaul limit): eqs. (11) and (15) in one bound, watts."""
    return params[_RU_POWER_LIMIT_W]


@njit(cache=True, inline="always")
def prb_max_power_w(params, s):
    """P_s^max of slice s, eq. (13), watts."""
    return params[_PRB_PMAX_W + s]


@njit(cache=True, inline="always")
def quant_noise_w(params):
    """sigma_q^2 of eq. (9), watts."""
    return params[_QUANT_NOISE_W]


@njit(cache=True, inline="always")
def fronthaul_capacity(params):
    """C^max of eq. (15), bit/s/Hz."""
    return params[_FRONTHAUL_CAP]


@njit(cache=True, inline="always")
def rate_scale_bps(params):
    """The objective's scale in the reward (eq. 22), bit/s."""
    return params[_RATE_SCALE_BPS]


@njit(cache=True, inline="always")
def theta_rate(params):
    """Theta_r of eq. (22)."""
    return params[_THETA_R]


@njit(cache=True, inline="always")
def theta_violation(params):
    """Theta_c of eq. (22)."""
    return params[_THETA_C]


@njit(cache=True, inline="always")
def theta_bias(params):
    """Theta_bias of eq. (22)."""
    return params[_THETA_BIAS]


@njit(cache=True, inline="always")
def rate_norm_denom(params):
    """log10(1 + max UE rate / 1 kbit/s): the observation's rate scaling."""
    return params[_RATE_NORM_DENOM]


@njit(cache=True, inline="always")
def tti_s(params):
    """Duration of one TTI, seconds."""
    return params[_TTI_S]


@njit(cache=True, inline="always")
def deadline_ttis(params, s):
    """The delay budget of slice s in whole TTIs (queue model): served at age k, a bit waited k + 1."""
    return int(params[_DEADLINE_TTIS + s])


@njit(cache=True, inline="always")
def max_backlog_bits(params):
    """Bits one UE's FIFO holds at most (queue model)."""
    return params[_MAX_BACKLOG_BITS]


@njit(cache=True, inline="always")
def max_queue_delay_s(params):
    """Age at which queued bits expire, seconds (queue model; whole TTIs)."""
    return params[_MAX_QUEUE_DELAY_S]


@njit(cache=True, inline="always")
def urllc_packets_per_tti(params):
    """TTI duration over the URLLC packet interval: the CBR source's packets per TTI, on average."""
    return params[_URLLC_PACKETS_PER_TTI]


@njit(cache=True, inline="always")
def link_cqi(params):
    """Whether rates follow the CQI table (`link_model="cqi_table"`) instead of capped Shannon."""
    return params[_LINK_CQI] != 0.0
