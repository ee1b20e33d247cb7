"""Vectorised speed: the native `ORANSlicingVectorEnv` against Gymnasium's wrappers, NumPy and peers.

Run: `python benchmarks/bench_vector.py [--quick|--smoke]` (or `oran-gym bench --only vector`).
Writes `benchmarks/results/vector_speed.json` and `vector_speed.png`.

Everything is measured in one process, in rounds that interleave the contenders, so that the
machine's speed and load cancel in the ratios. Env-steps/s count sub-env steps (N per vector
step). Every contender gets the same kind of actions: uniform random over the action space,
drawn before timing, with `invalid_action="idle"` (a masked action idles the PRB); only the step
calls are timed. Contenders: the single env (`gym.make`), `SyncVectorEnv` and `AsyncVectorEnv`
over it, the native vector env with its numba kernels and with their NumPy twins (the batched
NumPy reference), CartPole-v1, EnvPool's C++ CartPole-v1 at the same N and thread count, and
mobile-env's `mobile-small-central-v0` (when installed: the `envpool` and `bench` extras).
AsyncVectorEnv starts one process per sub-env, so it runs only up to N = 16 here. The `threads`
table runs the native env at one thread beside its default (numba's thread count), the choice
its docstring explains. Profiles of the native env at the largest N and of the single env say
where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
import warnings
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from oran_gym.benchmarks import batched_numpy
from oran_gym.benchmarks.bench_env import default_results_dir, machine_info

import oran_gym  # noqa: F401

PRESET = "paper"


def _steps_per_s(env, actions: np.ndarray, min_s: float, per_step: int) -> float:
    """Env-steps/s of `env.step` over the pre-drawn `actions` (cycled), timing only the steps."""
    n_act = len(actions)
    step = env.step
    busy, done, i = 0.0, 0, 0
    while busy < min_s:
        t0 = time.perf_counter()
        for _ in range(50):
            out = step(actions[i % n_act])
            i += 1
            if per_step == 1 and (out[2] or out[3]):
                env.reset()
        busy += time.perf_counter() - t0
        done += 50
    return done * per_step / busy


def _ready(make, seed: int = 0) -> tuple[Any, list[Any]]:
    """A new single env from `make`, reset and seeded, with 4,096 random actions of its space drawn
    and the first 100 stepped (warm-up: numba dispatch, caches)."""
    env = make()
    env.reset(seed=seed)
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(4096)]
    for a in actions[:100]:
        _, _, term, trunc, _ = env.step(a)
        if term or trunc:
            env.reset()
    return env, actions


def _single(make, min_s: float, seed: int = 0) -> float:
    env, actions = _ready(make, seed)
    rate = _steps_per_s(env, actions, min_s, 1)
    env.close()
    return rate


def _paired(makers: dict[str, Any], min_s: float, burst: int = 200, seed: int = 0) -> dict[str, float]:
    """Steps/s of single envs timed in alternating bursts of `burst` steps until each has run
    `min_s` seconds: drift in the machine's speed then falls on every env alike, which a ratio of
    two separate timings does not get (the same actions and resets as `_single`)."""
    ready = {k: _ready(make, seed) for k, make in makers.items()}
    envs, actions = {k: r[0] for k, r in ready.items()}, {k: r[1] for k, r in ready.items()}
    busy, done = dict.fromkeys(makers, 0.0), dict.fromkeys(makers, 0)
    while min(busy.values()) < min_s:
        for k, env in envs.items():
            acts, step, i = actions[k], env.step, done[k]
            t0 = time.perf_counter()
            for j in range(i, i + burst):
                out = step(acts[j % 4096])
                if out[2] or out[3]:
                    env.reset()
            busy[k] += time.perf_counter() - t0
            done[k] += burst
    for env in envs.values():
        env.close()
    return {k: done[k] / busy[k] for k in makers}


def _vector(kind: str, n: int, min_s: float, seed: int = 0) -> float:
    kwargs = {"config": PRESET, "invalid_action": "idle"}
    if kind == "envpool":
        return _envpool(n, min_s, seed)
    if kind == "native1":
        envs = gym.make_vec("ORANSlicing-v0", num_envs=n, vectorization_mode="vector_entry_point", num_threads=1, **kwargs)
    elif kind == "native":
        envs = gym.make_vec("ORANSlicing-v0", num_envs=n, vectorization_mode="vector_entry_point", **kwargs)
    elif kind == "numpy":
        envs = gym.make_vec("ORANSlicing-v0", num_envs=n, vectorization_mode="vector_entry_point", backend=batched_numpy,
                            **kwargs)
    else:
        envs = gym.make_vec("ORANSlicing-v0", num_envs=n, vectorization_mode=kind, **kwargs)
    envs.reset(seed=seed)
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, envs.single_action_space.n, size=(256, n))
    for a in actions[:30]:
        envs.step(a)
    rate = _steps_per_s(envs, actions, min_s, n)
    envs.close()
    return rate


def _envpool_cartpole(n: int, threads: int, seed: int = 0):
    """EnvPool's C++ CartPole-v1, `n` envs in one batch on `threads` threads (None when not installed)."""
    try:
        import envpool
    except ImportError:
        return None
    with warnings.catch_warnings():  # EnvPool declares float64 bounds on its float32 Box: not ours to fix
        warnings.filterwarnings("ignore", message=".*precision lowered by casting to float32", category=UserWarning)
        envs = envpool.make_gymnasium("CartPole-v1", num_envs=n, batch_size=n, num_threads=min(n, threads), seed=seed)
        _ = (envs.observation_space, envs.action_space)  # built and cached on first use: here, under the filter
    return envs


