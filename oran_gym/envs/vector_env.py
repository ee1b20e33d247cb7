"""`ORANSlicingVectorEnv`: N sub-environments of `ORANSlicing-v0` stepped in one numba call.

`gym.make_vec("ORANSlicing-v0", num_envs=N)` returns it (it is the `vector_entry_point`); ask
for `vectorization_mode="sync"` or `"async"` to get Gymnasium's wrappers of the single env instead.
For the same seeds it returns exactly what `SyncVectorEnv` over the single env returns, step for
step: observations, rewards, flags and the batched `info` dicts (with their `_key` masks). The
tests check this equality on every preset and both action modes.

Differences from `SyncVectorEnv` a user may notice: no `call`/`get_attr`/`set_attr` (there are no
sub-env objects), no rendering, and the per-env state accessors of the single env (`gains`,
`allocation`, ...) are not exposed; `action_masks()` gives the `[N, A]` masks of the next step.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from types import ModuleType, SimpleNamespace
from typing import Any

import numba
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from oran_gym.config import ScenarioConfig
from oran_gym.envs.slicing_env import ORANSlicingEnv, integer_actions
from oran_gym.sim import batch_state, batched, channel, kernels
from oran_gym.sim import queue as queue_lib
from oran_gym.sim import rng as random_stream
from oran_gym.sim.dynamics import NetworkState, ue_slices
from oran_gym.sim.params import pack_params, power_levels_w, unpack_params

__all__ = ["ORANSlicingVectorEnv"]


PARALLEL_MIN_ENVS = int(os.environ.get("ORAN_GYM_PARALLEL_MIN_ENVS", "64"))
"""From this many sub-envs up the kernels run on numba's threads by default; below it, their
serial twins run on the calling thread (`benchmarks/bench_vector.py`'s `threads` table)."""


class ORANSlicingVectorEnv(VectorEnv):
    """A batch of `num_envs` ORANSlicing environments with one shared scenario.

    Args:
        num_envs: number of sub-environments (>= 1).
        config: as for `ORANSlicingEnv` (the same for every sub-env), and so are `action_mode`,
            `obs_mode`, `reward_mode`, `invalid_action` and the scenario `**overrides`.
        max_episode_steps: accepted for `gym.make_vec` compatibility; must be None (the env
            truncates itself after `episode_length_tti` TTIs).
        backend: `"numba"` (default: the kernels of `oran_gym.sim.batched`), or a module with the
            same five kernels taking the state by name, such as the speed benchmark's NumPy
            reference `oran_gym.benchmarks.batched_numpy` (equal to rounding, not bit for bit).
        num_threads: threads of the numba kernels and of the reset draws. Default: one below
            `PARALLEL_MIN_ENVS` (64) sub-envs, where the kernels' serial twins run on the calling
            thread (no parallel launch, about 6 us a call), numba's thread count from there up.
            Any other value is set around every step and restored after it, which costs about
            24 us a step (`numba.set_num_threads` twice). `benchmarks/bench_vector.py`'s
            `threads` table measures the choice.

    Autoreset follows Gymnasium's `NEXT_STEP` mode: the step after a sub-env terminates or
    truncates resets it (reward 0, flags False, its reset observation and info) and ignores its
    action. `reset(seed=s)` seeds sub-env i with `s + i`, as `SyncVectorEnv` does;
    `reset(options={"reset_mask": mask})` resets only the masked sub-envs.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int = 1,
        config: ScenarioConfig | Mapping[str, Any] | str | None = None,
        *,
        action_mode: str = "prb",
        obs_mode: str = "full",
        reward_mode: str = "marginal",
        invalid_action: str = "idle",
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        backend: str | ModuleType = "numba",
        num_threads: int | None = None,
        **overrides: Any,
    ) -> None:
        """Build the batch; see the class docstring."""
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        if render_mode is not None:
            raise ValueError(f"ORANSlicingVectorEnv does not render; render_mode must be None, got {render_mode!r} "
                             "(use vectorization_mode='sync' to render sub-envs)")
        if max_episode_steps is not None:
            raise ValueError("max_episode_steps is not supported: episodes last episode_length_tti TTIs "
                             f"(set that scenario field instead), got {max_episode_steps!r}")
        kernel_names = ("prb_step", "full_step", "begin_tti", "advance_dynamics", "draw_initial")
        if isinstance(backend, str):
            if backend != "numba":
                raise ValueError(f"backend must be 'numba' or a module of batched kernels, got {backend!r}"
                                 + (" (the NumPy reference is the module oran_gym.benchmarks.batched_numpy: "
                                    "pass backend=oran_gym.benchmarks.batched_numpy)" if backend == "numpy" else ""))
            kernels = batched
        elif all(callable(getattr(backend, k, None)) for k in kernel_names):
            kernels = backend
        else:
            raise ValueError(f"backend must be 'numba' or a module with {', '.join(kernel_names)}, got {backend!r}")
        self.backend = "numba" if kernels is batched else getattr(kernels, "__name__", "custom")

        self._k = kernels
        if num_threads is not None and not (isinstance(num_threads, int) and 1 <= num_threads <= numba.config.NUMBA_NUM_THREADS):
            raise ValueError(f"num_threads must be an integer in [1, {numba.config.NUMBA_NUM_THREADS}] "
                             f"(NUMBA_NUM_THREADS), got {num_threads!r}")
        if action_mode == "slice":
            raise ValueError("action_mode='slice' is ORANSliceControlVectorEnv: build it with gym.make_vec('ORANSlicing-v0', "
                             "num_envs=N, action_mode='slice') or oran_gym.envs.slice_vector_env.ORANSliceControlVectorEnv")
        # one single env validates the arguments and defines the spaces (no state is kept from it)
        proto = ORANSlicingEnv(config, action_mode=action_mode, obs_mode=obs_mode, reward_mode=reward_mode,
                               invalid_action=invalid_action, **overrides)
        self.config = cfg = proto.config
        if kernels is not batched and cfg.queue_model == "backlog":
            raise ValueError(f"backend {self.backend!r} does not model queues; queue_model='backlog' needs backend='numba'")
        self.action_mode, self.obs_mode = proto.action_mode, proto.obs_mode
        self.reward_mode, self.invalid_action = proto.reward_mode, proto.invalid_action
        self.render_mode = None
        self.num_envs = n = int(num_envs)
        self.single_observation_space = proto.observation_space
        self.single_action_space = proto.action_space
        self.observation_space = batch_space(self.single_observation_space, n)
        self.action_space = batch_space(self.single_action_space, n)

        B, U, M, L = cfg.num_rus, cfg.num_ues, cfg.num_prbs, cfg.num_power_levels
        self._dims = (B, U, M, L)
        self._num_actions = U * L + 1
        params = pack_params(cfg)
        kp = unpack_params(params)
        self._theta_bias = kp.theta_bias
        self._bias_row = np.full(n, kp.theta_bias)
        self._prb = self.action_mode == "prb"
        # the fast dynamics path covers static UEs without a trace on the paper's path loss; otherwise each sub-env keeps a
        # NetworkState (the single env's own code) and the batch copies its arrays every TTI
        self._compat = cfg.ue_speed_mps > 0 or cfg.traffic_trace is not None or cfg.pathloss_model != "uma_nlos"
        rho = channel.fading_correlation(cfg)
        self._nets: list[NetworkState | None] = [None] * n
        ue, W = cfg.num_embb_ues, cfg.load_window_ttis
        self._queue = cfg.queue_model == "backlog"
        dims = batch_state.BatchDims(n=n, B=B, U=U, M=M, L=L, A=self._num_actions, W=W, E=ue,
                                     O=self.single_observation_space.shape[0], prb=self._prb, corr=rho != 0.0,
                                     H=cfg.queue_horizon_ttis, queue=self._queue)
        given = {"ue_slice": ue_slices(cfg), "levels_w": power_levels_w(cfg)}
        # every array of the batch, by name (oran_gym.sim.batch_state.FIELDS is the one definition)
        self._a = a = batch_state.allocate(dims, params, **given)
        settings = batch_state.settings_for(cfg, prb=self._prb, paper_obs=self.obs_mode == "paper",
                                            marginal=self.reward_mode == "marginal", rho=rho)
        # what the kernels receive: a numba structref over the same arrays, or attribute access for NumPy kernels
        self._st = (batch_state.to_numba(a, **settings) if kernels is batched
                    else batch_state.NumpyBatchState(a, batch_state.BatchSettings(**settings)))
        self._rngs: list[np.random.Generator | None] = [None] * n
        self._out_fields = tuple(f for f in batch_state.FIELDS if f[0].endswith("_out"))
        self._step_outputs = tuple(getattr(a, f[0]) for f in self._out_fields)
        self._autoreset = np.zeros(n, np.bool_)
        self._any_autoreset = False  # self._autoreset.any(), kept as a bool for the step's fast path
        self._kpi_outputs = tuple((k, getattr(a, f)) for k, f in self._KPI_FIELDS.items())
        self._none = np.zeros(0, np.int64)
        self._invalid = np.zeros(n, np.bool_)  # which sub-envs' last actions were masked (and made idle)
        self._all = np.arange(n, dtype=np.int64)
        self._is_reset = False
        self._ru_pos_m = channel.ru_positions_m(B, cfg.inter_site_distance_m)
        self._home_pos_m = self._ru_pos_m[channel.ue_home_ru(U, B)]
        if num_threads is None:
            num_threads = 1 if n < PARALLEL_MIN_ENVS else numba.get_num_threads()
        self._threads = num_threads
        self._serial = False
        if num_threads == 1 and all(callable(getattr(kernels, f"{k}_serial", None)) for k in kernel_names):
            # one thread: the serial twins of the kernels, without a parallel launch or a thread switch
            serial = {k: getattr(kernels, f"{k}_serial") for k in kernel_names}
            if kernels is batched:
                # the compiled kernels without numba's per-call dispatch: they are called only with the
                # batch's structref, int64 sub-env ids and int64 actions of the step kernel's shape
                for k in ("begin_tti", "advance_dynamics", "draw_initial"):
                    serial[k] = batched.entry_point(serial[k], self._all, self._st)
                step = "prb_step" if self._prb else "full_step"
                acts = np.zeros((n, *self.single_action_space.shape), np.int64)
                serial[step] = batched.entry_point(serial[step], self._all, acts, self._st)
            self._k = SimpleNamespace(**serial)
            self._threads = numba.get_num_threads()
            self._serial = True
        self._workers = max(1, min(num_threads, os.cpu_count() or 1))
        self._pool = None

    # ------------------------------------------------------------------------------------------
    def reset(self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None):
        """Reset every sub-env (or those of `options["reset_mask"]`); sub-env i gets seed `seed + i`."""
        if self._serial:
            return self._reset(seed, options)
        with self._numba_threads():
            return self._reset(seed, options)

    def step(self, actions: Any):
        """Step every sub-env; those that ended on the previous step are reset instead (NEXT_STEP)."""
        if self._serial:  # serial kernels: no thread count to set (numba's query alone costs ~7 us)
            return self._step(actions)
        with self._numba_threads():
            return self._step(actions)

    @contextlib.contextmanager
    def _numba_threads(self):
        prev = numba.get_num_threads()
        if prev != self._threads:
            numba.set_num_threads(self._threads)
        try:
            yield
        finally:
            if prev != self._threads:
                numba.set_num_threads(prev)

    def _reset(self, seed, options):
        n = self.num_envs
        if seed is None:
            seeds: list[int | None] = [None] * n
        elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            seeds = [int(seed) + i for i in range(n)]
        elif isinstance(seed, (list, tuple)) and len(seed) == n:
            seeds = list(seed)
        else:
            raise ValueError(f"seed must be None, an int or a list of {n} ints/None, got {seed!r}")
        options = dict(options or {})
        reset_mask = options.pop("reset_mask", None)
        if options:
            raise ValueError(f"reset(options=...) takes only 'reset_mask' in ORANSlicing-v0, got {sorted(options)}")
        if reset_mask is None:
            ids = self._all
        else:
            if not isinstance(reset_mask, np.ndarray) or reset_mask.dtype != np.bool_ or reset_mask.shape != (n,):
                raise ValueError(f"options['reset_mask'] must be a bool numpy array of shape ({n},), got {reset_mask!r}")
            if not reset_mask.any():
                raise ValueError("options['reset_mask'] must contain at least one True value")
            if not self._is_reset and not reset_mask.all():
                raise ValueError("the first reset must reset every sub-env (reset_mask all True or absent)")
            ids = np.flatnonzero(reset_mask).astype(np.int64)
        for e in ids:
            s = seeds[e]
            if s is not None or self._rngs[e] is None:
                self._rngs[e], _ = seeding.np_random(s)
        self._reset_ids(ids)
        self._autoreset[ids] = False
        self._any_autoreset = bool(self._autoreset.any())
        self._is_reset = True
        infos = self._reset_infos(ids)
        return self._a.obs.copy(), infos

    def _step(self, actions: Any):
        if not self._is_reset:
            raise RuntimeError("call reset() before step()")
        n = self.num_envs
        if self._any_autoreset:
            reset_ids = np.flatnonzero(self._autoreset).astype(np.int64)
            step_ids = np.flatnonzero(~self._autoreset).astype(np.int64)
        else:
            reset_ids, step_ids = self._none, self._all
        rewards = np.zeros(n)
        truncated = np.zeros(n, dtype=np.bool_)
        if self._prb:
            acts = self._check_prb_actions(actions, step_ids)
            infos = self._step_prb(acts, step_ids, rewards, truncated)
        else:
            acts = self._check_full_actions(actions)
            infos = self._step_full(acts, step_ids, rewards, truncated)
        if reset_ids.size:
            self._reset_ids(reset_ids)
            self._fill_reset_infos(infos, reset_ids)
        self._autoreset = truncated.copy()
        self._any_autoreset = bool(self._autoreset.any())
        return self._a.obs.copy(), rewards, np.zeros(n, dtype=np.bool_), truncated, infos

    def action_masks(self) -> np.ndarray:
        """Valid actions of the next step per sub-env, `[N, A]` bool (full mode: all True, `[N, B M A]`)."""
        if not self._is_reset:
            raise RuntimeError("call reset() before action_masks()")
        if self._prb:
            return self._a.mask.copy()
        return np.ones((self.num_envs, self.single_action_space.shape[0] * self._num_actions), dtype=np.bool_)

    def trace_indices(self) -> np.ndarray | None:
        """Each sub-env's UEs' current index into the traffic trace, `[N, U]` (None without a trace)."""
        if not self._is_reset:
            raise RuntimeError("call reset() before trace_indices()")
        if self.config.traffic_trace is None:
            return None
        return np.stack([net.trace_index() for net in self._nets])

    @property
    def offered_load_bps(self) -> np.ndarray:
        """Each sub-env's offered loads of the current TTI, `[N, U]` bit/s (a copy)."""
        return self._a.offered_load_bps.copy()

    def close_extras(self, **kwargs: Any) -> None:
        """Stop the thread pool of the random draws."""
        if getattr(self, "_pool", None) is not None:  # absent when __init__ failed
            self._pool.shutdown()
            self._pool = None

    # ------------------------------------------------------------------------------------------
    def _check_prb_actions(self, actions: Any, ids: np.ndarray) -> np.ndarray:
        n = self.num_envs
        acts = integer_actions(actions, "actions", (n,), self.action_space).astype(np.int64)
        code, e = batched.check_prb_actions(ids, acts, self._a.mask, self._num_actions, self.invalid_action == "idle",
                                            self._invalid)
        if code == 1:
            raise ValueError(f"actions[{e}] = {acts[e]} is out of range: allowed 0..{self._num_actions - 1}")
        if code == 2:
            B, U, M, L = self._dims
            u, lvl = divmod(int(acts[e]) - 1, L)
            b, m = divmod(int(self._a.cursor[e]), M)
            raise ValueError(
                f"actions[{e}] = {acts[e]} (UE {u}, level {lvl}) is masked for PRB {m} of RU {b} in sub-env {e}; "
                "pick actions with action_masks() / info['action_mask'] True, or make the env with invalid_action='idle'"
            )
        return acts

    def _check_full_actions(self, actions: Any) -> np.ndarray:
        n, k = self.num_envs, self.single_action_space.shape[0]
        arr = integer_actions(actions, "actions", (n, k), self.action_space)
        bad = (arr < 0) | (arr >= self._num_actions)
        if bad.any():
            e, j = np.argwhere(bad)[0]
            raise ValueError(f"actions[{e}, {j}] = {arr[e, j]} is out of range: allowed 0..{self._num_actions - 1}")
        return np.ascontiguousarray(arr, dtype=np.int64)

    def _each_rng(self, ids: np.ndarray, draw) -> None:
        """Call `draw(e, rng_e)` for every sub-env in `ids`, in chunks on a thread pool when it pays.

        NumPy's generators release the GIL while they fill arrays, and each sub-env's stream is its
        own, so the order across sub-envs does not matter: the draws equal the single env's. Two
        chunks per thread balance the load better than one.
        """
        todo = ids.tolist()
        rngs = self._rngs
        if len(todo) < 64 or self._workers == 1:
            for e in todo:
                draw(e, rngs[e])
            return
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="oran-gym-rng")

        def chunk(part):
            for e in part:
                draw(e, rngs[e])

        k = 2 * self._workers
        list(self._pool.map(chunk, [todo[i::k] for i in range(k)]))

    def _reset_ids(self, ids: np.ndarray) -> None:
        """Draw new scenarios for `ids` (the draws of `NetworkState.initial`), then start their first TTI."""
        if self._compat:
            for e in ids:  # movement or traces: the single env's own code, sub-env by sub-env
                net = self._nets[e] = NetworkState.initial(self.config, self._rngs[e])
                batch_state.load_network(self._a, e, net)
        else:
            self._reset_fast(ids)
        self._a.tti[ids] = 0
        if self._queue:
            self._a.q_bits[ids] = 0
        self._a.prev_ue_rate[ids] = 0.0
        self._a.prev_qos[ids] = False
        self._a.prev_assoc[ids] = -1
        self._begin_tti(ids)

    def _reset_fast(self, ids: np.ndarray) -> None:
        """`NetworkState.initial` for static UEs without a trace, batched over `ids`.

        Each sub-env draws its drop and shadowing from its own generator in the single env's order
        and seeds its stream from it; the arithmetic is the single env's NumPy code with a leading
        batch axis (element-wise, so the results are equal); `draw_initial` then draws the first
        fading, traffic window and CSI error from each stream, as `NetworkState.initial` does.
        """
        cfg = self.config
        B, U, M, _ = self._dims
        k = ids.size
        radius2 = np.empty((k, U))
        theta = np.empty((k, U))
        shadow = np.zeros((k, B, U))
        pos_of = {int(e): i for i, e in enumerate(ids)}
        lo, hi, std = cfg.cell_min_radius_m**2, cfg.cell_radius_m**2, cfg.shadowing_std_db
        stream = self._a.stream

        def draw(e, rng):
            i = pos_of[int(e)]
            radius2[i] = rng.uniform(lo, hi, size=U)
            theta[i] = rng.uniform(0.0, 2.0 * np.pi, size=U)
            if std > 0:
                shadow[i] = rng.normal(0.0, std, size=(B, U))
            stream[e] = random_stream.seed_state(rng)

        self._each_rng(ids, draw)
        r = np.sqrt(radius2)
        ue_pos = self._home_pos_m[None] + np.stack([r * np.cos(theta), r * np.sin(theta)], axis=-1)
        d = np.linalg.norm(self._ru_pos_m[None, :, None, :] - ue_pos[:, None, :, :], axis=-1)
        d = np.maximum(d, cfg.cell_min_radius_m)
        self._a.large_scale_db[ids] = channel.pathloss_db(d, cfg.carrier_freq_hz) + shadow
        self._k.draw_initial(ids, self._st)

    def _advance(self, ids: np.ndarray) -> None:
        """Move `ids` one TTI on: one batched kernel, each sub-env drawing from its own stream."""
        if self._compat:
            for e in ids:
                self._nets[e].advance()
                batch_state.load_network(self._a, e, self._nets[e])
            return
        self._k.advance_dynamics(ids, self._st)

    def _begin_tti(self, ids: np.ndarray) -> None:
        self._k.begin_tti(ids, self._st)

    # ------------------------------------------------------------------------------------------
    # info key of each KPI -> the step-output field of oran_gym.sim.batch_state that holds it
    _KPI_FIELDS = {"ue_rate_bps": "ue_rate_out", "sinr_db": "sinr_db_out", "ru_power_w": "ru_power_out",
                   "fronthaul_bps_per_hz": "fronthaul_out", "delay_s": "delay_out"}
    _KPI_MASK_KEY = {k: f"_{k}" for k in _KPI_FIELDS}

    def _kpi_arrays(self) -> dict[str, np.ndarray]:
        """Zero KPI arrays, keyed as in `info` (shaped as their step-output fields)."""
        return {k: np.zeros_like(getattr(self._a, f), dtype=np.float64) for k, f in self._KPI_FIELDS.items()}

    def _clear_step_outputs(self, ids: np.ndarray) -> None:
        """Rows of the step outputs (`*_out`) of sub-envs not in `ids` back to their initial values.

        A kernel writes every entry of a stepped sub-env's rows, so only the others need clearing
        (none when every sub-env steps, the common case).
        """
        if ids.size == self.num_envs:
            return
        rest = np.ones(self.num_envs, np.bool_)
        rest[ids] = False
        for (_, _, _, fill), arr in zip(self._out_fields, self._step_outputs, strict=True):
            if arr.shape[0] == self.num_envs:  # not a placeholder of a switched-off feature
                arr[rest] = fill

    def _step_kpis(self) -> dict[str, np.ndarray]:
        """Copies of the step's KPI outputs, keyed as in `info`."""
        return {k: arr.copy() for k, arr in self._kpi_outputs}

    def _step_prb(self, acts: np.ndarray, ids: np.ndarray, rewards: np.ndarray, truncated: np.ndarray) -> dict[str, Any]:
        n = self.num_envs
        a = self._a
        self._clear_step_outputs(ids)
        self._k.prb_step(ids, acts, self._st)
        rewards[:] = a.reward_out
        scalars, ints, kpi = a.scalar_out[:, :3].copy(), a.int_out.copy(), self._step_kpis()
        queue = self._queue_info() if self._queue else None
        # rows of sub-envs not stepped were cleared to 0 above, so no flag of theirs is set
        complete = ints[:, 3] == 1
        if complete.any():
            done_tti = np.flatnonzero(complete).astype(np.int64, copy=False)
            self._advance(done_tti)
            self._begin_tti(done_tti)
        np.equal(ints[:, 4], 1, out=truncated)
        zeros = np.zeros((2, n), np.int64)
        return self._info_dict(scalars[:, 0], scalars[:, 1], scalars[:, 2], ints[:, 0], ints[:, 1], zeros[0], zeros[1], kpi,
                               ints[:, 2], complete, queue)

    def _step_full(self, acts: np.ndarray, ids: np.ndarray, rewards: np.ndarray, truncated: np.ndarray) -> dict[str, Any]:
        n = self.num_envs
        a = self._a
        self._clear_step_outputs(ids)
        self._k.full_step(ids, acts, self._st)
        scalars, ints, kpi = a.scalar_out.copy(), a.int_out[:, :4].copy(), self._step_kpis()
        owner, power, assoc, qos = a.owner_out.copy(), a.power_out.copy(), a.assoc_out.copy(), a.qos_out.copy()
        queue = self._queue_info() if self._queue else None
        rewards[ids] = scalars[ids, 1]
        tti = a.tti.copy()
        a.tti[ids] += 1
        truncated[ids] = a.tti[ids] >= self.config.episode_length_tti
        a.prev_ue_rate[ids] = kpi["ue_rate_bps"][ids]
        a.prev_qos[ids] = qos[ids]
        a.prev_assoc[ids] = assoc[ids]
        if ids.size:
            self._advance(ids)
            self._begin_tti(ids)
        # the single env keeps the evaluated allocation visible until the next step
        a.owner[ids], a.power_w[ids], a.assoc[ids] = owner[ids], power[ids], assoc[ids]
        complete = np.zeros(n, np.bool_)
        complete[ids] = True
        infos = self._info_dict(scalars[:, 0], scalars[:, 2], scalars[:, 3], ints[:, 0], ints[:, 1], ints[:, 2],
                                ints[:, 3], kpi, tti, complete, queue)
        if ids.size:
            present = np.zeros(n, np.bool_)
            present[ids] = True
            infos["owner"], infos["_owner"] = owner, present
            infos["power_w"], infos["_power_w"] = power, present.copy()
        return infos

    def _queue_info(self) -> dict[str, np.ndarray]:
        """The step's `info["queue"]` arrays `[N, U]` (the single env's keys, without the masks)."""
        return queue_lib.info_arrays(self._a.queue_bits_out, self._a.queue_delay_out)

    def _info_dict(self, objective, rate_term, viol_term, n_rate, n_delay, n_proj, n_assoc, kpi, tti, complete,
                   queue=None):
        """The step's `info` in Gymnasium's vector layout (every `_key` mask all True). The value
        arrays must be fresh and of their info dtypes already (float64 objective and terms, int64
        counts and tti, bool complete; the callers pass copies or arrays they made); every mask is
        its own row of one allocation, so a wrapper may write into any of them."""
        n = self.num_envs
        keys = self._INFO_MASKS + (tuple(f"_{k}" for k in queue) + ("_queue",) if queue is not None else ())
        masks = dict(zip(keys, np.ones((len(keys), n), dtype=np.bool_), strict=True))
        info: dict[str, Any] = {
            "objective": objective, "_objective": masks["_objective"],
            "reward_terms": {"rate": rate_term, "_rate": masks["_rate_term"],
                             "violation": viol_term, "_violation": masks["_violation_term"],
                             "bias": self._bias_row.copy(), "_bias": masks["_bias"]},
            "_reward_terms": masks["_reward_terms"],
        }
        mask_key = self._KPI_MASK_KEY
        for k, v in kpi.items():
            info[k], info[mask_key[k]] = v, masks[mask_key[k]]
        info["violations"] = {
            "rate": n_rate, "_rate": masks["_rate"],
            "delay": n_delay, "_delay": masks["_delay"],
            "power_projection": n_proj, "_power_projection": masks["_power_projection"],
            "association": n_assoc, "_association": masks["_association"],
        }
        info["_violations"] = masks["_violations"]
        mask = self._a.mask.copy() if self._prb else np.ones((n, self.single_action_space.shape[0] * self._num_actions), np.bool_)
        info["action_mask"], info["_action_mask"] = mask.view(np.int8), masks["_action_mask"]
        info["invalid_action"], info["_invalid_action"] = self._invalid.copy(), masks["_invalid_action"]
        info["tti"], info["_tti"] = tti, masks["_tti"]
        info["tti_complete"], info["_tti_complete"] = complete, masks["_tti_complete"]
        if queue is not None:
            for k in list(queue):
                queue[f"_{k}"] = masks[f"_{k}"]
            info["queue"], info["_queue"] = queue, masks["_queue"]
        return info

    # the `_key` masks of every info, in `_info_dict`'s order (queue keys appended when present)
    _INFO_MASKS = ("_objective", "_rate_term", "_violation_term", "_bias", "_reward_terms",
                   *(f"_{k}" for k in _KPI_FIELDS), "_rate", "_delay", "_power_projection", "_association",
                   "_violations", "_action_mask", "_invalid_action", "_tti", "_tti_complete")

    def _fill_reset_infos(self, info: dict[str, Any], ids: np.ndarray) -> None:
        """Write the reset info of `ids` (the empty allocation of their first TTI) into `info`'s rows."""
        n_rate = self._a.rate_v[ids].sum(axis=1)
        n_delay = self._a.delay_v[ids].sum(axis=1)
        info["objective"][ids] = 0.0
        info["reward_terms"]["rate"][ids] = 0.0
        info["reward_terms"]["violation"][ids] = kernels.reward_violation_term(n_rate + n_delay, self._a.params)
        info["ue_rate_bps"][ids] = self._a.ue_rate[ids]
        info["sinr_db"][ids] = self._a.sinr_db[ids]
        info["ru_power_w"][ids] = self._a.ru_power[ids]
        info["fronthaul_bps_per_hz"][ids] = self._a.fronthaul[ids]
        info["delay_s"][ids] = self._a.delay[ids]
        v = info["violations"]
        v["rate"][ids], v["delay"][ids], v["power_projection"][ids], v["association"][ids] = n_rate, n_delay, 0, 0
        info["action_mask"][ids] = self.action_masks()[ids]
        info["invalid_action"][ids] = False
        info["tti"][ids] = 0
        info["tti_complete"][ids] = False
        if self._queue:  # the empty allocation's service of the first TTI (nothing is served)
            a, zero = self._a, np.zeros(self._dims[1])
            for e in ids.tolist():
                queue_lib.queue_tti_outcome(a.q_bits[e], 0, zero, a.q_arrived[e], a.q_overflow[e], a.ue_slice, a.params,
                                            a.queue_bits_out[e], a.queue_delay_out[e], False)
            q = self._queue_info()
            for k, v in q.items():
                info["queue"][k][ids] = v[ids]

    def _reset_infos(self, ids: np.ndarray) -> dict[str, Any]:
        n = self.num_envs
        zeros_f, zeros_i = np.zeros((3, n)), np.zeros((5, n), np.int64)  # one fresh row per info value
        queue = None
        if self._queue:
            queue = {k: np.zeros_like(v) for k, v in self._queue_info().items()}
        info = self._info_dict(*zeros_f, *zeros_i[:4], self._kpi_arrays(), zeros_i[4], np.zeros(n, np.bool_), queue)
        self._fill_reset_infos(info, ids)
        if ids.size < n:
            mask = np.zeros(n, np.bool_)
            mask[ids] = True
            subs = (info, info["reward_terms"], info["violations"]) + ((info["queue"],) if self._queue else ())
            for d in subs:
                for k in list(d):
                    if k.startswith("_"):
                        d[k] = mask.copy()
            # rows of sub-envs not reset stay zero, as SyncVectorEnv leaves them
            for d in subs:
                for k, v in d.items():
                    if not k.startswith("_") and isinstance(v, np.ndarray):
                        v[~mask] = False if v.dtype == np.bool_ else 0
        return info
