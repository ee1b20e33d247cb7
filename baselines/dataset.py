"""Oracle-labelled datasets for supervised policies (SS-VAE): channel realisations -> optimal allocations.

`generate_dataset(cfg, n, out_path)` draws `n` independent TTIs of a scenario (sample i from the
seed sequence `[seed, i]`, so any sample can be regenerated alone), solves each with an oracle and
writes one `.npz` holding

* `gains [n, B, U, M]`, `offered_load_bps [n, U]`, `large_scale_db [n, B, U]` (path loss plus
  shadowing: contrastive learning redraws small-scale fading on the same drop), `ue_slice [U]`
* `owner [n, B, M]`, `power_w [n, B, M]`, `assoc [n, U]`: the optimal allocation
* `value [n]` (its reward, or eq. 10's objective with `objective="constrained"`), `upper_bound [n]`,
  `proven_optimal [n]`, `solve_time_s [n]`, `feasible [n]`
* `config_json`, `oracle`, `objective`, `seed`: how it was made.

`objective="constrained"` labels with the paper's Algorithm 1 (eq. 10 with every constraint hard,
`MILPOracle(objective="constrained")` or the ESA's): a drop with no feasible allocation keeps
`feasible=False`, an idle label and value -inf; `feasible_only(data)` drops those samples.

Work is split into shards solved in parallel processes with a progress bar; finished shards are
kept beside the output (`<out>.shards/`), so an interrupted run resumes where it stopped. A shard is
written under a temporary name unique to its process and renamed when complete; the merge reads
only complete shards. A lock file refuses a second run on the same output while the first lives,
the worker processes die with their parent (Linux), and the default leaves one core free. The
merged `.npz` gets a SHA-256 manifest (`oran_gym.artefacts`) that `load_dataset` verifies.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from oran_gym import ScenarioConfig
from oran_gym.sim.dynamics import NetworkState, ue_slices

__all__ = ["generate_dataset", "load_dataset", "take_samples", "feasible_only", "sample_instance", "sample_drop"]

ORACLE_NAMES = ("milp", "esa", "local_search")
SHARD_NAME = re.compile(r"^shard_\d{8}_\d{8}\.npz$")


def die_with_parent() -> None:
    """Process-pool initializer: the worker gets SIGTERM when its parent dies (Linux prctl), so a killed
    run leaves no orphan solving on; elsewhere a no-op."""
    import signal
    import sys

    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:  # pragma: no cover - a libc without prctl
            pass


def default_workers(jobs: int) -> int:
    """Processes for `jobs` tasks: every core but one (at least one), no more than the tasks."""
    return max(1, min(jobs, (os.cpu_count() or 1) - 1))


class OutputLock:
    """`<folder>/.lock` holding the writer's PID: a second writer is refused while the first lives."""

    def __init__(self, folder: Path) -> None:
        """Lock `folder` (created if needed)."""
        self.path = Path(folder) / ".lock"

    def __enter__(self) -> OutputLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    pid = int(self.path.read_text().strip() or 0)
                except (OSError, ValueError):
                    pid = 0
                if pid and _alive(pid):
                    raise RuntimeError(f"{self.path.parent} is being written by another run (PID {pid}); "
                                       "wait for it, or choose another output") from None
                self.path.unlink(missing_ok=True)  # a stale lock of a run that died: take it over
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            return self
        raise RuntimeError(f"could not lock {self.path.parent}")

    def __exit__(self, *exc: Any) -> None:
        self.path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sample_drop(cfg: ScenarioConfig, seed: int, index: int) -> NetworkState:
    """The network state of sample `index`: a fresh scenario drop per sample, seeded `[seed, index]`."""
    return NetworkState.initial(cfg, np.random.default_rng([seed, index]))


def sample_instance(cfg: ScenarioConfig, seed: int, index: int) -> tuple[np.ndarray, np.ndarray]:
    """Gains `[B, U, M]` and offered loads `[U]` of sample `index`."""
    net = sample_drop(cfg, seed, index)
    return net.gain_lin, net.offered_load_bps


