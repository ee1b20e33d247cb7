"""A forecast experiment that could succeed: load forecasts for MaskablePPO on the backlog model.

Run: `python -m oran_gym.benchmarks.reproduce_queue_forecast [--seeds 5] [--timesteps 100000]`.
Writes `benchmarks/results/queue_forecast.csv` (one row per agent run) and `queue_forecast.json`
(the table, paired differences, the detectable effect and the command).

The protocol (issue 15, DESIGN.md section 6):

1. The seed-001 BiLSTM digital twin is trained on the first `TRAIN_FRACTION` (60 %) of the real
   operator-KPI trace (its own chronological train/validation/test split inside that part).
2. The env is `paper_queue` with eMBB arrival rates driven by the trace's later, disjoint part
   (`trace_start_fraction` = 0.6), one 5-minute sample per TTI (`trace_ttis_per_sample` = 1), so
   that an episode of 50 TTIs spans about four hours of demand, and eMBB at 300 packets/s
   (2.4 Mbit/s per UE on average, above the cell's capacity at the daily peak): queues build.
3. MaskablePPO (the shipped hyperparameters, prb mode, `NativeVecEnv` of 8) is trained with the
   observation alone and with 2 features appended: each slice's mean next-sample load from
   * a persistence forecast (the current sample),
   * the BiLSTM's forecast,
   * the perfect forecast (the true next sample: an upper bound on what a forecast can add).
4. Every run is scored on the same 10 held-out episodes (seeds from `EVAL_SEED`): mean TTI reward
   of eq. (22) with the queue's terms. Variants are compared with a paired t-interval over the
   training seeds, and the minimum detectable effect (80 % power, 5 % two-sided) is reported.
   The myopic optimum (`MILPOracle` with the queues) on the same episodes is the reference.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnvWrapper

from oran_gym import ScenarioConfig
from oran_gym.wrappers import slice_load_features

TRAIN_FRACTION = 0.6
EVAL_SEED = 90_000
EPISODE_TTIS = 50
SCENARIO = {"preset": "paper_queue", "embb_packet_rate_pps": 300.0, "trace_start_fraction": TRAIN_FRACTION,
            "trace_ttis_per_sample": 1, "episode_length_tti": EPISODE_TTIS}
VARIANTS = ("no forecast", "persistence", "bilstm", "perfect")


class LoadForecastVecObservation(VecEnvWrapper):
    """Append each slice's forecast next-sample load (2 features, `wrappers.slice_load_features`)
    to a `NativeVecEnv`'s observations. `ratio[i]` is the forecast of the internet KPI at the
    sample after trace index i over its value at i; a UE's forecast load is its offered load times
    the ratio at its index."""

    def __init__(self, venv: Any, ratio: np.ndarray) -> None:
        base = venv.observation_space
        super().__init__(venv, observation_space=spaces.Box(0.0, 1.0, shape=(base.shape[0] + 2,), dtype=np.float32))
        self.ratio = ratio
        native = venv.native
        self._params, self._ue_slice = native._a.params, native._a.ue_slice

    def _append(self, obs: np.ndarray) -> np.ndarray:
        native = self.venv.native
        idx, load = native.trace_indices(), native.offered_load_bps
        self._extra = np.stack([slice_load_features(load[e] * self.ratio[idx[e]], self._ue_slice, self._params)
                                for e in range(len(idx))]).astype(np.float32)
        return np.concatenate([obs, self._extra], axis=1)

    def reset(self) -> np.ndarray:
        return self._append(self.venv.reset())

    def step_wait(self):
        before = self._extra
        obs, rewards, dones, infos = self.venv.step_wait()
        for e, info in enumerate(infos):
            if "terminal_observation" in info:
                # the sub-env was reset already: its final state's features are those of the step before
                # (at most one TTI stale), used only to bootstrap the truncated return
                info["terminal_observation"] = np.concatenate([info["terminal_observation"], before[e]])
        return self._append(obs), rewards, dones, infos

    def action_masks(self) -> np.ndarray:
        return self.venv.action_masks()


def ratio_tables(trace: np.ndarray, cfg: ScenarioConfig, forecaster: Any) -> dict[str, np.ndarray | None]:
    """Per variant the forecast ratio at every trace index (None: no features)."""
    from oran_gym.sim.dynamics import trace_part

    T = trace.shape[0]
    start, stop = trace_part(cfg, T)
    current = np.maximum(trace[:, 0], 1e-9)
    nxt = np.arange(T)
    nxt[start:stop] = start + (np.arange(start, stop) - start + 1) % (stop - start)  # the env's wrap-around
    w = forecaster.window
    windows = trace[(np.arange(T)[:, None] + np.arange(-w + 1, 1)[None, :]) % T]  # [T, w, 4]
    bilstm = np.maximum(forecaster.predict_next(windows), 0.0)
    return {"no forecast": None, "persistence": np.ones(T), "bilstm": bilstm / current, "perfect": trace[nxt, 0] / current}


def make_venv(n: int, seed: int, ratio: np.ndarray | None, cfg: ScenarioConfig, reward_mode: str = "marginal"):
    from oran_gym.sb3 import NativeVecEnv

    venv = NativeVecEnv(n, seed=seed, config=cfg, action_mode="prb", reward_mode=reward_mode)
    return venv if ratio is None else LoadForecastVecObservation(venv, ratio)


def evaluate(model: Any, cfg: ScenarioConfig, ratio: np.ndarray | None, episodes: int) -> float:
    """Mean TTI reward over `episodes` episodes seeded from `EVAL_SEED` (deterministic policy)."""
    venv = make_venv(episodes, EVAL_SEED, ratio, cfg, reward_mode="tti")
    obs = venv.reset()
    total = np.zeros(episodes)
    for _ in range(EPISODE_TTIS * cfg.prbs_per_tti):
        action, _ = model.predict(obs, deterministic=True, action_masks=venv.action_masks())
        obs, rewards, _, _ = venv.step(action)
        total += rewards
    venv.close()
    return float(total.mean() / EPISODE_TTIS)


def myopic_reference(cfg: ScenarioConfig, episodes: int) -> float:
    """Mean TTI reward of the myopic optimum (MILP with the queues) on the evaluation episodes."""
    import gymnasium as gym

    from oran_gym.baselines import MILPOracle, OraclePolicy

    rewards = []
    for ep in range(episodes):
        env = gym.make("ORANSlicing-v0", config=cfg, action_mode="full")
        obs, _ = env.reset(seed=EVAL_SEED + ep)
        policy = OraclePolicy(env, MILPOracle())
        for _ in range(EPISODE_TTIS):
            obs, r, *_ = env.step(policy.predict(obs)[0])
            rewards.append(r)
    return float(np.mean(rewards))


def paired(df: pd.DataFrame, variant: str, base: str = "no forecast") -> dict[str, float]:
    """Paired difference (variant - base) over the training seeds: mean, 95 % CI half-width, and the
    minimum detectable effect at 80 % power (two-sided 5 %)."""
    from scipy import stats

    a = df[df.variant == variant].set_index("seed")["eval_tti_reward"]
    b = df[df.variant == base].set_index("seed")["eval_tti_reward"]
    d = (a - b.reindex(a.index)).to_numpy()
    n = len(d)
    se = d.std(ddof=1) / np.sqrt(n) if n > 1 else float("nan")
    t975, t80 = stats.t.ppf(0.975, n - 1), stats.t.ppf(0.80, n - 1)
    return {"mean_diff": float(d.mean()), "ci95": float(t975 * se), "mde_80pct_power": float((t975 + t80) * se), "n": n}


def run(seeds: int, timesteps: int, episodes: int, data: Path, out_dir: Path, epochs: int, progress: bool) -> dict[str, Any]:
    from sb3_contrib import MaskablePPO
    from tqdm import tqdm

    from oran_gym.agents.forecast_pipelines import run_kpi_pipeline
    from oran_gym.agents.maskable_ppo import load_params
    from oran_gym.data import load_operator_kpis, load_trace

    folder = str(data)
    df = load_operator_kpis(folder)
    n_train = int(TRAIN_FRACTION * len(df))
    t0 = time.perf_counter()
    pipe = run_kpi_pipeline(df.iloc[:n_train], epochs=epochs, seed=0, extra_models=False)
    forecaster = pipe["bundle"]
    table = pipe["table"].set_index("method")
    cfg = ScenarioConfig.from_mapping({**SCENARIO, "traffic_trace": folder})
    trace = load_trace(folder)
    ratios = ratio_tables(trace, cfg, forecaster)
    # how well each forecast predicts the next sample on the replayed part (the env's data)
    from oran_gym.sim.dynamics import trace_part

    start, stop = trace_part(cfg, trace.shape[0])
    truth = ratios["perfect"][start:stop]
    forecast_mae = {k: float(np.mean(np.abs(v[start:stop] - truth) * trace[start:stop, 0]))
                    for k, v in ratios.items() if v is not None}
    rows = []
    jobs = [(v, s) for s in range(seeds) for v in VARIANTS]
    for variant, seed in tqdm(jobs, desc="MaskablePPO runs", disable=not progress):
        p = load_params()
        n_envs = int(p.pop("n_envs"))
        p.pop("n_timesteps")
        policy = p.pop("policy")
        venv = make_venv(n_envs, seed, ratios[variant], cfg)
        model = MaskablePPO(policy, venv, seed=seed, device="cpu", verbose=0, **p)
        t1 = time.perf_counter()
        model.learn(total_timesteps=timesteps)
        train_s = time.perf_counter() - t1
        venv.close()
        rows.append({"variant": variant, "seed": seed, "timesteps": timesteps, "train_time_s": train_s,
                     "eval_tti_reward": evaluate(model, cfg, ratios[variant], episodes)})
    runs = pd.DataFrame(rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs.to_csv(out_dir / "queue_forecast.csv", index=False)
    from oran_gym.evaluation import ci95_half_width

    summary = []
    for variant in VARIANTS:
        r = runs[runs.variant == variant]["eval_tti_reward"]
        row = {"variant": variant, "runs": len(r), "mean_tti_reward": float(r.mean()), "ci95": ci95_half_width(r)}
        if variant != "no forecast":
            row["vs_no_forecast"] = paired(runs, variant)
            row["next_sample_mae_kpi_units"] = forecast_mae[variant]
        summary.append(row)
    result = {
        "command": "python -m oran_gym.benchmarks.reproduce_queue_forecast " + " ".join(sys.argv[1:]),
        "scenario": SCENARIO, "train_fraction": TRAIN_FRACTION, "eval": f"{episodes} episodes x {EPISODE_TTIS} TTIs from seed {EVAL_SEED}",
        "forecaster": {"model": "seed-001 BiLSTM 128-128-64, window 10", "trained_on_samples": n_train, "epochs": epochs,
                       "test_mae_within_training_part": float(table.loc["bilstm", "MAE"]), "train_time_s": pipe["train_time_s"]},
        "agent": {"algorithm": "MaskablePPO (oran_gym/hyperparams/maskable_ppo.yml)", "timesteps": timesteps, "seeds": seeds},
        "myopic_optimum_tti_reward": myopic_reference(cfg, episodes),
        "table": summary, "wall_time_s": time.perf_counter() - t0,
    }
    (out_dir / "queue_forecast.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    from oran_gym.benchmarks.argtypes import int_at_least

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int_at_least(2), default=5, help="training seeds per variant (>= 2 for a paired CI)")
    parser.add_argument("--timesteps", type=int_at_least(1000), default=100_000)
    parser.add_argument("--episodes", type=int_at_least(1), default=10, help="evaluation episodes per run")
    parser.add_argument("--epochs", type=int_at_least(1), default=20, help="BiLSTM training epochs (early stopping on)")
    parser.add_argument("--data", type=Path, default=None, help="the operator-KPI dataset folder (default: ../shared/data)")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    data = args.data
    if data is None:
        from oran_gym.data import data_dir

        root = data_dir()
        if root is None:
            parser.error("no data folder: pass --data or set $ORAN_GYM_DATA (the real operator-KPI trace is needed)")
        data = root / "operator_kpis" / "network_operator_KPIs_time_series_dataset"
    result = run(args.seeds, args.timesteps, args.episodes, data, args.out_dir, args.epochs, not args.no_progress)
    print(f"myopic optimum: {result['myopic_optimum_tti_reward']:.2f} per TTI")
    for row in result["table"]:
        line = f"{row['variant']:>12}: {row['mean_tti_reward']:.2f} +- {row['ci95']:.2f} per TTI ({row['runs']} seeds)"
        if "vs_no_forecast" in row:
            p = row["vs_no_forecast"]
            line += f"; vs no forecast {p['mean_diff']:+.2f} +- {p['ci95']:.2f} (detectable: {p['mde_80pct_power']:.2f})"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
