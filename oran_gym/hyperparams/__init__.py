"""Hyperparameter files for ORANSlicing-v0 in rl_zoo3's format (`dqn.yml`, `ppo.yml`, `maskable_ppo.yml`).

`path("dqn")` gives the file for `python -m rl_zoo3.train ... -conf PATH`; `load("maskable_ppo")`
gives the parsed hyperparameters of one env id (policy_kwargs evaluated, as rl_zoo3 does).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["ALGOS", "load", "path"]

ALGOS = ("dqn", "ppo", "maskable_ppo")


def path(algo: str) -> Path:
    """The YAML file of `algo` (one of `ALGOS`)."""
    if algo not in ALGOS:
        raise ValueError(f"no hyperparameter file for {algo!r}; files exist for {list(ALGOS)}")
    return Path(__file__).resolve().parent / f"{algo}.yml"


def load(algo: str, env_id: str = "ORANSlicing-v0") -> dict[str, Any]:
    """The hyperparameters of `env_id` in `algo`'s file; `policy_kwargs` evaluated from its string."""
    import yaml

    data = yaml.safe_load(path(algo).read_text())
    if env_id not in data:
        raise KeyError(f"{path(algo)} has no entry for {env_id!r}; it has {sorted(data)}")
    params = dict(data[env_id])
    if isinstance(params.get("policy_kwargs"), str):
        params["policy_kwargs"] = eval(params["policy_kwargs"], {"dict": dict})  # rl_zoo3's convention
    return params
