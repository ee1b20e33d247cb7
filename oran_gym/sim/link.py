"""Link abstraction: the spectral efficiency a PRB achieves at a given SINR (eqs. 5-6 and their
table-based alternative). Nothing here imports gymnasium or torch.

* `link_model="shannon"` (the paper): `log2(1 + SINR)`, capped at the slice's `SE_max`.
* `link_model="cqi_table"`: the efficiency of the highest CQI whose SINR threshold the PRB meets,
  0 below CQI 1, also capped at the slice's `SE_max`. The efficiencies are 3GPP TS 38.214
  Table 5.2.2.1-2 (4-bit CQI table 1, QPSK to 64QAM). TS 38.214 gives no SINR thresholds (they
  depend on the receiver); `CQI_SINR_THRESHOLDS_DB` are the 10 % block-error thresholds of the
  15 CQIs in AWGN from the Vienna LTE link-level simulator (Mehlfuehrer et al., EUSIPCO 2009),
  the mapping most system-level studies tabulate for this CQI table.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["CQI_EFFICIENCY", "CQI_SINR_THRESHOLDS_DB", "cqi_efficiency", "cqi_efficiency_numpy"]

CQI_EFFICIENCY = np.array([
    0.1523, 0.2344, 0.3770, 0.6016, 0.8770, 1.1758, 1.4766, 1.9141,
    2.4063, 2.7305, 3.3223, 3.9023, 4.5234, 5.1152, 5.5547,
])
"""Spectral efficiency (bit/s/Hz) of CQI 1..15, TS 38.214 Table 5.2.2.1-2."""
CQI_SINR_THRESHOLDS_DB = np.array([
    -6.7, -4.7, -2.3, 0.2, 2.4, 4.3, 5.9, 8.1, 10.3, 11.7, 14.1, 16.3, 18.7, 21.0, 22.7,
])
"""SINR (dB) from which CQI 1..15 is decoded at 10 % BLER (see the module docstring)."""

# the thresholds as linear SINR, compared without a logarithm on the hot path
_THRESHOLDS_LIN = 10.0 ** (CQI_SINR_THRESHOLDS_DB / 10.0)


@njit(cache=True, inline="always")
def cqi_efficiency(sinr_lin):
    """bit/s/Hz of the highest CQI whose threshold `sinr_lin` meets (0 below CQI 1)."""
    se = 0.0
    for k in range(_THRESHOLDS_LIN.shape[0]):
        if sinr_lin >= _THRESHOLDS_LIN[k]:
            se = CQI_EFFICIENCY[k]
        else:
            break
    return se


def cqi_efficiency_numpy(sinr_lin):
    """NumPy twin of `cqi_efficiency`, element-wise over an array."""
    s = np.asarray(sinr_lin, dtype=np.float64)
    k = np.searchsorted(_THRESHOLDS_LIN, s, side="right")  # thresholds met
    return np.where(k > 0, CQI_EFFICIENCY[np.maximum(k - 1, 0)], 0.0)
