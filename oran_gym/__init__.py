"""oran-gym: a Gymnasium benchmark for AI-driven O-RAN network slicing.

`import oran_gym` registers `ORANSlicing-v0`::

    import gymnasium as gym
    import oran_gym

    env = gym.make("ORANSlicing-v0", config="paper")
    envs = gym.make_vec("ORANSlicing-v0", num_envs=1024)  # native batched ORANSlicingVectorEnv
"""

from gymnasium.envs.registration import register, registry

from oran_gym.allocation import Allocation, AllocationMetrics, evaluate_allocation
from oran_gym.config import PRESETS, ScenarioConfig
from oran_gym.envs.slicing_env import ORANSlicingEnv

__version__ = "0.1.0"
__all__ = [
    "Allocation",
    "AllocationMetrics",
    "ORANSlicingEnv",
    "PRESETS",
    "ScenarioConfig",
    "evaluate_allocation",
    "__version__",
]

if "ORANSlicing-v0" not in registry:
    # Episode length depends on the scenario (episode_length_tti) and the action mode, so the
    # env truncates itself instead of relying on a TimeLimit wrapper.
    register(
        id="ORANSlicing-v0",
        entry_point="oran_gym.envs.slicing_env:ORANSlicingEnv",
        vector_entry_point="oran_gym.envs.vector_env:ORANSlicingVectorEnv",
        nondeterministic=False,
    )
