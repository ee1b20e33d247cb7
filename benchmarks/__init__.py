"""Benchmarks of oran-gym (run from a source checkout; not installed)."""
