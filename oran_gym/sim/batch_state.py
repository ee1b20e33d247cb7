"""The native vector env's whole state, defined once: one field table, two views of the same memory.

`FIELDS` lists every array of `ORANSlicingVectorEnv` (name, dtype, shape, initial value);
`SETTINGS` its scalar settings. From them come

* `BatchArrays`, a NamedTuple of NumPy arrays, which Python and NumPy code read by name, and
* `BatchState`, a numba structref holding the *same* arrays (no copy: the kernels write into the
  NumPy arrays), which every batched kernel of `oran_gym.sim.batched` takes as one argument.

A numba call pays per argument (39 positional arrays cost about 6 us per call on this machine; one
structref about 2 us), and a kernel reads `state.owner` instead of the 8th of 39 same-typed arrays,
so swapping two can no longer go unnoticed. Adding a state field is one line in `FIELDS`.

Shapes are written in the dimensions of `BatchDims`: `n` sub-envs, `B` RUs, `U` UEs, `M` PRBs,
`L` power levels, `A` actions, `W` eMBB window TTIs, `E` eMBB UEs, `O` observation size, `H` FIFO
ages of the backlog model, and the switches `prb` (prb action mode), `corr` (correlated fading) and
`queue` (backlog model); a field whose shape is `(1, ...)` or `(n, 0, ...)` when its switch is off
is a placeholder the kernels never read.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import types
from numba.experimental import structref

__all__ = ["BatchArrays", "BatchDims", "BatchState", "FIELDS", "SETTINGS", "allocate", "load_network", "settings_for", "to_numba"]


class BatchDims(NamedTuple):
    """Sizes of a batch (see the module docstring)."""

    n: int
    B: int
    U: int
    M: int
    L: int
    A: int
    W: int
    E: int
    O: int  # noqa: E741 - the observation size, as in the docstring's shape notation
    prb: bool
    corr: bool  # correlated fading (rho > 0): the complex fading is kept across TTIs
    H: int = 1  # ages of each UE's FIFO (backlog model)
    queue: bool = False  # the backlog model (oran_gym.sim.queue)


f8, f4, i8, b1, c16, u8 = np.float64, np.float32, np.int64, np.bool_, np.complex128, np.uint64

# name, dtype, shape from BatchDims, initial value
FIELDS: tuple[tuple[str, Any, Any, Any], ...] = (
    # network state (channel and traffic), as NetworkState holds it per sub-env
    ("large_scale_db", f8, lambda d: (d.n, d.B, d.U), 0.0),
    ("fading", c16, lambda d: (d.n, d.B, d.U, d.M) if d.corr else (d.n, 0, 0, 0), 0.0),
    ("fading_power", f8, lambda d: (d.n, d.B, d.U, d.M), 0.0),
    ("gain_lin", f8, lambda d: (d.n, d.B, d.U, d.M), 0.0),
    ("observed_gain_db", f8, lambda d: (d.n, d.B, d.U, d.M), 0.0),
    ("embb_window", i8, lambda d: (d.n, d.E, d.W), 0),
    ("window_pos", i8, lambda d: (d.n,), 0),
    ("window_packets", i8, lambda d: (d.n, d.E), 0),
    ("offered_load_bps", f8, lambda d: (d.n, d.U), 0.0),
    # each sub-env's random stream (oran_gym.sim.rng) and the last TTI's eMBB arrivals
    ("stream", u8, lambda d: (d.n, 4), 0),
    ("arrivals", i8, lambda d: (d.n, d.E), 0),
    ("embb_on", b1, lambda d: (d.n, d.E), True),  # ON/OFF source states
    ("no_scale", f8, lambda d: (0,), 0.0),  # the empty arrival scale of the plain sources
    # the backlog model (oran_gym.sim.queue): FIFO buckets by age, the TTI's arrivals and status
    ("q_bits", i8, lambda d: (d.n, d.U, d.H) if d.queue else (1, 1, 1), 0),
    ("q_arrived", i8, lambda d: (d.n, d.U), 0),
    ("q_overflow", i8, lambda d: (d.n, d.U), 0),
    ("q_backlog", i8, lambda d: (d.n, d.U), 0),
    ("q_urgent", i8, lambda d: (d.n, d.U), 0),
    ("q_late", i8, lambda d: (d.n, d.U), 0),
    ("q_hol_s", f8, lambda d: (d.n, d.U), 0.0),
    # scaled observation inputs of the TTI
    ("prb_gain_obs", f4, lambda d: (d.n, d.B * d.M, d.U) if d.prb else (1, 1, 1), 0.0),
    ("wideband_norm", f8, lambda d: (d.n, d.B, d.U), 0.0),
    ("offered_norm", f8, lambda d: (d.n, d.U), 0.0),
    # the TTI's allocation and its KPIs
    ("cursor", i8, lambda d: (d.n,), 0),
    ("tti", i8, lambda d: (d.n,), 0),
    ("owner", i8, lambda d: (d.n, d.B, d.M), -1),
    ("power_w", f8, lambda d: (d.n, d.B, d.M), 0.0),
    ("assoc", i8, lambda d: (d.n, d.U), -1),
    ("sinr_db", f8, lambda d: (d.n, d.B, d.M), -np.inf),
    ("prb_rate", f8, lambda d: (d.n, d.B, d.M), 0.0),
    ("ue_rate", f8, lambda d: (d.n, d.U), 0.0),
    ("rate_norm", f8, lambda d: (d.n, d.U), 0.0),
    ("delay", f8, lambda d: (d.n, d.U), np.inf),
    ("rate_v", b1, lambda d: (d.n, d.U), False),
    ("delay_v", b1, lambda d: (d.n, d.U), False),
    ("qos_ok", b1, lambda d: (d.n, d.U), False),
    ("ru_power", f8, lambda d: (d.n, d.B), 0.0),
    ("fronthaul", f8, lambda d: (d.n, d.B), 0.0),
    ("reward_so_far", f8, lambda d: (d.n,), 0.0),
    # the previous TTI's outcome (the full mode observes it)
    ("prev_ue_rate", f8, lambda d: (d.n, d.U), 0.0),
    ("prev_qos", b1, lambda d: (d.n, d.U), False),
    ("prev_assoc", i8, lambda d: (d.n, d.U), -1),
    # what the next step shows the agent
    ("obs", f4, lambda d: (d.n, d.O), 0.0),
    ("mask", b1, lambda d: (d.n, d.A), False),
    # one step's outputs (zeroed by the env before each step, copied into the step's info)
    ("reward_out", f8, lambda d: (d.n,), 0.0),
    ("scalar_out", f8, lambda d: (d.n, 4), 0.0),  # objective, (full: reward,) rate term, violation term
    ("int_out", i8, lambda d: (d.n, 5), 0),  # prb: rate v., delay v., TTI, TTI complete, truncated; full: rate, delay, projection, association
    ("ue_rate_out", f8, lambda d: (d.n, d.U), 0.0),
    ("sinr_db_out", f8, lambda d: (d.n, d.B, d.M), 0.0),
    ("ru_power_out", f8, lambda d: (d.n, d.B), 0.0),
    ("fronthaul_out", f8, lambda d: (d.n, d.B), 0.0),
    ("delay_out", f8, lambda d: (d.n, d.U), 0.0),
    ("owner_out", i8, lambda d: (d.n, d.B, d.M), 0),
    ("power_out", f8, lambda d: (d.n, d.B, d.M), 0.0),
    ("assoc_out", i8, lambda d: (d.n, d.U), -1),
    ("qos_out", b1, lambda d: (d.n, d.U), False),
    ("queue_bits_out", i8, lambda d: (d.n, d.U, 4) if d.queue else (1, 1, 4), 0),  # oran_gym.sim.queue.QUEUE_COUNTS
    ("queue_delay_out", f8, lambda d: (d.n, d.U, 2) if d.queue else (1, 1, 2), 0.0),  # QUEUE_DELAYS
    # the scenario, shared by every sub-env
    ("ue_slice", i8, lambda d: (d.U,), 0),
    ("levels_w", f8, lambda d: (2, d.L), 0.0),
    ("params", f8, None, 0.0),  # the packed vector of oran_gym.sim.params
)

# name, numba type: scalar settings fixed for the batch's life
SETTINGS: tuple[tuple[str, Any], ...] = (
    ("prb_mode", types.boolean),
    ("paper_obs", types.boolean),
    ("marginal", types.boolean),
    ("episode_length", types.int64),
    ("rho", types.float64),
    ("use_csi_noise", types.boolean),
    ("csi_std_db", types.float64),
    ("arrival_mean", types.float64),
    ("embb_bps_per_packet", types.float64),
    ("urllc_load_bps", types.float64),
    ("queue", types.boolean),
    ("onoff", types.boolean),
    ("p_leave_on", types.float64),
    ("p_leave_off", types.float64),
    ("lam_on", types.float64),
    ("p_on", types.float64),
)

FIELD_NAMES = tuple(name for name, *_ in FIELDS)
SETTING_NAMES = tuple(name for name, _ in SETTINGS)

BatchArrays = NamedTuple("BatchArrays", [(name, np.ndarray) for name in FIELD_NAMES])  # type: ignore[misc]
BatchArrays.__doc__ = "Every array of the batch by name (the rows of `FIELDS`); the same memory as `BatchState`."


def allocate(dims: BatchDims, params: np.ndarray, **given: np.ndarray) -> BatchArrays:
    """The arrays of `FIELDS` at their initial values; `given` supplies arrays made elsewhere (same name)."""
    out = {}
    for name, dtype, shape, fill in FIELDS:
        if name in given:
            out[name] = given[name]
        elif name == "params":
            out[name] = np.ascontiguousarray(params, dtype=np.float64)
        else:
            out[name] = np.full(shape(dims), fill, dtype=dtype)
    unknown = set(given) - set(FIELD_NAMES)
    if unknown:
        raise ValueError(f"allocate() got arrays for unknown fields {sorted(unknown)}; fields are {FIELD_NAMES}")
    return BatchArrays(**out)


@structref.register
class BatchStateType(types.StructRef):
    """numba type of `BatchState`."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class BatchState(structref.StructRefProxy):
    """The numba view of a batch: `BatchArrays`' arrays (shared memory) plus the `SETTINGS` scalars."""


