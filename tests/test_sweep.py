"""Sweeps (local and Ray backends, resume), RLlib on ORANSlicing-v0, and `oran-gym bench --smoke`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oran_gym.sweep import expand_grid, load_grid, run_sweep

ROOT = Path(__file__).resolve().parent.parent

GRID = """
name: tiny
tasks:
  - kind: evaluate
    scenarios: [tiny, {preset: tiny, num_prbs: 4}]
    policies: [random, slice_aware, milp]
    seeds: [0, 1]
    episodes: 1
  - kind: label
    scenarios: [tiny]
    seeds: [3]
    samples: 6
  - kind: train
    scenarios: [tiny]
    configs: [paper]
    seeds: [0]
    timesteps: 150
    episodes: 1
"""


def _grid(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(GRID.replace("name: tiny", f"name: {name}"))
    return path


def test_grid_expansion_and_errors(tmp_path):
    grid = load_grid(_grid(tmp_path, "g"))
    tasks = expand_grid(grid)
    assert len(tasks) == 2 * 3 * 2 + 1 + 1
    assert len({t["id"] for t in tasks}) == len(tasks)
    assert grid["out"] == str(tmp_path / "g")
    bad = tmp_path / "bad.yaml"
    for text, match in [
        ("tasks: []", "non-empty list under 'tasks'"),
        ("tasks: [{kind: simulate}]", r"tasks\[0\].kind must be one of"),
        ("tasks: [{kind: evaluate, scenarios: [tiny], policies: [random], seeds: [0], episodez: 2}]", "unknown keys"),
        ("tasks: [{kind: evaluate, scenarios: [tiny], policies: random, seeds: [0]}]", r"tasks\[0\].policies must be a non-empty list"),
        ("tasks: [{kind: label, scenarios: [{preset: tiny, num_prbs: -1}], seeds: [0]}]", r"tasks\[0\].scenarios\[0\]: .*num_prbs"),
        ("tasks: [{kind: evaluate, scenarios: [tiny], policies: [random], seeds: [0, abc]}]",
         r"tasks\[0\].seeds\[1\] must be an integer >= 0, got 'abc'"),
        ("tasks: [{kind: evaluate, scenarios: [tiny], policies: [random], seeds: [-1]}]", r"tasks\[0\].seeds\[0\] must be an integer >= 0"),
        ("tasks: [{kind: evaluate, scenarios: [tiny], policies: [random, slice_awre], seeds: [0]}]",
         r"tasks\[0\].policies\[1\] must be one of .*did you mean 'slice_aware'"),
        ("tasks: [{kind: evaluate, scenarios: [tiny], policies: [random], seeds: [0], episodes: 0}]", r"tasks\[0\].episodes must be an integer >= 1"),
        ("tasks: [{kind: evaluate, scenarios: [tiny], policies: [random], seeds: [0], action_mode: slice}]", r"tasks\[0\].action_mode must be"),
        ("tasks: [{kind: label, scenarios: [tiny], seeds: [0], samples: ten}]", r"tasks\[0\].samples must be an integer >= 1, got 'ten'"),
        ("tasks: [{kind: label, scenarios: [tiny], seeds: [0], oracle: gurobi}]", r"tasks\[0\].oracle must be one of"),
        ("tasks: [{kind: train, scenarios: [tiny], configs: [papr], seeds: [0]}]", r"tasks\[0\].configs\[0\] must be 'paper', 'tuned'"),
        ("tasks: [{kind: train, scenarios: [tiny], configs: [paper], seeds: [0], timesteps: 0}]", r"tasks\[0\].timesteps must be"),
        ("tasks: [{kind: train, scenarios: [tiny], configs: [paper], seeds: [0], agent: ppo}]", r"tasks\[0\].agent must be 'dqn'"),
        ("tasks: [{kind: evaluate, scenarios: [tiny], policies: [random], seeds: [0]}, "
         "{kind: evaluate, scenarios: [papr], policies: [random], seeds: [0]}]", r"tasks\[1\].scenarios\[0\]: unknown scenario preset 'papr'"),
    ]:
        bad.write_text(text)
        with pytest.raises(ValueError, match=match):
            expand_grid(load_grid(bad))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_grid(tmp_path / "missing.yaml")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes to read-only folders")
def test_read_only_output_is_refused_before_any_work(tmp_path):
    grid_path = _grid(tmp_path, "ro")
    out = tmp_path / "ro"
    (out / "tasks").mkdir(parents=True)
    (out / "tasks").chmod(0o555)
    try:
        with pytest.raises(PermissionError, match=r"the sweep cannot write its results to .*tasks"):
            run_sweep(grid_path, backend="local", workers=1, progress=False)
        assert not list((out / "tasks").iterdir()) and not (out / "labels").exists()
    finally:
        (out / "tasks").chmod(0o755)


def test_unwritable_output_is_refused_before_any_work(tmp_path, monkeypatch):
    """The same refusal, made to happen as any user (root ignores a read-only mode)."""
    import tempfile

    from oran_gym import sweep

    grid_path = _grid(tmp_path, "ro2")

    def refuse(*a, **kw):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    ran = []
    monkeypatch.setattr(sweep, "run_task", lambda *a: ran.append(a))
    with pytest.raises(PermissionError, match=r"the sweep cannot write its results to .*ro2/tasks: Permission denied"):
        run_sweep(grid_path, backend="local", workers=1, progress=False)
    assert not ran


def test_local_sweep_resumes_from_disk(tmp_path):
    grid_path = _grid(tmp_path, "resume")
    table = run_sweep(grid_path, backend="local", workers=2, progress=False)
    out = tmp_path / "resume"
    assert (out / "results.csv").exists() and (out / "timings.csv").exists()
    assert len(table) == 14 and table["reward"].notna().all()
    ev = table[table["kind"] == "evaluate"].groupby("policy")["reward"].mean()
    assert ev["milp"] >= ev["slice_aware"] and ev["milp"] > ev["random"]  # the oracle is the yardstick
    label = table[table["kind"] == "label"].iloc[0]
    assert label["samples"] == 6 and label["proven_optimal"] == 1.0 and (out / label["file"]).exists()
    # lose two finished tasks: only they run again, and the table comes out the same
    files = sorted((out / "tasks").glob("*.json"))
    mtimes = {f.name: f.stat().st_mtime_ns for f in files}
    files[0].unlink()
    files[5].unlink()
    again = run_sweep(grid_path, backend="local", workers=1, progress=False)
    pd.testing.assert_frame_equal(again, table)
    rerun = [f.name for f in (out / "tasks").glob("*.json") if mtimes.get(f.name) != f.stat().st_mtime_ns]
    assert sorted(rerun) == sorted([files[0].name, files[5].name])


def _small_ppo(config):
    """A PPO configuration small enough for CI: one env runner, 100-step batches, one epoch, seeded."""
    return (
        config.env_runners(num_env_runners=1, rollout_fragment_length=50)
        .training(train_batch_size_per_learner=100, minibatch_size=50, num_epochs=1)
        .debugging(seed=0)
    )


def _require_ray():
    if os.environ.get("ORAN_GYM_REQUIRE_RAY"):
        import ray  # CI installs the ray extra: a missing Ray must fail there, not skip

        return ray
    return pytest.importorskip("ray")


@pytest.mark.slow
def test_ray_sweep_equals_local_and_rllib_trains(tmp_path):
    ray = _require_ray()
    local = run_sweep(_grid(tmp_path, "local"), backend="local", workers=2, progress=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = run_sweep(_grid(tmp_path, "ray"), backend="ray", progress=False)
        pd.testing.assert_frame_equal(remote.drop(columns=["file"]), local.drop(columns=["file"]))

        from ray.rllib.algorithms.ppo import PPOConfig

        from oran_gym.rllib import register_rllib_env

        assert register_rllib_env() == "ORANSlicing-v0"
        config = _small_ppo(PPOConfig().environment("ORANSlicing-v0", env_config={"config": "tiny", "episode_length_tti": 5}))
        algo = config.build_algo()
        try:
            results = [algo.train() for _ in range(2)]
        finally:
            algo.stop()
        assert results[-1]["training_iteration"] == 2
        assert results[-1]["num_env_steps_sampled_lifetime"] >= 200
        module = algo.get_module()
        assert module is not None
    finally:
        ray.shutdown()


def test_rllib_env_creator_defaults_to_full_mode():
    from oran_gym.rllib import make_rllib_env

    env = make_rllib_env({"config": "tiny", "num_prbs": 4})
    assert env.action_mode == "full" and env.config.num_prbs == 4
    assert make_rllib_env({"action_mode": "prb"}).action_mode == "prb"
    with pytest.raises(ValueError, match=r"env_config\['config'\]"):
        make_rllib_env({"config": 3})


def test_cli_sweep(tmp_path):
    grid = tmp_path / "cli.yaml"
    grid.write_text("name: cli\ntasks:\n  - kind: evaluate\n    scenarios: [tiny]\n    policies: [round_robin]\n    seeds: [0]\n    episodes: 1\n")
    r = subprocess.run([sys.executable, "-m", "oran_gym.cli", "sweep", str(grid), "--workers", "1"], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "round_robin" in r.stdout and (tmp_path / "cli" / "results.csv").exists()
    r = subprocess.run([sys.executable, "-m", "oran_gym.cli", "sweep", str(grid), "--backend", "spark"], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode != 0 and "invalid choice: 'spark'" in r.stderr


@pytest.mark.slow
def test_bench_smoke_regenerates_every_result_and_the_report(tmp_path):
    """`oran-gym bench --smoke` runs every part end to end (tiny sizes) and renders REPORT.md."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    r = subprocess.run([sys.executable, "-m", "oran_gym.cli", "bench", "--smoke", "--out-dir", str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=1500)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for name in ["env_speed.json", "vector_speed.json", "vector_speed.png", "oracles.json", "agents.json", "fig6.json",
                 "REPORT.md"]:
        assert (tmp_path / name).exists(), name
    vec = json.loads((tmp_path / "vector_speed.json").read_text())
    assert vec["steps_per_s"]["native@8"] > 0 and "profile" in vec and vec["floor_at_one"]["info_layout_us"] > 0
    report = (tmp_path / "REPORT.md").read_text()
    for heading in ["Environment speed", "Vector env speed", "Oracle and heuristics", "SS-VAE and DQN vs the oracle",
                    "Fig. 6c-6f sweep", "## Provenance"]:
        assert heading in report, heading
    has_data = (ROOT.parent / "shared" / "data").exists() or os.environ.get("ORAN_GYM_DATA")
    if has_data:
        assert (tmp_path / "forecasting.json").exists() and "Digital twin, seed 001" in report
    # a paper-scale Fig. 6 run in its own folder is reported beside the other, as a part of the grid
    import shutil

    sys.path.insert(0, str(ROOT))
    from oran_gym.benchmarks.results_table import render_report

    (tmp_path / "fig6_paper_scale").mkdir()
    shutil.copy(tmp_path / "fig6.json", tmp_path / "fig6_paper_scale" / "fig6.json")
    report = render_report(tmp_path)
    assert "**Fig. 6c-6f at paper scale** (" in report and "1 points of the full grid's 34 (6c)" in report
    assert "| `fig6_paper_scale/fig6.json` |" in report


