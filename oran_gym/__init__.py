"""oran-gym: a Gymnasium benchmark for AI-driven O-RAN network slicing.

`import oran_gym` registers `ORANSlicing-v0`::

    import gymnasium as gym
    import oran_gym

    env = gym.make("ORANSlicing-v0", config="paper")
    envs = gym.make_vec("ORANSlicing-v0", num_envs=1024)  # native batched ORANSlicingVectorEnv

Importing the package is light: the public names below load on first use (PEP 562), and the
registration waits for gymnasium. If gymnasium is already imported, `import oran_gym` registers at
once; otherwise the env is registered the moment gymnasium's import completes (a post-import hook on
`sys.meta_path`). So `import oran_gym.sim.kernels` pulls in neither gymnasium nor the envs, while
`import oran_gym; import gymnasium as gym; gym.make("ORANSlicing-v0")` still works.
"""

from __future__ import annotations

import importlib
import sys
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from typing import Any

__version__ = "0.1.0"
__all__ = [
    "Allocation",
    "AllocationMetrics",
    "ORANSlicingEnv",
    "PRESETS",
    "QueueStatus",
    "ScenarioConfig",
    "evaluate_allocation",
    "__version__",
]

_LAZY = {  # public name -> module that defines it
    "Allocation": "oran_gym.allocation",
    "AllocationMetrics": "oran_gym.allocation",
    "evaluate_allocation": "oran_gym.allocation",
    "PRESETS": "oran_gym.config",
    "ScenarioConfig": "oran_gym.config",
    "QueueStatus": "oran_gym.sim.queue",
    "ORANSlicingEnv": "oran_gym.envs.slicing_env",
}


def __getattr__(name: str) -> Any:
    """Load a public name on first use."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'oran_gym' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def register_envs() -> None:
    """Register `ORANSlicing-v0` with gymnasium (idempotent; imports gymnasium)."""
    from gymnasium.envs.registration import register, registry

    if "ORANSlicing-v0" not in registry:
        # Episode length depends on the scenario (episode_length_tti) and the action mode, so the
        # env truncates itself instead of relying on a TimeLimit wrapper.
        register(
            id="ORANSlicing-v0",
            entry_point="oran_gym.envs.slice_control:make_env",
            vector_entry_point="oran_gym.envs.slice_vector_env:make_vector_env",
            nondeterministic=False,
        )


class _RegisterAfterGymnasium(MetaPathFinder):
    """Finds nothing itself: wraps gymnasium's loader so that `register_envs` runs after its import."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if fullname != "gymnasium":
            return None
        sys.meta_path.remove(self)  # one shot; also keeps the lookup below from finding this finder
        for finder in sys.meta_path:
            spec = finder.find_spec(fullname, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module

        def exec_then_register(module: Any) -> None:
            exec_module(module)
            register_envs()

        loader.exec_module = exec_then_register  # type: ignore[method-assign]
        return spec


if "gymnasium" in sys.modules:
    register_envs()
elif not any(isinstance(f, _RegisterAfterGymnasium) for f in sys.meta_path):
    sys.meta_path.insert(0, _RegisterAfterGymnasium())
