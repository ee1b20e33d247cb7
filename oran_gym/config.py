"""Scenario configuration: every parameter of the system model, with units in the names.

`ScenarioConfig` is a frozen dataclass. It validates itself on construction and raises a
`ValueError` that names the field, the value received and what is allowed. It converts to and from
plain mappings (`to_dict` / `from_mapping`) so that it survives Gymnasium's `EnvSpec` JSON round
trip and RLlib's `env_config`.

Defaults are those of DESIGN.md section 2 (the O-RAN slicing paper, seed 002). Values the paper
does not give are marked *(choice)* in the field docstrings.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["ScenarioConfig", "PRESETS", "PRESET_SOURCES", "FIELD_BOUNDS", "EMBB", "URLLC", "SLICE_NAMES"]

EMBB = 0
"""Slice index of enhanced mobile broadband."""
URLLC = 1
"""Slice index of ultra-reliable low-latency communication."""
SLICE_NAMES = ("embb", "urllc")


@dataclasses.dataclass(frozen=True)
class ScenarioConfig:
    """All parameters of one O-RAN slicing scenario (DESIGN.md section 2).

    Build one with `ScenarioConfig.preset("paper")`, `ScenarioConfig(**fields)`,
    `ScenarioConfig.from_mapping(mapping)` or `cfg.replace(field=value)`.
    """

    # --- topology ---------------------------------------------------------------------------
    num_rus: int = 1
    """Radio units B. Every RU reuses the same PRBs, so RUs interfere on shared PRBs."""
    num_embb_ues: int = 10
    """eMBB UEs in the whole scenario (spread round-robin over the RUs)."""
    num_urllc_ues: int = 10
    """URLLC UEs in the whole scenario (spread round-robin over the RUs)."""
    cell_min_radius_m: float = 10.0
    """Inner radius of the annulus in which UEs are dropped around their home RU."""
    cell_radius_m: float = 500.0
    """Outer radius of the annulus in which UEs are dropped around their home RU."""
    inter_site_distance_m: float = 500.0
    """Distance between neighbouring RUs (RUs on a ring around the first one) *(choice)*."""

    # --- radio ------------------------------------------------------------------------------
    num_prbs: int = 25
    """PRBs M per RU."""
    prb_bandwidth_hz: float = 180e3
    """Bandwidth W of one PRB."""
    carrier_freq_hz: float = 2e9
    """Carrier frequency f_c (3GPP UMa path loss uses it in GHz)."""
    noise_psd_dbm_per_hz: float = -174.0
    """Thermal noise power spectral density N0."""
    noise_figure_db: float = 0.0
    """Receiver noise figure added to N0 W *(choice)*."""
    shadowing_std_db: float = 8.0
    """Standard deviation of log-normal shadowing, drawn per (UE, RU) at reset ("uma_nlos" path loss;
    "uma_38901" uses TR 38.901's 4 dB LOS / 6 dB NLOS)."""
    fading_rho: float | None = 0.0
    """Gauss-Markov correlation of Rayleigh fading between TTIs; 0 = independent draws (paper).
    None derives it from UE speed: rho = J0(2 pi f_D T), f_D = v f_c / c."""
    csi_error_db: float = 0.0
    """Std of the Gaussian error (dB) on the gains the agent observes; the physics uses true gains."""
    ue_speed_mps: float = 0.0
    """UE speed; > 0 moves UEs in straight lines, reflected at the annulus edges."""
    pathloss_model: str = "uma_nlos"
    """"uma_nlos": the paper's 3GPP UMa NLOS formula on the 2-D distance. "uma_38901": 3GPP TR
    38.901 UMa (Table 7.4.1-1) with its LOS probability (Table 7.4.2-1), the LOS or NLOS path loss
    on the 3-D distance and shadowing of 4 dB (LOS) / 6 dB (NLOS) instead of `shadowing_std_db`."""
    ru_height_m: float = 25.0
    """RU antenna height h_BS ("uma_38901" path loss; TR 38.901 UMa: 25 m)."""
    ue_height_m: float = 1.5
    """UE antenna height h_UT ("uma_38901" path loss; TR 38.901 UMa: 1.5-22.5 m)."""
    link_model: str = "shannon"
    """"shannon": rate W min(log2(1 + SINR), SE_max) (the paper). "cqi_table": the efficiency of the
    highest CQI of TS 38.214 Table 5.2.2.1-2 whose SINR threshold is met, capped at SE_max
    (`oran_gym.sim.link`)."""

    # --- power and fronthaul ----------------------------------------------------------------
    ru_max_power_dbm: float = 40.0
    """RU power limit P_b^max, eq. (11)."""
    embb_max_prb_power_dbm: float = 30.0
    """Per-PRB power limit P_s^max of the eMBB slice, eq. (13)."""
    urllc_max_prb_power_dbm: float = 30.0
    """Per-PRB power limit P_s^max of the URLLC slice, eq. (13)."""
    power_level_fractions: tuple[float, ...] = (0.25, 0.5, 1.0)
    """Non-zero power levels per PRB as fractions of the slice's P_s^max *(choice)*."""
    fronthaul_capacity_bps_per_hz: float = 46.0
    """Fronthaul capacity C^max, eq. (15)."""
    fronthaul_quant_noise_w: float = 1e-12
    """Fronthaul quantisation noise sigma_q^2 of eq. (9) *(choice: binds at ~48.5 dBm, above the 43 dBm of
    Fig. 6d/6e; 1e-13 W before issue 16 capped every RU at 38.5 dBm)*."""

    # --- slices: rate caps, weights, QoS ------------------------------------------------------
    embb_max_se_bps_per_hz: float = 10.0
    """Spectral-efficiency cap of the eMBB slice, eq. (5)."""
    urllc_max_se_bps_per_hz: float = 2.0
    """Spectral-efficiency cap of the URLLC slice, eq. (5)."""
    embb_weight: float = 1.0
    """Weight w_s of eMBB throughput in the objective, eq. (10) *(choice)*."""
    urllc_weight: float = 2.0
    """Weight w_s of URLLC throughput in the objective, eq. (10) *(choice)*."""
    embb_delay_budget_s: float = 10e-3
    """Delay budget D^max of eMBB, eq. (16) *(choice)*."""
    urllc_delay_budget_s: float = 1e-3
    """Delay budget D^max of URLLC, eq. (16) *(choice)*."""

    # --- traffic ----------------------------------------------------------------------------
    urllc_packet_bytes: int = 32
    """URLLC constant-bit-rate packet size."""
    urllc_packet_interval_s: float = 1e-3
    """URLLC packet interval (32 B every 1 ms = 256 kbit/s)."""
    embb_packet_bytes: int = 1000
    """eMBB packet size (Poisson arrivals)."""
    embb_packet_rate_pps: float = 125.0
    """Mean eMBB packet arrival rate *(choice: 1 Mbit/s per UE)*."""
    embb_load_window_s: float = 0.1
    """Sliding window over which eMBB arrivals set the offered load *(choice)*."""
    traffic_trace: str | None = None
    """Trace-driven demand: None (off), "synthetic", or the operator-KPI dataset folder; every UE's
    offered load is scaled by the internet KPI / its mean, time-shifted per UE (with
    `queue_model="backlog"`: each eMBB UE's arrival rate instead) *(choice)*."""
    trace_ttis_per_sample: int = 1
    """TTIs per trace sample when `traffic_trace` is set (one TTI per 5-minute sample by default)."""
    trace_start_fraction: float = 0.0
    """The part of the trace the env replays starts here (a fraction of its length), so that a
    forecaster trained on an earlier part never sees it *(choice)*."""
    trace_stop_fraction: float = 1.0
    """...and ends here; each UE starts at a random sample of the part and wraps around within it."""
    embb_arrival_process: str = "poisson"
    """eMBB arrivals: "poisson" (the paper), or "onoff": Poisson bursts while a two-state Markov
    source is ON (mean durations `embb_on_mean_s`, `embb_off_mean_s`), at the rate that keeps the
    long-run mean `embb_packet_rate_pps` *(choice)*."""
    embb_on_mean_s: float = 0.02
    """Mean ON duration of the ON/OFF eMBB source *(choice)*."""
    embb_off_mean_s: float = 0.03
    """Mean OFF duration of the ON/OFF eMBB source *(choice)*."""

    # --- queues (DESIGN.md section 6) --------------------------------------------------------
    queue_model: str = "none"
    """"none": the paper's per-TTI model (offered load sets R_min every TTI). "backlog": per-UE
    FIFOs carried across TTIs, served by each TTI's rate; the reward counts delivered bits against
    drops and budget misses (DESIGN.md section 6) *(choice of the extension)*."""
    max_backlog_bits: float = 1e6
    """A UE's queue holds at most this many bits; arriving packets that do not fit are dropped
    (tail drop, whole packets) *(choice: 125 eMBB packets)*."""
    max_queue_delay_s: float = 0.1
    """Bits waiting this long are dropped as expired (a transport timeout); it bounds the FIFO's
    memory and must be at least both delay budgets *(choice)*."""

    # --- delay ------------------------------------------------------------------------------
    fronthaul_length_m: float = 1000.0
    """Fronthaul fibre length *(choice)*."""
    midhaul_length_m: float = 5000.0
    """Midhaul fibre length *(choice)*."""
    backhaul_length_m: float = 20000.0
    """Backhaul fibre length *(choice)*."""
    fibre_speed_mps: float = 2e8
    """Propagation speed in fibre."""

    # --- episode and reward -----------------------------------------------------------------
    tti_duration_s: float = 1e-3
    """Duration of one TTI (traffic and fading advance by this much per TTI) *(choice)*."""
    episode_length_tti: int = 10
    """TTIs per episode; the env truncates after this many *(choice)*."""
    rate_scale_bps: float = 1e6
    """Divides the objective in the reward, eq. (22) *(choice)*."""
    reward_theta_rate: float = 1.0
    """Theta_r of eq. (22) *(choice)*."""
    reward_theta_violation: float = 5.0
    """Theta_c of eq. (22): penalty per violated constraint *(choice)*."""
    reward_theta_bias: float = 0.0
    """Theta_bias of eq. (22) *(choice)*."""

    # ------------------------------------------------------------------------------------------
    def __post_init__(self) -> None:
        """Coerce JSON-friendly types and validate every field."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "power_level_fractions" and isinstance(value, (list, tuple)):
                value = tuple(_coerce_numpy_scalar(x) for x in value)
            else:
                value = _coerce_numpy_scalar(value)
            object.__setattr__(self, f.name, value)
            _validate_field(f.name, value)
        if self.cell_min_radius_m >= self.cell_radius_m:
            raise ValueError(
                "ScenarioConfig.cell_min_radius_m must be smaller than cell_radius_m "
                f"(got cell_min_radius_m={self.cell_min_radius_m!r}, cell_radius_m={self.cell_radius_m!r})"
            )
        if self.num_ues < 1:
            raise ValueError(
                "ScenarioConfig needs at least one UE (got num_embb_ues=0 and num_urllc_ues=0)"
            )
        gains = self.num_rus * self.num_ues * self.num_prbs
        if gains > MAX_GAINS_PER_OBSERVATION:
            raise ValueError(
                f"ScenarioConfig: num_rus x UEs x num_prbs = {self.num_rus} x {self.num_ues} x {self.num_prbs} = {gains:,} "
                f"channel gains per observation exceeds {MAX_GAINS_PER_OBSERVATION:,} (memory per env)"
            )
        window_ttis = self.embb_load_window_s / self.tti_duration_s
        if window_ttis > MAX_LOAD_WINDOW_TTIS:
            raise ValueError(
                f"ScenarioConfig: embb_load_window_s / tti_duration_s = {self.embb_load_window_s!r} / {self.tti_duration_s!r} "
                f"= {window_ttis:,.0f} TTIs exceeds {MAX_LOAD_WINDOW_TTIS:,} (the window holds one count per UE and TTI)"
            )
        if self.queue_model == "backlog":
            self._validate_queue()
        if self.trace_stop_fraction <= self.trace_start_fraction:
            raise ValueError(
                f"ScenarioConfig.trace_stop_fraction ({self.trace_stop_fraction!r}) must exceed trace_start_fraction "
                f"({self.trace_start_fraction!r}): the replayed part of the trace would be empty"
            )
        if self.embb_arrival_process == "onoff":
            for name in ("embb_on_mean_s", "embb_off_mean_s"):
                if getattr(self, name) < self.tti_duration_s:
                    raise ValueError(
                        f"ScenarioConfig.{name} = {getattr(self, name)!r} is shorter than one TTI "
                        f"(tti_duration_s = {self.tti_duration_s!r}); the ON/OFF source changes state at most once per TTI"
                    )
        fr = self.power_level_fractions
        if any(b <= a for a, b in zip(fr, fr[1:])):
            raise ValueError(
                "ScenarioConfig.power_level_fractions must be strictly increasing "
                f"(got {fr!r}); e.g. (0.25, 0.5, 1.0)"
            )

    def _validate_queue(self) -> None:
        """The backlog model's cross-field bounds: budgets of at least one TTI, a FIFO of bounded size."""
        tti = self.tti_duration_s
        for name in ("embb_delay_budget_s", "urllc_delay_budget_s"):
            budget = getattr(self, name)
            if budget < tti * (1 - 1e-9):
                raise ValueError(
                    f"ScenarioConfig.{name} = {budget!r} is shorter than one TTI (tti_duration_s = {tti!r}); "
                    "queue_model='backlog' measures delay in whole TTIs, so budgets must be >= tti_duration_s"
                )
            if budget > self.max_queue_delay_s * (1 + 1e-9):
                raise ValueError(
                    f"ScenarioConfig.max_queue_delay_s = {self.max_queue_delay_s!r} is shorter than {name} = {budget!r}; "
                    "queued bits expire after max_queue_delay_s, so it must be at least every delay budget"
                )
        if self.queue_horizon_ttis > MAX_QUEUE_HORIZON_TTIS:
            raise ValueError(
                f"ScenarioConfig: max_queue_delay_s / tti_duration_s = {self.max_queue_delay_s!r} / {tti!r} "
                f"= {self.queue_horizon_ttis:,} TTIs exceeds {MAX_QUEUE_HORIZON_TTIS:,} (the FIFO holds one count per UE and TTI of age)"
            )
        packet = 8 * max(self.embb_packet_bytes, self.urllc_packet_bytes)
        if self.max_backlog_bits < packet:
            raise ValueError(
                f"ScenarioConfig.max_backlog_bits = {self.max_backlog_bits!r} is smaller than one packet ({packet} bits); "
                "no packet could ever be queued"
            )

    # --- derived quantities -------------------------------------------------------------------
    @property
    def num_ues(self) -> int:
        """Total UEs U."""
        return self.num_embb_ues + self.num_urllc_ues

    @property
    def num_power_levels(self) -> int:
        """Non-zero power levels L per PRB."""
        return len(self.power_level_fractions)

    @property
    def noise_power_w(self) -> float:
        """Noise power over one PRB: N0 W times the noise figure."""
        dbm = self.noise_psd_dbm_per_hz + 10.0 * math.log10(self.prb_bandwidth_hz) + self.noise_figure_db
        return 10.0 ** ((dbm - 30.0) / 10.0)

    @property
    def ru_max_power_w(self) -> float:
        """RU power limit in watts."""
        return 10.0 ** ((self.ru_max_power_dbm - 30.0) / 10.0)

    @property
    def fronthaul_power_limit_w(self) -> float:
        """RU power at which the fronthaul (eq. 15) binds: sigma_q^2 (2^C^max - 1)."""
        return self.fronthaul_quant_noise_w * (2.0**self.fronthaul_capacity_bps_per_hz - 1.0)

    @property
    def ru_power_limit_w(self) -> float:
        """The binding RU power limit: min of eq. (11) and the fronthaul limit of eq. (15)."""
        return min(self.ru_max_power_w, self.fronthaul_power_limit_w)

    @property
    def fibre_delay_s(self) -> float:
        """Propagation delay over fronthaul, midhaul and backhaul fibre."""
        return (self.fronthaul_length_m + self.midhaul_length_m + self.backhaul_length_m) / self.fibre_speed_mps

    @property
    def prbs_per_tti(self) -> int:
        """Decisions per TTI in the prb action mode: B M."""
        return self.num_rus * self.num_prbs

    @property
    def embb_packets_per_tti(self) -> float:
        """Mean eMBB packet arrivals per UE and TTI (the Poisson mean)."""
        return self.embb_packet_rate_pps * self.tti_duration_s

    @property
    def load_window_ttis(self) -> int:
        """TTIs of the sliding window that sets the eMBB offered load (at least one)."""
        return max(1, int(round(self.embb_load_window_s / self.tti_duration_s)))

    @property
    def embb_load_bps_per_packet(self) -> float:
        """Offered load one packet in the eMBB window adds: its bits over the window's duration."""
        return 8.0 * self.embb_packet_bytes / (self.load_window_ttis * self.tti_duration_s)

    @property
    def onoff_source(self) -> tuple[float, float, float, float]:
        """The ON/OFF eMBB source per TTI: `(P(leave ON), P(leave OFF), Poisson mean while ON,
        stationary P(ON))`; the ON mean keeps the long-run rate at `embb_packet_rate_pps`."""
        on, off, tti = self.embb_on_mean_s, self.embb_off_mean_s, self.tti_duration_s
        return tti / on, tti / off, self.embb_packets_per_tti * (on + off) / on, on / (on + off)

    @property
    def queue_horizon_ttis(self) -> int:
        """Ages a UE's FIFO tracks, in TTIs: bits reaching this age expire (max_queue_delay_s / TTI)."""
        return max(1, int(math.floor(self.max_queue_delay_s / self.tti_duration_s + 1e-9)))

    def deadline_ttis(self, budget_s: float) -> int:
        """A delay budget in whole TTIs: a bit served in the TTI of age k waited (k + 1) TTIs."""
        return max(1, int(math.floor(budget_s / self.tti_duration_s + 1e-9)))

    @property
    def urllc_load_bps(self) -> float:
        """Offered load of a URLLC UE: its constant bit rate."""
        return 8.0 * self.urllc_packet_bytes / self.urllc_packet_interval_s

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def preset(cls, name: str) -> ScenarioConfig:
        """Return a named preset: "paper", "tiny", "multi_cell", "paper_queue" or "urban_macro"."""
        if not isinstance(name, str) or name not in PRESETS:
            hint = difflib.get_close_matches(str(name), PRESETS, n=1)
            extra = f"; did you mean {hint[0]!r}?" if hint else ""
            raise ValueError(f"unknown scenario preset {name!r}; choose one of {sorted(PRESETS)}{extra}")
        return cls(**PRESETS[name])

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> ScenarioConfig:
        """Build from a mapping of field names (lists become tuples; unknown keys are errors).

        A key "preset" selects the base preset that the other keys override.
        """
        if not isinstance(mapping, Mapping):
            raise TypeError(f"ScenarioConfig.from_mapping expects a mapping, got {type(mapping).__name__}")
        data = dict(mapping)
        base = cls.preset(data.pop("preset")) if "preset" in data else cls()
        return base.replace(**data)

    @classmethod
    def coerce(cls, config: ScenarioConfig | Mapping[str, Any] | str | None) -> ScenarioConfig:
        """Accept a config, a mapping of fields, a preset name or None (the "paper" preset)."""
        if config is None:
            return cls.preset("paper")
        if isinstance(config, ScenarioConfig):
            return config
        if isinstance(config, str):
            return cls.preset(config)
        if isinstance(config, Mapping):
            return cls.from_mapping(config)
        raise TypeError(
            "config must be a ScenarioConfig, a mapping of its fields or a preset name "
            f"{sorted(PRESETS)}, got {type(config).__name__}"
        )

    def replace(self, **changes: Any) -> ScenarioConfig:
        """Return a copy with some fields changed (validated; unknown names are errors)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            hints = {k: difflib.get_close_matches(k, names, n=1) for k in unknown}
            msg = ", ".join(f"{k!r}" + (f" (did you mean {h[0]!r}?)" if h else "") for k, h in hints.items())
            raise ValueError(f"unknown ScenarioConfig field(s): {msg}")
        return dataclasses.replace(self, **changes)

    def diff(self, other: ScenarioConfig, ignore: tuple[str, ...] = ()) -> dict[str, tuple[Any, Any]]:
        """Fields whose values differ, as `{name: (self's, other's)}`, leaving out `ignore`."""
        return {
            f.name: (getattr(self, f.name), getattr(other, f.name))
            for f in dataclasses.fields(self)
            if f.name not in ignore and getattr(self, f.name) != getattr(other, f.name)
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict of every field (tuples become lists)."""
        out = dataclasses.asdict(self)
        out["power_level_fractions"] = list(self.power_level_fractions)
        return out


# ----------------------------------------------------------------------------------------------
# validation: one rule per field, checked at the boundary (kernels trust their inputs)
# ----------------------------------------------------------------------------------------------
_POWER = (-50.0, 80.0, "RU and PRB powers run from -50 dBm (a test femto cell) to 80 dBm (100 kW)")
_SE = (1e-3, 100.0, "1024-QAM on 8 MIMO layers is about 80 bit/s/Hz")
_DISTANCE = (1.0, 1e5, "the path-loss model holds from 1 m, and no cell spans 100 km")
_FIBRE = (0.0, 1e7, "10,000 km of fibre is beyond any RAN")
_WEIGHT = (0.0, 1e6, "a relative weight")
_PACKET = (1, 10**6, "packets of 1 byte to 1 MB")
_UES = (0, 1000, "the observation grows with the number of UEs")
_BUDGET = (1e-6, 10.0, "delay budgets run from 1 us to 10 s")

FIELD_BOUNDS: dict[str, tuple[type, float, float, str]] = {
    # field: (int or float, lowest, highest, why); both ends allowed
    "num_rus": (int, 1, 64, "the observation and the oracles grow with the number of RUs"),
    "num_embb_ues": (int, *_UES),
    "num_urllc_ues": (int, *_UES),
    "cell_min_radius_m": (float, *_DISTANCE),
    "cell_radius_m": (float, *_DISTANCE),
    "inter_site_distance_m": (float, *_DISTANCE),
    "num_prbs": (int, 1, 1000, "NR has at most 275 PRBs per carrier"),
    "prb_bandwidth_hz": (float, 1e3, 1e8, "an NR PRB spans 180 kHz to 2.88 MHz"),
    "carrier_freq_hz": (float, 1e8, 1e11, "the 3GPP path-loss models cover 0.5-100 GHz"),
    "noise_psd_dbm_per_hz": (float, -200.0, -100.0, "thermal noise is -174 dBm/Hz at 290 K"),
    "noise_figure_db": (float, 0.0, 30.0, "receiver noise figures are 0-15 dB"),
    "shadowing_std_db": (float, 0.0, 30.0, "3GPP shadowing deviations are 3-12 dB"),
    "csi_error_db": (float, 0.0, 30.0, "a CSI error beyond 30 dB carries no information"),
    "ue_speed_mps": (float, 0.0, 150.0, "3GPP's fastest UEs (high-speed train, 500 km/h) move at 139 m/s"),
    "ru_height_m": (float, 10.0, 150.0, "TR 38.901 UMa places RUs at 25 m; its formulas hold for 10-150 m"),
    "ue_height_m": (float, 1.0, 22.5, "TR 38.901 UMa holds for UE heights of 1.5-22.5 m"),
    "ru_max_power_dbm": (float, *_POWER),
    "embb_max_prb_power_dbm": (float, *_POWER),
    "urllc_max_prb_power_dbm": (float, *_POWER),
    "fronthaul_capacity_bps_per_hz": (float, 1e-3, 100.0, "2^C of eq. (15) must stay finite; the paper uses 46"),
    "fronthaul_quant_noise_w": (float, 1e-30, 1.0, "quantisation noise of a fronthaul sample, in W"),
    "embb_max_se_bps_per_hz": (float, *_SE),
    "urllc_max_se_bps_per_hz": (float, *_SE),
    "embb_weight": (float, *_WEIGHT),
    "urllc_weight": (float, *_WEIGHT),
    "embb_delay_budget_s": (float, *_BUDGET),
    "urllc_delay_budget_s": (float, *_BUDGET),
    "urllc_packet_bytes": (int, *_PACKET),
    "urllc_packet_interval_s": (float, 1e-6, 3600.0, "from 1 us to one hour"),
    "embb_packet_bytes": (int, *_PACKET),
    "embb_packet_rate_pps": (float, 0.0, 1e7, "10 million packets/s per UE is beyond any UE"),
    "embb_load_window_s": (float, 1e-6, 10.0, "a load window of 1 us to 10 s"),
    "fronthaul_length_m": (float, *_FIBRE),
    "midhaul_length_m": (float, *_FIBRE),
    "backhaul_length_m": (float, *_FIBRE),
    "fibre_speed_mps": (float, 1e7, 3e8, "light in fibre travels at about 2e8 m/s, never above 3e8"),
    "tti_duration_s": (float, 1e-6, 1.0, "NR slots last 31.25 us to 1 ms"),
    "trace_ttis_per_sample": (int, 1, 10**9, "a positive count"),
    "embb_on_mean_s": (float, 1e-6, 3600.0, "from 1 us to one hour"),
    "trace_start_fraction": (float, 0.0, 1.0, "a fraction of the trace's length"),
    "trace_stop_fraction": (float, 0.0, 1.0, "a fraction of the trace's length"),
    "embb_off_mean_s": (float, 1e-6, 3600.0, "from 1 us to one hour"),
    "max_backlog_bits": (float, 1.0, 1e12, "from one bit to 125 GB"),
    "max_queue_delay_s": (float, 1e-6, 10.0, "from 1 us to 10 s"),
    "episode_length_tti": (int, 1, 10**9, "a positive count"),
    "rate_scale_bps": (float, 1e-3, 1e15, "a rate unit for the reward"),
    "reward_theta_rate": (float, -1e6, 1e6, "a reward coefficient"),
    "reward_theta_violation": (float, 0.0, 1e6, "a penalty coefficient"),
    "reward_theta_bias": (float, -1e6, 1e6, "a reward offset"),
}
"""Every numeric field's physically sensible range and the reason for it: with these, every
config that validates steps to finite observations, rewards and KPIs (a property test samples
them widely)."""

MAX_GAINS_PER_OBSERVATION = 10_000_000
"""Bound on B x U x M, the channel gains one observation holds."""
MAX_LOAD_WINDOW_TTIS = 10_000
"""Bound on the eMBB load window in TTIs (embb_load_window_s / tti_duration_s)."""
MAX_QUEUE_HORIZON_TTIS = 10_000
"""Bound on the FIFO's ages in TTIs (max_queue_delay_s / tti_duration_s)."""


_CHOICES = {"queue_model": ("none", "backlog"), "embb_arrival_process": ("poisson", "onoff"),
            "pathloss_model": ("uma_nlos", "uma_38901"), "link_model": ("shannon", "cqi_table")}


def _validate_field(name: str, value: Any) -> None:
    """Raise ValueError/TypeError naming the field, the value and what is allowed."""
    if name in _CHOICES:
        if value not in _CHOICES[name]:
            raise ValueError(f"ScenarioConfig.{name} must be one of {list(_CHOICES[name])}, got {value!r}")
        return
    if name == "traffic_trace":
        if value is not None and not (isinstance(value, str) and value.strip()):
            raise ValueError(
                f"ScenarioConfig.traffic_trace must be None, 'synthetic' or the path of the operator-KPI dataset folder (got {value!r})"
            )
        return
    if name == "fading_rho":
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0.0 <= value <= 1.0):
            raise ValueError(
                f"ScenarioConfig.fading_rho must be a number in [0, 1] or None (got {value!r})"
            )
        return
    if name == "power_level_fractions":
        ok = isinstance(value, tuple) and 1 <= len(value) <= 16 and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and 1e-6 <= x <= 1.0 for x in value
        )
        if not ok:
            raise ValueError(
                "ScenarioConfig.power_level_fractions must be 1..16 numbers in [1e-6, 1] "
                f"(got {value!r}); e.g. (0.25, 0.5, 1.0)"
            )
        return
    kind, lo, hi, why = FIELD_BOUNDS[name]
    allowed = f"{'an integer' if kind is int else 'a number'} in [{lo:g}, {hi:g}]"
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"ScenarioConfig.{name} must be {allowed}, got {value!r} of type {type(value).__name__}")
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"ScenarioConfig.{name} must be {allowed}, got {value!r} of type {type(value).__name__}")
    if not (lo <= value <= hi):  # also false for NaN
        shown = repr(value) if kind is float or abs(value) < 10**15 else f"an integer of {len(str(abs(value)))} digits"
        raise ValueError(f"ScenarioConfig.{name} must be {allowed} ({why}); got {shown}")


