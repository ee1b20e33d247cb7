"""A SHA-256 of everything the env, the vector env, evaluate_allocation, the heuristics and the MILP
oracle return on fixed seeds: a refactor that must not change behaviour keeps this hash, bit for bit.

Run: `python -m oran_gym.benchmarks.behaviour_fingerprint` before and after a change (or on two
checkouts) and compare the printed hashes. Every preset, both action modes, both observation modes,
300 random steps each; the native vector env at N=8, 100 steps; four heuristics and the oracle for
3 TTIs each, with `evaluate_allocation` of every allocation.
"""

from __future__ import annotations

import hashlib
from typing import Any

import gymnasium as gym
import numpy as np

import oran_gym  # noqa: F401
from oran_gym import evaluate_allocation
from oran_gym.baselines import make_policy


def fingerprint(steps: int = 300) -> str:
    """The hex SHA-256 of the outputs listed in the module docstring."""
    h = hashlib.sha256()

    def add(x: Any) -> None:
        if isinstance(x, dict):
            for k in sorted(x):
                add(k)
                add(x[k])
        elif isinstance(x, (list, tuple)):
            for v in x:
                add(v)
        else:
            a = np.asarray(x)
            h.update(str(a.dtype).encode())
            h.update(np.ascontiguousarray(a).tobytes())

    for preset in ["paper", "multi_cell", "tiny"]:
        for mode in ["prb", "full"]:
            for obs_mode in ["full", "paper"]:
                env = gym.make("ORANSlicing-v0", config=preset, action_mode=mode, obs_mode=obs_mode, invalid_action="idle")
                obs, info = env.reset(seed=3)
                add([obs, info])
                env.action_space.seed(5)
                for _ in range(steps):
                    obs, r, te, tr, info = env.step(env.action_space.sample())
                    add([obs, r, te, tr, info])
                    if te or tr:
                        obs, info = env.reset()
            venv = gym.make_vec("ORANSlicing-v0", num_envs=8, config=preset, action_mode=mode, invalid_action="idle")
            obs, info = venv.reset(seed=11)
            add(obs)
            venv.action_space.seed(2)
            for _ in range(steps // 3):
                add(list(venv.step(venv.action_space.sample())))
        env = gym.make("ORANSlicing-v0", config=preset, action_mode="full")
        for name in ["slice_aware", "max_sinr", "proportional_fair", "round_robin"] + (["oracle"] if preset != "multi_cell" else []):
            policy = make_policy(name, env)
            obs, _ = env.reset(seed=7)
            for _ in range(3):
                action, _ = policy.predict(obs)
                obs, r, te, tr, info = env.step(action)
                add([action, r, info])
                u = env.unwrapped
                m = evaluate_allocation(u.config, u.gains, u.allocation, u.offered_load_bps)
                add([m.objective, m.reward, m.ue_rate_bps, m.sinr_db, m.delay_s, m.violations])
    return h.hexdigest()


if __name__ == "__main__":
    print(fingerprint())
