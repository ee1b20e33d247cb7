"""Baselines for ORANSlicing-v0: exact oracles, heuristic schedulers and the labelled-dataset generator.

```python
from oran_gym.baselines import ExhaustiveSearchOracle, MILPOracle, LocalSearchOracle, make_policy
alloc, value = MILPOracle().solve(cfg, gains, offered_load_bps)  # value == evaluate_allocation(...).reward
policy = make_policy("slice_aware", env)                           # SB3-style predict()
# backlog model: the myopic optimum given the FIFOs, and the perfect-forecast bound over H TTIs
alloc, value = MILPOracle().solve(cfg, gains, offered_load_bps, queue=env.unwrapped.queue_status)
HorizonBound().solve(cfg, gains_h, arrived_h, env.unwrapped.queue_bits, overflow_bits).upper_bound
```
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oran_gym.baselines.common import AllocationPolicy

__all__ = [
    "AllocationPolicy",
    "DemandProportionalSlicePolicy",
    "EqualSplitSlicePolicy",
    "ExactMultiCellOracle",
    "ExhaustiveSearchOracle",
    "HEURISTICS",
    "HorizonBound",
    "LocalSearchOracle",
    "MILPOracle",
    "MaxSINRPolicy",
    "ORACLES",
    "OraclePolicy",
    "OracleQuotaSlicePolicy",
    "OracleSolution",
    "POLICY_NAMES",
    "PolicyPerSubEnv",
    "ProportionalFairPolicy",
    "RandomPolicy",
    "RoundRobinPolicy",
    "SLICE_POLICIES",
    "SliceAwareGreedyPolicy",
    "allocation_to_action",
    "make_policy",
    "num_candidates",
    "repair_allocation",
]

# The names alone, so that the command line's help needs neither scipy nor numba; a test checks
# them against HEURISTICS and ORACLES.
HEURISTIC_NAMES = ("max_sinr", "proportional_fair", "random", "round_robin", "slice_aware")
ORACLE_NAMES = ("esa", "exact_multicell", "local_search", "milp", "oracle")
POLICY_NAMES = list(HEURISTIC_NAMES + ORACLE_NAMES)

_LAZY = {  # public name -> module that defines it (loaded on first use, PEP 562)
    "AllocationPolicy": "common",
    "PolicyPerSubEnv": "common",
    "allocation_to_action": "common",
    "HEURISTICS": "heuristics",
    "MaxSINRPolicy": "heuristics",
    "ProportionalFairPolicy": "heuristics",
    "RandomPolicy": "heuristics",
    "RoundRobinPolicy": "heuristics",
    "SliceAwareGreedyPolicy": "heuristics",
    "ExactMultiCellOracle": "exact_multicell",
    "ExhaustiveSearchOracle": "oracles",
    "LocalSearchOracle": "oracles",
    "repair_allocation": "oracles",
    "MILPOracle": "oracles",
    "OraclePolicy": "oracles",
    "OracleSolution": "oracles",
    "num_candidates": "oracles",
    "HorizonBound": "horizon",
    "SLICE_POLICIES": "slice_policies",
    "EqualSplitSlicePolicy": "slice_policies",
    "DemandProportionalSlicePolicy": "slice_policies",
    "OracleQuotaSlicePolicy": "slice_policies",
}


def __getattr__(name: str) -> Any:
    """Load a public name on first use."""
    if name == "ORACLES":
        from oran_gym.baselines.exact_multicell import ExactMultiCellOracle
        from oran_gym.baselines.oracles import ExhaustiveSearchOracle, LocalSearchOracle, MILPOracle

        value: Any = {"oracle": None, "milp": MILPOracle, "esa": ExhaustiveSearchOracle, "local_search": LocalSearchOracle,
                      "exact_multicell": ExactMultiCellOracle}
    elif name in _LAZY:
        value = getattr(importlib.import_module(f"oran_gym.baselines.{_LAZY[name]}"), name)
    else:
        raise AttributeError(f"module 'oran_gym.baselines' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def make_policy(name: str, env: Any, **kwargs: Any) -> AllocationPolicy:
    """Build a baseline policy bound to `env` by name (see `POLICY_NAMES`).

    "oracle" picks MILPOracle on one RU and LocalSearchOracle on several; "milp", "esa",
    "exact_multicell" and "local_search" force one. Keyword arguments go to the heuristic or the oracle. For a vector env
    whose sub-envs live in this process (SB3's `DummyVecEnv`, Gymnasium's `SyncVectorEnv`), the
    result is a `PolicyPerSubEnv`: one policy per sub-env, batched `predict`.
    """
    subs = getattr(env, "envs", None)
    if isinstance(subs, (list, tuple)) and subs:
        from oran_gym.baselines.common import PolicyPerSubEnv

        return PolicyPerSubEnv([make_policy(name, e, **kwargs) for e in subs])  # type: ignore[misc]
    if hasattr(env, "num_envs") and not hasattr(env, "unwrapped"):
        raise TypeError(f"baselines read their env's state, so they need sub-envs in this process: bind to a DummyVecEnv "
                        f"or SyncVectorEnv (or one env), not {type(env).__name__}")
    from oran_gym.baselines.heuristics import HEURISTICS
    from oran_gym.baselines.oracles import OraclePolicy

    oracles = __getattr__("ORACLES")
    if name in HEURISTICS:
        return HEURISTICS[name](env, **kwargs)
    if name in oracles:
        oracle_cls = oracles[name]
        return OraclePolicy(env, oracle_cls(**kwargs) if oracle_cls else None)
    import difflib

    hint = difflib.get_close_matches(name, POLICY_NAMES, n=1)
    raise ValueError(f"unknown policy {name!r}; choose one of {POLICY_NAMES}" + (f" (did you mean {hint[0]!r}?)" if hint else ""))