def _coerce_numpy_scalar(value: Any) -> Any:
    """NumPy integer and float scalars become Python ones (configs come from arrays and sweeps)."""
    if type(value).__module__ == "numpy" and hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


PRESETS: dict[str, dict[str, Any]] = {
    # DESIGN.md section 2 defaults: 1 RU, 10 eMBB + 10 URLLC UEs, 25 PRBs, 3 power levels.
    "paper": {},
    # Small enough for brute force: (U L + 1)^M = (4*2 + 1)^3 = 729 allocations.
    "tiny": {
        "num_embb_ues": 2,
        "num_urllc_ues": 2,
        "num_prbs": 3,
        "power_level_fractions": (0.5, 1.0),
    },
    # Three RUs on a ring, every RU reuses the same 25 PRBs: inter-RU interference.
    "multi_cell": {
        "num_rus": 3,
        "num_embb_ues": 9,
        "num_urllc_ues": 9,
    },
    # The paper preset with per-UE FIFOs carried across TTIs (DESIGN.md section 6).
    "paper_queue": {
        "queue_model": "backlog",
    },
    # A realistic multi-cell layout (DESIGN.md section 6); every number's source is in PRESET_SOURCES.
    "urban_macro": {
        "num_rus": 3,
        "num_embb_ues": 9,
        "num_urllc_ues": 9,
        "inter_site_distance_m": 500.0,
        "cell_min_radius_m": 35.0,
        "cell_radius_m": 289.0,
        "carrier_freq_hz": 2e9,
        "num_prbs": 25,
        "prb_bandwidth_hz": 180e3,
        "noise_figure_db": 9.0,
        "shadowing_std_db": 6.0,
        "pathloss_model": "uma_38901",
        "ru_height_m": 25.0,
        "ue_height_m": 1.5,
        "ru_max_power_dbm": 43.0,
        "embb_max_prb_power_dbm": 43.0 - 10.0 * math.log10(25),
        "urllc_max_prb_power_dbm": 43.0 - 10.0 * math.log10(25),
        "fronthaul_quant_noise_w": 1e-12,
        "link_model": "cqi_table",
        "queue_model": "backlog",
        "ue_speed_mps": 3.0 / 3.6,
        "fading_rho": None,
        "episode_length_tti": 20,
    },
}

