"""oran_gym.benchmarks.fig6_power_cap: what limits each PRB of the optimum as the RU power limit rises."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import oran_gym  # noqa: F401


def test_fig6_power_cap_classes_every_used_prb_and_the_report_reads_it(tmp_path):
    """Each PRB of the optimum is at its SE cap, at its per-PRB power limit, or below both; with none
    below both and power to spare, the RU limit does not bind."""
    from oran_gym.benchmarks import fig6_power_cap
    from oran_gym.benchmarks.results_table import _fig6_power_lines

    assert fig6_power_cap.main(["--instances", "2", "--out-dir", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "fig6_power_cap.json").read_text())
    assert result["command"] == "python -m oran_gym.benchmarks.fig6_power_cap --instances 2 --out-dir " + str(tmp_path)
    rows = {r["ru_max_power_dbm"]: r for r in result["rows"]}
    assert sorted(rows) == list(fig6_power_cap.RU_POWERS_DBM)
    for r in rows.values():
        assert r["at_se_cap"] + r["at_prb_power_limit"] + r["neither"] == pytest.approx(1.0)
        assert r["ru_power_used_w"] <= r["ru_limit_w"] * (1 + 1e-9)
        if r["neither"] > 0:  # a PRB held back by the RU budget alone: the budget is (nearly) spent
            assert r["ru_power_used_w"] > r["ru_limit_w"] - 1.0  # within one top power level (1 W) of it
    # 43 dBm leaves power unused: every PRB is at a cap of its own
    assert rows[43.0]["neither"] == 0 and rows[43.0]["ru_power_used_w"] < rows[43.0]["ru_limit_w"] - 1.0
    df = pd.DataFrame([{"figure": "6e", "x": p, "policy": "oracle", "embb_weighted_mbps": r["embb_rate_mbps"],
                        "aggregated_throughput_mbps": r["embb_rate_mbps"]} for p, r in rows.items()])
    text = " ".join(_fig6_power_lines(df, tmp_path))
    assert "43 dBm: " in text and "every PRB is used and none is below both" in text
