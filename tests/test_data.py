"""The data loaders of `oran_gym.data`: the Kaggle QoS table and the operator-KPI folder (no torch needed)."""

from __future__ import annotations

import numpy as np
import pytest

from oran_gym.data import data_dir, load_operator_kpis, load_qos5g, synthetic_operator_kpis, write_operator_kpis

DATA = data_dir()
KPI_DIR = DATA / "operator_kpis" / "network_operator_KPIs_time_series_dataset" if DATA else None
needs_data = pytest.mark.skipif(DATA is None or not (DATA / "qos5g" / "qos5g.csv").exists(), reason="real data not found")

HEADER = "Timestamp,User_ID,Application_Type,Signal_Strength,Latency,Required_Bandwidth,Allocated_Bandwidth,Resource_Allocation\n"


def write_csv(tmp_path, rows):
    p = tmp_path / "q.csv"
    p.write_text(HEADER + "".join(r + "\r\n" for r in rows))
    return p


def test_qos_parser_units(tmp_path):
    p = write_csv(tmp_path, ["9/3/2023 10:00,User_1,Video_Call,-75 dBm,30 ms,10 Mbps,1.5 Mbps,70%",
                             "9/3/2023 10:01,User_2,Voice_Call,-80 dBm,0 ms,100 Kbps,120 Kbps,80%"])
    df = load_qos5g(p)
    assert df["Required_Bandwidth"].tolist() == [10000.0, 100.0]
    assert df["Allocated_Bandwidth"].tolist() == [1500.0, 120.0]
    assert df["Signal_Strength"].tolist() == [-75.0, -80.0] and df["Latency"].tolist() == [30.0, 0.0]
    assert df["Resource_Allocation"].tolist() == [70.0, 80.0]


@pytest.mark.parametrize("row, match", [
    ("9/3/2023 10:00,User_1,Video_Call,-75 dB,30 ms,10 Mbps,15 Mbps,70%", r"line 2, column 'Signal_Strength': cannot parse '-75 dB'"),
    ("9/3/2023 10:00,User_1,Video_Call,-75 dBm,30 ms,10 Gbps,15 Mbps,70%", r"line 2, column 'Required_Bandwidth'.*'10 Gbps'"),
    ("9/3/2023 10:00,User_1,Video_Call,-75 dBm,thirty,10 Mbps,15 Mbps,70%", r"line 2, column 'Latency'"),
    ("9/3/2023 10:00,User_1,Video_Call,-75 dBm,30 ms,10 Mbps,15 Mbps", r"line 2: 7 fields, expected 8"),
    ("9/3/2023 10:00,User_1,Video_Call,-75 dBm,30 ms,10 Mbps,15 Mbps,seventy", r"line 2, column 'Resource_Allocation'"),
])
def test_qos_parser_rejects_bad_rows_with_line_and_column(tmp_path, row, match):
    with pytest.raises(ValueError, match=match):
        load_qos5g(write_csv(tmp_path, [row]))


@needs_data
def test_real_files_load():
    q = load_qos5g(DATA / "qos5g" / "qos5g.csv")
    assert q.shape == (400, 8) and q["Application_Type"].nunique() == 11
    assert q["Signal_Strength"].between(-123, -40).all() and set(q["Resource_Allocation"]) <= set(range(50, 95, 5))
    k = load_operator_kpis(KPI_DIR)
    assert k.shape[0] == 10_738 and list(k.columns[:4]) == ["internet", "sessions", "vpn", "downstream"]
    assert k["internet_missing"].sum() == 26 and k["sessions_missing"].sum() == 90
    assert not k[["internet", "sessions", "vpn", "downstream"]].isna().any().any()
    raw = load_operator_kpis(KPI_DIR, fill_missing="keep")
    assert (raw["internet"] == 0).sum() == 26
    assert load_operator_kpis(KPI_DIR, fill_missing="nan")["sessions"].isna().sum() == 90


def test_kpi_loader_on_synthetic_folder_and_missing_interpolation(tmp_path):
    df = synthetic_operator_kpis(days=2, seed=1, missing_fraction=0.02)
    folder = write_operator_kpis(df, tmp_path / "kpis")
    k = load_operator_kpis(folder)
    holes = df["internet"] == 0
    assert holes.sum() > 0 and k["internet_missing"].sum() == holes.sum()
    # linear interpolation in time between the neighbours of an isolated hole
    i = np.flatnonzero(holes.values & ~np.roll(holes.values, 1) & ~np.roll(holes.values, -1))
    i = i[(i > 0) & (i < len(df) - 1)][0]
    assert k["internet"].iloc[i] == pytest.approx((df["internet"].iloc[i - 1] + df["internet"].iloc[i + 1]) / 2)
    (folder / "data_series" / "s11.txt").unlink()
    assert "sessions" not in load_operator_kpis(folder)  # reads whichever series are present
    with pytest.raises(FileNotFoundError, match="data_series_info.txt not found"):
        load_operator_kpis(tmp_path)
