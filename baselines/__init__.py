"""Baselines for ORANSlicing-v0: exact oracles and heuristic schedulers."""