structref.define_proxy(BatchState, BatchStateType, list(FIELD_NAMES + SETTING_NAMES))


def to_numba(arrays: BatchArrays, **settings: Any) -> BatchState:
    """The structref over `arrays` (no copy) with the scalar `settings` of `SETTINGS`."""
    missing = set(SETTING_NAMES) - set(settings)
    extra = set(settings) - set(SETTING_NAMES)
    if missing or extra:
        raise ValueError(f"to_numba() needs exactly the settings {SETTING_NAMES}; missing {sorted(missing)}, unknown {sorted(extra)}")
    values = []
    for name, typ in SETTINGS:
        v = settings[name]
        values.append(bool(v) if typ == types.boolean else int(v) if typ == types.int64 else float(v))
    return BatchState(*arrays, *values)


def load_network(arrays: BatchArrays, e: int, net: Any) -> None:
    """Row `e` takes the TTI's gains, observed gains, offered loads and eMBB arrivals of a
    `NetworkState` (dynamics run in Python: moving UEs, traces, and the single env's prb mode)."""
    arrays.gain_lin[e] = net.gain_lin
    arrays.observed_gain_db[e] = net.observed_gain_db
    arrays.offered_load_bps[e] = net.offered_load_bps
    arrays.arrivals[e] = net.arrivals


