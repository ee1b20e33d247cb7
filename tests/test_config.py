"""ScenarioConfig: presets, validation messages, mapping round trips."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from oran_gym import PRESETS, ScenarioConfig


def test_paper_preset_matches_design_defaults():
    c = ScenarioConfig.preset("paper")
    assert (c.num_rus, c.num_embb_ues, c.num_urllc_ues, c.num_prbs) == (1, 10, 10, 25)
    assert c.prb_bandwidth_hz == 180e3 and c.carrier_freq_hz == 2e9 and c.ru_max_power_dbm == 40.0
    assert c.power_level_fractions == (0.25, 0.5, 1.0)
    assert (c.embb_max_se_bps_per_hz, c.urllc_max_se_bps_per_hz, c.fronthaul_capacity_bps_per_hz) == (10.0, 2.0, 46.0)
    assert (c.embb_weight, c.urllc_weight) == (1.0, 2.0)
    assert (c.embb_delay_budget_s, c.urllc_delay_budget_s) == (10e-3, 1e-3)
    assert c.fibre_delay_s == pytest.approx(26e3 / 2e8)
    assert c.noise_power_w == pytest.approx(10 ** ((-174 + 10 * 5.2552725051 - 30) / 10), rel=1e-9)


def test_tiny_and_multi_cell_presets():
    t = ScenarioConfig.preset("tiny")
    assert (t.num_rus, t.num_embb_ues, t.num_urllc_ues, t.num_prbs, t.num_power_levels) == (1, 2, 2, 3, 2)
    assert (t.num_ues * t.num_power_levels + 1) ** t.num_prbs == 729
    m = ScenarioConfig.preset("multi_cell")
    assert m.num_rus == 3
    assert set(PRESETS) == {"paper", "tiny", "multi_cell", "paper_queue", "urban_macro"}
    # paper_queue is the paper preset with the backlog model, and nothing else
    assert ScenarioConfig.preset("paper_queue").diff(ScenarioConfig.preset("paper")) == {"queue_model": ("backlog", "none")}


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_round_trip_through_json(preset):
    c = ScenarioConfig.preset(preset)
    assert ScenarioConfig.from_mapping(json.loads(json.dumps(c.to_dict()))) == c
    assert ScenarioConfig.from_mapping({"preset": preset}) == c


@pytest.mark.parametrize(
    "field, value, exc, match",
    [
        ("num_prbs", 0, ValueError, r"ScenarioConfig.num_prbs must be an integer in \[1, 1000\] \(NR has at most 275 PRBs per carrier\); got 0"),
        ("num_prbs", 2.5, TypeError, r"ScenarioConfig.num_prbs must be an integer in \[1, 1000\], got 2.5 of type float"),
        ("num_prbs", 10**400, ValueError, r"num_prbs must be an integer in \[1, 1000\] .*got an integer of 401 digits"),
        ("num_rus", True, TypeError, r"num_rus must be an integer"),
        ("prb_bandwidth_hz", -1.0, ValueError, r"prb_bandwidth_hz must be a number in \[1000, 1e\+08\] .*got -1.0"),
        ("prb_bandwidth_hz", float("nan"), ValueError, r"prb_bandwidth_hz must be a number in .*got nan"),
        ("prb_bandwidth_hz", 1e300, ValueError, r"prb_bandwidth_hz must be a number in .*got 1e\+300"),
        ("ru_max_power_dbm", "40", TypeError, r"ru_max_power_dbm must be a number"),
        ("ru_max_power_dbm", 1e300, ValueError, r"ru_max_power_dbm must be a number in \[-50, 80\] \(RU and PRB powers"),
        ("embb_max_prb_power_dbm", -1e300, ValueError, r"embb_max_prb_power_dbm must be a number in \[-50, 80\]"),
        ("noise_psd_dbm_per_hz", 1e-300, ValueError, r"noise_psd_dbm_per_hz must be a number in \[-200, -100\] \(thermal noise"),
        ("noise_psd_dbm_per_hz", -1e300, ValueError, r"noise_psd_dbm_per_hz must be a number in \[-200, -100\]"),
        ("shadowing_std_db", 1000.0, ValueError, r"shadowing_std_db must be a number in \[0, 30\] \(3GPP shadowing"),
        ("shadowing_std_db", -1.0, ValueError, r"shadowing_std_db must be a number in \[0, 30\]"),
        ("cell_radius_m", 1e300, ValueError, r"cell_radius_m must be a number in \[1, 100000\]"),
        ("urllc_packet_bytes", 10**400, ValueError, r"urllc_packet_bytes must be an integer in \[1, 1e\+06\]"),
        ("embb_packet_rate_pps", 1e300, ValueError, r"embb_packet_rate_pps must be a number in \[0, 1e\+07\]"),
        ("fronthaul_quant_noise_w", 1e-300, ValueError, r"fronthaul_quant_noise_w must be a number in \[1e-30, 1\]"),
        ("fading_rho", 1.5, ValueError, r"fading_rho must be a number in \[0, 1\] or None \(got 1.5\)"),
        ("power_level_fractions", (0.5, 1.5), ValueError, r"power_level_fractions must be 1..16 numbers in \[1e-6, 1\]"),
        ("power_level_fractions", (1.0, 0.5), ValueError, r"strictly increasing"),
        ("cell_min_radius_m", 600.0, ValueError, r"cell_min_radius_m must be smaller than cell_radius_m"),
        ("carrier_freq_hz", 1e3, ValueError, r"carrier_freq_hz must be a number in \[1e\+08, 1e\+11\] .*got 1000.0"),
        ("tti_duration_s", 5e-6, ValueError, r"embb_load_window_s / tti_duration_s = 0.1 / 5e-06 = 20,000 TTIs exceeds 10,000"),
    ],
)
def test_bad_values_name_field_value_and_allowed(field, value, exc, match):
    with pytest.raises(exc, match=match):
        ScenarioConfig(**{field: value})


def test_sizes_bounded_by_memory_and_numpy_scalars_accepted():
    with pytest.raises(ValueError, match=r"num_rus x UEs x num_prbs = 64 x 2000 x 100 = 12,800,000 channel gains per observation exceeds"):
        ScenarioConfig(num_rus=64, num_embb_ues=1000, num_urllc_ues=1000, num_prbs=100)
    c = ScenarioConfig(num_prbs=np.int64(7), cell_radius_m=np.float32(300.0), power_level_fractions=[np.float64(0.5), 1.0])
    assert type(c.num_prbs) is int and c.num_prbs == 7 and type(c.cell_radius_m) is float
    assert c.power_level_fractions == (0.5, 1.0) and type(c.power_level_fractions[0]) is float
    assert ScenarioConfig.from_mapping(json.loads(json.dumps(c.to_dict()))) == c


def test_no_ues_rejected_and_unknown_fields_suggest():
    with pytest.raises(ValueError, match="at least one UE"):
        ScenarioConfig(num_embb_ues=0, num_urllc_ues=0)
    with pytest.raises(ValueError, match=r"'num_prb' \(did you mean 'num_prbs'\?\)"):
        ScenarioConfig.from_mapping({"num_prb": 3})
    with pytest.raises(TypeError, match="expects a mapping"):
        ScenarioConfig.from_mapping([("num_prbs", 3)])


def test_frozen_and_replace():
    c = ScenarioConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.num_prbs = 3
    assert c.replace(num_prbs=3).num_prbs == 3 and c.num_prbs == 25
    assert ScenarioConfig(power_level_fractions=[0.5, 1.0]).power_level_fractions == (0.5, 1.0)


def test_power_limits_derived():
    c = ScenarioConfig(ru_max_power_dbm=30.0)
    assert c.ru_max_power_w == pytest.approx(1.0)
    assert c.ru_power_limit_w == pytest.approx(1.0)  # below the fronthaul limit
    # sigma_q^2 = 1e-12 W (DESIGN.md section 2): the fronthaul limit 1e-12 (2^46 - 1) = 70.4 W is above 10 W
    assert ScenarioConfig().fronthaul_power_limit_w == pytest.approx(70.368744177663)
    assert ScenarioConfig().ru_power_limit_w == pytest.approx(10.0)
    # 1e-13 W (before issue 16): the fronthaul binds at 7.04 W (38.5 dBm)
    assert ScenarioConfig(fronthaul_quant_noise_w=1e-13).ru_power_limit_w == pytest.approx(7.0368744177664)
