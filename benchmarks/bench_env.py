"""Speed of ORANSlicing-v0 against CartPole-v1 in the same run, and of the numba kernels vs their NumPy twins.

Run: `python benchmarks/bench_env.py [--quick] [--out benchmarks/results/env_speed.json]`
(or `oran-gym bench --quick`). Speed is reported as ratios measured in one process, so that the
machine's speed cancels out; absolute numbers are kept for reference.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numba
import numpy as np
from gymnasium.utils.performance import benchmark_step

import oran_gym
from oran_gym import Allocation, ScenarioConfig, evaluate_allocation
from oran_gym.sim import kernels, reference
from oran_gym.sim.dynamics import NetworkState, ue_slices
from oran_gym.sim.params import pack_params

COMMITTED_RESULTS = Path(__file__).resolve().parent / "results"
"""The repository's committed record (`benchmarks/results/`); it exists in a source checkout only."""


def default_results_dir() -> Path:
    """Where results go by default: `./oran-gym-results/` under the current directory.

    Never inside the installed package; `--out-dir` overrides it, and `--out-dir benchmarks/results`
    in a checkout regenerates the committed record.
    """
    return Path.cwd() / "oran-gym-results"


def script_main(module: str, doc: str | None, run: Any, summary_lines: Any) -> None:
    """The command line of a benchmark module: `--quick`, `--smoke`, `--out-dir`; prints its summary.

    The result records the command as typed (`python -m oran_gym.benchmarks.MODULE ...`).
    """
    import argparse
    import sys

    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true")
    size.add_argument("--smoke", action="store_true")
    ap.add_argument("--out-dir", type=Path, default=None)
    args = ap.parse_args()
    command = " ".join(["python -m", f"oran_gym.benchmarks.{module}", *sys.argv[1:]])
    print("\n".join(summary_lines(run(quick=args.quick, smoke=args.smoke, out_dir=args.out_dir, command=command))))


def machine_info() -> dict[str, Any]:
    """Machine and library versions recorded with every result."""
    import os

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "gymnasium": gym.__version__,
        "oran_gym": oran_gym.__version__,
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _time_per_call(fn, min_duration_s: float) -> float:
    """Mean seconds per call of `fn()` over at least `min_duration_s` (after one warm-up call)."""
    fn()
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(50):
            fn()
        n += 50
        elapsed = time.perf_counter() - start
        if elapsed >= min_duration_s:
            return elapsed / n


def random_feasible_allocation(cfg: ScenarioConfig, rng: np.random.Generator) -> Allocation:
    """A random allocation that uses every PRB (single-cell association), for timing evaluation."""
    owner = rng.integers(0, cfg.num_ues, size=(cfg.num_rus, cfg.num_prbs))
    home = np.arange(cfg.num_ues) % cfg.num_rus
    owner = np.where(home[owner] == np.arange(cfg.num_rus)[:, None], owner, -1)
    power = rng.uniform(0.0, 0.3, size=owner.shape) * (owner >= 0)
    return Allocation.from_owner(owner, power, cfg.num_ues)


def bench_env_steps(duration_s: float, rounds: int = 3) -> dict[str, float]:
    """Steps/s through gym.make of CartPole-v1 and ORANSlicing-v0 (paper preset, prb and full), and
    of the backlog model (`paper_queue`, both modes) for its cost over the stateless model.

    The three envs are measured in turn, `rounds` times, and each reports its median: on a small
    shared machine the speed drifts, and interleaving exposes every env to the same drift.
    """
    # warm the numba cache and the env once so compile time is not counted
    for mode in ("prb", "full"):
        for preset in ("paper", "paper_queue"):
            env = gym.make("ORANSlicing-v0", config=preset, action_mode=mode, invalid_action="idle")
            env.reset(seed=0)
            env.step(env.action_space.sample())
    makers = {
        "cartpole_steps_per_s": lambda: gym.make("CartPole-v1"),
        # invalid_action="idle": benchmark_step samples uniformly, ignoring the action mask
        "oran_prb_steps_per_s": lambda: gym.make("ORANSlicing-v0", config="paper", action_mode="prb", invalid_action="idle"),
        "oran_full_steps_per_s": lambda: gym.make("ORANSlicing-v0", config="paper", action_mode="full"),
        "oran_queue_prb_steps_per_s": lambda: gym.make("ORANSlicing-v0", config="paper_queue", action_mode="prb", invalid_action="idle"),
        "oran_queue_full_steps_per_s": lambda: gym.make("ORANSlicing-v0", config="paper_queue", action_mode="full"),
    }
    samples: dict[str, list[float]] = {k: [] for k in makers}
    for _ in range(rounds):
        for key, make in makers.items():
            samples[key].append(benchmark_step(make(), target_duration=duration_s / rounds, seed=0))
    out = {k: float(np.median(v)) for k, v in samples.items()}
    ratios = [p / c for p, c in zip(samples["oran_prb_steps_per_s"], samples["cartpole_steps_per_s"])]
    out["prb_over_cartpole"] = out["oran_prb_steps_per_s"] / out["cartpole_steps_per_s"]
    out["prb_over_cartpole_per_round"] = ratios
    out["prb_over_cartpole_median_of_rounds"] = float(np.median(ratios))
    out["full_over_cartpole"] = out["oran_full_steps_per_s"] / out["cartpole_steps_per_s"]
    # the backlog model's cost: its steps/s over the stateless model's, per round and as the median
    for mode in ("prb", "full"):
        per_round = [q / p for q, p in zip(samples[f"oran_queue_{mode}_steps_per_s"], samples[f"oran_{mode}_steps_per_s"])]
        out[f"queue_{mode}_over_stateless_per_round"] = per_round
        out[f"queue_{mode}_over_stateless"] = float(np.median(per_round))
    out["full_tti_per_s_over_prb_tti_per_s"] = out["oran_full_steps_per_s"] / (
        out["oran_prb_steps_per_s"] / ScenarioConfig.preset("paper").prbs_per_tti
    )
    return out