PRESET_SOURCES: dict[str, dict[str, str]] = {
    "urban_macro": {
        "num_rus": "3 sites (DESIGN.md section 6), one RU each, on a triangle of side inter_site_distance_m",
        "num_embb_ues": "choice: 3 eMBB UEs per site",
        "num_urllc_ues": "choice: 3 URLLC UEs per site",
        "inter_site_distance_m": "3GPP TR 38.901 Table 7.2-1 (UMa: ISD 500 m)",
        "cell_min_radius_m": "3GPP TR 38.901 Table 7.2-1 (UMa: minimum BS-UT distance 35 m)",
        "cell_radius_m": "ISD / sqrt(3): the circumradius of a hexagonal cell of ISD 500 m",
        "carrier_freq_hz": "the paper's carrier; TR 38.901 UMa holds from 0.5 to 100 GHz",
        "num_prbs": "3GPP TS 38.101-1 Table 5.3.2-1: 25 PRBs in 5 MHz at 15 kHz SCS",
        "prb_bandwidth_hz": "12 subcarriers x 15 kHz (TS 38.211)",
        "noise_figure_db": "3GPP TR 38.901 Table 7.8-1 (UT noise figure 9 dB)",
        "shadowing_std_db": "3GPP TR 38.901 Table 7.4.1-1 (UMa NLOS 6 dB); the uma_38901 model draws 4 dB on LOS links, 6 dB on NLOS ones",
        "pathloss_model": "3GPP TR 38.901 Tables 7.4.1-1 (UMa LOS/NLOS path loss, shadowing 4/6 dB) and 7.4.2-1 (UMa LOS probability)",
        "ru_height_m": "3GPP TR 38.901 Table 7.4.1-1 (UMa h_BS = 25 m)",
        "ue_height_m": "3GPP TR 38.901 Table 7.8-1 (outdoor UT height 1.5 m)",
        "ru_max_power_dbm": "3GPP TR 36.814 Table A.2.1.1-2 (macro BS: 43 dBm for a 5 MHz carrier)",
        "embb_max_prb_power_dbm": "the RU power split equally over its 25 PRBs: 43 - 10 log10(25) = 29.0 dBm",
        "urllc_max_prb_power_dbm": "the RU power split equally over its 25 PRBs: 43 - 10 log10(25) = 29.0 dBm",
        "fronthaul_quant_noise_w": "DESIGN.md section 2 (1e-12 W: the fronthaul limit binds at ~48.5 dBm, above 43 dBm)",
        "link_model": "3GPP TS 38.214 Table 5.2.2.1-2 (CQI table 1); SINR thresholds at 10 % BLER from the Vienna LTE link-level simulator (Mehlfuehrer et al. 2009)",
        "queue_model": "DESIGN.md section 6: queues on",
        "ue_speed_mps": "3GPP TR 38.901 Table 7.8-1 (UT speed 3 km/h)",
        "fading_rho": "Jakes over one TTI at 3 km/h and 2 GHz: J0(2 pi f_D T) = 0.9997",
        "episode_length_tti": "choice: 20 TTIs, long enough for queues to build",
    },
}
"""Where each number of a preset comes from (`oran-gym info --preset NAME` prints it beside the value)."""