def _make_oracle(name: str, time_limit_s: float | None, objective: str = "reward"):
    from oran_gym.baselines.oracles import ExhaustiveSearchOracle, LocalSearchOracle, MILPOracle

    if name == "milp":
        return MILPOracle(time_limit_s=time_limit_s, objective=objective)
    if name == "esa":
        return ExhaustiveSearchOracle(objective=objective)
    if objective != "reward":
        raise ValueError(f"oracle {name!r} has only objective='reward', got objective={objective!r}")
    if name == "local_search":
        return LocalSearchOracle(time_limit_s=time_limit_s)
    raise ValueError(f"oracle must be one of {list(ORACLE_NAMES)}, got {name!r}")


def _solve_shard(job: dict[str, Any]) -> str:
    cfg = ScenarioConfig.from_mapping(job["config"])
    oracle = _make_oracle(job["oracle"], job["time_limit_s"], job.get("objective", "reward"))
    idx = np.arange(job["start"], job["stop"])
    B, U, M = cfg.num_rus, cfg.num_ues, cfg.num_prbs
    out = {
        "index": idx,
        "gains": np.empty((idx.size, B, U, M)),
        "offered_load_bps": np.empty((idx.size, U)),
        "large_scale_db": np.empty((idx.size, B, U)),
        "owner": np.empty((idx.size, B, M), dtype=np.int64),
        "power_w": np.empty((idx.size, B, M)),
        "assoc": np.empty((idx.size, U), dtype=np.int64),
        "value": np.empty(idx.size),
        "upper_bound": np.empty(idx.size),
        "proven_optimal": np.empty(idx.size, dtype=bool),
        "solve_time_s": np.empty(idx.size),
        "feasible": np.empty(idx.size, dtype=bool),
    }
    for k, i in enumerate(idx):
        net = sample_drop(cfg, job["seed"], int(i))
        gains, load = net.gain_lin, net.offered_load_bps
        sol = oracle.solve_detailed(cfg, gains, load)
        out["gains"][k], out["offered_load_bps"][k], out["large_scale_db"][k] = gains, load, net.large_scale_db
        out["feasible"][k] = sol.allocation is not None
        if sol.allocation is None:  # the constrained objective on a drop no allocation satisfies: an idle label
            out["owner"][k], out["power_w"][k], out["assoc"][k] = -1, 0.0, -1
        else:
            out["owner"][k], out["power_w"][k], out["assoc"][k] = sol.allocation.owner, sol.allocation.power_w, sol.allocation.assoc
        out["value"][k], out["upper_bound"][k] = sol.value, sol.upper_bound
        out["proven_optimal"][k], out["solve_time_s"][k] = sol.proven_optimal, sol.solve_time_s
    final = Path(job["path"])
    # unique per process and never matching a shard's name: the merge and other writers ignore it
    tmp = final.with_name(f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")
    with open(tmp, "wb") as f:  # a file object: numpy appends no ".npz" to the name
        np.savez_compressed(f, **out)
    os.replace(tmp, final)  # atomic: a shard on disk is always complete
    return job["path"]


def generate_dataset(
    cfg: ScenarioConfig | str,
    n: int,
    out_path: str | Path,
    *,
    seed: int = 0,
    oracle: str = "milp",
    objective: str = "reward",
    workers: int | None = None,
    shard_size: int = 50,
    time_limit_s: float | None = 60.0,
    progress: bool = True,
) -> Path:
    """Label `n` TTIs with `oracle` and write them to `out_path` (.npz); resumes from finished shards.

    `objective`: "reward" (eq. 22, the default) or "constrained" (the paper's Algorithm 1; "milp" and
    "esa" only).
    """
    cfg = ScenarioConfig.coerce(cfg)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n!r}")
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size!r}")
    if oracle not in ORACLE_NAMES:
        raise ValueError(f"oracle must be one of {list(ORACLE_NAMES)}, got {oracle!r}")
    if objective not in ("reward", "constrained"):
        raise ValueError(f"objective must be 'reward' or 'constrained', got {objective!r}")
    if objective == "constrained" and oracle == "local_search":
        raise ValueError("objective='constrained' needs oracle='milp' or 'esa' (the local search has only the reward)")
    if oracle == "milp" and cfg.num_rus > 1:
        raise ValueError("the MILP oracle is exact only for one RU; use oracle='local_search' (a lower bound) or 'esa'")
    out_path = Path(out_path)
    if out_path.suffix != ".npz":
        out_path = out_path.with_name(out_path.name + ".npz")
    shard_dir = out_path.with_name(out_path.name + ".shards")
    shard_dir.mkdir(parents=True, exist_ok=True)
    with OutputLock(shard_dir):
        return _generate(cfg, n, out_path, shard_dir, seed, oracle, workers, shard_size, time_limit_s, progress, objective)


