"""Standard RL clients on ORANSlicing-v0 with the default kwargs (paper preset, prb mode): each trains
a few hundred steps, then predicts. Baselines through SB3's own evaluation loop; masks everywhere."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import oran_gym  # noqa: F401
from oran_gym.evaluation import evaluate_policy

pytestmark = pytest.mark.requires_torch


def _predict_a_tti(model, env) -> None:
    obs, _ = env.reset(seed=1)
    for _ in range(env.unwrapped.config.prbs_per_tti):
        action, _ = model.predict(obs, deterministic=True)
        assert env.action_space.contains(action if np.ndim(action) else int(action))
        obs, _, _, _, info = env.step(action)
    assert info["tti_complete"]


@pytest.mark.parametrize("algo", ["PPO", "A2C", "DQN"])
def test_sb3_algorithms_train_and_predict_on_the_defaults(algo):
    sb3 = pytest.importorskip("stable_baselines3")
    env = gym.make("ORANSlicing-v0")  # paper preset, prb mode, invalid_action="idle"
    kwargs = {"n_steps": 64, "batch_size": 64} if algo == "PPO" else {"n_steps": 16} if algo == "A2C" else {"learning_starts": 50}
    model = getattr(sb3, algo)("MlpPolicy", env, seed=0, **kwargs).learn(total_timesteps=300)
    _predict_a_tti(model, env)


def test_maskable_ppo_trains_predicts_and_is_scored_with_masks():
    contrib = pytest.importorskip("sb3_contrib")
    env = gym.make("ORANSlicing-v0", episode_length_tti=2)
    model = contrib.MaskablePPO("MlpPolicy", env, n_steps=100, batch_size=50, seed=0).learn(total_timesteps=300)
    obs, _ = env.reset(seed=3)
    for _ in range(10):
        action, _ = model.predict(obs, action_masks=env.unwrapped.action_masks(), deterministic=True)
        obs, _, _, _, info = env.step(action)
        assert not info["invalid_action"]  # masked: never picks an invalid action
    # the package's loop passes the masks (MaskablePPO's predict takes them): no invalid action at all
    calls = []

    class Spy:
        def __init__(self, inner):
            self.inner, self.name = inner, "maskable_ppo"

        def predict(self, obs, state=None, episode_start=None, deterministic=True, action_masks=None):
            calls.append(action_masks is not None)
            return self.inner.predict(obs, state=state, episode_start=episode_start, deterministic=deterministic,
                                      action_masks=action_masks)

    result = evaluate_policy(Spy(model), env, n_episodes=1, seed=0)
    assert calls and all(calls) and len(result.per_tti) == 2


def test_gymnasium_benchmark_step_and_masked_sampling_on_the_defaults():
    from gymnasium.utils.performance import benchmark_step

    env = gym.make("ORANSlicing-v0")
    assert benchmark_step(env, target_duration=0.2, seed=0) > 0
    _, info = env.reset(seed=0)
    for _ in range(60):
        _, _, _, _, info = env.step(env.action_space.sample(mask=info["action_mask"]))
        assert not info["invalid_action"]


def test_cleanrl_style_ppo_loop_over_make_vec():
    """The shape of CleanRL's ppo.py (gym.make_vec, a torch agent, GAE, clipped updates) for a few hundred steps."""
    torch = pytest.importorskip("torch")
    from torch import nn

    num_envs, num_steps = 4, 32
    envs = gym.make_vec("ORANSlicing-v0", num_envs=num_envs)
    obs_dim, n_act = envs.single_observation_space.shape[0], envs.single_action_space.n
    torch.manual_seed(0)
    actor = nn.Sequential(nn.Linear(obs_dim, 64), nn.Tanh(), nn.Linear(64, n_act))
    critic = nn.Sequential(nn.Linear(obs_dim, 64), nn.Tanh(), nn.Linear(64, 1))
    opt = torch.optim.Adam(list(actor.parameters()) + list(critic.parameters()), lr=2.5e-4)
    next_obs, info = envs.reset(seed=0)
    next_obs = torch.as_tensor(next_obs)
    next_mask = torch.as_tensor(info["action_mask"], dtype=torch.bool)
    for _update in range(3):
        obs_b, act_b, logp_b, rew_b, val_b, done_b = [], [], [], [], [], []
        for _ in range(num_steps):
            with torch.no_grad():
                logits = actor(next_obs).masked_fill(~next_mask, -1e9)  # invalid-action masking
                dist = torch.distributions.Categorical(logits=logits)
                action = dist.sample()
                obs_b.append(next_obs), act_b.append(action), logp_b.append(dist.log_prob(action))
                val_b.append(critic(next_obs).squeeze(-1))
            o, r, term, trunc, info = envs.step(action.numpy())
            rew_b.append(torch.as_tensor(r, dtype=torch.float32))
            done_b.append(torch.as_tensor(term | trunc, dtype=torch.float32))
            next_obs = torch.as_tensor(o)
            next_mask = torch.as_tensor(info["action_mask"], dtype=torch.bool)
            assert not info["invalid_action"].any()
        with torch.no_grad():
            adv, last = torch.zeros(num_steps, num_envs), torch.zeros(num_envs)
            next_val = critic(next_obs).squeeze(-1)
            for t in reversed(range(num_steps)):
                nv = next_val if t == num_steps - 1 else val_b[t + 1]
                delta = rew_b[t] + 0.99 * nv * (1 - done_b[t]) - val_b[t]
                last = delta + 0.99 * 0.95 * (1 - done_b[t]) * last
                adv[t] = last
            ret = adv + torch.stack(val_b)
        b_obs, b_act, b_logp = torch.cat(obs_b), torch.cat(act_b), torch.cat(logp_b)
        new = torch.distributions.Categorical(logits=actor(b_obs))
        ratio = (new.log_prob(b_act) - b_logp).exp()
        a = adv.reshape(-1)
        loss = -torch.min(ratio * a, ratio.clamp(0.8, 1.2) * a).mean() + 0.5 * ((critic(b_obs).squeeze(-1) - ret.reshape(-1)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert torch.isfinite(loss)


@pytest.mark.slow
@pytest.mark.parametrize("algo", ["dqn", "ppo"])
def test_rl_zoo3_train_then_enjoy_with_the_shipped_hyperparameters(algo, tmp_path):
    pytest.importorskip("rl_zoo3")
    from oran_gym import hyperparams

    common = ["--algo", algo, "--env", "ORANSlicing-v0", "--gym-packages", "oran_gym", "-f", str(tmp_path / "logs")]
    r = subprocess.run([sys.executable, "-m", "rl_zoo3.train", *common, "-conf", str(hyperparams.path(algo)), "-n", "300",
                        "--eval-freq", "-1", "--seed", "0", "--log-interval", "-1"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    r = subprocess.run([sys.executable, "-m", "rl_zoo3.enjoy", *common, "-n", "60", "--no-render", "--deterministic"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]


def test_shipped_hyperparameter_files_parse():
    from oran_gym import hyperparams

    for algo in hyperparams.ALGOS:
        params = hyperparams.load(algo)
        assert params["policy"] == "MlpPolicy" and isinstance(params["policy_kwargs"], dict)
    with pytest.raises(ValueError, match="no hyperparameter file for 'sac'"):
        hyperparams.path("sac")
