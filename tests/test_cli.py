"""Stable-Baselines3 on the env, and the `oran-gym` command line (run as a subprocess)."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import oran_gym  # noqa: F401

pytestmark = pytest.mark.requires_torch


def test_sb3_dqn_learns_and_predicts():
    from stable_baselines3 import DQN
    from stable_baselines3.common.env_util import make_vec_env

    venv = make_vec_env("ORANSlicing-v0", n_envs=1, seed=0, env_kwargs={"config": "tiny", "invalid_action": "idle"})
    model = DQN("MlpPolicy", venv, learning_starts=50, buffer_size=500, train_freq=1, seed=0, verbose=0)
    before = [p.detach().clone() for p in model.q_net.parameters()]
    model.learn(total_timesteps=300)
    after = list(model.q_net.parameters())
    assert any(not np.allclose(a.detach().numpy(), b.numpy()) for a, b in zip(after, before))  # it trained
    env = gym.make("ORANSlicing-v0", config="tiny", invalid_action="idle")
    obs, _ = env.reset(seed=1)
    action, state = model.predict(obs, deterministic=True)
    assert env.action_space.contains(int(action)) and state is None
    env.step(action)


def test_sb3_ppo_on_full_mode():
    from stable_baselines3 import PPO

    env = gym.make("ORANSlicing-v0", config="tiny", action_mode="full")
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=16, n_epochs=1, seed=0, verbose=0)
    model.learn(total_timesteps=64)
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs)
    assert env.action_space.contains(action)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "oran_gym.cli", *args], capture_output=True, text=True, timeout=600)


def test_cli_help_info_check():
    r = run_cli("--help")
    assert r.returncode == 0 and "info" in r.stdout and "check" in r.stdout and "bench" in r.stdout
    r = run_cli("info", "--preset", "tiny")
    assert r.returncode == 0
    assert "num_prbs" in r.stdout and "power_level_fractions" in r.stdout and "(0.5, 1.0)" in r.stdout
    r = run_cli("info", "--preset", "paper", "--markdown")
    assert "| `ru_max_power_dbm` | dBm | `40.0` |" in r.stdout
    r = run_cli("check", "--preset", "tiny")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("gymnasium ok, sb3 ok") == 4 and "all checks passed with no warnings" in r.stdout
    r = run_cli("info", "--preset", "bogus")
    assert r.returncode == 2 and "invalid choice" in r.stderr


@pytest.mark.slow
def test_cli_bench_quick_writes_json(tmp_path):
    import json
    from pathlib import Path

    out = tmp_path / "speed.json"
    r = subprocess.run(
        [sys.executable, "benchmarks/bench_env.py", "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parent.parent,
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    assert data["env_steps"]["cartpole_steps_per_s"] > 0 and data["env_steps"]["oran_prb_steps_per_s"] > 0
    assert data["evaluate_allocation_paper"]["kernels_numba_us"] > 0
    assert "numba" in data["machine"]


@pytest.mark.slow
def test_oracle_benchmark_quick_writes_results(tmp_path):
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from oran_gym.benchmarks import bench_oracles

    result = bench_oracles.run(quick=True, progress=False, out_dir=tmp_path)
    assert {"oracles.json", "oracle_timing.csv", "heuristic_gaps.csv", "oracles.png"} <= {p.name for p in tmp_path.iterdir()}
    data = json.loads((tmp_path / "oracles.json").read_text())
    assert data["milp_proven_optimal"] == data["milp_solves"] == 40
    gaps = {g["policy"]: g for g in result["gaps"]}
    assert gaps["oracle_milp"]["reward_gap_pct"] == 0.0
    assert all(g["reward_gap_pct"] >= -1e-9 for g in gaps.values())  # nothing beats the optimum
    lines = bench_oracles.summary_lines(result)
    assert lines[0].startswith("MILP on the paper preset") and "proven optimal 40/40" in lines[0]


def test_cli_version_and_one_line_errors(tmp_path):

    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"oran-gym {oran_gym.__version__}"
    missing = tmp_path / "nonexistent"
    r = run_cli("evaluate", f"dqn:{missing}", "--action-mode", "prb")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"no DQN at {missing}" in lines[0] and ".zip.zip" not in lines[0], r.stderr
    r = run_cli("evaluate", f"dqn:{tmp_path}", "--action-mode", "prb")  # a folder without model.zip
    assert r.returncode == 2 and f"no DQN model at {tmp_path / 'model.zip'}" in r.stderr
    r = run_cli("evaluate", "slice_awre")
    assert r.returncode == 2 and "did you mean 'slice_aware'" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("sweep", str(tmp_path / "grid.yaml"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "grid.yaml" in r.stderr
    r = run_cli("--debug", "evaluate", f"dqn:{missing}", "--action-mode", "prb")
    assert r.returncode != 0 and "Traceback" in r.stderr and "FileNotFoundError" in r.stderr
