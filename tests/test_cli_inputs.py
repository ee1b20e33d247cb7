"""Command-line arguments out of range, and `--data` in each accepted form, get one clear line."""

from __future__ import annotations

import pytest

from oran_gym.cli import KPI_FOLDER, QOS_FILE, build_parser, forecast_source, main
from oran_gym.data import data_dir

BAD_ARGS = [
    (["forecast", "qos", "--folds", "1"], "argument --folds: 1 is below the minimum 2"),
    (["forecast", "kpi", "--epochs", "0"], "argument --epochs: 0 is below the minimum 1"),
    (["dataset", "--samples", "-5"], "argument --samples: -5 is below the minimum 1"),
    (["dataset", "--workers", "0"], "argument --workers: 0 is below the minimum 1"),
    (["dataset", "--time-limit", "0"], "argument --time-limit: 0 is not a finite number > 0"),
    (["dataset", "--time-limit", "inf"], "argument --time-limit: inf is not a finite number > 0"),
    (["dataset", "--time-limit", "soon"], "argument --time-limit: 'soon' is not a number"),
    (["evaluate", "random", "--episodes", "0"], "argument --episodes: 0 is below the minimum 1"),
    (["evaluate", "random", "--seed", "-1"], "argument --seed: -1 is below the minimum 0"),
    (["train", "dqn", "--timesteps", "ten"], "argument --timesteps: 'ten' is not an integer"),
    (["train", "ssvae", "--labels", "0"], "argument --labels: 0 is below the minimum 1"),
    (["sweep", "g.yaml", "--workers", "-2"], "argument --workers: -2 is below the minimum 1"),
]


@pytest.mark.parametrize("argv, message", BAD_ARGS)
def test_out_of_range_arguments_are_refused_by_name(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(argv)
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_forecast_data_accepts_the_folder_the_file_or_the_dataset_folder(tmp_path):
    (tmp_path / QOS_FILE).parent.mkdir(parents=True)
    (tmp_path / QOS_FILE).write_text("x")
    (tmp_path / KPI_FOLDER).mkdir(parents=True)
    (tmp_path / KPI_FOLDER / "data_series_info.txt").write_text("s1 internet\n")
    assert forecast_source("qos", tmp_path) == tmp_path / QOS_FILE
    assert forecast_source("qos", tmp_path / QOS_FILE) == tmp_path / QOS_FILE  # the CSV itself
    assert forecast_source("qos", tmp_path / "qos5g") == tmp_path / QOS_FILE
    assert forecast_source("kpi", tmp_path) == tmp_path / KPI_FOLDER
    assert forecast_source("kpi", tmp_path / KPI_FOLDER) == tmp_path / KPI_FOLDER
    assert forecast_source("kpi", tmp_path / "operator_kpis") == tmp_path / KPI_FOLDER
    with pytest.raises(FileNotFoundError, match=r"is a file; the kpi pipeline reads the operator-KPI dataset folder"):
        forecast_source("kpi", tmp_path / QOS_FILE)
    with pytest.raises(FileNotFoundError, match=r"is not the QoS CSV, or a folder holding qos5g/qos5g.csv \(looked for"):
        forecast_source("qos", tmp_path / KPI_FOLDER)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        forecast_source("qos", tmp_path / "nowhere")


@pytest.mark.requires_torch
def test_forecast_on_a_three_row_table_is_one_line(tmp_path, capsys):
    csv = tmp_path / "tiny.csv"
    csv.write_text(
        "Timestamp,User_ID,Application_Type,Signal_Strength,Latency,Required_Bandwidth,Allocated_Bandwidth,Resource_Allocation\n"
        + "".join(f"9/3/2023 10:00,User_{i},Video_Call,-7{i} dBm,3{i} ms,10 Mbps,15 Mbps,70%\n" for i in range(3))
    )
    assert main(["forecast", "qos", "--data", str(csv), "--folds", "2", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the QoS table has 3 rows after outlier removal (of 3); 2-fold cross-validation needs at least 20" in err[0]


@pytest.mark.skipif(data_dir() is None or not (data_dir() / QOS_FILE).exists(), reason="real data not found")
def test_forecast_data_resolves_the_real_layout():
    root = data_dir()
    assert forecast_source("qos", root / QOS_FILE) == root / QOS_FILE
    assert (forecast_source("kpi", root) / "data_series" / "s1.txt").exists()


@pytest.mark.requires_torch
def test_pipelines_check_their_sizes_before_training():
    from oran_gym.agents.forecasting import run_kpi_pipeline, run_qos_pipeline
    from oran_gym.data import synthetic_operator_kpis, synthetic_qos5g

    with pytest.raises(ValueError, match=r"the KPI frame has 40 samples: 30 windows of 10, fewer than the 50"):
        run_kpi_pipeline(synthetic_operator_kpis(days=1).iloc[:40])
    with pytest.raises(ValueError, match=r"lacks the columns \['vpn'\]"):
        run_kpi_pipeline(synthetic_operator_kpis(days=1).drop(columns="vpn"))
    with pytest.raises(ValueError, match=r"folds must be an integer >= 2 \(K-fold needs a training and a test part\), got 1"):
        run_qos_pipeline(synthetic_qos5g(50), folds=1)
    with pytest.raises(ValueError, match=r"30-fold cross-validation needs at least 60"):
        run_qos_pipeline(synthetic_qos5g(50), folds=30)
