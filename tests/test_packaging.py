"""Packaging and layers: namespaced packages, light imports, import contracts, a wheel that works alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _modules_after(code: str, cwd: Path) -> set[str]:
    """Top-level module names loaded by running `code` in a fresh interpreter."""
    probe = code + "\nimport sys\nprint(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_physics_import_pulls_in_neither_gymnasium_torch_nor_the_envs(tmp_path):
    code = "import oran_gym.sim.kernels, oran_gym.sim.batched, oran_gym.sim.reference\n"
    code += "import sys; assert 'oran_gym.envs' not in sys.modules, sorted(m for m in sys.modules if 'envs' in m)"
    loaded = _modules_after(code, tmp_path)
    assert not loaded & {"gymnasium", "torch", "stable_baselines3", "sklearn", "ray"}


def test_help_imports_none_of_torch_scipy_numba_sklearn(tmp_path):
    code = "import sys\nfrom oran_gym import cli\nsys.argv = ['oran-gym', '--help']\ntry:\n    cli.main()\nexcept SystemExit:\n    pass"
    loaded = _modules_after(code, tmp_path)
    assert not loaded & {"torch", "scipy", "numba", "sklearn"}, loaded & {"torch", "scipy", "numba", "sklearn"}


@pytest.mark.parametrize("order", ["oran_gym first", "gymnasium first", "entry point string"])
def test_env_is_registered_whatever_the_import_order(tmp_path, order):
    code = {
        "oran_gym first": "import oran_gym\nimport gymnasium as gym\nenv = gym.make('ORANSlicing-v0', config='tiny')",
        "gymnasium first": "import gymnasium as gym\nimport oran_gym\nenv = gym.make('ORANSlicing-v0', config='tiny')",
        "entry point string": "import gymnasium as gym\nenv = gym.make('oran_gym:ORANSlicing-v0', config='tiny')",
    }[order]
    code += "\nobs, _ = env.reset(seed=0)\nassert obs.shape == env.observation_space.shape"
    loaded = _modules_after(code, tmp_path)
    assert "gymnasium" in loaded


def test_public_names_load_lazily_and_match_their_modules():
    import oran_gym
    from oran_gym import allocation, config
    from oran_gym.envs import slicing_env

    assert oran_gym.ScenarioConfig is config.ScenarioConfig
    assert oran_gym.evaluate_allocation is allocation.evaluate_allocation
    assert oran_gym.ORANSlicingEnv is slicing_env.ORANSlicingEnv
    assert set(oran_gym.__all__) <= set(dir(oran_gym))
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        oran_gym.nonexistent  # noqa: B018


def test_policy_names_equal_the_registered_heuristics_and_oracles():
    from oran_gym import baselines

    assert baselines.POLICY_NAMES == sorted(baselines.HEURISTICS) + sorted(baselines.ORACLES)


def test_packages_install_inside_the_oran_gym_namespace():
    import oran_gym.agents
    import oran_gym.baselines
    import oran_gym.benchmarks

    assert Path(oran_gym.agents.__file__).parent.name == "agents"
    assert Path(oran_gym.baselines.__file__).parent.name == "baselines"
    assert Path(oran_gym.benchmarks.__file__).parent.name == "benchmarks"


# --------------------------------------------------------------------------------------------------
# the built wheel
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True)
    (path,) = out.glob("oran_gym-*.whl")
    return path


@pytest.mark.slow
def test_wheel_puts_only_oran_gym_at_the_top_level_and_carries_the_benchmarks(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"oran_gym"}, top
    for module in ("oran_gym/benchmarks/bench_env.py", "oran_gym/agents/dqn.py", "oran_gym/baselines/oracles.py",
                   "oran_gym/agents/configs/dqn_tuned.json"):
        assert module in names
    assert not any(n.startswith("oran_gym/benchmarks/results/") for n in names), "the committed record is not package data"


@pytest.mark.slow
def test_import_contracts_hold_on_the_installed_layout(wheel, tmp_path):
    """import-linter's contracts (pyproject.toml) on the wheel's layout, where agents/ etc. sit inside oran_gym."""
    pytest.importorskip("importlinter")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    lint = shutil.which("lint-imports")
    assert lint, "import-linter's lint-imports is not on PATH"
    env = {**os.environ, "PYTHONPATH": str(site)}
    r = subprocess.run([lint, "--config", str(ROOT / "pyproject.toml")], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout


@pytest.mark.slow
def test_wheel_in_a_fresh_virtualenv_runs_bench_smoke_from_an_empty_directory(wheel, tmp_path):
    venv = tmp_path / "venv"
    # the dependencies come from this interpreter's site-packages; the package itself from the wheel
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    where = subprocess.run([str(py), "-c", "import oran_gym, sys; print(oran_gym.__file__)"], cwd=empty,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert str(venv) in where, f"oran_gym came from {where}, not the wheel"
    for name in ("agents", "baselines", "benchmarks"):
        r = subprocess.run([str(py), "-c", f"import {name}; print({name}.__file__)"], cwd=empty, capture_output=True, text=True)
        if r.returncode == 0:  # only another distribution may provide it, never ours
            assert str(venv) not in r.stdout and str(ROOT) not in r.stdout, r.stdout
    r = subprocess.run([str(venv / "bin" / "oran-gym"), "bench", "--smoke"], cwd=empty,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    results = empty / "oran-gym-results"
    assert (results / "env_speed.json").exists() and (results / "oracles.json").exists() and (results / "REPORT.md").exists()
    assert not list((venv / "lib").rglob("oran_gym/benchmarks/results")), "results were written inside the installed package"
