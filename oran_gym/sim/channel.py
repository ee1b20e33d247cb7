"""Topology and channel model: UE drops, 3GPP UMa path loss, shadowing, UE movement, Jakes correlation.

The drop takes an explicit `numpy.random.Generator` (the env's `np_random`), so that
`reset(seed=s)` fixes the whole trajectory; Rayleigh fading is drawn every TTI from the
dynamics' own stream (`oran_gym.sim.rng`). Shapes follow `[num_rus, num_ues, num_prbs]`.
"""

from __future__ import annotations

import math

import numpy as np

SPEED_OF_LIGHT_MPS = 299_792_458.0


def ru_positions_m(num_rus: int, inter_site_distance_m: float) -> np.ndarray:
    """RU coordinates `[B, 2]`: one RU at the origin, or B RUs on a regular polygon of side ISD."""
    if num_rus == 1:
        return np.zeros((1, 2))
    radius = inter_site_distance_m / (2.0 * math.sin(math.pi / num_rus))
    angle = 2.0 * np.pi * np.arange(num_rus) / num_rus
    return radius * np.column_stack([np.cos(angle), np.sin(angle)])


def ue_home_ru(num_ues: int, num_rus: int) -> np.ndarray:
    """Home RU of each UE (round-robin), `[U]` int: the RU around which the UE is dropped."""
    return np.arange(num_ues, dtype=np.int64) % num_rus


def drop_ues(
    rng: np.random.Generator, home_pos_m: np.ndarray, min_radius_m: float, max_radius_m: float
) -> np.ndarray:
    """Drop UEs uniformly in area over an annulus around their home RU; returns `[U, 2]` metres."""
    num_ues = home_pos_m.shape[0]
    r = np.sqrt(rng.uniform(min_radius_m**2, max_radius_m**2, size=num_ues))
    theta = rng.uniform(0.0, 2.0 * np.pi, size=num_ues)
    return home_pos_m + np.column_stack([r * np.cos(theta), r * np.sin(theta)])


def distances_m(ue_pos_m: np.ndarray, ru_pos_m: np.ndarray, min_distance_m: float) -> np.ndarray:
    """2-D distance from every RU to every UE, `[B, U]`, floored at `min_distance_m`."""
    d = np.linalg.norm(ru_pos_m[:, None, :] - ue_pos_m[None, :, :], axis=-1)
    return np.maximum(d, min_distance_m)


def pathloss_db(distance_m: np.ndarray, carrier_freq_hz: float) -> np.ndarray:
    """3GPP UMa NLOS path loss as used by the paper: 13.54 + 39.08 log10(d) + 20 log10(f_c / GHz)."""
    return 13.54 + 39.08 * np.log10(distance_m) + 20.0 * math.log10(carrier_freq_hz / 1e9)


# 3GPP TR 38.901 V17.0.0, UMa (Tables 7.4.1-1 and 7.4.2-1)
UMA_LOS_SHADOWING_DB = 4.0
"""Shadow-fading std of UMa LOS links, TR 38.901 Table 7.4.1-1."""
UMA_NLOS_SHADOWING_DB = 6.0
"""Shadow-fading std of UMa NLOS links, TR 38.901 Table 7.4.1-1."""
_UMA_ENVIRONMENT_HEIGHT_M = 1.0  # h_E for UEs below 13 m (TR 38.901 note 1 of Table 7.4.1-1)


def uma_los_probability(distance_2d_m: np.ndarray) -> np.ndarray:
    """TR 38.901 Table 7.4.2-1, UMa, outdoor UEs below 13 m (C'(h_UT) = 0):
    1 up to 18 m, then 18/d + exp(-d/63) (1 - 18/d)."""
    d = np.asarray(distance_2d_m, dtype=np.float64)
    far = np.maximum(d, 18.0)
    return np.where(d <= 18.0, 1.0, 18.0 / far + np.exp(-far / 63.0) * (1.0 - 18.0 / far))


def uma_38901_pathloss_db(distance_2d_m: np.ndarray, carrier_freq_hz: float, ru_height_m: float, ue_height_m: float,
                          los: np.ndarray) -> np.ndarray:
    """TR 38.901 Table 7.4.1-1, UMa: the LOS path loss (two slopes around the breakpoint d'_BP) where
    `los`, else the NLOS one, max(PL_LOS, PL'_NLOS); on the 3-D distance, f_c in GHz."""
    d2 = np.asarray(distance_2d_m, dtype=np.float64)
    fc_ghz = carrier_freq_hz / 1e9
    dh = ru_height_m - ue_height_m
    d3 = np.sqrt(d2**2 + dh**2)
    breakpoint_m = 4.0 * (ru_height_m - _UMA_ENVIRONMENT_HEIGHT_M) * (ue_height_m - _UMA_ENVIRONMENT_HEIGHT_M) * carrier_freq_hz / SPEED_OF_LIGHT_MPS
    pl1 = 28.0 + 22.0 * np.log10(d3) + 20.0 * math.log10(fc_ghz)
    pl2 = 28.0 + 40.0 * np.log10(d3) + 20.0 * math.log10(fc_ghz) - 9.0 * math.log10(breakpoint_m**2 + dh**2)
    pl_los = np.where(d2 <= breakpoint_m, pl1, pl2)
    pl_nlos = 13.54 + 39.08 * np.log10(d3) + 20.0 * math.log10(fc_ghz) - 0.6 * (ue_height_m - 1.5)
    return np.where(los, pl_los, np.maximum(pl_los, pl_nlos))


def jakes_rho(speed_mps: float, carrier_freq_hz: float, tti_duration_s: float) -> float:
    """Clarke/Jakes correlation over one TTI: J0(2 pi f_D T), f_D = v f_c / c."""
    from scipy.special import j0

    doppler_hz = speed_mps * carrier_freq_hz / SPEED_OF_LIGHT_MPS
    return float(np.clip(j0(2.0 * np.pi * doppler_hz * tti_duration_s), 0.0, 1.0))


def fading_correlation(cfg) -> float:
    """The Gauss-Markov fading correlation of a scenario: `fading_rho`, or Jakes from the UE speed
    when it is None."""
    if cfg.fading_rho is not None:
        return float(cfg.fading_rho)
    return jakes_rho(cfg.ue_speed_mps, cfg.carrier_freq_hz, cfg.tti_duration_s)


def move_ues(
    ue_pos_m: np.ndarray,
    velocity_mps: np.ndarray,
    home_pos_m: np.ndarray,
    min_radius_m: float,
    max_radius_m: float,
    dt_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Advance UEs in straight lines; a UE leaving its annulus turns back (velocity reversed)."""
    new_pos = ue_pos_m + velocity_mps * dt_s
    r = np.linalg.norm(new_pos - home_pos_m, axis=1)
    out = (r < min_radius_m) | (r > max_radius_m)
    velocity = np.where(out[:, None], -velocity_mps, velocity_mps)
    pos = np.where(out[:, None], ue_pos_m, new_pos)
    return pos, velocity
