"""A DQN with invalid-action masking: masked actions leave both the greedy choice and the TD target.

SB3's DQN has no action masking, so the project's DQN trains with `invalid_action="idle"` (a masked
request idles the PRB). `MaskedDQN` uses the env's masks instead (issue 16):

* acting: the greedy action is the argmax of Q over the valid actions, and exploration draws among
  the valid actions only (also during `learning_starts`);
* learning: the target is `r + gamma max_{a' valid in s'} Q_target(s', a')`. The mask of the next
  state is `info["action_mask"]` of the step, which the replay buffer stores beside the transition;
* `predict(obs, action_masks=...)` follows sb3-contrib's convention, so `evaluate_policy` and
  `MaskablePPO`'s tools pass the masks the same way.

It keeps `EpsilonDecayDQN`'s per-step epsilon, so the paper's configuration runs unchanged with
masks. Only `Discrete` action spaces and `optimize_memory_usage=False` are supported.
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    import torch as th
    from gymnasium import spaces
    from stable_baselines3.common.buffers import ReplayBuffer
    from stable_baselines3.common.type_aliases import ReplayBufferSamples
    from torch.nn import functional as F
except ImportError as exc:  # pragma: no cover
    raise ImportError('oran_gym.agents.masked_dqn needs the agents extra: pip install torch==2.13.0 && pip install "oran-gym[agents]"') from exc

from oran_gym.agents.dqn import EpsilonDecayDQN

__all__ = ["MaskedDQN", "MaskedReplayBuffer"]


class MaskedReplayBuffer(ReplayBuffer):
    """SB3's replay buffer plus the action mask of every transition's next state."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """SB3's arguments; needs a Discrete action space and no memory optimisation."""
        super().__init__(*args, **kwargs)
        if not isinstance(self.action_space, spaces.Discrete):
            raise ValueError(f"MaskedReplayBuffer needs a Discrete action space, got {self.action_space}")
        if self.optimize_memory_usage:
            raise ValueError("MaskedReplayBuffer does not support optimize_memory_usage=True")
        self.next_masks = np.ones((self.buffer_size, self.n_envs, int(self.action_space.n)), dtype=bool)
        self.sampled_next_masks: th.Tensor | None = None

    def add(self, obs: np.ndarray, next_obs: np.ndarray, action: np.ndarray, reward: np.ndarray, done: np.ndarray,
            infos: list[dict[str, Any]]) -> None:
        """Store a transition; the next state's mask comes from `info["action_mask"]` (all valid at an episode's end)."""
        for i, info in enumerate(infos):
            mask = info.get("action_mask")
            self.next_masks[self.pos, i] = True if mask is None or done[i] else np.asarray(mask, dtype=bool)
        super().add(obs, next_obs, action, reward, done, infos)

    def _get_samples(self, batch_inds: np.ndarray, env: Any = None) -> ReplayBufferSamples:
        # SB3's sampling, keeping the env indices so that the masks match the transitions
        env_indices = np.random.randint(0, high=self.n_envs, size=(len(batch_inds),))
        data = (
            self._normalize_obs(self.observations[batch_inds, env_indices, :], env),
            self.actions[batch_inds, env_indices, :],
            self._normalize_obs(self.next_observations[batch_inds, env_indices, :], env),
            (self.dones[batch_inds, env_indices] * (1 - self.timeouts[batch_inds, env_indices])).reshape(-1, 1),
            self._normalize_reward(self.rewards[batch_inds, env_indices].reshape(-1, 1), env),
        )
        self.sampled_next_masks = self.to_torch(self.next_masks[batch_inds, env_indices])
        return ReplayBufferSamples(*tuple(map(self.to_torch, data)))


def _env_masks(env: Any) -> np.ndarray:
    """`[n_envs, n_actions]` masks of a VecEnv's current states."""
    from sb3_contrib.common.maskable.utils import get_action_masks

    return np.asarray(get_action_masks(env), dtype=bool)


class MaskedDQN(EpsilonDecayDQN):
    """`EpsilonDecayDQN` whose argmax, exploration and TD target skip masked actions."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """DQN's arguments; the replay buffer is a `MaskedReplayBuffer`."""
        kwargs.setdefault("replay_buffer_class", MaskedReplayBuffer)
        if not issubclass(kwargs["replay_buffer_class"], MaskedReplayBuffer):
            raise ValueError("MaskedDQN needs replay_buffer_class=MaskedReplayBuffer (or a subclass)")
        super().__init__(*args, **kwargs)

    def predict(self, observation: np.ndarray, state: Any = None, episode_start: np.ndarray | None = None,
                deterministic: bool = False, action_masks: np.ndarray | None = None) -> tuple[np.ndarray, Any]:
        """Epsilon-greedy over the valid actions; without `action_masks`, SB3's DQN."""
        if action_masks is None:
            return super().predict(observation, state, episode_start, deterministic)
        n_actions = int(self.action_space.n)
        masks = np.asarray(action_masks, dtype=bool).reshape(-1, n_actions)
        if not masks.any(axis=1).all():
            raise ValueError("action_masks: a state with no valid action")
        self.policy.set_training_mode(False)
        obs_t, vectorized = self.policy.obs_to_tensor(observation)
        with th.no_grad():
            q = self.q_net(obs_t)
        q = q.masked_fill(~th.as_tensor(masks, device=q.device), -th.inf)
        actions = q.argmax(dim=1).cpu().numpy()
        if not deterministic:
            for i in range(len(actions)):
                if np.random.rand() < self.exploration_rate:
                    actions[i] = np.random.choice(np.flatnonzero(masks[i]))
        return (actions if vectorized else actions[0]), state

    def _sample_action(self, learning_starts: int, action_noise: Any = None, n_envs: int = 1) -> tuple[np.ndarray, np.ndarray]:
        masks = _env_masks(self.env)
        if self.num_timesteps < learning_starts:
            actions = np.array([np.random.choice(np.flatnonzero(m)) for m in masks])
        else:
            actions, _ = self.predict(self._last_obs, deterministic=False, action_masks=masks)
        return actions, actions

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        """SB3's DQN update with the next state's invalid actions left out of the max."""
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        losses = []
        for _ in range(gradient_steps):
            replay_data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            next_masks = self.replay_buffer.sampled_next_masks  # type: ignore[union-attr]
            discounts = getattr(replay_data, "discounts", None)
            discounts = discounts if discounts is not None else self.gamma
            with th.no_grad():
                next_q = self.q_net_target(replay_data.next_observations).masked_fill(~next_masks.bool(), -th.inf)
                next_q = next_q.max(dim=1).values.reshape(-1, 1)
                # a terminal next state stores an all-valid mask, so next_q is finite wherever it counts
                target_q = replay_data.rewards + (1 - replay_data.dones) * discounts * next_q
            current_q = th.gather(self.q_net(replay_data.observations), dim=1, index=replay_data.actions.long())
            loss = F.smooth_l1_loss(current_q, target_q)
            losses.append(loss.item())
            self.policy.optimizer.zero_grad()
            loss.backward()
            th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", np.mean(losses))

