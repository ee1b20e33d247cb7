"""Loaders for the real public data, in their original formats, and synthetic twins with the same schema.

* The Kaggle "5G Quality of Service" table (`qos5g.csv`): units are embedded in strings
  (`-75 dBm`, `30 ms`, `10 Mbps` / `100 Kbps`, `70%`). `load_qos5g` parses them into numbers in
  fixed units (dBm, ms, Kbps, %) and raises a `ValueError` naming the line and the column of any
  malformed cell.
* The "Network operator KPIs time series dataset" (Zenodo 10.5281/zenodo.8147768, CC BY-NC 4.0):
  a folder with `data_series_info.txt` (`<series> <kpi>`) and `data_series/sN.txt` files of
  `<t_seconds> <value>`. `load_operator_kpis` reads whichever series are present. Zeros are the
  source's missing samples: they are kept as a mask and, on request, filled by linear
  interpolation in time (`fill_missing="interpolate"`, the default) or left as NaN (`"nan"`).

The files are never copied into this project: `data_dir()` finds them at `$ORAN_GYM_DATA` or at
`../shared/data` beside the checkout. `synthetic_qos5g` and `synthetic_operator_kpis` make
data of the same schema for tests and machines without the files.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "load_trace",
    "data_dir",
    "load_qos5g",
    "load_operator_kpis",
    "synthetic_qos5g",
    "synthetic_operator_kpis",
    "write_operator_kpis",
    "QOS5G_COLUMNS",
    "KPI_SERIES",
]

QOS5G_COLUMNS = (
    "Timestamp", "User_ID", "Application_Type", "Signal_Strength", "Latency",
    "Required_Bandwidth", "Allocated_Bandwidth", "Resource_Allocation",
)
KPI_SERIES = {"internet": "s1", "sessions": "s11", "vpn": "s31", "downstream": "s41"}
"""The first series of each KPI type: the four the digital-twin paper (seed 001) joins on time."""

_NUMBER = r"[-+]?\d+(?:\.\d+)?"


def data_dir() -> Path | None:
    """`$ORAN_GYM_DATA`, else `../shared/data` beside this checkout, else None."""
    env = os.environ.get("ORAN_GYM_DATA")
    if env:
        return Path(env)
    for root in (Path.cwd(), Path(__file__).resolve().parent.parent):
        candidate = root.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return None


def _parse(value: str, pattern: str, line: int, column: str, allowed: str) -> float:
    m = re.fullmatch(pattern, value.strip())
    if not m:
        raise ValueError(f"qos5g line {line}, column {column!r}: cannot parse {value!r}; expected {allowed}")
    return float(m.group(1))


def load_qos5g(path: str | Path) -> pd.DataFrame:
    """Read the Kaggle QoS table; numeric columns in dBm, ms, Kbps and % (`Mbps` x 1000).

    Returns the eight original columns with `Signal_Strength` (dBm), `Latency` (ms),
    `Required_Bandwidth` and `Allocated_Bandwidth` (Kbps) and `Resource_Allocation` (%) as floats.
    """
    path = Path(path)
    rows = []
    with path.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != QOS5G_COLUMNS:
            raise ValueError(f"{path}: header {header!r} is not the QoS 5G schema {list(QOS5G_COLUMNS)}")
        for line, rec in enumerate(reader, start=2):
            if not rec or all(not c.strip() for c in rec):
                continue
            if len(rec) != len(QOS5G_COLUMNS):
                raise ValueError(f"qos5g line {line}: {len(rec)} fields, expected {len(QOS5G_COLUMNS)}")
            ts, uid, app, sig, lat, req, alloc, share = (c.strip() for c in rec)
            bw = {}
            for col, raw in (("Required_Bandwidth", req), ("Allocated_Bandwidth", alloc)):
                m = re.fullmatch(rf"({_NUMBER})\s*(Mbps|Kbps)", raw, flags=re.IGNORECASE)
                if not m:
                    raise ValueError(f"qos5g line {line}, column {col!r}: cannot parse {raw!r}; expected '<number> Mbps' or '<number> Kbps'")
                bw[col] = float(m.group(1)) * (1000.0 if m.group(2).lower() == "mbps" else 1.0)
            if not app:
                raise ValueError(f"qos5g line {line}, column 'Application_Type': empty")
            rows.append({
                "Timestamp": ts,
                "User_ID": uid,
                "Application_Type": app,
                "Signal_Strength": _parse(sig, rf"({_NUMBER})\s*dBm", line, "Signal_Strength", "'<number> dBm'"),
                "Latency": _parse(lat, rf"({_NUMBER})\s*ms", line, "Latency", "'<number> ms'"),
                "Required_Bandwidth": bw["Required_Bandwidth"],
                "Allocated_Bandwidth": bw["Allocated_Bandwidth"],
                "Resource_Allocation": _parse(share, rf"({_NUMBER})\s*%", line, "Resource_Allocation", "'<number>%'"),
            })
    if not rows:
        raise ValueError(f"{path}: no data rows")
    return pd.DataFrame(rows, columns=list(QOS5G_COLUMNS))


def load_operator_kpis(folder: str | Path, series: dict[str, str] | None = None, fill_missing: str = "interpolate") -> pd.DataFrame:
    """Join the KPI series present in `folder` on time.

    Args:
        folder: the dataset folder (with `data_series_info.txt` and `data_series/`).
        series: `{column name: series id}`; default: the first series of each KPI type that is
            present (`KPI_SERIES`: internet s1, sessions s11, vpn s31, downstream s41).
        fill_missing: zeros are missing samples; "interpolate" fills them linearly in time
            (ends held), "nan" leaves NaN, "keep" keeps the zeros.

    Returns:
        A frame indexed by `t_s` (seconds) with one column per KPI and, for each, a boolean
        `<name>_missing` column marking the source's zeros.
    """
    folder = Path(folder)
    if fill_missing not in ("interpolate", "nan", "keep"):
        raise ValueError(f"fill_missing must be 'interpolate', 'nan' or 'keep', got {fill_missing!r}")
    info = folder / "data_series_info.txt"
    if not info.exists():
        raise FileNotFoundError(f"{info} not found: is {folder} the operator KPI dataset folder?")
    kinds = {}
    for n, line in enumerate(info.read_text().splitlines(), start=1):
        if line.strip():
            parts = line.split()
            if len(parts) != 2:
                raise ValueError(f"{info} line {n}: expected '<series> <kpi type>', got {line!r}")
            kinds[parts[0]] = parts[1]
    if series is None:
        series = {name: sid for name, sid in KPI_SERIES.items() if (folder / "data_series" / f"{sid}.txt").exists()}
        if not series:
            raise FileNotFoundError(f"none of the series {sorted(KPI_SERIES.values())} is in {folder / 'data_series'}")
    frames = []
    for name, sid in series.items():
        if sid not in kinds:
            raise ValueError(f"series {sid!r} is not listed in {info}")
        path = folder / "data_series" / f"{sid}.txt"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing (our copy holds only some of the 50 series)")
        raw = np.loadtxt(path, ndmin=2)
        if raw.shape[1] != 2:
            raise ValueError(f"{path}: expected two columns '<t_seconds> <value>', got {raw.shape[1]}")
        s = pd.Series(raw[:, 1], index=pd.Index(raw[:, 0].astype(np.int64), name="t_s"), name=name)
        if s.index.duplicated().any():
            raise ValueError(f"{path}: duplicate timestamps")
        frames.append(s)
    df = pd.concat(frames, axis=1, join="inner").sort_index()
    for name in series:
        missing = df[name] == 0.0
        df[f"{name}_missing"] = missing
        if fill_missing != "keep":
            df.loc[missing, name] = np.nan
            if fill_missing == "interpolate":
                df[name] = df[name].interpolate(method="index", limit_direction="both")
    return df


def synthetic_qos5g(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A table with the QoS schema (parsed units) and a learnable target, for tests without the data."""
    rng = np.random.default_rng(seed)
    apps = ["Video_Call", "Web_Browsing", "Streaming", "Emergency_Service", "Background_Download", "Video_Streaming",
            "VoIP_Call", "Online_Gaming", "IoT_Temperature"]
    app = rng.choice(apps, size=n)
    sig = rng.integers(-123, -40, size=n).astype(float)
    lat = rng.integers(0, 110, size=n).astype(float)
    req = rng.choice([100.0, 500.0, 1000.0, 5000.0, 10000.0], size=n)
    alloc = req * rng.uniform(1.0, 1.5, size=n)
    share = np.clip(np.round((50 + 40 * (sig + 123) / 83 * 0.5 + 20 * (alloc / req - 1)) / 5) * 5, 50, 90)
    return pd.DataFrame({
        "Timestamp": "9/3/2023 10:00", "User_ID": [f"User_{i + 1}" for i in range(n)], "Application_Type": app,
        "Signal_Strength": sig, "Latency": lat, "Required_Bandwidth": req, "Allocated_Bandwidth": alloc,
        "Resource_Allocation": share,
    })


