"""Bad data gets a clear `DataError` (file, 1-based line, column, value), never a silent change.

Every case writes a corrupted copy into a temporary folder: of the real files where they are
present, else of the synthetic twins with the same format.
"""

from __future__ import annotations

import codecs
import logging
import shutil

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

import oran_gym  # noqa: F401  (registers the env)
from oran_gym.data import DataError, data_dir, load_operator_kpis, load_qos5g, load_trace, synthetic_operator_kpis, write_operator_kpis

DATA = data_dir()
REAL_KPI = DATA / "operator_kpis" / "network_operator_KPIs_time_series_dataset" if DATA else None
REAL_QOS = DATA / "qos5g" / "qos5g.csv" if DATA else None

HEADER = "Timestamp,User_ID,Application_Type,Signal_Strength,Latency,Required_Bandwidth,Allocated_Bandwidth,Resource_Allocation\n"
ROW = "9/3/2023 10:00,User_1,Video_Call,-75 dBm,30 ms,10 Mbps,15 Mbps,70%\n"


@pytest.fixture
def kpi_folder(tmp_path):
    """A writable copy of the KPI folder (real series if present, else synthetic ones)."""
    dst = tmp_path / "kpis"
    if REAL_KPI is not None and REAL_KPI.exists():
        (dst / "data_series").mkdir(parents=True)
        shutil.copy(REAL_KPI / "data_series_info.txt", dst)
        for sid in ("s1", "s11", "s31", "s41"):
            shutil.copy(REAL_KPI / "data_series" / f"{sid}.txt", dst / "data_series")
        return dst
    return write_operator_kpis(synthetic_operator_kpis(days=4, seed=3), dst)


def edit_line(path, line, new):
    """Replace the 1-based line `line` of `path` with `new`."""
    lines = path.read_text().splitlines()
    lines[line - 1] = new
    path.write_text("\n".join(lines) + "\n")


def series(folder, sid="s1"):
    return folder / "data_series" / f"{sid}.txt"


@pytest.mark.parametrize("value, what", [("inf", "is out of range"), ("nan", "is out of range"), ("-1.1e6", "is out of range"),
                                         ("abc", "is not a number"), ("1e999", "is out of range")])
def test_bad_kpi_sample_names_file_line_column_value(kpi_folder, value, what):
    edit_line(series(kpi_folder), 7, f"1800 {value}")
    with pytest.raises(DataError, match=rf"s1\.txt line 7, column 'value': '{value}' {what}"):
        load_operator_kpis(kpi_folder)


def test_stray_and_truncated_lines_are_named(kpi_folder):
    edit_line(series(kpi_folder, "s31"), 12, "# exported by tool x")
    with pytest.raises(DataError, match=r"s31\.txt line 12: 5 fields in '# exported by tool x'"):
        load_operator_kpis(kpi_folder)


