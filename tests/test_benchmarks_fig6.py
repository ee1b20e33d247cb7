"""oran_gym.benchmarks.reproduce_fig6: the Fig. 6 sweep end to end at toy size, and its ordering table."""

from __future__ import annotations

import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="needs the agents extra: pip install torch==2.13.0 && pip install 'oran-gym[agents]'")

import oran_gym  # noqa: F401

pytestmark = pytest.mark.requires_torch


@pytest.mark.slow
def test_fig6_sweep_runs_end_to_end_at_toy_size(tmp_path):
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from oran_gym.benchmarks import reproduce_fig6

    tiny = {"num_embb_ues": 2, "num_urllc_ues": 2, "num_prbs": 3}
    points = [("6c", 2, tiny), ("6e", 30.0, {**tiny, "ru_max_power_dbm": 30.0})]
    result = reproduce_fig6.run(progress=False, out_dir=tmp_path, points=points, labels=40, epochs=3, dqn_steps=150,
                                eval_episodes=2, eval_ttis=2, dqn_configs=["paper"])
    df = pd.read_csv(tmp_path / "fig6.csv")
    assert set(df["policy"]) == {"oracle", "oracle_constrained", "ssvae", "slice_aware", "dqn_paper"} and len(df) == 10
    oracle = df[df["policy"] == "oracle"].set_index("figure")["reward"]
    for _, row in df.iterrows():  # the oracle's reward bounds every policy on the same TTIs
        assert row["reward"] <= oracle[row["figure"]] + 1e-9
    # Algorithm 1 meets every constraint on the TTIs it can serve; only it reports infeasible TTIs
    oc = df[df["policy"] == "oracle_constrained"]
    assert ((oc["qos_violations"] == 0) | (oc["infeasible_tti_share"] > 0)).all()
    assert (df.loc[df["policy"] != "oracle_constrained", "infeasible_tti_share"] == 0).all()
    assert (tmp_path / "fig6.png").exists() and json.loads((tmp_path / "fig6.json").read_text())["points"] == 2
    assert reproduce_fig6.summary_lines(result)[0].startswith("Fig. 6 sweep: 2 scenario points")
    # two points at once, one process each: the same numbers
    reproduce_fig6.run(progress=False, out_dir=tmp_path / "par", points=points, labels=40, epochs=3, dqn_steps=150,
                       eval_episodes=2, eval_ttis=2, dqn_configs=["paper"], workers=2)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "par" / "fig6.csv"), df)
    # figures rewritten from the finished points name the run that computed them and keep its time
    first = json.loads((tmp_path / "fig6.json").read_text())
    reproduce_fig6.run(progress=False, out_dir=tmp_path, points=points, labels=40, epochs=3, dqn_steps=150, eval_episodes=2,
                       eval_ttis=2, dqn_configs=["paper"], finished_only=True, command=first["command"] + " --finished-only")
    again = json.loads((tmp_path / "fig6.json").read_text())
    assert again["command"] == first["command"] and again["wall_s"] == first["wall_s"] and again["rows"] == first["rows"]
    # a figure filter keeps that figure's points
    only = reproduce_fig6.run(progress=False, out_dir=tmp_path, points=points, labels=40, epochs=3, dqn_steps=150,
                              eval_episodes=2, eval_ttis=2, dqn_configs=["paper"], figures=["6e"])
    assert only["points"] == 1 and {r["figure"] for r in only["rows"]} == {"6e"}
    with pytest.raises(ValueError, match=r"figures \['6x'\] are not in the grid; choose from \['6c', '6e'\]"):
        reproduce_fig6.run(progress=False, out_dir=tmp_path, points=points, figures=["6x"])
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        reproduce_fig6.run(progress=False, out_dir=tmp_path, points=points, workers=0)


def test_fig6_ordering_flags_each_dqn_configuration():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from oran_gym.benchmarks.reproduce_fig6 import ordering

    values = {"oracle": (10.0, 5.0), "ssvae": (8.0, 4.0), "dqn_paper": (5.0, 1.0), "dqn_tuned": (9.0, 3.0)}
    df = pd.DataFrame([{"figure": "6c", "x": 5, "policy": k, "aggregated_throughput_mbps": t, "reward": r}
                       for k, (t, r) in values.items()])
    row = ordering(df).iloc[0]
    assert row["aggregated_throughput_mbps: oracle>ssvae>dqn"] and row["reward: oracle>ssvae>dqn"]
    # the tuned DQN out-runs SS-VAE in throughput, not in reward
    assert not row["aggregated_throughput_mbps: oracle>ssvae>dqn_tuned"] and row["reward: oracle>ssvae>dqn_tuned"]
    assert "reward: oracle>ssvae>dqn_tuned" not in ordering(df[df["policy"] != "dqn_tuned"]).columns