def _envpool(n: int, min_s: float, seed: int = 0) -> float | None:
    """Env-steps/s of EnvPool's C++ CartPole-v1 with `n` envs in one batch, on numba's thread count."""
    import numba

    envs = _envpool_cartpole(n, numba.get_num_threads(), seed)
    if envs is None:
        return None
    envs.reset()
    actions = np.random.default_rng(seed).integers(0, 2, size=(256, n)).astype(np.int32)
    for a in actions[:30]:
        envs.step(a)
    rate = _steps_per_s(envs, actions, min_s, n)  # EnvPool resets finished envs itself
    envs.close()
    return rate


def _mobile_env_maker():
    try:
        import mobile_env  # noqa: F401  (registers mobile-small-central-v0)
    except ImportError:
        return None
    return lambda: gym.make("mobile-small-central-v0")


def profile_native(n: int, steps: int) -> dict[str, Any]:
    """Share of the native env's step time per function at `n` sub-envs (cProfile, own time)."""
    envs = gym.make_vec("ORANSlicing-v0", num_envs=n, config=PRESET, invalid_action="idle")
    envs.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = rng.integers(0, envs.single_action_space.n, size=(steps, n))
    for a in actions[:30]:
        envs.step(a)
    return {"num_envs": n, "steps": steps, **_profile(lambda: [envs.step(a) for a in actions])}


def profile_single(steps: int) -> dict[str, Any]:
    """Share of the single env's step time per function (through gym.make; cProfile, own time)."""
    env = gym.make("ORANSlicing-v0", config=PRESET, invalid_action="idle")
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, env.action_space.n, size=steps)

    def run() -> None:
        for a in actions:
            if env.step(int(a))[3]:
                env.reset()

    return {"steps": steps, **_profile(run)}