def test_file_truncated_mid_line_is_an_error_not_a_shorter_join(kpi_folder):
    p = series(kpi_folder, "s41")
    text = p.read_text()
    half = text[: len(text) // 2]
    p.write_text(half[: half.rindex(" ")])  # cut inside a line, after its time field
    n = half.count("\n") + 1
    with pytest.raises(DataError, match=rf"s41\.txt line {n}: 1 fields"):
        load_operator_kpis(kpi_folder)
    p.write_text(half[: half.rindex("\n") + 1])  # cut at a line boundary: the join would lose half
    with pytest.raises(DataError, match=r"s41\.txt: it ends at t_seconds \d+ on its line \d+ .*truncated file"):
        load_operator_kpis(kpi_folder)


def test_intersect_is_an_explicit_logged_repair(kpi_folder, caplog):
    p = series(kpi_folder, "s41")
    lines = p.read_text().splitlines()
    p.write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    with caplog.at_level(logging.WARNING, logger="oran_gym.data"):
        df = load_operator_kpis(kpi_folder, align="intersect")
    assert len(df) == len(lines) // 2
    assert any("joining on the" in r.getMessage() and "s41.txt" in r.getMessage() for r in caplog.records)


def test_series_that_do_not_overlap_fail_at_load(kpi_folder):
    p = series(kpi_folder, "s11")
    t, v = np.loadtxt(p, unpack=True)
    np.savetxt(p, np.column_stack([t + t[-1] + 300, v]), fmt=["%d", "%.10g"])
    with pytest.raises(DataError, match="do not overlap in time"):
        load_operator_kpis(kpi_folder)


def test_all_missing_series_and_long_gaps(kpi_folder):
    p = series(kpi_folder, "s1")
    t, v = np.loadtxt(p, unpack=True)
    np.savetxt(p, np.column_stack([t, np.zeros_like(v)]), fmt=["%d", "%g"])
    with pytest.raises(DataError, match=r"s1\.txt: all \d+ samples are 0"):
        load_operator_kpis(kpi_folder)
    v2 = v.copy()
    v2[100:200] = 0.0
    np.savetxt(p, np.column_stack([t, v2]), fmt=["%d", "%.10g"])
    with pytest.raises(DataError, match=r"100 missing samples in a row .* max_gap_samples=96"):
        load_operator_kpis(kpi_folder)
    df = load_operator_kpis(kpi_folder, max_gap_samples=100)
    assert np.isfinite(df["internet"]).all() and df["internet_missing"].sum() >= 100


def test_times_must_increase_and_be_whole_seconds(kpi_folder):
    edit_line(series(kpi_folder), 5, "300 12.0")
    with pytest.raises(DataError, match=r"line 5, column 't_seconds': '300' is not after 900 on line 4"):
        load_operator_kpis(kpi_folder)
    edit_line(series(kpi_folder), 5, "1200.5 12.0")
    with pytest.raises(DataError, match=r"line 5, column 't_seconds': '1200.5' is out of range; expected a whole number"):
        load_operator_kpis(kpi_folder)


def test_repairs_are_logged(kpi_folder, caplog):
    edit_line(series(kpi_folder), 9, "2400 0")
    with caplog.at_level(logging.INFO, logger="oran_gym.data"):
        df = load_operator_kpis(kpi_folder)
    assert df["internet_missing"].iloc[8] and df["internet"].iloc[8] > 0
    assert any(r.getMessage().startswith("internet (") and "interpolated" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig"])
def test_kpi_files_in_utf16_or_with_bom_load_the_same(kpi_folder, encoding):
    before = load_operator_kpis(kpi_folder)
    for sid in ("s1", "s11"):
        p = series(kpi_folder, sid)
        p.write_bytes(p.read_text().encode(encoding))
    pd.testing.assert_frame_equal(load_operator_kpis(kpi_folder), before, check_exact=True)


def test_undecodable_bytes_are_named(kpi_folder):
    p = series(kpi_folder)
    raw = p.read_bytes().split(b"\n")
    raw[3] = b"900 \xff\xfe12"
    p.write_bytes(b"\n".join(raw))
    with pytest.raises(DataError, match=r"s1\.txt line 4: byte \d+ .* is not utf-8 text"):
        load_operator_kpis(kpi_folder)


def test_bad_trace_fails_at_gym_make_not_at_reset(kpi_folder):
    edit_line(series(kpi_folder), 7, "1800 inf")
    with pytest.raises(DataError, match=r"s1\.txt line 7, column 'value': 'inf'"):
        gym.make("ORANSlicing-v0", traffic_trace=str(kpi_folder))
    with pytest.raises(FileNotFoundError, match="data_series_info.txt not found"):
        gym.make("ORANSlicing-v0", traffic_trace=str(kpi_folder / "nowhere"))


def test_good_trace_gives_finite_positive_load(kpi_folder):
    trace = load_trace(str(kpi_folder))
    assert np.isfinite(trace).all() and (trace > 0).all()
    env = gym.make("ORANSlicing-v0", config="tiny", traffic_trace=str(kpi_folder))
    env.reset(seed=0)
    load = env.unwrapped.offered_load_bps
    assert np.isfinite(load).all() and (load >= 0).all() and load.sum() > 0


# --- the QoS table --------------------------------------------------------------------------
def qos_file(tmp_path, body, encoding="utf-8"):
    p = tmp_path / "qos5g.csv"
    p.write_bytes((HEADER + body).encode(encoding))
    return p


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be"])
def test_qos_with_bom_or_utf16_loads(tmp_path, encoding):
    df = load_qos5g(qos_file(tmp_path, ROW * 3, encoding))
    assert df.shape == (3, 8) and df["Required_Bandwidth"].tolist() == [10000.0] * 3


@pytest.mark.parametrize("row, match", [
    (ROW.replace("10 Mbps", "-10 Mbps"), r"line 3, column 'Required_Bandwidth': '-10 Mbps' is out of range; expected .*>= 0"),
    (ROW.replace("15 Mbps", "-1 Kbps"), r"line 3, column 'Allocated_Bandwidth': '-1 Kbps' is out of range"),
    (ROW.replace("30 ms", "-3 ms"), r"line 3, column 'Latency': '-3 ms' is out of range"),
    (ROW.replace("70%", "170%"), r"line 3, column 'Resource_Allocation': '170%' is out of range; expected '<number>%' in \[0, 100\]"),
    (ROW.replace("-75 dBm", "nan dBm"), r"line 3, column 'Signal_Strength': cannot parse 'nan dBm'"),
    (ROW.replace("Video_Call", ""), r"line 3, column 'Application_Type': empty"),
    (ROW[:40] + "\n", r"line 3: 4 fields, expected 8"),
])
def test_qos_bad_cells_name_file_line_column_value(tmp_path, row, match):
    with pytest.raises(DataError, match=match):
        load_qos5g(qos_file(tmp_path, ROW + row))


def test_qos_folder_instead_of_file_is_named(tmp_path):
    with pytest.raises(DataError, match="is a folder; load_qos5g reads the CSV file"):
        load_qos5g(tmp_path)


@pytest.mark.skipif(REAL_QOS is None or not REAL_QOS.exists(), reason="real data not found")
def test_real_qos_with_bom_equals_original(tmp_path):
    p = tmp_path / "qos5g.csv"
    p.write_bytes(codecs.BOM_UTF8 + REAL_QOS.read_bytes())
    pd.testing.assert_frame_equal(load_qos5g(p), load_qos5g(REAL_QOS), check_exact=True)
