"""Every config that validates runs finite: a property test over `FIELD_BOUNDS`, sampled widely.

Hypothesis draws each numeric field from its whole allowed range (both ends, uniform, and
log-uniform across decades), sizes small enough to step quickly, both action and observation
modes, then steps random actions (valid and invalid) and checks that observations, rewards and
every numeric info entry are finite and the observations inside the observation space.
"""

from __future__ import annotations

import math
import os

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import oran_gym  # noqa: F401
from oran_gym.config import FIELD_BOUNDS, MAX_LOAD_WINDOW_TTIS, MAX_QUEUE_HORIZON_TTIS, ScenarioConfig

EXAMPLES = int(os.environ.get("ORAN_GYM_PROPERTY_EXAMPLES", "400"))
"""Configs sampled per run (the closing note of issue 13 quotes this number)."""
STEPS = 6

SMALL_SIZES = {"num_rus": (1, 3), "num_embb_ues": (0, 4), "num_urllc_ues": (0, 4), "num_prbs": (1, 6)}


def number(kind, lo, hi):
    """The ends, uniform draws and (for ranges over decades) log-uniform draws of [lo, hi]."""
    if kind is int:
        return st.one_of(st.sampled_from([lo, hi]), st.integers(lo, min(hi, 100)), st.integers(lo, hi))
    parts = [st.sampled_from([float(lo), float(hi)]), st.floats(lo, hi, allow_nan=False)]
    if lo > 0 and hi / lo > 100:
        parts.append(st.floats(math.log10(lo), math.log10(hi)).map(lambda e: min(max(10.0**e, lo), hi)))
    return st.one_of(*parts)


@st.composite
def configs(draw):
    fields = {}
    for name, (kind, lo, hi, _) in FIELD_BOUNDS.items():
        if name in SMALL_SIZES:
            lo, hi = SMALL_SIZES[name]
        fields[name] = draw(number(kind, lo, hi))
    assume(fields["num_embb_ues"] + fields["num_urllc_ues"] >= 1)
    r_in, r_out = sorted((fields["cell_min_radius_m"], fields["cell_radius_m"]))
    assume(r_in < r_out)
    fields["cell_min_radius_m"], fields["cell_radius_m"] = r_in, r_out
    assume(fields["embb_load_window_s"] / fields["tti_duration_s"] <= MAX_LOAD_WINDOW_TTIS)
    fields["fading_rho"] = draw(st.one_of(st.none(), st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0)))
    levels = draw(st.lists(st.floats(1e-6, 1.0), min_size=1, max_size=4, unique=True))
    fields["power_level_fractions"] = tuple(sorted(levels))
    fields["traffic_trace"] = draw(st.sampled_from([None, None, "synthetic"]))
    lo, hi = sorted((fields["trace_start_fraction"], fields["trace_stop_fraction"]))
    assume(hi > lo)
    fields["trace_start_fraction"], fields["trace_stop_fraction"] = lo, hi
    fields["embb_arrival_process"] = draw(st.sampled_from(["poisson", "onoff"]))
    fields["pathloss_model"] = draw(st.sampled_from(["uma_nlos", "uma_38901"]))
    fields["link_model"] = draw(st.sampled_from(["shannon", "cqi_table"]))
    if fields["embb_arrival_process"] == "onoff":  # the source changes state at most once per TTI
        for name in ("embb_on_mean_s", "embb_off_mean_s"):
            fields[name] = max(fields[name], fields["tti_duration_s"])
    fields["queue_model"] = draw(st.sampled_from(["none", "backlog"]))
    if fields["queue_model"] == "backlog":  # budgets of at least one TTI, expiry after both budgets
        budgets = (fields["embb_delay_budget_s"], fields["urllc_delay_budget_s"])
        fields["max_queue_delay_s"] = max(fields["max_queue_delay_s"], *budgets)
        fields["tti_duration_s"] = max(min(fields["tti_duration_s"], *budgets), fields["max_queue_delay_s"] / MAX_QUEUE_HORIZON_TTIS)
        fields["max_backlog_bits"] = max(fields["max_backlog_bits"], 8.0 * max(fields["embb_packet_bytes"], fields["urllc_packet_bytes"]))
        assume(fields["embb_load_window_s"] / fields["tti_duration_s"] <= MAX_LOAD_WINDOW_TTIS)
        assume(min(budgets) >= fields["tti_duration_s"])
        if fields["embb_arrival_process"] == "onoff":
            for name in ("embb_on_mean_s", "embb_off_mean_s"):
                fields[name] = max(fields[name], fields["tti_duration_s"])
    return ScenarioConfig(**fields)


DOCUMENTED_INFINITIES = {"info['sinr_db']": -np.inf, "info['delay_s']": np.inf}
"""The env's documented markers: -inf dB on an idle PRB, an infinite delay for a UE with no rate."""


def check_info(info):
    """Every numeric entry finite, but for the documented markers, exactly where they belong."""
    bad = [(p, v) for p, v in finite_leaves(info) if p not in DOCUMENTED_INFINITIES]
    assert not bad, f"non-finite {bad[0][0]}: {bad[0][1]}"
    for path, sign in DOCUMENTED_INFINITIES.items():
        v = info[path[6:-2]]
        assert not np.isnan(v).any() and not (np.isinf(v) & (v != sign)).any(), f"{path}: {v}"
    assert np.array_equal(np.isinf(info["delay_s"]), info["ue_rate_bps"] == 0.0), "delay inf <=> UE rate 0"
    if "power_w" in info:
        assert np.array_equal(np.isneginf(info["sinr_db"]), info["power_w"] == 0.0), "SINR -inf <=> PRB idle"


def finite_leaves(obj, path="info"):
    """Yield (path, value) of every numeric leaf that is not finite."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from finite_leaves(v, f"{path}[{k!r}]")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from finite_leaves(v, f"{path}[{i}]")
    elif isinstance(obj, np.ndarray) and obj.dtype.kind in "fc":
        if not np.isfinite(obj).all():
            yield path, obj
    elif isinstance(obj, (float, np.floating)) and not math.isfinite(obj):
        yield path, obj


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(cfg=configs(), action_mode=st.sampled_from(["prb", "full"]), obs_mode=st.sampled_from(["full", "paper"]),
       seed=st.integers(0, 2**32 - 1))
def test_every_valid_config_steps_finite(cfg, action_mode, obs_mode, seed):
    env = gym.make("ORANSlicing-v0", config=cfg, action_mode=action_mode, obs_mode=obs_mode).unwrapped
    obs, info = env.reset(seed=seed)
    env.action_space.seed(seed)
    for t in range(STEPS):
        assert env.observation_space.contains(obs), f"step {t}: observation outside the space"
        check_info(info)
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert math.isfinite(reward), f"step {t}: reward {reward}"
        if terminated or truncated:
            obs, info = env.reset()
    assert np.isfinite(obs).all() and env.observation_space.contains(obs)


def test_the_bounds_cover_every_numeric_field():
    import dataclasses

    numeric = {f.name for f in dataclasses.fields(ScenarioConfig)} - {
        "traffic_trace", "fading_rho", "power_level_fractions", "queue_model", "embb_arrival_process",
        "pathloss_model", "link_model"}
    assert numeric == set(FIELD_BOUNDS)
    for name, (kind, lo, hi, why) in FIELD_BOUNDS.items():
        assert lo < hi and why, name
        default = getattr(ScenarioConfig(), name)
        assert lo <= default <= hi, f"{name}'s default {default} is outside its own bounds"
