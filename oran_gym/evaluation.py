"""One evaluation loop for every policy: heuristics, oracles, SB3 models, SS-VAE.

A policy is anything with Stable-Baselines3's `predict(obs, state=None, episode_start=None,
deterministic=True) -> (action, state)`. `evaluate_policy` runs it for N episodes over fixed seeds
and returns per-TTI KPIs (a pandas DataFrame) plus per-metric means with 95 % confidence
intervals across episodes.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["EvaluationResult", "evaluate_policy", "summarise", "ci95_half_width", "KPI_COLUMNS"]

KPI_COLUMNS = [
    "reward",
    "objective_mbps",
    "embb_throughput_mbps",
    "urllc_throughput_mbps",
    "qos_violations",
    "rate_violations",
    "delay_violations",
    "power_projections",
    "association_violations",
    "embb_mean_delay_ms",
    "urllc_mean_delay_ms",
    "unserved_ues",
    "ru_power_w",
    "decision_time_ms",
]


@dataclasses.dataclass
class EvaluationResult:
    """Per-TTI KPIs and their summary.

    Attributes:
        per_tti: one row per TTI: `policy, episode, seed, tti` and `KPI_COLUMNS`.
        summary: one row per KPI: `mean`, `ci95_low`, `ci95_high`, `std_between_episodes`, `n_episodes`.
    """

    per_tti: pd.DataFrame
    summary: pd.DataFrame

    def table(self) -> str:
        """The summary as aligned text."""
        return self.summary.to_string(float_format=lambda x: f"{x:.4g}")


def ci95_half_width(samples: Any) -> float:
    """Half-width of the 95 % t-interval of the mean of `samples` (NaN for fewer than two)."""
    from scipy import stats

    x = np.asarray(samples, dtype=float)
    if x.size < 2:
        return float("nan")
    return float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))


def summarise(per_tti: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Means with 95 % t-intervals across episodes (each episode's per-TTI mean is one sample)."""
    from scipy import stats

    columns = columns or [c for c in KPI_COLUMNS if c in per_tti]
    per_episode = per_tti.groupby("episode")[columns].mean()
    n = len(per_episode)
    mean = per_episode.mean()
    std = per_episode.std(ddof=1) if n > 1 else pd.Series(0.0, index=columns)
    half = stats.t.ppf(0.975, n - 1) * std / np.sqrt(n) if n > 1 else pd.Series(np.nan, index=columns)
    return pd.DataFrame(
        {"mean": mean, "ci95_low": mean - half, "ci95_high": mean + half, "std_between_episodes": std, "n_episodes": n}
    )


def _tti_row(info: dict[str, Any], ue_slice: np.ndarray, reward: float, decision_s: float) -> dict[str, float]:
    rate = info["ue_rate_bps"]
    delay = info["delay_s"]
    v = info["violations"]
    served = np.isfinite(delay)

    def mean_delay_ms(s: int) -> float:
        sel = served & (ue_slice == s)
        return float(delay[sel].mean() * 1e3) if sel.any() else float("nan")

    return {
        "reward": reward,
        "objective_mbps": info["objective"] / 1e6,
        "embb_throughput_mbps": float(rate[ue_slice == 0].sum() / 1e6),
        "urllc_throughput_mbps": float(rate[ue_slice == 1].sum() / 1e6),
        "qos_violations": v["rate"] + v["delay"],
        "rate_violations": v["rate"],
        "delay_violations": v["delay"],
        "power_projections": v["power_projection"],
        "association_violations": v["association"],
        "embb_mean_delay_ms": mean_delay_ms(0),
        "urllc_mean_delay_ms": mean_delay_ms(1),
        "unserved_ues": int((~served).sum()),
        "ru_power_w": float(np.sum(info["ru_power_w"])),
        "decision_time_ms": decision_s * 1e3,
    }


def _accepts_action_masks(policy: Any) -> bool:
    """Whether `policy.predict` takes an `action_masks` argument (sb3-contrib's convention)."""
    import inspect

    try:
        params = inspect.signature(policy.predict).parameters
    except (TypeError, ValueError):
        return False
    return "action_masks" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def evaluate_policy(
    policy: Any,
    env: Any,
    n_episodes: int = 10,
    seed: int = 0,
    *,
    deterministic: bool = True,
    policy_name: str | None = None,
    progress: bool = False,
) -> EvaluationResult:
    """Run `policy` on `env` for `n_episodes` episodes seeded `seed, seed + 1, ...`.

    Works in both action modes. In the prb mode a TTI's row is written on its last PRB step; in the
    full mode every step is a TTI. `reward` is the TTI reward of eq. (22) (from
    `info["reward_terms"]`) in both modes, whatever the env's `reward_mode`.
    `decision_time_ms` is the policy's own time per TTI (summed over a TTI's prb steps); it is
    wall-clock and so is the only column that differs between identical runs. A policy whose
    `predict` accepts `action_masks` (sb3-contrib's `MaskablePPO`, say) gets the env's
    `action_masks()` at every step, so masked and unmasked policies are scored by the same loop.
    """
    if n_episodes < 1:
        raise ValueError(f"n_episodes must be >= 1, got {n_episodes!r}")
    if not hasattr(policy, "predict"):
        raise TypeError(f"policy must have SB3's predict(obs, state, episode_start, deterministic); got {type(policy).__name__}")
    from tqdm import tqdm

    unwrapped = env.unwrapped
    name = policy_name or getattr(policy, "name", type(policy).__name__)
    pass_masks = _accepts_action_masks(policy)
    rows = []
    for ep in tqdm(range(n_episodes), desc=f"evaluating {name}", disable=not progress):
        obs, _ = env.reset(seed=seed + ep)
        ue_slice = unwrapped.ue_slice
        if hasattr(policy, "reset"):
            policy.reset()
        state, start = None, np.ones(1, dtype=bool)
        decision_s, done = 0.0, False
        while not done:
            t0 = time.perf_counter()
            if pass_masks:  # sb3-contrib's MaskablePPO and any policy whose predict takes them
                action, state = policy.predict(obs, state=state, episode_start=start, deterministic=deterministic,
                                               action_masks=unwrapped.action_masks())
            else:
                action, state = policy.predict(obs, state=state, episode_start=start, deterministic=deterministic)
            decision_s += time.perf_counter() - t0
            start = np.zeros(1, dtype=bool)
            action = np.asarray(action)
            if unwrapped.action_mode == "prb":
                action = action.reshape(-1)[0] if action.size == 1 else action
            tti = unwrapped.tti
            obs, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
            if info["tti_complete"]:
                row = {"policy": name, "episode": ep, "seed": seed + ep, "tti": tti}
                row.update(_tti_row(info, ue_slice, float(sum(info["reward_terms"].values())), decision_s))
                rows.append(row)
                decision_s = 0.0
    per_tti = pd.DataFrame(rows)
    return EvaluationResult(per_tti, summarise(per_tti))
