"""Baselines for ORANSlicing-v0: exact oracles, heuristic schedulers and the labelled-dataset generator.

```python
from baselines import ExhaustiveSearchOracle, MILPOracle, LocalSearchOracle, make_policy
alloc, value = MILPOracle().solve(cfg, gains, offered_load_bps)  # value == evaluate_allocation(...).reward
policy = make_policy("slice_aware", env)                           # SB3-style predict()
```
"""

from __future__ import annotations

from typing import Any

from baselines.common import AllocationPolicy, allocation_to_action
from baselines.heuristics import (
    HEURISTICS,
    MaxSINRPolicy,
    ProportionalFairPolicy,
    RandomPolicy,
    RoundRobinPolicy,
    SliceAwareGreedyPolicy,
)
from baselines.oracles import (
    ExhaustiveSearchOracle,
    LocalSearchOracle,
    MILPOracle,
    OraclePolicy,
    OracleSolution,
    num_candidates,
)

__all__ = [
    "AllocationPolicy",
    "ExhaustiveSearchOracle",
    "HEURISTICS",
    "LocalSearchOracle",
    "MILPOracle",
    "MaxSINRPolicy",
    "OraclePolicy",
    "OracleSolution",
    "POLICY_NAMES",
    "ProportionalFairPolicy",
    "RandomPolicy",
    "RoundRobinPolicy",
    "SliceAwareGreedyPolicy",
    "allocation_to_action",
    "make_policy",
    "num_candidates",
]

ORACLES = {"oracle": None, "milp": MILPOracle, "esa": ExhaustiveSearchOracle, "local_search": LocalSearchOracle}
POLICY_NAMES = sorted(HEURISTICS) + sorted(ORACLES)


def make_policy(name: str, env: Any, **kwargs: Any) -> AllocationPolicy:
    """Build a baseline policy bound to `env` by name (see `POLICY_NAMES`).

    "oracle" picks MILPOracle on one RU and LocalSearchOracle on several; "milp", "esa" and
    "local_search" force one. Keyword arguments go to the heuristic or the oracle.
    """
    if name in HEURISTICS:
        return HEURISTICS[name](env, **kwargs)
    if name in ORACLES:
        oracle_cls = ORACLES[name]
        return OraclePolicy(env, oracle_cls(**kwargs) if oracle_cls else None)
    import difflib

    hint = difflib.get_close_matches(name, POLICY_NAMES, n=1)
    raise ValueError(f"unknown policy {name!r}; choose one of {POLICY_NAMES}" + (f" (did you mean {hint[0]!r}?)" if hint else ""))
