"""`ORANSlicingEnv`: joint UE association, PRB allocation and power control for eMBB and URLLC slices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from oran_gym.allocation import Allocation, AllocationMetrics, evaluate_allocation
from oran_gym.config import ScenarioConfig
from oran_gym.sim import batch_state, batched, kernels
from oran_gym.sim import queue as queue_lib
from oran_gym.sim.dynamics import NetworkState, ue_slices
from oran_gym.sim.obs_layout import observation_layout, observation_size
from oran_gym.sim.params import pack_params, power_levels_w, unpack_params

__all__ = ["ORANSlicingEnv", "ACTION_MODES", "OBS_MODES", "REWARD_MODES", "INVALID_ACTION_MODES"]

ACTION_MODES = ("prb", "full")
OBS_MODES = ("full", "paper")
REWARD_MODES = ("marginal", "tti")
INVALID_ACTION_MODES = ("raise", "idle")
ENV_KWARGS = ("action_mode", "obs_mode", "reward_mode", "invalid_action", "render_mode")


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")
    return value


def integer_actions(action: Any, name: str, shape: tuple[int, ...], space: Any) -> np.ndarray:
    """`action` as an integer array of `shape`, or a ValueError naming the action, the shape and the space.

    Ragged input such as `[1, [2], 3]`, booleans, floats and wrong shapes all get the same message
    (NumPy's own "inhomogeneous shape" error names none of them).
    """
    try:
        arr = np.asarray(action)
    except (ValueError, TypeError):
        arr = None
    if arr is not None and arr.shape == shape and arr.dtype.kind in "iu":
        return arr
    expected = f"{name} must be an integer array of shape {shape} for {space}"  # formatted only on error
    if arr is None:
        raise ValueError(f"{expected}, got a ragged {type(action).__name__} {action!r:.200}")
    raise ValueError(f"{expected}, got {type(action).__name__} with shape {arr.shape} and dtype {arr.dtype}")


class ORANSlicingEnv(gym.Env):
    """
    ## Description

    One O-RAN near-RT RIC xApp allocating the downlink of `B` radio units (RUs) to eMBB and URLLC
    UEs, after *Generative Semi-Supervised VAE-Contrastive Learning for O-RAN slicing* (seed paper
    002). In every TTI (1 ms by default) each RU shares `M` PRBs of 180 kHz among UEs: it decides
    which UE each PRB serves (which also fixes the UE-to-RU association) and at which of `L` power
    levels. The objective is the weighted sum rate (eq. 10) under hard power and fronthaul limits
    (eqs. 11, 13, 15) and soft per-UE rate and delay requirements (eqs. 14, 16) that are penalised.
    SINR, rate, power, fronthaul and delay come from numba kernels (`oran_gym.sim.kernels`).

    ## Action Space

    `action_mode="prb"` (default, DQN-ready): `Discrete(U L + 1)`. Each step allocates the next PRB
    in (RU, PRB) order; a TTI takes `B M` steps.

    | action | meaning |
    |---|---|
    | 0 | leave the PRB idle |
    | 1 + u L + l | give the PRB to UE u at power level l (l = 0 is the lowest) |

    Actions that would break a hard constraint (a second RU for a UE; RU power or fronthaul over
    its limit) are masked: `info["action_mask"]` (int8, so that `action_space.sample(mask=...)`
    takes it) and `action_masks()` (bool, the sb3-contrib convention). Every action in the space is
    accepted by default: `invalid_action="idle"` turns a masked action into action 0 and sets
    `info["invalid_action"]`, so any client that samples from the space runs;
    `invalid_action="raise"` raises a `ValueError` naming the action instead (for debugging).

    `action_mode="full"`: `MultiDiscrete([U L + 1] * (B M))`, one step per TTI, entry `b M + m`
    decoded as above for PRB m of RU b. A PRB that would give a UE a second RU stays idle and counts
    as an association violation; RU powers above the limit are scaled down to it (projection) and
    count as one violation per RU.

    Power level l of a UE of slice s is `power_level_fractions[l] * P_s^max` (default 1/4, 1/2, 1 of
    30 dBm).

    ## Observation Space

    `Box(0, 1, (n,), float32)`; every entry is scaled to [0, 1] and clipped.

    `obs_mode="full"` (default) starts with a block of `B + 5` values per UE:

    | index in the UE's block | feature | scaling |
    |---|---|---|
    | 0 .. B-1 | observed wideband gain to each RU (mean over PRBs) | dB over [-180, -30] |
    | B | slice (0 eMBB, 1 URLLC) | - |
    | B + 1 | offered load R_min | log10(1 + r / 1 kbit/s) / log10(1 + max UE rate / 1 kbit/s) |
    | B + 2 | rate so far this TTI | as offered load |
    | B + 3 | QoS satisfied (rate and delay) | 0/1 |
    | B + 4 | association | (RU + 1) / B, 0 = none |

    then, in the prb mode, the PRB being allocated: its index m / M, its RU b / B, the RU's
    remaining power / limit, fronthaul headroom / C^max, and every UE's observed gain on that PRB
    (`U` values); `n = U (B + 6) + 4`. In the full mode the UE block carries the previous TTI's
    rate, QoS and association, followed by every observed gain `[B, U, M]` in C order;
    `n = U (B + 5) + B U M`.

    `obs_mode="paper"`: the paper's DQN state, the binary QoS-satisfied vector of the UEs (`U`) plus
    the allocation progress (PRBs allocated / B M); `n = U + 1`.

    With `queue_model="backlog"` (preset `"paper_queue"`) every mode appends `2 U` values: each UE's
    backlog / `max_backlog_bits`, then each UE's head-of-line delay / `max_queue_delay_s`
    (`observation_layout["backlog"]`, `["hol_delay"]`).

    ## Rewards

    The TTI reward is eq. (22): `Theta_r * objective / rate_scale - Theta_c * violations + Theta_bias`,
    where violations count every UE below its offered load (14), every UE over its delay budget
    (16), every projected RU and every association conflict. With `reward_mode="marginal"`
    (default) each prb-mode step gets the change of that reward evaluated on the TTI's partial
    allocation, starting from the empty allocation: the rewards of a TTI sum to its TTI reward
    minus the empty allocation's reward, an offset no action changes (so optimal policies are
    those of the TTI reward), while no step carries the action-independent penalty of the UEs
    not yet served. With `"tti"` the whole TTI reward comes on the TTI's last step. The full mode
    always returns the TTI reward.

    `queue_model="backlog"` (DESIGN.md section 6, `oran_gym.sim.queue`) makes the problem
    sequential: each UE has a FIFO carried across TTIs, fed by its arrivals (URLLC CBR; eMBB
    Poisson, ON/OFF bursts with `embb_arrival_process="onoff"`, or trace-driven rates) and served
    by the TTI's rate, `min(floor(R_u T), backlog)` bits from its head. The same eq. (22) then
    counts the weighted *delivered* rate `sum_u w_s served_u / T` as the objective, a "rate"
    violation for every UE that drops bits in the TTI (a full queue, a URLLC deadline, bits older
    than `max_queue_delay_s`) and a "delay" violation for every UE left holding eMBB bits past
    their budget. `env.unwrapped.queue_status` gives the FIFOs' state at the TTI's start, which
    `evaluate_allocation(..., queue=...)` scores an allocation with.

    ## Info

    Fresh objects every step, floats in SI units: `objective` (bit/s), `reward_terms`,
    `ue_rate_bps` `[U]`, `sinr_db` `[B, M]` (-inf on idle PRBs), `ru_power_w` `[B]`,
    `fronthaul_bps_per_hz` `[B]`, `delay_s` `[U]` (inf for a UE with no rate), `violations`
    (`rate`, `delay`, `power_projection`, `association`), `action_mask` (of the next step), `tti`
    (the TTI the KPIs belong to) and `tti_complete` (whether this step finished it). The prb mode
    reports the TTI's partial allocation so far; the full mode adds the evaluated `owner` and
    (projected) `power_w`. The backlog model adds `queue`: per UE the TTI's `arrived_bits`,
    `served_bits`, `dropped_bits` and `queued_bits` (int64; queued before + arrived = served +
    dropped + queued, exactly), the `hol_delay_s` after the TTI and the `sojourn_s` of the bits it
    served (a bit served at age k waited k + 1 TTIs; 0 when none); the prb mode reports what the
    allocation so far would give.

    ## Starting State

    `reset` drops UEs uniformly in area over a 10-500 m annulus around their home RU, draws
    log-normal shadowing per (UE, RU), Rayleigh fading per (RU, UE, PRB) and a warm 100 ms window
    of eMBB Poisson arrivals; URLLC UEs offer constant 256 kbit/s. All draws come from
    `np_random`: the same seed gives the same trajectory.

    ## Episode End

    Never terminated. Truncated after `episode_length_tti` TTIs (default 10, i.e. 250 steps of the
    prb mode on the paper preset, 10 of the full mode). Across TTIs fading evolves (Gauss-Markov,
    independent by default), traffic arrives and UEs may move.

    ## Arguments

    ```python
    import gymnasium as gym, oran_gym
    env = gym.make("ORANSlicing-v0", config="paper", action_mode="prb", obs_mode="full",
                   reward_mode="marginal", invalid_action="idle", render_mode=None)
    ```

    | argument | default | meaning |
    |---|---|---|
    | `config` | `"paper"` | `ScenarioConfig`, a mapping of its fields, or a preset name (`"paper"`, `"tiny"`, `"multi_cell"`, `"paper_queue"`, `"urban_macro"`) |
    | `action_mode` | `"prb"` | `"prb"` or `"full"` |
    | `obs_mode` | `"full"` | `"full"` or `"paper"` |
    | `reward_mode` | `"marginal"` | `"marginal"` or `"tti"` (prb mode) |
    | `invalid_action` | `"idle"` | masked prb-mode actions leave the PRB idle (`info["invalid_action"]`), or `"raise"` |
    | `render_mode` | `None` | `"rgb_array"` (map, PRB grid, KPI panel), `"ansi"` (KPI table) or `"human"` (drawn at every completed TTI) |
    | `**overrides` | | any `ScenarioConfig` field, e.g. `num_prbs=10`, `ru_max_power_dbm=43.0` |

    Every scenario field with its unit and default is listed in the README and by `oran-gym info`.

    ## Version History

    * v0: initial version. Since 0.2.0 the default is `invalid_action="idle"` (was `"raise"`; a
      masked action now leaves the PRB idle and sets `info["invalid_action"]`), and
      `info["action_mask"]` is int8 (was bool). Dynamics and rewards are unchanged.
    * v0, random stream (issue 14): fading, eMBB arrivals and the CSI error are drawn in the
      kernels from a xoshiro256** stream seeded from `np_random` at reset (`oran_gym.sim.rng`;
      |g|^2 ~ Exp(1) directly when `fading_rho == 0`). The model and its distributions are
      unchanged, but a given seed now gives another trajectory than before, so results made
      before this change differ from a rerun.
    * v0, backlog model (issue 15): `queue_model="backlog"`, the `"paper_queue"` preset, ON/OFF
      eMBB sources and `info["queue"]`. With the default `queue_model="none"` nothing changes
      (the behaviour fingerprint is bit-identical).
    * v0, `urban_macro` (issue 15): `pathloss_model="uma_38901"` (TR 38.901 UMa with LOS
      probability), `link_model="cqi_table"` (TS 38.214 CQI efficiencies) and the preset. The
      defaults keep the paper's model bit for bit.
    """

    metadata = {"render_modes": ["rgb_array", "ansi", "human"], "render_fps": 4}

    def __init__(
        self,
        config: ScenarioConfig | Mapping[str, Any] | str | None = None,
        *,
        action_mode: str = "prb",
        obs_mode: str = "full",
        reward_mode: str = "marginal",
        invalid_action: str = "idle",
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        """Build the env; see the class docstring for the arguments."""
        if isinstance(config, Mapping) and not isinstance(config, ScenarioConfig):
            # RLlib and JSON specs deliver one mapping: env arguments may sit beside scenario fields
            config = dict(config)
            env_args = {k: config.pop(k) for k in ENV_KWARGS if k in config}
            action_mode = env_args.get("action_mode", action_mode)
            obs_mode = env_args.get("obs_mode", obs_mode)
            reward_mode = env_args.get("reward_mode", reward_mode)
            invalid_action = env_args.get("invalid_action", invalid_action)
            render_mode = env_args.get("render_mode", render_mode)
        cfg = ScenarioConfig.coerce(config)
        if overrides:
            cfg = cfg.replace(**overrides)
        self.config = cfg
        if cfg.traffic_trace is not None:
            from oran_gym.data import load_trace

            load_trace(cfg.traffic_trace)  # fail here, with the path in the message, not at reset
        if action_mode == "slice":
            raise ValueError("action_mode='slice' is ORANSliceControlEnv (oran_gym.envs.slice_control): build it with "
                             "gym.make('ORANSlicing-v0', action_mode='slice') or ORANSliceControlEnv(config, ...)")
        self.action_mode = _choice("action_mode", action_mode, ACTION_MODES)
        self.obs_mode = _choice("obs_mode", obs_mode, OBS_MODES)
        self.reward_mode = _choice("reward_mode", reward_mode, REWARD_MODES)
        self.invalid_action = invalid_action
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.render_mode = render_mode

        B, U, M, L = cfg.num_rus, cfg.num_ues, cfg.num_prbs, cfg.num_power_levels
        self._params = pack_params(cfg)
        self._levels_w = power_levels_w(cfg)
        self._num_actions = U * L + 1
        # Python floats: scalar arithmetic on the hot path is faster than on NumPy scalars
        kp = unpack_params(self._params)
        self._theta_bias = float(kp.theta_bias)
        self._prbs_per_tti = B * M
        if self.action_mode == "prb":
            self.action_space = spaces.Discrete(self._num_actions)
        else:
            self.action_space = spaces.MultiDiscrete(np.full(B * M, self._num_actions, dtype=np.int64))
        self._queue = cfg.queue_model == "backlog"
        obs_dim = observation_size(self.obs_mode, self.action_mode, B, U, M, self._queue)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(obs_dim,), dtype=np.float32)
        # a batch of one: the prb mode steps it through the vector env's kernels (serial twins), the
        # same arithmetic, an incremental step, one numba call with three arguments per step; the
        # full mode keeps its backlog model's FIFOs in it
        dims = batch_state.BatchDims(n=1, B=B, U=U, M=M, L=L, A=self._num_actions, W=1, E=cfg.num_embb_ues,
                                     O=obs_dim, prb=self.action_mode == "prb", corr=False,
                                     H=cfg.queue_horizon_ttis, queue=self._queue)
        self._a = batch_state.allocate(dims, self._params, ue_slice=ue_slices(cfg), levels_w=self._levels_w)
        if self.action_mode == "prb":
            settings = batch_state.settings_for(cfg, prb=True, paper_obs=self.obs_mode == "paper",
                                                marginal=self.reward_mode == "marginal", rho=0.0)
            self._batch_settings = settings
            self._one = np.zeros(1, dtype=np.int64)  # env_ids of the batch
            self._act = np.zeros(1, dtype=np.int64)
            self._bind_batch()
        self._net: NetworkState | None = None
        self._invalid = False
        self._ended = self._warned_ended = False
        self._prb_running = False  # prb mode between reset and truncation (`step`'s hot path)
        self._human_window: Any = None
        self._last_obs: np.ndarray | None = None
        self._last_info: dict[str, Any] | None = None

    @property
    def invalid_action(self) -> str:
        """What a masked prb-mode action does: "raise" a ValueError or "idle" the PRB (settable)."""
        return self._invalid_action

    @invalid_action.setter
    def invalid_action(self, value: str) -> None:
        self._invalid_action = _choice("invalid_action", value, INVALID_ACTION_MODES)
        self._idle_masked = self._invalid_action == "idle"  # read by the step's hot path

    def _bind_batch(self) -> None:
        """The numba view of the prb mode's batch and the views of its row (after init or unpickling)."""
        a = self._a
        self._st = batch_state.to_numba(a, **self._batch_settings)
        # the TTI's allocation and the next action's mask, as views of the batch's row
        self._owner, self._power_w, self._assoc, self._mask = a.owner[0], a.power_w[0], a.assoc[0], a.mask[0]
        # the hot path: the kernels without numba's per-call dispatch (their arguments are these
        # very objects), and the step outputs' rows bound once instead of indexed every step
        self._prb_step_kernel = batched.entry_point(batched.prb_step_serial, self._one, self._act, self._st)
        self._begin_tti_kernel = batched.entry_point(batched.begin_tti_serial, self._one, self._st)
        self._out_rows = (a.scalar_out[0], a.int_out[0], a.ue_rate_out[0], a.sinr_db_out[0], a.ru_power_out[0],
                          a.fronthaul_out[0], a.delay_out[0], a.obs[0], a.reward_out)
        self._mask_int8 = self._mask.view(np.int8)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the numba structref and the views (rebuilt on load, sharing memory again)."""
        state = self.__dict__.copy()
        if self.action_mode == "prb":
            for key in ("_st", "_owner", "_power_w", "_assoc", "_mask", "_prb_step_kernel", "_begin_tti_kernel",
                        "_out_rows", "_mask_int8"):
                state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self.action_mode == "prb":
            self._bind_batch()

    # ------------------------------------------------------------------------------------------
    # public state (DESIGN.md section 4)
    # ------------------------------------------------------------------------------------------
    def _require_reset(self) -> NetworkState:
        if self._net is None:
            raise gym.error.ResetNeeded("call reset() before using the environment's state")
        return self._net

    @property
    def gains(self) -> np.ndarray:
        """True linear power gain h of the current TTI, `[B, U, M]` (a copy)."""
        return self._require_reset().gain_lin.copy()

    @property
    def observed_gains_db(self) -> np.ndarray:
        """Gains as the agent observes them (with CSI error), dB, `[B, U, M]` (a copy)."""
        return self._require_reset().observed_gain_db.copy()

    @property
    def queue_status(self) -> queue_lib.QueueStatus | None:
        """Backlog model: each UE's FIFO at the current TTI's start, after its arrivals (backlog,
        urgent, late and overflow bits; copies), what `evaluate_allocation(..., queue=...)` and
        the oracles score an allocation with. None on the paper's per-TTI model."""
        self._require_reset()
        if not self._queue:
            return None
        return queue_lib.QueueStatus(*(x.copy() for x in self._queue_status_view()))

    def _queue_status_view(self) -> queue_lib.QueueStatus:
        """The FIFOs' status as views of the batch row (the env's own use; `queue_status` copies)."""
        a = self._a
        return queue_lib.QueueStatus(a.q_backlog[0], a.q_urgent[0], a.q_late[0], a.q_overflow[0])

    @property
    def queue_bits(self) -> np.ndarray | None:
        """Backlog model: each UE's queued bits by age in TTIs, `[U, H]` (column k arrived k TTIs
        ago; a copy). None on the paper's per-TTI model."""
        self._require_reset()
        if not self._queue:
            return None
        q, tti = self._a.q_bits[0], self.tti
        return q[:, (tti - np.arange(q.shape[1])) % q.shape[1]].copy()

    @property
    def offered_load_bps(self) -> np.ndarray:
        """R_min of each UE in the current TTI, `[U]` bit/s (a copy)."""
        return self._require_reset().offered_load_bps.copy()

    @property
    def ue_slice(self) -> np.ndarray:
        """Slice of each UE (0 eMBB, 1 URLLC), `[U]` (a copy)."""
        return self._require_reset().ue_slice.copy()

    @property
    def ue_positions_m(self) -> np.ndarray:
        """UE coordinates `[U, 2]` in metres (a copy)."""
        return self._require_reset().ue_pos_m.copy()

    @property
    def trace_index(self) -> np.ndarray | None:
        """Each UE's current index into the traffic trace `[U]` (None without a trace)."""
        net = self._require_reset()
        return None if net.trace is None else net.trace_index()

    @property
    def trace(self) -> np.ndarray | None:
        """The KPI trace `[T, 4]` driving demand (internet, sessions, vpn, downstream), or None."""
        return self._require_reset().trace

    @property
    def last_tti_info(self) -> dict[str, Any] | None:
        """The `info` of the step that completed the last TTI (None before any)."""
        self._require_reset()
        return self._last_complete_info

    @property
    def allocation(self) -> Allocation:
        """The TTI's allocation so far (prb mode) or the last TTI's allocation (full mode)."""
        self._require_reset()
        return Allocation(self._assoc.copy(), self._owner.copy(), self._power_w.copy())

    @property
    def last_tti_allocation(self) -> Allocation | None:
        """The allocation of the last completed TTI (powers after projection); None before any."""
        self._require_reset()
        return None if self._last_tti_alloc is None else self._last_tti_alloc.copy()

    @property
    def last_tti_metrics(self) -> AllocationMetrics | None:
        """Full action mode: the evaluated last TTI (per-UE rates, rate and delay violation flags,
        served bits), a copy; None before any TTI and in the prb mode, whose kernels build none."""
        self._require_reset()
        return None if self._last_tti_metrics is None else self._last_tti_metrics.copy()

    @property
    def observation_layout(self) -> dict[str, Any]:
        """Named slices and offsets of the flat observation (`oran_gym.sim.obs_layout.observation_layout`).

        For example `obs[env.unwrapped.observation_layout["rate"]]` is every UE's scaled rate.
        """
        cfg = self.config
        return observation_layout(self.obs_mode, self.action_mode, cfg.num_rus, cfg.num_ues, cfg.num_prbs, self._queue)

    @property
    def last_observation(self) -> np.ndarray | None:
        """The observation the last `reset` or `step` returned (None before any): what a policy was shown."""
        return self._last_obs

    @property
    def cursor(self) -> int:
        """Flat index b M + m of the PRB the next prb-mode action allocates."""
        return int(self._a.cursor[0]) if self.action_mode == "prb" else 0

    @property
    def tti(self) -> int:
        """TTIs completed in this episode."""
        return int(self._a.tti[0]) if self.action_mode == "prb" else self._tti

    def action_masks(self) -> np.ndarray:
        """Valid actions of the next step (sb3-contrib convention); full mode: every entry of every PRB."""
        self._require_reset()
        if self.action_mode == "prb":
            return self._mask.copy()
        return np.ones(self._prbs_per_tti * self._num_actions, dtype=bool)

    # ------------------------------------------------------------------------------------------
    # Gymnasium API
    # ------------------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Draw a new scenario; `options` takes no keys in v0 (unknown keys are errors).

        `seed` is None or an integer of any type (Python or NumPy), as the vector env accepts.
        """
        if isinstance(seed, (bool, np.bool_)) or (seed is not None and not isinstance(seed, (int, np.integer))):
            raise ValueError(f"seed must be None or a non-negative integer, got {seed!r} of type {type(seed).__name__}")
        super().reset(seed=None if seed is None else int(seed))
        self._ended = self._prb_running = False
        if options:
            raise ValueError(f"reset(options=...) takes no keys in ORANSlicing-v0, got {sorted(options)}")
        self._net = NetworkState.initial(self.config, self.np_random)
        cfg = self.config
        self._a.q_bits[0] = 0
        if self.action_mode == "prb":
            self._a.tti[0] = 0  # the batch counts TTIs, holds the allocation and starts it empty
        else:
            self._tti = 0
            self._owner = np.full((cfg.num_rus, cfg.num_prbs), -1, dtype=np.int64)
            self._power_w = np.zeros((cfg.num_rus, cfg.num_prbs))
            self._assoc = np.full(cfg.num_ues, -1, dtype=np.int64)
            self._prev_ue_rate = np.zeros(cfg.num_ues)
            self._prev_qos = np.zeros(cfg.num_ues, dtype=bool)
            self._prev_assoc = np.full(cfg.num_ues, -1, dtype=np.int64)
        self._last_tti_alloc = None
        self._last_tti_metrics = None
        self._last_complete_info = None
        self._begin_tti()
        empty = self._evaluate_current()
        info = self._make_info(empty, tti=0, tti_complete=False)
        if self._queue:
            self._queue_outcome(empty.ue_rate_bps, commit=False)
            info["queue"] = self._queue_info()
        self._last_info = info
        self._last_obs = obs = self._observe()
        self._prb_running = self.action_mode == "prb"
        if self.render_mode == "human":
            self.render()
        return obs, info

    def step(self, action: Any):
        """Advance by one PRB (prb mode) or one TTI (full mode).

        Stepping on after the episode was truncated warns (once per episode), as Gymnasium's
        checkers do for a finished episode: the results then belong to no episode.
        """
        if self._prb_running:  # prb mode, reset and not truncated: the hot path
            return self._step_prb(action)
        self._require_reset()
        if self._ended:
            if not self._warned_ended:
                gym.logger.warn("step() called after the episode ended (truncated=True); call reset() to start a new one")
                self._warned_ended = True
        out = self._step_prb(action) if self.action_mode == "prb" else self._step_full(action)
        if out[3] and not self._ended:
            self._ended, self._warned_ended = True, False
        return out

    # ------------------------------------------------------------------------------------------
    def _begin_tti(self) -> None:
        """Start a TTI on the current network state: empty allocation, fresh scaled gains."""
        net = self._net
        if self.action_mode == "prb":
            batch_state.load_network(self._a, 0, net)
            self._begin_tti_kernel(self._one, self._st)
            return
        self._cursor = 0
        self._owner.fill(-1)
        self._power_w.fill(0.0)
        self._assoc.fill(-1)
        self._features = kernels.tti_observation_features(net.observed_gain_db, net.offered_load_bps, self._params)
        if self._queue:
            a = self._a
            queue_lib.queue_begin(a.q_bits[0], self._tti, net.arrivals, net.ue_slice, self._params, a.q_arrived[0],
                                  a.q_overflow[0], a.q_backlog[0], a.q_urgent[0], a.q_late[0], a.q_hol_s[0])

    def _evaluate_current(self, extra: dict[str, int] | None = None):
        net = self._net
        alloc = Allocation(self._assoc, self._owner, self._power_w)
        status = self._queue_status_view() if self._queue else None
        return evaluate_allocation(
            self.config, net.gain_lin, alloc, net.offered_load_bps, extra_violations=extra, validate=False, queue=status
        )

    def _queue_outcome(self, ue_rate_bps: np.ndarray, commit: bool) -> None:
        """The TTI's service of the FIFOs at these rates into the step outputs (`commit`: applied)."""
        a = self._a
        queue_lib.queue_tti_outcome(a.q_bits[0], self.tti, ue_rate_bps, a.q_arrived[0], a.q_overflow[0], a.ue_slice,
                                    self._params, a.queue_bits_out[0], a.queue_delay_out[0], commit)

    def _queue_info(self) -> dict[str, np.ndarray]:
        """`info["queue"]`: per UE the TTI's arrived, served, dropped and queued bits (int64), the
        head-of-line delay after it and the mean sojourn of the bits it served (s)."""
        return queue_lib.info_arrays(self._a.queue_bits_out[0], self._a.queue_delay_out[0])

    def _observe(self) -> np.ndarray:
        if self.action_mode == "prb":
            return self._a.obs[0].copy()
        if self.obs_mode == "paper":
            obs = np.zeros(self.config.num_ues + 1, dtype=np.float32)
            obs[:-1] = self._prev_qos
        else:
            gain_norm, wideband_norm, offered_norm = self._features
            obs = kernels.build_full_observation(
                gain_norm, wideband_norm, self._net.ue_slice, offered_norm, self._prev_ue_rate,
                self._prev_qos, self._prev_assoc, self._params,
            ).astype(np.float32)
        if self._queue:
            block = np.empty(2 * self.config.num_ues)
            queue_lib.queue_observation(self._a.q_backlog[0], self._a.q_hol_s[0], self._params, block, 0)
            obs = np.concatenate([obs, block.astype(np.float32)])
        return obs

    def _prb_action_index(self, action: Any) -> int:
        """`action` as an index into the action space: any integer type or a one-element integer
        array, in range; otherwise a ValueError naming the action and what is allowed."""
        if isinstance(action, (int, np.integer)) and not isinstance(action, (bool, np.bool_)):
            a = int(action)
        elif isinstance(action, np.ndarray) and action.size == 1 and np.issubdtype(action.dtype, np.integer):
            a = int(action.reshape(-1)[0])
        else:
            raise ValueError(
                f"action must be an integer in [0, {self._num_actions}) for {self.action_space}, "
                f"got {action!r} of type {type(action).__name__}"
            )
        if not 0 <= a < self._num_actions:
            raise ValueError(f"action {a} is out of range for {self.action_space}: allowed 0..{self._num_actions - 1}")
        return a

    def _masked_action_error(self, a: int) -> ValueError:
        """The error for the masked action `a` with invalid_action="raise": which UE and level, and why."""
        u, lvl = divmod(a - 1, self.config.num_power_levels)
        b, m = divmod(self.cursor, self.config.num_prbs)
        why = (
            f"UE {u} is associated with RU {self._assoc[u]}"
            if self._assoc[u] >= 0 and self._assoc[u] != b
            else f"power level {lvl} ({self._levels_w[self._net.ue_slice[u], lvl]:.3g} W) would exceed "
            f"RU {b}'s power/fronthaul limit"
        )
        return ValueError(
            f"action {a} (UE {u}, level {lvl}) is masked for PRB {m} of RU {b}: {why}; "
            "pick an action with info['action_mask'] / action_masks() True, or make the env with "
            "invalid_action='idle'"
        )

    def _step_prb(self, action: Any):
        kind = type(action)
        # a plain integer in range passes as it is (hot path); anything else is converted or refused
        a = action if (kind is int or kind is np.int64) and 0 <= action < self._num_actions else self._prb_action_index(action)
        if self._mask[a]:
            self._act[0], self._invalid = a, False
        elif self._idle_masked:
            self._act[0], self._invalid = 0, True
        else:
            raise self._masked_action_error(a)
        self._prb_step_kernel(self._one, self._act, self._st)
        scalar_row, int_row, ue_rate, sinr_db, ru_power, fronthaul, delay, obs_row, reward_out = self._out_rows
        scalars, ints, reward = scalar_row.tolist(), int_row.tolist(), reward_out.item()
        last = ints[3] == 1
        queue = self._queue_info() if self._queue else None
        if last:  # the next TTI starts; it writes none of the step's outputs read below
            self._last_tti_alloc = Allocation(self._assoc.copy(), self._owner.copy(), self._power_w.copy())
            self._net.advance()
            self._begin_tti()
        info = {
            "objective": scalars[0],
            "reward_terms": {"rate": scalars[1], "violation": scalars[2], "bias": self._theta_bias},
            "ue_rate_bps": ue_rate.copy(),
            "sinr_db": sinr_db.copy(),
            "ru_power_w": ru_power.copy(),
            "fronthaul_bps_per_hz": fronthaul.copy(),
            "delay_s": delay.copy(),
            "violations": {"rate": ints[0], "delay": ints[1], "power_projection": 0, "association": 0},
            "action_mask": self._mask_int8.copy(),  # the next step's (the next TTI's first PRB after the last)
            "invalid_action": self._invalid,
            "tti": ints[2],
            "tti_complete": last,
        }
        if queue is not None:
            info["queue"] = queue
        if last:
            self._last_complete_info = info
        self._last_info = info
        self._last_obs = obs = obs_row.copy()
        truncated = ints[4] == 1
        if truncated and not self._ended:
            self._ended, self._warned_ended, self._prb_running = True, False, False
        if self.render_mode == "human" and last:
            self.render()
        return obs, reward, False, truncated, info

    def _check_full_action(self, action: Any) -> np.ndarray:
        n = self._prbs_per_tti
        arr = integer_actions(action, "action", (n,), self.action_space)
        bad = (arr < 0) | (arr >= self._num_actions)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"action[{i}] = {arr[i]} is out of range for {self.action_space}: allowed 0..{self._num_actions - 1}"
            )
        return arr.astype(np.int64)

    def _step_full(self, action: Any):
        a = self._check_full_action(action)
        net, cfg = self._net, self.config
        owner, power_w, assoc, conflicts = kernels.decode_full_action(a, net.ue_slice, self._levels_w, cfg.num_rus, cfg.num_prbs)
        self._owner, self._assoc = owner, assoc
        self._power_w = power_w
        metrics = self._evaluate_current({"association": conflicts})
        self._power_w = metrics.power_w.copy()
        info = self._make_info(metrics, tti=self._tti, tti_complete=True)
        info["owner"] = owner.copy()
        info["power_w"] = metrics.power_w.copy()
        if self._queue:
            self._queue_outcome(metrics.ue_rate_bps, commit=True)
            info["queue"] = self._queue_info()
        self._prev_ue_rate = metrics.ue_rate_bps
        self._prev_qos = metrics.qos_satisfied
        self._prev_assoc = assoc.copy()
        self._last_tti_alloc = Allocation(assoc.copy(), owner.copy(), metrics.power_w.copy())
        self._last_tti_metrics = metrics
        self._last_complete_info = info
        self._tti += 1
        truncated = self._tti >= cfg.episode_length_tti
        net.advance()
        # keep the evaluated allocation visible through `allocation` until the next step
        keep = (self._owner.copy(), self._power_w.copy(), self._assoc.copy())
        self._begin_tti()
        self._owner, self._power_w, self._assoc = keep
        self._last_info = info
        self._last_obs = obs = self._observe()
        if self.render_mode == "human":
            self.render()
        return obs, float(metrics.reward), False, truncated, info

    def _make_info(self, metrics, tti: int, tti_complete: bool) -> dict[str, Any]:
        return {
            "objective": metrics.objective,
            "reward_terms": dict(metrics.reward_terms),
            "ue_rate_bps": metrics.ue_rate_bps.copy(),
            "sinr_db": metrics.sinr_db.copy(),
            "ru_power_w": metrics.ru_power_w.copy(),
            "fronthaul_bps_per_hz": metrics.fronthaul_bps_per_hz.copy(),
            "delay_s": metrics.delay_s.copy(),
            "violations": dict(metrics.violations),
            "action_mask": self.action_masks().view(np.int8),
            "invalid_action": False,
            "tti": tti,
            "tti_complete": tti_complete,
        }

    # ------------------------------------------------------------------------------------------
    def render(self):
        """`"rgb_array"`: RUs, UEs and the PRB grid as an `[H, W, 3]` uint8 image; `"ansi"`: a KPI table."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array' or 'ansi' to gym.make")
            return None
        self._require_reset()
        from oran_gym.envs import rendering

        if self.render_mode == "ansi":
            return rendering.render_ansi(self)
        if self.render_mode == "human":
            rendering.render_human(self)
            return None
        return rendering.render_rgb(self)

    def close(self) -> None:
        """Close the human-mode window, if one was opened."""
        if getattr(self, "_human_window", None) is not None:
            import matplotlib.pyplot as plt

            plt.close(self._human_window[0])
            self._human_window = None