def floor_at_one(steps: int, repeats: int = 3) -> dict[str, Any]:
    """Microseconds per call at N = 1 (best of `repeats` loops of `steps` calls, interleaved): the
    native env's step, the part of it that builds Gymnasium's vector `info` (its values and one
    all-True `_key` mask per key, the layout `SyncVectorEnv` returns) from arrays already copied,
    and the single env's whole step. The info layout alone over the single env's step bounds
    `native@1_over_single` from above: a vector env that returns that layout cannot be faster.
    """
    envs = gym.make_vec("ORANSlicing-v0", num_envs=1, config=PRESET, invalid_action="idle")
    env = gym.make("ORANSlicing-v0", config=PRESET, invalid_action="idle")
    envs.reset(seed=0)
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, env.action_space.n, size=steps)
    vec_actions = actions.reshape(steps, 1)
    u = envs.unwrapped
    a, n = u._a, 1
    zeros = np.zeros((2, n), np.int64)
    args = (a.scalar_out[:, 0].copy(), a.scalar_out[:, 1].copy(), a.scalar_out[:, 2].copy(), a.int_out[:, 0].copy(),
            a.int_out[:, 1].copy(), zeros[0], zeros[1], u._step_kpis(), a.int_out[:, 2].copy(), a.int_out[:, 3] == 1, None)

    def native() -> None:
        for x in vec_actions:
            envs.step(x)

    def info() -> None:
        for _ in range(steps):
            u._info_dict(*args)

    def single() -> None:
        for x in actions:
            if env.step(int(x))[3]:
                env.reset()

    best = {"native@1_step_us": np.inf, "info_layout_us": np.inf, "single_step_us": np.inf}
    for _ in range(repeats):
        for key, fn in zip(best, (native, info, single), strict=True):
            t0 = time.perf_counter()
            fn()
            best[key] = min(best[key], (time.perf_counter() - t0) / steps * 1e6)
    best["steps"], best["repeats"] = steps, repeats
    best["info_layout_over_single_step"] = best["info_layout_us"] / best["single_step_us"]
    best["bound_on_native@1_over_single"] = best["single_step_us"] / best["info_layout_us"]
    return best


