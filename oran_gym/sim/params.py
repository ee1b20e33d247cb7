"""Pack a `ScenarioConfig` into the flat float64 vector the kernels read.

Kernels take one `params` array instead of a dozen scalars: a numba call pays per argument, and the
per-PRB step of the environment is on the hot path. The index constants below are the layout;
slice-dependent entries are consecutive (eMBB at `X`, URLLC at `X + 1`) so a kernel reads
`params[X + slice]`.
"""

from __future__ import annotations

import math

import numpy as np

from oran_gym.config import EMBB, URLLC, ScenarioConfig

__all__ = [
    "pack_params",
    "power_levels_w",
    "NOISE_W",
    "PRB_BW_HZ",
    "SE_MAX",
    "WEIGHT",
    "PKT_BITS",
    "DELAY_BUDGET_S",
    "FIBRE_DELAY_S",
    "RU_POWER_LIMIT_W",
    "PRB_PMAX_W",
    "QUANT_NOISE_W",
    "FRONTHAUL_CAP",
    "RATE_SCALE_BPS",
    "THETA_R",
    "THETA_C",
    "THETA_BIAS",
    "RATE_NORM_DENOM",
    "NUM_PARAMS",
    "GAIN_DB_MIN",
    "GAIN_DB_MAX",
]

NOISE_W = 0
PRB_BW_HZ = 1
SE_MAX = 2  # + slice
WEIGHT = 4  # + slice
PKT_BITS = 6  # + slice: mean packet size mu_s in bits, eq. (16)
DELAY_BUDGET_S = 8  # + slice
FIBRE_DELAY_S = 10
RU_POWER_LIMIT_W = 11  # min(P_b^max, fronthaul limit): eqs. (11) and (15) in one bound
PRB_PMAX_W = 12  # + slice, eq. (13)
QUANT_NOISE_W = 14
FRONTHAUL_CAP = 15
RATE_SCALE_BPS = 16
THETA_R = 17
THETA_C = 18
THETA_BIAS = 19
RATE_NORM_DENOM = 20  # log10(1 + max UE rate / 1 kbit/s), observation scaling of rates
NUM_PARAMS = 21

GAIN_DB_MIN = -180.0
"""Observed gains are scaled to [0, 1] over [GAIN_DB_MIN, GAIN_DB_MAX] dB and clipped."""
GAIN_DB_MAX = -30.0


def _dbm_to_w(dbm: float) -> float:
    return 10.0 ** ((dbm - 30.0) / 10.0)


def pack_params(cfg: ScenarioConfig) -> np.ndarray:
    """Return the float64 parameter vector of `cfg` (layout: the index constants of this module)."""
    p = np.zeros(NUM_PARAMS, dtype=np.float64)
    p[NOISE_W] = cfg.noise_power_w
    p[PRB_BW_HZ] = cfg.prb_bandwidth_hz
    p[SE_MAX + EMBB] = cfg.embb_max_se_bps_per_hz
    p[SE_MAX + URLLC] = cfg.urllc_max_se_bps_per_hz
    p[WEIGHT + EMBB] = cfg.embb_weight
    p[WEIGHT + URLLC] = cfg.urllc_weight
    p[PKT_BITS + EMBB] = 8.0 * cfg.embb_packet_bytes
    p[PKT_BITS + URLLC] = 8.0 * cfg.urllc_packet_bytes
    p[DELAY_BUDGET_S + EMBB] = cfg.embb_delay_budget_s
    p[DELAY_BUDGET_S + URLLC] = cfg.urllc_delay_budget_s
    p[FIBRE_DELAY_S] = cfg.fibre_delay_s
    p[RU_POWER_LIMIT_W] = cfg.ru_power_limit_w
    p[PRB_PMAX_W + EMBB] = _dbm_to_w(cfg.embb_max_prb_power_dbm)
    p[PRB_PMAX_W + URLLC] = _dbm_to_w(cfg.urllc_max_prb_power_dbm)
    p[QUANT_NOISE_W] = cfg.fronthaul_quant_noise_w
    p[FRONTHAUL_CAP] = cfg.fronthaul_capacity_bps_per_hz
    p[RATE_SCALE_BPS] = cfg.rate_scale_bps
    p[THETA_R] = cfg.reward_theta_rate
    p[THETA_C] = cfg.reward_theta_violation
    p[THETA_BIAS] = cfg.reward_theta_bias
    max_rate_bps = cfg.num_prbs * cfg.prb_bandwidth_hz * max(cfg.embb_max_se_bps_per_hz, cfg.urllc_max_se_bps_per_hz)
    p[RATE_NORM_DENOM] = math.log10(1.0 + max_rate_bps / 1e3)
    return p


def power_levels_w(cfg: ScenarioConfig) -> np.ndarray:
    """Power of each non-zero level for each slice, shape (2, L), in watts."""
    frac = np.asarray(cfg.power_level_fractions, dtype=np.float64)
    return np.stack(
        [frac * _dbm_to_w(cfg.embb_max_prb_power_dbm), frac * _dbm_to_w(cfg.urllc_max_prb_power_dbm)]
    )
