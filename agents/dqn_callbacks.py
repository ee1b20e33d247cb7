"""Training callbacks of the DQN: per-slice KPIs and the gap to the exact optimum, logged to SB3's logger."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

try:
    from stable_baselines3.common.callbacks import BaseCallback
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError('oran_gym.agents.dqn_callbacks needs the agents extra: pip install torch==2.13.0 && pip install "oran-gym[agents]"') from exc

from oran_gym.evaluation import evaluate_policy

__all__ = ["OracleGapCallback", "SliceKPICallback"]


class SliceKPICallback(BaseCallback):
    """Logs the env's KPIs of every completed TTI to the SB3 logger (TensorBoard: `kpi/...`)."""

    def __init__(self, verbose: int = 0) -> None:
        """Collects per-TTI KPIs from `info` and records their means at each rollout end."""
        super().__init__(verbose)
        self._rows: list[dict[str, float]] = []
        self._ue_slice: np.ndarray | None = None

    def _on_step(self) -> bool:
        if self._ue_slice is None:
            self._ue_slice = np.asarray(self.training_env.get_attr("ue_slice")[0])
        for info in self.locals.get("infos", []):
            if info.get("tti_complete"):
                rate = info["ue_rate_bps"]
                v = info["violations"]
                self._rows.append(
                    {
                        "objective_mbps": info["objective"] / 1e6,
                        "embb_throughput_mbps": rate[self._ue_slice == 0].sum() / 1e6,
                        "urllc_throughput_mbps": rate[self._ue_slice == 1].sum() / 1e6,
                        "qos_violations": v["rate"] + v["delay"],
                    }
                )
        if len(self._rows) >= 10:
            self._flush()
        return True

    def _flush(self) -> None:
        for key in self._rows[0]:
            self.logger.record(f"kpi/{key}", float(np.mean([r[key] for r in self._rows])))
        self._rows.clear()


class OracleGapCallback(BaseCallback):
    """Every `eval_freq` steps, evaluates the model on fixed seeds and logs its gap to the optimum.

    The channel and traffic of the env do not depend on actions, so the MILP optimum of each
    evaluation TTI is computed once and reused: `kpi/eval_reward`, `kpi/optimality_gap_pct`
    (reward) and `kpi/throughput_gap_pct`.
    """

    def __init__(self, eval_env: gym.Env, eval_freq: int = 2500, n_episodes: int = 3, seed: int = 10_000, oracle: Any = None,
                 verbose: int = 0) -> None:
        """`oracle`: defaults to `MILPOracle` (one RU) or `LocalSearchOracle`."""
        super().__init__(verbose)
        self.eval_env, self.eval_freq, self.n_episodes, self.seed = eval_env, eval_freq, n_episodes, seed
        self.oracle = oracle
        self.optimum: dict[str, float] | None = None
        self.history: list[dict[str, float]] = []

    def _optimum(self) -> dict[str, float]:
        from oran_gym.baselines import make_policy

        policy = make_policy("oracle", self.eval_env) if self.oracle is None else self.oracle
        res = evaluate_policy(policy, self.eval_env, n_episodes=self.n_episodes, seed=self.seed)
        return {"reward": res.per_tti["reward"].mean(), "objective_mbps": res.per_tti["objective_mbps"].mean()}

    def _on_step(self) -> bool:
        if self.n_calls % self.eval_freq == 0:
            self.evaluate()
        return True

    def evaluate(self) -> dict[str, float]:
        """Evaluate now; returns and logs the gaps."""
        if self.optimum is None:
            self.optimum = self._optimum()
        res = evaluate_policy(self.model, self.eval_env, n_episodes=self.n_episodes, seed=self.seed)
        reward = res.per_tti["reward"].mean()
        obj = res.per_tti["objective_mbps"].mean()
        row = {
            "step": self.num_timesteps,
            "eval_reward": reward,
            "optimality_gap_pct": 100 * (self.optimum["reward"] - reward) / abs(self.optimum["reward"]),
            "throughput_gap_pct": 100 * (self.optimum["objective_mbps"] - obj) / self.optimum["objective_mbps"],
        }
        self.history.append(row)
        for k, v in row.items():
            if k != "step":
                self.logger.record(f"kpi/{k}", v)
        return row