def _generate(cfg: ScenarioConfig, n: int, out_path: Path, shard_dir: Path, seed: int, oracle: str, workers: int | None,
              shard_size: int, time_limit_s: float | None, progress: bool, objective: str = "reward") -> Path:
    """`generate_dataset` under its output lock."""
    from tqdm import tqdm

    meta = {"config": cfg.to_dict(), "seed": seed, "oracle": oracle, "shard_size": shard_size}
    if objective != "reward":  # the key only where it differs, so reward-labelled shards made earlier still resume
        meta["objective"] = objective
    meta_file = shard_dir / "meta.json"
    if meta_file.exists() and json.loads(meta_file.read_text()) != meta:
        raise ValueError(
            f"{shard_dir} holds shards of a different run (config, seed, oracle, objective or shard size differ); "
            "delete it or choose another out_path"
        )
    meta_file.write_text(json.dumps(meta))
    jobs = []
    for start in range(0, n, shard_size):
        stop = min(start + shard_size, n)
        path = str(shard_dir / f"shard_{start:08d}_{stop:08d}.npz")
        if not os.path.exists(path):
            jobs.append({**meta, "start": start, "stop": stop, "path": path, "time_limit_s": time_limit_s})
    workers = workers or default_workers(len(jobs))
    bar = tqdm(total=n, initial=n - sum(j["stop"] - j["start"] for j in jobs), desc=f"labelling with {oracle}", disable=not progress)
    if workers == 1:
        for job in jobs:
            _solve_shard(job)
            bar.update(job["stop"] - job["start"])
    elif jobs:
        with ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent) as pool:
            for job, _ in zip(jobs, pool.map(_solve_shard, jobs)):
                bar.update(job["stop"] - job["start"])
    bar.close()
    shards = sorted(p for p in shard_dir.iterdir() if SHARD_NAME.match(p.name))  # complete shards only
    parts = [dict(np.load(p)) for p in shards]
    merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    # a run resumed with a larger n may overlap an earlier partial shard: samples depend only on
    # (seed, index), so keep one copy of each index below n
    index, first = np.unique(merged.pop("index"), return_index=True)
    keep = first[index < n]
    if keep.size != n:
        raise RuntimeError(f"expected {n} samples in {shard_dir}, found {keep.size}")
    merged = {k: v[keep] for k, v in merged.items()}
    np.savez_compressed(
        out_path, **merged, ue_slice=ue_slices(cfg), config_json=json.dumps(cfg.to_dict()), oracle=oracle, seed=seed,
        objective=objective,
    )
    from oran_gym.artefacts import write_manifest

    write_manifest(out_path, "dataset", {**meta, "samples": n})
    return out_path


def load_dataset(path: str | Path) -> dict[str, Any]:
    """Read a dataset written by `generate_dataset` (verified against its manifest); `config` is the `ScenarioConfig`."""
    from oran_gym.artefacts import verify

    verify(path, "dataset")
    with np.load(path) as data:
        out = {k: data[k] for k in data.files}
    out["config"] = ScenarioConfig.from_mapping(json.loads(str(out.pop("config_json"))))
    out["oracle"] = str(out["oracle"])
    out["seed"] = int(out["seed"])
    out["objective"] = str(out.get("objective", "reward"))
    if "feasible" not in out:  # datasets written before the constrained objective: every label is feasible
        out["feasible"] = np.ones(len(out["value"]), dtype=bool)
    return out


def take_samples(data: dict[str, Any], keep: Any) -> dict[str, Any]:
    """A loaded dataset restricted to the samples `keep` selects (an index, slice or boolean mask);
    the per-sample arrays are cut, everything else (config, oracle, `ue_slice`, ...) is kept."""
    n = len(data["value"])
    return {k: (v[keep] if isinstance(v, np.ndarray) and v.ndim and len(v) == n else v) for k, v in data.items()}


def feasible_only(data: dict[str, Any]) -> dict[str, Any]:
    """The samples of a loaded dataset that have a feasible label (all of them under the reward objective)."""
    return take_samples(data, np.asarray(data["feasible"], dtype=bool))