def bench_evaluate(duration_s: float, preset: str = "paper") -> dict[str, float]:
    """Per-call time of evaluate_allocation and of its kernels, numba vs the NumPy twin."""
    cfg = ScenarioConfig.preset(preset)
    rng = np.random.default_rng(0)
    net = NetworkState.initial(cfg, rng)
    alloc = random_feasible_allocation(cfg, rng)
    gains, load = net.gain_lin, net.offered_load_bps
    params, ue_slice = pack_params(cfg), ue_slices(cfg)
    out = {}
    for name, backend in (("numba", "numba"), ("numpy", "numpy")):
        out[f"evaluate_allocation_{name}_us"] = 1e6 * _time_per_call(
            lambda b=backend: evaluate_allocation(cfg, gains, alloc, load, backend=b), duration_s
        )
        out[f"evaluate_allocation_unvalidated_{name}_us"] = 1e6 * _time_per_call(
            lambda b=backend: evaluate_allocation(cfg, gains, alloc, load, backend=b, validate=False), duration_s
        )
    for name, lib in (("numba", kernels), ("numpy", reference)):
        out[f"kernels_{name}_us"] = 1e6 * _time_per_call(
            lambda lib=lib: lib.evaluate_packed(gains, alloc.owner, alloc.power_w, ue_slice, load, params), duration_s
        )
    for key in ("evaluate_allocation", "evaluate_allocation_unvalidated", "kernels"):
        out[f"{key}_numba_speedup"] = out[f"{key}_numpy_us"] / out[f"{key}_numba_us"]
    return out


def run(quick: bool = False, out_path: Path | None = None, progress: bool = True, out_dir: Path | None = None,
        smoke: bool = False) -> dict[str, Any]:
    """Run the environment speed benchmark and write its JSON (`smoke`: a fraction of a second per env)."""
    from tqdm import tqdm

    duration = 0.3 if smoke else 3.0 if quick else 15.0
    steps = tqdm(total=2, desc="env speed", disable=not progress)
    result: dict[str, Any] = {"command": "oran-gym bench --only env" + (" --smoke" if smoke else " --quick" if quick else " --full"), "machine": machine_info()}
    result["env_steps"] = bench_env_steps(duration)
    steps.update()
    result["evaluate_allocation_paper"] = bench_evaluate(duration / 3)
    steps.update()
    steps.close()
    result["targets"] = {
        "prb_over_cartpole >= 0.5": result["env_steps"]["prb_over_cartpole"] >= 0.5,
        "kernels_numba_speedup >= 10": result["evaluate_allocation_paper"]["kernels_numba_speedup"] >= 10,
        "evaluate_allocation_unvalidated_numba_speedup >= 10": result["evaluate_allocation_paper"][
            "evaluate_allocation_unvalidated_numba_speedup"
        ]
        >= 10,
    }
    out_path = out_path or (out_dir or default_results_dir()) / "env_speed.json"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2) + "\n")
    return result


def summary_lines(result: dict[str, Any]) -> list[str]:
    """Human-readable lines of a result."""
    e, k = result["env_steps"], result["evaluate_allocation_paper"]
    return [
        f"CartPole-v1:            {e['cartpole_steps_per_s']:>10,.0f} steps/s",
        f"ORANSlicing-v0 prb:     {e['oran_prb_steps_per_s']:>10,.0f} steps/s  ({e['prb_over_cartpole']:.2f}x CartPole, target >= 0.5; "
        f"rounds: {', '.join(f'{r:.2f}' for r in e['prb_over_cartpole_per_round'])})",
        f"ORANSlicing-v0 full:    {e['oran_full_steps_per_s']:>10,.0f} steps/s = TTIs/s  "
        f"({e['full_tti_per_s_over_prb_tti_per_s']:.1f}x the prb mode's TTIs/s)",
        f"paper_queue (backlog):  prb {e['oran_queue_prb_steps_per_s']:,.0f} steps/s ({e['queue_prb_over_stateless']:.2f}x the "
        f"stateless model), full {e['oran_queue_full_steps_per_s']:,.0f} ({e['queue_full_over_stateless']:.2f}x)",
        f"evaluate_allocation:    numba {k['evaluate_allocation_numba_us']:.1f} us, NumPy twin "
        f"{k['evaluate_allocation_numpy_us']:.1f} us ({k['evaluate_allocation_numba_speedup']:.1f}x; input validation included)",
        f"  validate=False:       numba {k['evaluate_allocation_unvalidated_numba_us']:.1f} us, NumPy twin "
        f"{k['evaluate_allocation_unvalidated_numpy_us']:.1f} us ({k['evaluate_allocation_unvalidated_numba_speedup']:.1f}x)",
        f"  kernel evaluate_packed: numba {k['kernels_numba_us']:.2f} us, NumPy twin {k['kernels_numpy_us']:.1f} us "
        f"({k['kernels_numba_speedup']:.1f}x, target >= 10)",
    ]


def main() -> None:
    """Command-line entry."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="3 s per env instead of 15 s")
    ap.add_argument("--out", type=Path, default=None, help="JSON output path")
    args = ap.parse_args()
    result = run(quick=args.quick, out_path=args.out)
    print("\n".join(summary_lines(result)))


if __name__ == "__main__":
    main()