def floor_at_scale(n: int, repeats: int = 3) -> dict[str, Any]:
    """Where the native env's step time goes at N = `n`, and the most the env could reach there.

    One episode of all `n` sub-envs in lockstep (random actions drawn beforehand, "idle"; the
    episode's prb steps and its autoreset step), three loops interleaved `repeats` times, best
    loop of each: the env's own `step`; its numba phases alone, called as the env calls them
    (the action check, the prb step, the next TTI's dynamics and start, the autoreset's new
    scenarios), without the step's Python outputs (fresh obs, rewards and info arrays); and
    EnvPool's C++ CartPole at the same N and thread count (None when not installed). The phases
    alone over EnvPool bound native / EnvPool from above: Python around the kernels can only add.
    """
    from oran_gym.sim import batched

    envs = gym.make_vec("ORANSlicing-v0", num_envs=n, vectorization_mode="vector_entry_point", config=PRESET,
                        invalid_action="idle")
    u = envs.unwrapped
    cfg = u.config
    per_episode = cfg.episode_length_tti * cfg.num_rus * cfg.num_prbs + 1  # the prb steps, then the autoreset
    actions = np.random.default_rng(0).integers(0, envs.single_action_space.n, size=(per_episode, n))
    a, k, st, ids, num_actions = u._a, u._k, u._st, u._all, envs.single_action_space.n
    phases = ("action check", "prb step", "next TTI (dynamics, start)", "autoreset (new scenarios)")

    def native() -> dict[str, float]:
        envs.reset(seed=0)
        t0 = time.perf_counter()
        for x in actions:
            envs.step(x)
        return {"total": time.perf_counter() - t0}

    def kernels() -> dict[str, float]:
        envs.reset(seed=0)
        spent = dict.fromkeys(phases, 0.0)
        reset_next = False
        with u._numba_threads():
            for x in actions:
                if reset_next:  # the step after truncation resets every sub-env (NEXT_STEP autoreset)
                    t0 = time.perf_counter()
                    u._reset_ids(ids)
                    spent[phases[3]] += time.perf_counter() - t0
                    reset_next = False
                    continue
                act = x.copy()
                t0 = time.perf_counter()
                batched.check_prb_actions(ids, act, a.mask, num_actions, True, u._invalid)
                t1 = time.perf_counter()
                k.prb_step(ids, act, st)
                t2 = time.perf_counter()
                spent[phases[0]] += t1 - t0
                spent[phases[1]] += t2 - t1
                if a.int_out[0, 3] == 1:  # lockstep: every sub-env ends its TTI on the same step
                    k.advance_dynamics(ids, st)
                    k.begin_tti(ids, st)
                    spent[phases[2]] += time.perf_counter() - t2
                    reset_next = bool(a.int_out[0, 4] == 1)
        spent["total"] = sum(spent.values())
        return spent

    pool = _envpool_cartpole(n, u._threads)
    pool_actions = np.random.default_rng(0).integers(0, 2, size=(per_episode, n)).astype(np.int32)

    def cartpole() -> dict[str, float]:
        pool.reset()
        t0 = time.perf_counter()
        for x in pool_actions:
            pool.step(x)
        return {"total": time.perf_counter() - t0}

    loops = {"native": native, "kernels": kernels} | ({"envpool": cartpole} if pool is not None else {})
    best: dict[str, dict[str, float]] = {}
    for _ in range(repeats):
        for name, fn in loops.items():
            got = fn()
            if name not in best or got["total"] < best[name]["total"]:
                best[name] = got
    envs.close()
    if pool is not None:
        pool.close()
    rate = {name: per_episode * n / b["total"] for name, b in best.items()}
    native_s = best["native"]["total"]
    share = {p: best["kernels"][p] / native_s for p in phases}
    share["Python outputs (obs, rewards, info)"] = 1.0 - best["kernels"]["total"] / native_s
    out: dict[str, Any] = {
        "num_envs": n, "steps": per_episode, "repeats": repeats,
        "native_env_steps_per_s": rate["native"], "kernels_env_steps_per_s": rate["kernels"],
        "envpool_env_steps_per_s": rate.get("envpool"),
        "share_of_native_step": share,
        "kernel_us_per_env_step": {p: 1e6 * best["kernels"][p] / (per_episode * n) for p in phases},
    }
    if pool is not None:
        out["native_over_envpool"] = rate["native"] / rate["envpool"]
        out["bound_on_native_over_envpool"] = rate["kernels"] / rate["envpool"]
    return out


def _profile(fn) -> dict[str, Any]:
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    stats = pstats.Stats(prof).stats
    total = sum(v[2] for v in stats.values())
    named = {}
    for (file, _line, func), v in stats.items():
        key = f"{Path(file).name}:{func}" if file != "~" else func
        named[key] = named.get(key, 0.0) + v[2]
    top = sorted(named.items(), key=lambda kv: -kv[1])[:8]
    return {"total_s": total, "top_own_time_share": {k: v / total for k, v in top}}