def synthetic_operator_kpis(days: float = 7.0, seed: int = 0, missing_fraction: float = 0.003) -> pd.DataFrame:
    """Four KPI series at 300 s with daily cycles, noise and a few zeros (missing), as the real ones."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(days * 288)) * 300
    phase = 2 * np.pi * t / 86400.0
    daily = 0.5 + 0.45 * np.sin(phase - np.pi / 2) ** 2
    out = {
        "internet": 80 + 700 * daily + rng.normal(0, 20, t.size),
        "sessions": 970 + 10 * np.sin(phase) + rng.normal(0, 2, t.size),
        "vpn": 230 + 500 * daily + rng.normal(0, 25, t.size),
        "downstream": 85 + 680 * daily + rng.normal(0, 20, t.size),
    }
    df = pd.DataFrame({k: np.clip(v, 1.0, 1000.0) for k, v in out.items()}, index=pd.Index(t, name="t_s"))
    holes = rng.random(t.size) < missing_fraction
    for name in list(out):
        df.loc[holes, name] = 0.0
    return df


def write_operator_kpis(df: pd.DataFrame, folder: str | Path) -> Path:
    """Write KPI columns in the original folder format (for tests of the loader on synthetic data)."""
    folder = Path(folder)
    (folder / "data_series").mkdir(parents=True, exist_ok=True)
    lines = []
    for name, sid in KPI_SERIES.items():
        if name in df:
            np.savetxt(folder / "data_series" / f"{sid}.txt", np.column_stack([df.index.values, df[name].values]), fmt=["%d", "%.10g"])
            lines.append(f"{sid} {name}")
    (folder / "data_series_info.txt").write_text("\n".join(lines) + "\n")
    return folder


_TRACE_CACHE: dict[str, np.ndarray] = {}


def load_trace(spec: str) -> np.ndarray:
    """KPI trace `[T, 4]` (internet, sessions, vpn, downstream; missing samples interpolated).

    `spec` is "synthetic" (37 days of `synthetic_operator_kpis`, seed 0) or the operator-KPI
    dataset folder. Cached per spec; the array is shared, do not modify it.
    """
    if spec not in _TRACE_CACHE:
        if spec == "synthetic":
            df = synthetic_operator_kpis(days=37.0, seed=0)
            df = df.mask(df == 0.0).interpolate(method="index", limit_direction="both")
        else:
            df = load_operator_kpis(spec)
            missing = [k for k in KPI_SERIES if k not in df]
            if missing:
                raise FileNotFoundError(f"trace folder {spec} lacks the KPI series {missing} (needed: {sorted(KPI_SERIES)})")
        _TRACE_CACHE[spec] = df[list(KPI_SERIES)].to_numpy(dtype=np.float64)
    return _TRACE_CACHE[spec]