def settings_for(cfg: Any, *, prb: bool, paper_obs: bool, marginal: bool, rho: float) -> dict[str, Any]:
    """The `SETTINGS` values of a scenario (`ScenarioConfig`) and the env's modes."""
    leave_on, leave_off, lam_on, p_on = cfg.onoff_source
    return {
        "prb_mode": prb, "paper_obs": paper_obs, "marginal": marginal,
        "episode_length": cfg.episode_length_tti, "rho": rho, "use_csi_noise": cfg.csi_error_db > 0,
        "csi_std_db": cfg.csi_error_db, "arrival_mean": cfg.embb_packets_per_tti,
        "embb_bps_per_packet": cfg.embb_load_bps_per_packet, "urllc_load_bps": cfg.urllc_load_bps,
        "queue": cfg.queue_model == "backlog", "onoff": cfg.embb_arrival_process == "onoff",
        "p_leave_on": leave_on, "p_leave_off": leave_off, "lam_on": lam_on, "p_on": p_on,
    }


class BatchSettings(NamedTuple):
    """The `SETTINGS` scalars for NumPy code (the batched NumPy twin reads `state.<setting>` the same way)."""

    prb_mode: bool
    paper_obs: bool
    marginal: bool
    episode_length: int
    rho: float
    use_csi_noise: bool
    csi_std_db: float
    arrival_mean: float
    embb_bps_per_packet: float
    urllc_load_bps: float
    queue: bool
    onoff: bool
    p_leave_on: float
    p_leave_off: float
    lam_on: float
    p_on: float


class NumpyBatchState:
    """Attribute access to `BatchArrays` and `BatchSettings` together: what NumPy kernels receive."""

    __slots__ = ("arrays", "settings")

    def __init__(self, arrays: BatchArrays, settings: BatchSettings) -> None:
        self.arrays, self.settings = arrays, settings

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(object.__getattribute__(self, "arrays"), name)
        except AttributeError:
            return getattr(object.__getattribute__(self, "settings"), name)
