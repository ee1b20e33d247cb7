"""oran_gym.sb3.NativeVecEnv: an SB3 VecEnv over the native batched env, equal to DummyVecEnv, masks for MaskablePPO."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import oran_gym  # noqa: F401

pytestmark = pytest.mark.requires_torch
sb3 = pytest.importorskip("stable_baselines3")

from stable_baselines3.common.env_checker import check_env  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv  # noqa: E402

from oran_gym.sb3 import NativeVecEnv  # noqa: E402


@pytest.mark.parametrize("kwargs, steps", [
    ({"config": "tiny", "episode_length_tti": 3}, 40),
    ({"config": "paper", "episode_length_tti": 1}, 60),
    ({"config": "multi_cell", "episode_length_tti": 1}, 80),
    ({"config": "tiny", "action_mode": "full", "episode_length_tti": 2}, 7),
    ({"config": "tiny", "obs_mode": "paper", "episode_length_tti": 2}, 30),
])
def test_trajectories_equal_dummy_vec_env(kwargs, steps):
    n, seed = 3, 5
    native = NativeVecEnv(n, seed=seed, **kwargs)
    dummy = DummyVecEnv([lambda: gym.make("ORANSlicing-v0", **kwargs) for _ in range(n)])
    dummy.seed(seed)
    o1, o2 = native.reset(), dummy.reset()
    np.testing.assert_array_equal(o1, o2)
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(steps):
        if kwargs.get("action_mode") == "full":
            actions = rng.integers(0, native.action_space.nvec[0], size=(n, native.action_space.shape[0]))
        else:
            actions = rng.integers(0, native.action_space.n, size=n)  # masked ones included: idle by default
        a = native.step(actions)
        b = dummy.step(actions)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
        assert a[1].dtype == b[1].dtype == np.float32
        np.testing.assert_array_equal(a[2], b[2])
        for ia, ib in zip(a[3], b[3], strict=True):
            assert ia["invalid_action"] == ib["invalid_action"]
            if "terminal_observation" in ib:
                ends += 1
                np.testing.assert_array_equal(ia["terminal_observation"], ib["terminal_observation"])
                assert ia["TimeLimit.truncated"] == ib["TimeLimit.truncated"]
    assert ends >= n  # every sub-env ended at least once: the same-step resets were compared


def test_masks_for_sb3_contrib_and_maskable_ppo_trains():
    contrib = pytest.importorskip("sb3_contrib")
    from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported

    venv = NativeVecEnv(4, seed=0, config="paper", episode_length_tti=1)
    venv.reset()
    assert is_masking_supported(venv)
    masks = get_action_masks(venv)
    assert masks.shape == (4, venv.action_space.n) and masks.dtype == bool and masks[:, 0].all()
    model = contrib.MaskablePPO("MlpPolicy", venv, n_steps=64, batch_size=64, seed=0).learn(total_timesteps=512)
    obs = venv.reset()
    actions, _ = model.predict(obs, action_masks=get_action_masks(venv), deterministic=True)
    assert get_action_masks(venv)[np.arange(4), actions].all()
    assert venv.get_attr("action_mode") == ["prb"] * 4
    with pytest.raises(AttributeError, match="only 'action_masks'"):
        venv.env_method("render")
    with pytest.raises(AttributeError, match="share one batched state"):
        venv.set_attr("config", None)


def test_single_env_still_passes_sb3_checker():
    check_env(gym.make("ORANSlicing-v0").unwrapped)
