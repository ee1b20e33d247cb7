"""Multi-agent O-RAN slicing as a PettingZoo `ParallelEnv` (DESIGN.md section 7).

    from oran_gym.multiagent import parallel_env
    env = parallel_env(config="multi_cell", agents="ru")      # one scheduler per cell
    env = parallel_env(config="paper", agents="slice")        # one xApp per slice
    observations, infos = env.reset(seed=0)
    observations, rewards, terminations, truncations, infos = env.step(
        {agent: env.action_space(agent).sample() for agent in env.agents})

One parallel step is one TTI of `ORANSlicing-v0` in its full action mode: the agents' actions are
merged into one full-mode action, so the physics, the decoding and the reward are the
single-agent env's (`env.unwrapped` is that env). Action entries use the full mode's coding:
0 leaves a PRB idle, `1 + u L + l` gives it to UE u at power level l.

`agents="ru"`: agents `ru_0 .. ru_{B-1}`, each the scheduler of its own cell, sharing the
interference. Agent `ru_b` acts `MultiDiscrete([U L + 1] * M)` on its RU's PRBs (u: any UE).
Conflict rule: a UE claimed by several RUs in one TTI stays with the lowest-index RU (the full
mode's decoding, in RU order); the other RUs' PRBs for it stay idle and count as association
violations.

`agents="slice"`: agents `embb` and `urllc` (those with UEs), each a slice xApp bidding for every
PRB of every RU: `MultiDiscrete([U_s L + 1] * (B M))`, where `u` indexes the slice's own UEs in
UE order. Conflict rule: where both slices bid for the same PRB, the slice with the larger weight
`w_s` of eq. (10) wins (URLLC by default); equal weights: eMBB. Lost bids leave nothing behind and
are counted in `infos[agent]["lost_bids"]`.

Observations (`Box(0, 1)`, float32, from the single env's full-mode observation):

* `ru_b`: the UE block (every UE's wideband gains, slice, offered load, last TTI's rate, QoS and
  association: `U (B + 5)` values), its RU's observed gains `[U, M]`, the queue block (backlog
  model), and a one-hot of b (`B` values);
* slice s: the UE block rows of its UEs, their observed gains to every RU `[B, U_s, M]`, their
  queue entries (backlog model), and a one-hot of s (2 values).

Rewards: each UE's part of eq. (22), its weighted rate (or served bits, backlog model) and its
violated rate and delay constraints, goes to the agent that owns it: the RU it was associated with
this TTI (its home RU when unserved) for `"ru"`, its slice for `"slice"`. The violations that are
no UE's own (power projections, association conflicts) and `Theta_bias` are shared equally. The
agents' rewards therefore sum to the TTI reward, `infos[agent]["team_reward"]`; with
`team_reward=True` every agent gets that shared reward instead.

`action_mode="slice"` (keywords `control_period_tti`, `mac_scheduler`, `discrete_levels` as for
`gym.make("ORANSlicing-v0", action_mode="slice")`): one step is one control period, and the agents
set slice quotas instead of PRBs, in the single slice env's coding (`oran_gym.envs.slice_control`):
`ru_b` sets its RU's `[slice, (PRB share, power share)]` (4 values); slice s sets its
`[RU, (PRB share, power share)]` (`2 B` values). Conflict rule: where the slices' shares of an RU
sum to more than 1, each is divided by the sum (the single env's rule). Each TTI of the period is
split as above and the agents' rewards summed over the period.

`infos[agent]["action_mask"]` (MultiDiscrete spaces) is the agent's mask (`[entries, actions]` int8; in the full mode
every action is valid, so all ones), and `infos[agent]["tti_info"]` the single env's info dict.
The episode ends by truncation after `episode_length_tti` TTIs; `agents` is then empty.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from oran_gym.allocation import scenario_arrays
from oran_gym.envs.slice_control import ORANSliceControlEnv, check_control_period
from oran_gym.envs.slicing_env import ORANSlicingEnv
from oran_gym.sim import reference
from oran_gym.sim.channel import ue_home_ru
from oran_gym.sim.obs_layout import ue_stride

try:
    from pettingzoo import ParallelEnv
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "oran_gym.multiagent needs PettingZoo: pip install 'oran-gym[multiagent]' (or pip install pettingzoo)"
    ) from exc

__all__ = ["AGENT_KINDS", "ORANSlicingParallelEnv", "parallel_env"]

AGENT_KINDS = ("ru", "slice")
MULTIAGENT_ACTION_MODES = ("full", "slice")
SLICE_MODE_KWARGS = ("control_period_tti", "mac_scheduler", "discrete_levels")
SLICE_NAMES = ("embb", "urllc")


def parallel_env(config: Any = "paper", agents: str = "ru", action_mode: str = "full", team_reward: bool = False,
                 render_mode: str | None = None, **env_kwargs: Any) -> ORANSlicingParallelEnv:
    """The multi-agent env (see the module docstring). `config`: a `ScenarioConfig`, a mapping of
    its fields or a preset name; `agents`: "ru" or "slice"; `action_mode`: "full" (PRBs, one step
    per TTI) or "slice" (quotas, one step per control period); `team_reward`: every agent gets the
    TTI reward; other keywords go to the single env (`obs_mode` must stay "full")."""
    return ORANSlicingParallelEnv(config=config, agents=agents, action_mode=action_mode, team_reward=team_reward,
                                  render_mode=render_mode, **env_kwargs)


class ORANSlicingParallelEnv(ParallelEnv):
    """PettingZoo ParallelEnv over `ORANSlicingEnv` (full mode); build it with `parallel_env`."""

    metadata = {"name": "oran_slicing_v0", "render_modes": ["ansi", "rgb_array"], "is_parallelizable": True}

    def __init__(self, config: Any = "paper", agents: str = "ru", action_mode: str = "full", team_reward: bool = False,
                 render_mode: str | None = None, **env_kwargs: Any) -> None:
        if agents not in AGENT_KINDS:
            raise ValueError(f"parallel_env: agents must be one of {list(AGENT_KINDS)}, got {agents!r}")
        if action_mode not in MULTIAGENT_ACTION_MODES:
            raise ValueError(f"parallel_env: action_mode must be one of {list(MULTIAGENT_ACTION_MODES)}, got {action_mode!r}")
        if env_kwargs.get("obs_mode", "full") != "full":
            raise ValueError(f"parallel_env: obs_mode must be 'full' (per-agent views are cut from it), got {env_kwargs['obs_mode']!r}")
        if not isinstance(team_reward, (bool, np.bool_)):
            raise TypeError(f"parallel_env: team_reward must be True or False, got {team_reward!r}")
        self.action_mode = action_mode
        if action_mode == "slice":
            self._period = check_control_period(env_kwargs.pop("control_period_tti", 1))
            # the single env runs one TTI per call, so that each TTI's reward can be split
            self.env = ORANSliceControlEnv(config, render_mode=render_mode, **env_kwargs)
        else:
            wrong = [k for k in SLICE_MODE_KWARGS if k in env_kwargs]
            if wrong:
                raise ValueError(f"parallel_env: {wrong} belong to action_mode='slice', not {action_mode!r}")
            self.env = ORANSlicingEnv(config=config, action_mode="full", render_mode=render_mode, **env_kwargs)
            self._period = 1
        self.kind, self.team_reward, self.render_mode = agents, bool(team_reward), render_mode
        cfg = self.env.config
        B, U, M, L = cfg.num_rus, cfg.num_ues, cfg.num_prbs, cfg.num_power_levels
        self._params, self._ue_slice, _ = scenario_arrays(cfg)
        self._num_actions = U * L + 1
        layout = self.env.observation_layout
        self._ue_block, self._gains = layout["ue_block"], layout["gains"]
        self._queue = (layout["backlog"], layout["hol_delay"]) if "backlog" in layout else None
        stride = ue_stride(B)
        if agents == "ru":
            self.possible_agents = [f"ru_{b}" for b in range(B)]
            self._ues = {f"ru_{b}": np.arange(U) for b in range(B)}
            sizes = {a: U * stride + U * M + (2 * U if self._queue else 0) + B for a in self.possible_agents}
            acts = {a: self._space(M if action_mode == "full" else 2 * 2, self._num_actions) for a in self.possible_agents}
        else:
            self.possible_agents = [SLICE_NAMES[s] for s in (0, 1) if (self._ue_slice == s).any()]
            self._ues = {name: np.flatnonzero(self._ue_slice == SLICE_NAMES.index(name)) for name in self.possible_agents}
            sizes = {a: len(u) * stride + B * len(u) * M + (2 * len(u) if self._queue else 0) + 2 for a, u in self._ues.items()}
            acts = {a: self._space(B * M if action_mode == "full" else B * 2, len(u) * L + 1) for a, u in self._ues.items()}
            weights = {name: cfg.embb_weight if name == "embb" else cfg.urllc_weight for name in self.possible_agents}
            # bid priority: the larger slice weight first, ties to eMBB
            self._priority = sorted(self.possible_agents, key=lambda a: (-weights[a], SLICE_NAMES.index(a)))
        self.observation_spaces = {a: gym.spaces.Box(0.0, 1.0, (n,), np.float32) for a, n in sizes.items()}
        self.action_spaces = acts
        self.agents: list[str] = []
        self._shape = (B, U, M, L, stride)

    def _space(self, n: int, num_actions: int) -> gym.spaces.Space:
        """An agent's action space: full mode, `n` PRB entries; slice mode, `n` (share, power) values
        of the single slice env's space."""
        if self.action_mode == "full":
            return gym.spaces.MultiDiscrete(np.full(n, num_actions, dtype=np.int64))
        if self.env.discrete_levels is None:
            return gym.spaces.Box(-1.0, 1.0, (n,), np.float32)
        return gym.spaces.MultiDiscrete(np.full(n, self.env.discrete_levels + 1, dtype=np.int64))

    # -- PettingZoo API --------------------------------------------------------------------------
    def observation_space(self, agent: str) -> gym.spaces.Box:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> gym.spaces.MultiDiscrete:
        return self.action_spaces[agent]

    @property
    def unwrapped(self) -> ORANSlicingEnv:
        """The single-agent env that runs the physics."""
        return self.env

    def state(self) -> np.ndarray:
        """The global state: the single env's full-mode observation."""
        return self.env.last_observation.copy()

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Start an episode. `options` is accepted as PettingZoo's API passes it (its API test sends
        `{"options": 1}`), but the env has no reset options, so it is not used."""
        obs, info = self.env.reset(seed=seed)
        self.agents = list(self.possible_agents)
        return self._observations(obs), {a: self._agent_info(a, info, 0.0, 0) for a in self.agents}

    def step(self, actions: dict[str, Any]):
        if not self.agents:
            raise RuntimeError("step() called on a finished episode: call reset() first")
        missing = [a for a in self.agents if a not in actions]
        unknown = [a for a in actions if a not in self.agents]
        if missing or unknown:
            raise ValueError(f"actions must hold one entry per live agent {self.agents}; missing {missing}, unknown {unknown}")
        joint, lost = self._merge(actions)
        env = self.env
        rewards = dict.fromkeys(self.agents, 0.0)
        reward = 0.0
        for _ in range(self._period):
            obs, tti_reward, terminated, truncated, info = env.step(joint)
            for agent, r in self._split_reward(info, tti_reward).items():
                rewards[agent] += r
            reward += tti_reward
            if terminated or truncated:
                break
        observations = self._observations(obs)
        infos = {a: self._agent_info(a, info, reward, lost.get(a, 0)) for a in self.agents}
        terminations = {a: bool(terminated) for a in self.agents}
        truncations = {a: bool(truncated) for a in self.agents}
        if terminated or truncated:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def render(self):
        return self.env.render()

    def close(self) -> None:
        self.env.close()

    # -- internals -------------------------------------------------------------------------------
    def _action(self, agent: str, action: Any) -> np.ndarray:
        space = self.action_spaces[agent]
        arr = np.asarray(action)
        if isinstance(space, gym.spaces.Box):
            if arr.shape != space.shape or arr.dtype.kind not in "fiu" or not np.all(np.isfinite(arr)) or (arr < -1).any() or (arr > 1).any():
                raise ValueError(f"action of {agent!r} must be in {space} (numbers in [-1, 1] of shape {space.shape}), "
                                 f"got {np.array2string(arr, threshold=8)}")
            return arr.astype(np.float32)
        if arr.shape != space.shape or arr.dtype.kind not in "iu" or (arr < 0).any() or (arr >= space.nvec).any():
            raise ValueError(f"action of {agent!r} must be in {space} (integers of shape {space.shape}, "
                             f"0..{int(space.nvec[0]) - 1}), got {np.array2string(arr, threshold=8)} of dtype {arr.dtype}")
        return arr.astype(np.int64)

    def _merge(self, actions: dict[str, Any]) -> tuple[np.ndarray, dict[str, int]]:
        """The agents' actions as one action of the single env, and each agent's lost bids."""
        B, U, M, L, _ = self._shape
        if self.action_mode == "slice":  # [B, S, (share, power)]; a slice with no agent gets nothing
            if self.env.discrete_levels is None:
                joint = np.full((B, 2, 2), -1.0, dtype=np.float32)
            else:
                joint = np.zeros((B, 2, 2), dtype=np.int64)
            for agent in self.agents:
                a = self._action(agent, actions[agent])
                if self.kind == "ru":
                    joint[int(agent[3:])] = a.reshape(2, 2)
                else:
                    joint[:, SLICE_NAMES.index(agent)] = a.reshape(B, 2)
            return joint.ravel(), {}
        if self.kind == "ru":
            return np.concatenate([self._action(f"ru_{b}", actions[f"ru_{b}"]) for b in range(B)]), {}
        full = np.zeros(B * M, dtype=np.int64)
        lost: dict[str, int] = {}
        taken = np.zeros(B * M, dtype=bool)
        for agent in self._priority:
            a = self._action(agent, actions[agent])
            bid = a > 0
            win = bid & ~taken
            lost[agent] = int((bid & taken).sum())
            ues = self._ues[agent]
            full[win] = 1 + ues[(a[win] - 1) // L] * L + (a[win] - 1) % L
            taken |= win
        return full, lost

    def _owner_of_ue(self) -> np.ndarray:
        """The agent index each UE's reward goes to: its slice's, or its RU's this TTI (home RU if unserved)."""
        if self.kind == "slice":
            return np.array([self.possible_agents.index(SLICE_NAMES[s]) for s in self._ue_slice])
        assoc = self.env.last_tti_allocation.assoc
        return np.where(assoc >= 0, assoc, ue_home_ru(assoc.size, self._shape[0]))

    def _split_reward(self, info: dict[str, Any], reward: float) -> dict[str, float]:
        """Each UE's part of eq. (22) to its agent, from the TTI the env just evaluated; shared
        violations and the bias split equally."""
        if self.team_reward:
            return {a: float(reward) for a in self.agents}
        env, params = self.env, self._params
        metrics = env.last_tti_metrics
        if metrics.served_bits is None:
            per_ue_bps = reference.weighted_rate_bps(metrics.ue_rate_bps, self._ue_slice, params)
        else:
            per_ue_bps = reference.weighted_rate_bps(metrics.served_bits / env.config.tti_duration_s, self._ue_slice, params)
        per_ue_violations = metrics.rate_violated.astype(int) + metrics.delay_violated.astype(int)
        shared = sum(v for k, v in info["violations"].items() if k not in ("rate", "delay"))
        owner = self._owner_of_ue()
        n = len(self.possible_agents)
        bias = reference.tti_reward(0.0, 0, params)  # Theta_bias
        out = {}
        for i, agent in enumerate(self.possible_agents):
            mine = owner == i
            out[agent] = float(reference.reward_rate_term(per_ue_bps[mine].sum(), params)
                               + reference.reward_violation_term(per_ue_violations[mine].sum() + shared / n, params) + bias / n)
        return out

    def _observations(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        B, U, M, L, stride = self._shape
        block = obs[self._ue_block].reshape(U, stride)
        gains = obs[self._gains].reshape(B, U, M)
        out = {}
        for i, agent in enumerate(self.possible_agents):
            if agent not in self.agents:
                continue
            ues = self._ues[agent]
            if self.kind == "ru":
                parts = [block.ravel(), gains[i].ravel()]
            else:
                parts = [block[ues].ravel(), gains[:, ues].ravel()]
            if self._queue:
                parts += [obs[self._queue[0]][ues], obs[self._queue[1]][ues]]
            parts.append(np.eye(B if self.kind == "ru" else 2, dtype=np.float32)[i if self.kind == "ru" else SLICE_NAMES.index(agent)])
            out[agent] = np.concatenate(parts).astype(np.float32)
        return out

    def _agent_info(self, agent: str, info: dict[str, Any], team_reward: float, lost_bids: int) -> dict[str, Any]:
        space = self.action_spaces[agent]
        out: dict[str, Any] = {"team_reward": float(team_reward), "lost_bids": int(lost_bids), "tti_info": info}
        if isinstance(space, gym.spaces.MultiDiscrete):
            out["action_mask"] = np.ones((space.shape[0], int(space.nvec[0])), dtype=np.int8)
        return out
