"""Sweeps: (scenario x policy x seed) evaluations, oracle labelling and training runs, fanned out.

`oran-gym sweep GRID.yaml --backend local|ray` expands the grid into tasks, runs each task once
as a pure function of its description (`run_task`), and writes one JSON file per finished task
under the sweep's folder, so that an interrupted sweep resumes where it stopped: tasks whose file
exists are skipped. `local` (the default) runs tasks on a process pool; `ray` runs them as Ray
tasks (`pip install oran-gym[ray]`; `--address` joins a running cluster, otherwise a local Ray
instance starts). Both call the same `run_task`, and every task is seeded, so the two backends
write the same table (`results.csv`); wall-clock times go to `timings.csv` only.

A grid file (YAML)::

    name: heuristics-tiny
    out: sweeps/heuristics-tiny        # relative to the grid file (default: beside it, named after `name`)
    tasks:
      - kind: evaluate                 # a policy on a scenario: mean KPIs over seeded episodes
        scenarios: [tiny, {preset: tiny, num_prbs: 4}]
        policies: [random, round_robin, slice_aware, milp]
        seeds: [0, 1, 2]
        episodes: 2
      - kind: label                    # MILPOracle labels via the dataset generator (one .npz per task)
        scenarios: [tiny]
        seeds: [0, 1]
        samples: 20
      - kind: train                    # a DQN training run, then its evaluation
        scenarios: [tiny]
        configs: [paper]
        seeds: [0]
        timesteps: 600
        episodes: 2

This module sits at the command-line layer: it imports `baselines` and `agents` inside the tasks
that need them, as the CLI does; the env and physics never import it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from oran_gym.config import ScenarioConfig

__all__ = ["TASK_KINDS", "expand_grid", "load_grid", "run_sweep", "run_task", "task_id"]

TASK_KINDS = ("evaluate", "label", "train")
_LIST_KEYS = {"evaluate": ("scenarios", "policies", "seeds"), "label": ("scenarios", "seeds"),
              "train": ("scenarios", "configs", "seeds")}
_SCALAR_KEYS = {"evaluate": {"episodes": 3, "action_mode": "full"}, "label": {"samples": 50, "oracle": "milp"},
                "train": {"agent": "dqn", "timesteps": None, "episodes": 3}}


def _scenario(spec: Any) -> dict[str, Any]:
    """A scenario entry of the grid (preset name or mapping with optional `preset`) as a full field dict."""
    if isinstance(spec, str):
        return ScenarioConfig.preset(spec).to_dict()
    if isinstance(spec, dict):
        spec = dict(spec)
        base = ScenarioConfig.preset(spec.pop("preset", "paper"))
        return base.replace(**spec).to_dict()
    raise ValueError(f"a scenario must be a preset name or a mapping of ScenarioConfig fields, got {spec!r}")


def load_grid(path: str | Path) -> dict[str, Any]:
    """Read a grid file (YAML or JSON) and check its structure; errors name the entry and the field."""
    import yaml

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"grid file {path} does not exist")
    grid = yaml.safe_load(path.read_text())
    if not isinstance(grid, dict) or not isinstance(grid.get("tasks"), list) or not grid["tasks"]:
        raise ValueError(f"{path}: a grid needs a non-empty list under 'tasks'")
    name = str(grid.get("name") or path.stem)
    out = Path(grid.get("out") or name)
    grid["name"], grid["out"] = name, str(out if out.is_absolute() else (path.parent / out))
    return grid


def expand_grid(grid: dict[str, Any]) -> list[dict[str, Any]]:
    """Every task of the grid, as a JSON-able dict with its `id` (a hash of everything else)."""
    tasks = []
    for i, entry in enumerate(grid["tasks"]):
        kind = entry.get("kind")
        if kind not in TASK_KINDS:
            raise ValueError(f"tasks[{i}].kind must be one of {list(TASK_KINDS)}, got {kind!r}")
        unknown = set(entry) - {"kind", *_LIST_KEYS[kind], *_SCALAR_KEYS[kind]}
        if unknown:
            raise ValueError(f"tasks[{i}] ({kind}) has unknown keys {sorted(unknown)}; allowed: "
                             f"{sorted({*_LIST_KEYS[kind], *_SCALAR_KEYS[kind]})}")
        lists = {}
        for key in _LIST_KEYS[kind]:
            values = entry.get(key)
            if not isinstance(values, list) or not values:
                raise ValueError(f"tasks[{i}].{key} must be a non-empty list, got {values!r}")
            lists[key] = values
        scalars = {k: entry.get(k, default) for k, default in _SCALAR_KEYS[kind].items()}
        _check_entry(i, kind, lists, scalars)
        scenarios = []
        for j, spec in enumerate(lists["scenarios"]):
            try:
                scenarios.append(_scenario(spec))
            except (ValueError, TypeError) as e:
                raise ValueError(f"tasks[{i}].scenarios[{j}]: {e}") from None
        others = [k for k in _LIST_KEYS[kind] if k != "scenarios"]
        combos: list[dict[str, Any]] = [{}]
        for key in others:
            singular = {"policies": "policy", "seeds": "seed", "configs": "config"}[key]
            combos = [{**c, singular: v} for c in combos for v in lists[key]]
        for label, scenario in zip(lists["scenarios"], scenarios, strict=True):
            for combo in combos:
                task = {"kind": kind, "scenario": scenario, "scenario_label": _label(label), **combo, **scalars}
                task["id"] = task_id(task)
                tasks.append(task)
    return tasks


def _is_int(value: Any, lo: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= lo


def _check_entry(i: int, kind: str, lists: dict[str, list], scalars: dict[str, Any]) -> None:
    """Every value of one grid entry, checked before any task runs; errors name the entry."""
    from oran_gym.baselines import POLICY_NAMES
    from oran_gym.baselines.dataset import ORACLE_NAMES
    from oran_gym.envs.slicing_env import ACTION_MODES

    def bad(where: str, value: Any, allowed: str) -> ValueError:
        return ValueError(f"tasks[{i}].{where} must be {allowed}, got {value!r}")

    for j, seed in enumerate(lists["seeds"]):
        if not _is_int(seed, 0):
            raise bad(f"seeds[{j}]", seed, "an integer >= 0")
    for j, policy in enumerate(lists.get("policies", [])):
        if policy not in POLICY_NAMES:
            import difflib

            hint = difflib.get_close_matches(str(policy), POLICY_NAMES, n=1)
            raise bad(f"policies[{j}]", policy, f"one of {POLICY_NAMES}" + (f" (did you mean {hint[0]!r}?)" if hint else ""))
    for j, config in enumerate(lists.get("configs", [])):
        if not (config in ("paper", "tuned") or isinstance(config, dict)):
            raise bad(f"configs[{j}]", config, "'paper', 'tuned' or a mapping of DQN settings")
    for key in ("episodes", "samples"):
        if key in scalars and not _is_int(scalars[key], 1):
            raise bad(key, scalars[key], "an integer >= 1")
    if kind == "train":
        if scalars["timesteps"] is not None and not _is_int(scalars["timesteps"], 1):
            raise bad("timesteps", scalars["timesteps"], "an integer >= 1 or absent")
        if scalars["agent"] != "dqn":
            raise bad("agent", scalars["agent"], "'dqn'")
    if kind == "evaluate" and scalars["action_mode"] not in ACTION_MODES:
        raise bad("action_mode", scalars["action_mode"], f"one of {list(ACTION_MODES)}")
    if kind == "label" and scalars["oracle"] not in ORACLE_NAMES:
        raise bad("oracle", scalars["oracle"], f"one of {list(ORACLE_NAMES)}")


def _check_writable(folder: Path) -> None:
    """Create `folder` and prove a file can be written there, before any task runs."""
    import os
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise PermissionError(f"the sweep cannot write its results to {folder}: {e.strerror or e}; choose another 'out'") from None


def _label(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    return ",".join(f"{k}={v}" for k, v in spec.items())


def task_id(task: dict[str, Any]) -> str:
    """A stable short hash of the task's description (its file name on disk)."""
    body = {k: v for k, v in task.items() if k != "id"}
    return f"{task['kind']}-" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]


