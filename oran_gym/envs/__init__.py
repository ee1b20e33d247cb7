"""Gymnasium environments of oran_gym."""

from oran_gym.envs.slicing_env import ORANSlicingEnv

__all__ = ["ORANSlicingEnv"]
