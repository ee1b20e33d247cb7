"""MaskablePPO's training throughput on `oran_gym.sb3.NativeVecEnv` against SB3's DummyVecEnv and SubprocVecEnv.

Run: `python -m oran_gym.benchmarks.bench_sb3 [--quick|--smoke] [--out-dir D]` (or `oran-gym bench
--only sb3`). Writes `sb3_speed.json`.

One process, one run: for N = 8, 64 and 256 sub-envs (paper preset, prb mode, default kwargs),
each contender trains sb3-contrib's MaskablePPO (MLP 64-64, one epoch per rollout, rollouts of
max(16, 2048 // N) steps per sub-env) for the same number of timesteps, after one warm-up
rollout, and the env-steps per second of `learn` are recorded: everything a training run pays,
the network's forward and backward passes included. SubprocVecEnv starts one process per
sub-env; it runs only while N times the measured memory of one worker fits in half of the
machine's memory, and the record says so where it does not.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import gymnasium as gym

import oran_gym  # noqa: F401
from oran_gym.benchmarks.bench_env import default_results_dir, machine_info, script_main

SIZES = (8, 64, 256)


def _make(n: int, kind: str, seed: int = 0):
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    from oran_gym.sb3 import NativeVecEnv

    if kind == "native":
        return NativeVecEnv(n, seed=seed, config="paper")
    fns = [lambda: gym.make("ORANSlicing-v0", config="paper") for _ in range(n)]
    venv = DummyVecEnv(fns) if kind == "dummy" else SubprocVecEnv(fns, start_method="fork")
    venv.seed(seed)
    return venv


def _train_steps_per_s(n: int, kind: str, rollouts: int) -> float:
    from sb3_contrib import MaskablePPO

    venv = _make(n, kind)
    try:
        n_steps = max(16, 2048 // n)
        model = MaskablePPO("MlpPolicy", venv, n_steps=n_steps, batch_size=min(512, n_steps * n), n_epochs=1, seed=0,
                            device="cpu")
        model.learn(total_timesteps=n_steps * n)  # warm-up: numba dispatch, torch kernels
        total = rollouts * n_steps * n
        t0 = time.perf_counter()
        model.learn(total_timesteps=total, reset_num_timesteps=False)
        return total / (time.perf_counter() - t0)
    finally:
        venv.close()


def _worker_rss_mb() -> float:
    """Resident memory of a fresh process holding one env (what each SubprocVecEnv worker costs)."""
    import subprocess
    import sys

    code = ("import gymnasium as gym, oran_gym, resource; e = gym.make('ORANSlicing-v0'); e.reset(seed=0); "
            "[e.step(0) for _ in range(30)]; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def run(quick: bool = False, progress: bool = True, out_dir: Path | None = None, smoke: bool = False,
        command: str | None = None) -> dict[str, Any]:
    """Measure every contender at every N; write `sb3_speed.json` under `out_dir`."""
    import torch

    torch.set_num_threads(1)  # the same for every contender; SB3's MLP is small
    sizes = (8,) if smoke else SIZES
    rollouts = 1 if smoke else 2 if quick else 4
    rss = _worker_rss_mb()
    mem_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    t0 = time.perf_counter()
    rows, skipped = [], []
    for n in sizes:
        for kind in ("native", "dummy", "subproc"):
            if kind == "subproc" and (n * rss > mem_mb / 2 or (quick and n > 64)):
                skipped.append({"num_envs": n, "kind": kind, "why": f"{n} workers x {rss:.0f} MB > half of {mem_mb:.0f} MB"
                                if n * rss > mem_mb / 2 else "quick run: SubprocVecEnv up to N = 64"})
                continue
            sps = _train_steps_per_s(n, kind, rollouts)
            rows.append({"num_envs": n, "kind": kind, "train_steps_per_s": sps})
            if progress:
                print(f"  N={n:<4} {kind:<8} {sps:>10,.0f} MaskablePPO training env-steps/s", flush=True)
    by = {(r["num_envs"], r["kind"]): r["train_steps_per_s"] for r in rows}
    ratios = {}
    for n in sizes:
        for other in ("dummy", "subproc"):
            if (n, other) in by:
                ratios[f"native_over_{other}@{n}"] = by[(n, "native")] / by[(n, other)]
    result = {
        "command": command or "oran-gym bench --only sb3" + (" --smoke" if smoke else " --quick" if quick else " --full"),
        "machine": machine_info(),
        "preset": "paper",
        "algorithm": "sb3_contrib.MaskablePPO, MLP 64-64, n_epochs 1, n_steps max(16, 2048 // N), torch 1 thread",
        "rollouts_timed": rollouts,
        "subproc_worker_rss_mb": rss,
        "rows": rows,
        "skipped": skipped,
        "ratios": ratios,
        "wall_s": time.perf_counter() - t0,
    }
    out_dir = out_dir or default_results_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "sb3_speed.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def summary_lines(result: dict[str, Any]) -> list[str]:
    """Human-readable lines of a result."""
    lines = [f"N={r['num_envs']:<4} {r['kind']:<8} {r['train_steps_per_s']:>10,.0f} MaskablePPO training env-steps/s"
             for r in result["rows"]]
    lines += [f"{k}: {v:.1f}x" for k, v in result["ratios"].items()]
    lines += [f"N={s['num_envs']} {s['kind']}: skipped ({s['why']})" for s in result["skipped"]]
    return lines


def main() -> None:
    """Command-line entry."""
    script_main("bench_sb3", __doc__, run, summary_lines)


if __name__ == "__main__":
    main()