def run_task(task: dict[str, Any], out_dir: str) -> dict[str, Any]:
    """Run one task and return its result row (metrics; no wall-clock values but `wall_s`)."""
    t0 = time.perf_counter()
    cfg = ScenarioConfig.from_mapping(task["scenario"])
    row: dict[str, Any] = {"id": task["id"], "kind": task["kind"], "scenario": task["scenario_label"], "seed": task["seed"]}
    if task["kind"] == "evaluate":
        row.update(policy=task["policy"], **_evaluate(cfg, task))
    elif task["kind"] == "label":
        row.update(policy=task["oracle"], **_label_task(cfg, task, Path(out_dir)))
    else:
        row.update(policy=f"{task['agent']}:{task['config']}", **_train(cfg, task))
    row["wall_s"] = time.perf_counter() - t0
    return row


def _metrics(result) -> dict[str, float]:
    s = result.summary["mean"]
    return {"reward": float(s["reward"]), "objective_mbps": float(s["objective_mbps"]),
            "qos_violations": float(s["qos_violations"]), "n_ttis": int(len(result.per_tti))}


def _evaluate(cfg: ScenarioConfig, task: dict[str, Any]) -> dict[str, Any]:
    import gymnasium as gym

    from oran_gym.baselines import make_policy
    from oran_gym.evaluation import evaluate_policy

    env = gym.make("ORANSlicing-v0", config=cfg, action_mode=task["action_mode"])
    policy = make_policy(task["policy"], env, **({"seed": task["seed"]} if task["policy"] == "random" else {}))
    return _metrics(evaluate_policy(policy, env, n_episodes=task["episodes"], seed=1000 * task["seed"]))