def test_action_mask_observation_wrapper_passes_the_checker():
    from gymnasium.utils.env_checker import check_env

    from oran_gym.rllib import make_rllib_env

    import warnings

    env = make_rllib_env({"config": "tiny", "action_mode": "prb", "action_mask": True})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=".*is different from the unwrapped version")  # a wrapper, by design
        check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"action_mask", "observations"} and obs["action_mask"].dtype == np.float32
    np.testing.assert_array_equal(obs["action_mask"], env.unwrapped.action_masks().astype(np.float32))


@pytest.mark.slow
def test_rllib_masked_ppo_trains_in_prb_mode():
    ray = _require_ray()
    from oran_gym.rllib import masked_ppo_config, register_rllib_env

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        register_rllib_env()
        config = _small_ppo(masked_ppo_config({"config": "paper", "episode_length_tti": 1}))
        algo = config.build_algo()
        try:
            results = [algo.train() for _ in range(2)]
            module = algo.get_module()
            env = config.env_config and __import__("oran_gym.rllib", fromlist=["x"]).make_rllib_env(config.env_config)
            obs, _ = env.reset(seed=0)
            import torch

            batch = {"obs": {k: torch.as_tensor(v[None]) for k, v in obs.items()}}
            logits = module.forward_inference(batch)["action_dist_inputs"][0].detach().numpy()
            masked = obs["action_mask"] == 0
            assert masked.any() is not None and (logits[masked] < -1e30).all()  # masked actions get -inf-like logits
        finally:
            algo.stop()
        assert results[-1]["training_iteration"] == 2 and results[-1]["num_env_steps_sampled_lifetime"] >= 200
    finally:
        ray.shutdown()


def test_report_flags_results_older_than_a_scenario_change(tmp_path):
    import json

    from oran_gym.benchmarks import results_table

    when, _, files = results_table.BEHAVIOUR_CHANGES[0]
    (tmp_path / "agents.json").write_text(json.dumps({"machine": {"date_utc": "2026-01-01T00:00:00Z"}}))
    (tmp_path / "oracles.json").write_text(json.dumps({"machine": {"date_utc": "2999-01-01T00:00:00Z"}}))
    (tmp_path / "env_speed.json").write_text(json.dumps({"machine": {"date_utc": "2026-01-01T00:00:00Z"}}))  # speed: unaffected
    stale = results_table.stale_results(tmp_path)
    assert [s[0] for s in stale] == ["agents.json"] and "agents.json" in files and stale[0][1] < when
    assert "- `agents.json` (produced 2026-01-01T00:00:00Z): before sigma_q^2" in "\n".join(results_table.stale_section(tmp_path))
    assert "Stale results" in results_table.render_report() or not results_table.stale_results()