def run(quick: bool = False, progress: bool = True, out_dir: Path | None = None, smoke: bool = False) -> dict[str, Any]:
    """Run the benchmark; write `vector_speed.json` and `vector_speed.png` under `out_dir`."""
    from tqdm import tqdm

    if smoke:
        sizes, min_s, rounds, sync_max, async_max = [1, 8], 0.05, 1, 8, 2
    elif quick:
        sizes, min_s, rounds, sync_max, async_max = [1, 16, 256, 1024], 0.5, 2, 256, 4
    else:
        sizes, min_s, rounds, sync_max, async_max = [1, 4, 16, 64, 256, 1024, 4096], 2.0, 3, 1024, 16
    mobile = _mobile_env_maker()
    singles = {"single": lambda: gym.make("ORANSlicing-v0", config=PRESET, invalid_action="idle"),
               "cartpole": lambda: gym.make("CartPole-v1")}
    if mobile is not None:
        singles["mobile_env"] = mobile
    jobs = [(k, 1) for k in singles]
    for n in sizes:
        jobs += [("native", n), ("numpy", n), ("envpool", n)]
        if not smoke:
            jobs.append(("native1", n))
        if n <= sync_max:
            jobs.append(("sync", n))
        if n <= async_max:
            jobs.append(("async", n))
    samples: dict[str, list[float]] = {}
    bar = tqdm(total=rounds * (len(jobs) + 1), desc="vector speed", disable=not progress)
    for _ in range(rounds):
        for kind, n in jobs:
            key = kind if kind in singles else f"{kind}@{n}"
            rate = _single(singles[kind], min_s / 2) if kind in singles else _vector(kind, n, min_s)
            if rate is not None:  # None: the peer is not installed
                samples.setdefault(key, []).append(rate)
            bar.update()
        paired = _paired({"single": singles["single"], "cartpole": singles["cartpole"]}, min_s / 2)
        samples.setdefault("single_over_cartpole_paired", []).append(paired["single"] / paired["cartpole"])
        bar.update()
    bar.close()
    paired_ratios = samples.pop("single_over_cartpole_paired")
    med = {k: float(np.median(v)) for k, v in samples.items()}
    big = max(n for n in sizes if n <= 1024)
    ratios = {
        f"native@{big}_over_single": med[f"native@{big}"] / med["single"],
        f"native@{big}_over_numpy@{big}": med[f"native@{big}"] / med[f"numpy@{big}"],
        # the target's ratio: per round, the two envs timed in alternating bursts (`_paired`), median
        "single_over_cartpole": float(np.median(paired_ratios)),
        "single_over_cartpole_of_medians": med["single"] / med["cartpole"],
        "native@1_over_single": med["native@1"] / med["single"],
    }
    if f"envpool@{big}" in med:
        ratios[f"native@{big}_over_envpool@{big}"] = med[f"native@{big}"] / med[f"envpool@{big}"]
    if "mobile_env" in med:
        ratios["single_over_mobile_env"] = med["single"] / med["mobile_env"]
    if f"sync@{big}" in med:
        ratios[f"native@{big}_over_sync@{big}"] = med[f"native@{big}"] / med[f"sync@{big}"]
    result: dict[str, Any] = {
        "command": "oran-gym bench --only vector" + (" --smoke" if smoke else " --quick" if quick else " --full"),
        "machine": machine_info(),
        "preset": PRESET,
        "method": ("median over rounds of env-steps/s, step calls only, random actions drawn beforehand, "
                   "invalid_action='idle'; single / CartPole-v1 is the median over rounds of the two timed in "
                   "alternating bursts of 200 steps"),
        "sizes": sizes,
        "steps_per_s": med,
        "per_round": samples | {"single_over_cartpole_paired": paired_ratios},
        "ratios": ratios,
        "threads": {f"native@{n}": {"default": med.get(f"native@{n}"), "one_thread": med.get(f"native1@{n}")}
                    for n in sizes if f"native1@{n}" in med},
        "profile": profile_native(big, 50 if smoke else 250),
        "profile_single": profile_single(500 if smoke else 20_000),
        "floor_at_one": floor_at_one(500 if smoke else 20_000),
        "floor_at_scale": floor_at_scale(8 if smoke else big, 1 if smoke else 3),
    }
    # target -> (ratio it reads, threshold)
    checks = {f"native@{big} >= 100x single": (f"native@{big}_over_single", 100.0),
              f"native@{big} >= 3x numpy reference": (f"native@{big}_over_numpy@{big}", 3.0),
              "single >= 1.0x CartPole-v1": ("single_over_cartpole", 1.0),
              "native@1 >= 1.0x single": ("native@1_over_single", 1.0)}
    if f"native@{big}_over_envpool@{big}" in ratios:
        checks[f"native@{big} >= 3x EnvPool CartPole@{big}"] = (f"native@{big}_over_envpool@{big}", 3.0)
    if "single_over_mobile_env" in ratios:
        checks["single >= 100x mobile-env"] = ("single_over_mobile_env", 100.0)
    result["targets"] = {k: {"ratio": key, "measured": ratios[key], "threshold": t, "met": ratios[key] >= t}
                         for k, (key, t) in checks.items()}
    out_dir = out_dir or default_results_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "vector_speed.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(result, out_dir / "vector_speed.png")
    return result