def _label_task(cfg: ScenarioConfig, task: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    import numpy as np

    from oran_gym.baselines.dataset import generate_dataset, load_dataset

    path = out_dir / "labels" / f"{task['id']}.npz"
    generate_dataset(cfg, task["samples"], path, seed=task["seed"], oracle=task["oracle"], workers=1, progress=False)
    data = load_dataset(path)
    return {"samples": int(len(data["value"])), "reward": float(np.mean(data["value"])),
            "proven_optimal": float(np.mean(data["proven_optimal"])), "file": str(path.relative_to(out_dir))}


def _train(cfg: ScenarioConfig, task: dict[str, Any]) -> dict[str, Any]:
    import gymnasium as gym
    import torch

    from oran_gym.agents.dqn import train_dqn
    from oran_gym.evaluation import evaluate_policy

    if task["agent"] != "dqn":
        raise ValueError(f"train tasks support agent 'dqn', got {task['agent']!r}")
    torch.set_num_threads(1)
    model, meta = train_dqn(cfg, task["config"], seed=task["seed"], total_timesteps=task["timesteps"], tensorboard=False)
    env = gym.make("ORANSlicing-v0", config=cfg, invalid_action="idle")
    res = evaluate_policy(model, env, n_episodes=task["episodes"], seed=1000 * task["seed"] + 500)
    return {**_metrics(res), "timesteps": int(meta["total_timesteps"])}


# ---------------------------------------------------------------------------------------------
def _local_map(fn: Callable, tasks: list[dict[str, Any]], out_dir: str, workers: int) -> Iterable[dict[str, Any]]:
    if workers <= 1:
        for t in tasks:
            yield fn(t, out_dir)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from oran_gym.baselines.dataset import die_with_parent

    with ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent) as pool:  # workers die with the sweep
        futures = [pool.submit(fn, t, out_dir) for t in tasks]
        for f in as_completed(futures):
            yield f.result()


def _ray_map(fn: Callable, tasks: list[dict[str, Any]], out_dir: str, address: str | None) -> Iterable[dict[str, Any]]:
    try:
        import ray
    except ImportError as e:  # pragma: no cover - depends on the extra
        raise RuntimeError("the ray backend needs Ray: pip install 'oran-gym[ray]'") from e
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        remote = ray.remote(num_cpus=1)(fn)
        pending = [remote.remote(t, out_dir) for t in tasks]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        if started:
            ray.shutdown()


def run_sweep(grid: dict[str, Any] | str | Path, backend: str = "local", workers: int | None = None,
              address: str | None = None, progress: bool = True) -> pd.DataFrame:
    """Run (or resume) a sweep; returns the results table, also written to `<out>/results.csv`."""
    from tqdm import tqdm

    if backend not in ("local", "ray"):
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    if not isinstance(grid, dict):
        grid = load_grid(grid)
    tasks = expand_grid(grid)
    out = Path(grid["out"])
    done_dir = out / "tasks"
    _check_writable(done_dir)
    if any(t["kind"] == "label" for t in tasks):
        _check_writable(out / "labels")
    todo = [t for t in tasks if not (done_dir / f"{t['id']}.json").exists()]
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=f"sweep {grid['name']} ({backend})", disable=not progress)
    if todo:
        if not workers:
            from oran_gym.baselines.dataset import default_workers

            workers = default_workers(len(todo))  # one core left free
        rows = _local_map(run_task, todo, str(out), workers) if backend == "local" else _ray_map(run_task, todo, str(out), address)
        for row in rows:
            tmp = done_dir / f"{row['id']}.json.tmp"
            tmp.write_text(json.dumps(row, indent=1, default=float) + "\n")
            tmp.replace(done_dir / f"{row['id']}.json")  # a task counts as done only once its file is whole
            bar.update()
    bar.close()
    rows = [json.loads((done_dir / f"{t['id']}.json").read_text()) for t in tasks]
    table = pd.DataFrame(rows)
    order = [c for c in ("kind", "scenario", "policy", "seed") if c in table]
    table = table.sort_values(order, kind="stable").reset_index(drop=True)
    table.drop(columns=["wall_s"]).to_csv(out / "results.csv", index=False)
    table[["id", *order, "wall_s"]].to_csv(out / "timings.csv", index=False)
    (out / "grid.json").write_text(json.dumps(grid, indent=1, default=str) + "\n")
    return table.drop(columns=["wall_s"])