def plot(result: dict[str, Any], path: Path) -> None:
    """Env-steps/s against the number of sub-envs, with the single-env peers as horizontal lines."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    med = result["steps_per_s"]
    fig = Figure(figsize=(7, 4.2), dpi=100)
    ax = fig.subplots()
    labels = {"native": "ORANSlicingVectorEnv (numba)", "native1": "ORANSlicingVectorEnv, 1 thread",
              "numpy": "batched NumPy reference", "sync": "SyncVectorEnv", "async": "AsyncVectorEnv",
              "envpool": "EnvPool CartPole-v1 (C++)"}
    for kind, label in labels.items():
        pts = sorted((int(k.split("@")[1]), v) for k, v in med.items() if k.startswith(kind + "@"))
        if pts:
            ax.plot(*zip(*pts), marker="o", label=label)
    styles = {"single": ("single env (gym.make)", "k"), "cartpole": ("CartPole-v1", "tab:gray"),
              "mobile_env": ("mobile-env small central", "tab:red")}
    for key, (label, colour) in styles.items():
        if key in med:
            ax.axhline(med[key], ls="--", lw=1, c=colour, label=f"{label}: {med[key]:,.0f}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("sub-environments N")
    ax.set_ylabel("env-steps/s (paper preset, prb mode)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)


def summary_lines(result: dict[str, Any]) -> list[str]:
    """Human-readable lines of a result."""
    med, r = result["steps_per_s"], result["ratios"]
    lines = [f"{k:>16}: {v:>12,.0f} env-steps/s" for k, v in med.items()]
    lines += [f"{k}: {v:,.1f}x" for k, v in r.items()]
    lines += [f"target {k}: {'met' if t['met'] else 'NOT met'} ({t['measured']:.1f}x)" for k, t in result["targets"].items()]
    prof = result["profile"]
    lines.append(f"where the time goes at N = {prof['num_envs']}: " + ", ".join(
        f"{k} {100 * v:.0f} %" for k, v in list(prof["top_own_time_share"].items())[:5]))
    if "floor_at_one" in result:
        f = result["floor_at_one"]
        lines.append(f"at N = 1, per step: native {f['native@1_step_us']:.1f} us, of which Gymnasium's vector info layout "
                     f"{f['info_layout_us']:.1f} us; single env {f['single_step_us']:.1f} us (so native@1 / single "
                     f"<= {f['bound_on_native@1_over_single']:.2f}x with that layout)")
    if "floor_at_scale" in result:
        f = result["floor_at_scale"]
        lines.append(f"at N = {f['num_envs']}, share of the native step: " + ", ".join(
            f"{k} {100 * v:.0f} %" for k, v in f["share_of_native_step"].items()))
        if f.get("bound_on_native_over_envpool") is not None:
            lines.append(f"at N = {f['num_envs']}: the kernels alone run {f['kernels_env_steps_per_s']:,.0f} env-steps/s, "
                         f"{f['bound_on_native_over_envpool']:.2f}x EnvPool's CartPole ({f['envpool_env_steps_per_s']:,.0f}); "
                         f"the env {f['native_over_envpool']:.2f}x")
    lines.append("where the single env's time goes: " + ", ".join(
        f"{k} {100 * v:.0f} %" for k, v in list(result["profile_single"]["top_own_time_share"].items())[:5]))
    return lines


def main() -> None:
    """Command-line entry."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true")
    size.add_argument("--smoke", action="store_true", help="seconds: checks the script runs")
    ap.add_argument("--out-dir", type=Path, default=None)
    args = ap.parse_args()
    print("\n".join(summary_lines(run(quick=args.quick, smoke=args.smoke, out_dir=args.out_dir))))


if __name__ == "__main__":
    main()
