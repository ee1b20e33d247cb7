"""Loaders for the real public data, in their original formats, and synthetic twins with the same schema.

* The Kaggle "5G Quality of Service" table (`qos5g.csv`): units are embedded in strings
  (`-75 dBm`, `30 ms`, `10 Mbps` / `100 Kbps`, `70%`). `load_qos5g` parses them into numbers in
  fixed units (dBm, ms, Kbps, %).
* The "Network operator KPIs time series dataset" (Zenodo 10.5281/zenodo.8147768, CC BY-NC 4.0):
  a folder with `data_series_info.txt` (`<series> <kpi>`) and `data_series/sN.txt` files of
  `<t_seconds> <value>`. `load_operator_kpis` reads whichever series are present. Zeros are the
  source's missing samples: they are kept as a mask and, on request, filled by linear
  interpolation in time (`fill_missing="interpolate"`, the default) or left as NaN (`"nan"`).

Both loaders check every cell (finite, in range, times increasing, series that overlap and cover
the same times) and raise a `DataError` (a `ValueError`) naming the file, the 1-based line, the
column and the value. They read UTF-8 with or without a BOM and UTF-16. Repairs (interpolating
missing samples, joining series on their common times) are explicit arguments, and each is logged
on the `oran_gym.data` logger; nothing is repaired silently.

The files are never copied into this project: `data_dir()` finds them at `$ORAN_GYM_DATA` or at
`../shared/data` beside the checkout. `synthetic_qos5g` and `synthetic_operator_kpis` make
data of the same schema for tests and machines without the files.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "load_trace",
    "DataError",
    "read_text",
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

logger = logging.getLogger("oran_gym.data")


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


class DataError(ValueError):
    """A data file that cannot be used as it is; the message names the file, the 1-based line,
    the column and the offending value."""


def read_text(path: str | Path) -> str:
    """The text of a data file: UTF-8 (with or without a BOM) or UTF-16 (with a BOM, or ASCII
    text without one); anything else is a `DataError` naming the file and the line."""
    path = Path(path)
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif raw.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif len(raw) >= 2 and b"\x00" in raw[:4096]:
        # UTF-16 without a BOM: ASCII text has a NUL in every other byte
        encoding = "utf-16-le" if raw[1:4096:2].count(0) > raw[0:4096:2].count(0) else "utf-16-be"
    else:
        encoding = "utf-8"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataError(
            f"{path} line {line}: byte {e.start} ({raw[e.start:e.start + 1]!r}) is not {encoding} text; "
            "save the file as UTF-8 or UTF-16"
        ) from None


def _number(text: str, path: Path, line: int, column: str, allowed: str, check=None) -> float:
    """Parse one numeric cell; the error names the file, the line, the column and the value."""
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{path} line {line}, column {column!r}: {text!r} is not a number; expected {allowed}") from None
    if not math.isfinite(value) or (check is not None and not check(value)):
        raise DataError(f"{path} line {line}, column {column!r}: {text!r} is out of range; expected {allowed}")
    return value


def _unit_cell(raw: str, units: dict[str, float], path: Path, line: int, column: str, allowed: str, check) -> float:
    """`'<number> <unit>'` -> number x the unit's factor, checked."""
    m = re.fullmatch(rf"({_NUMBER})\s*({'|'.join(units)})", raw.strip(), flags=re.IGNORECASE)
    if not m:
        raise DataError(f"{path} line {line}, column {column!r}: cannot parse {raw!r}; expected {allowed}")
    value = float(m.group(1)) * units[next(u for u in units if u.lower() == m.group(2).lower())]
    if not check(value):
        raise DataError(f"{path} line {line}, column {column!r}: {raw!r} is out of range; expected {allowed}")
    return value


_BANDWIDTH = ({"Mbps": 1000.0, "Kbps": 1.0}, "'<number> Mbps' or '<number> Kbps' >= 0", lambda v: v >= 0.0)
_QOS_CELLS = {
    # column: (units and factors, what is allowed, check)
    "Signal_Strength": ({"dBm": 1.0}, "'<number> dBm' in [-200, 30]", lambda v: -200.0 <= v <= 30.0),
    "Latency": ({"ms": 1.0}, "'<number> ms' >= 0", lambda v: v >= 0.0),
    "Required_Bandwidth": _BANDWIDTH,
    "Allocated_Bandwidth": _BANDWIDTH,
    "Resource_Allocation": ({"%": 1.0}, "'<number>%' in [0, 100]", lambda v: 0.0 <= v <= 100.0),
}


def load_qos5g(path: str | Path) -> pd.DataFrame:
    """Read the Kaggle QoS table; numeric columns in dBm, ms, Kbps and % (`Mbps` x 1000).

    Returns the eight original columns with `Signal_Strength` (dBm), `Latency` (ms),
    `Required_Bandwidth` and `Allocated_Bandwidth` (Kbps) and `Resource_Allocation` (%) as floats.
    UTF-8 (with or without a BOM) and UTF-16 files are read; a malformed or out-of-range cell is a
    `DataError` naming the file, the 1-based line, the column and the value.
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a folder; load_qos5g reads the CSV file itself (for example {path / 'qos5g.csv'})")
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != QOS5G_COLUMNS:
        raise DataError(f"{path} line 1: header {header!r} is not the QoS 5G schema {list(QOS5G_COLUMNS)}")
    rows = []
    for rec in reader:
        line = reader.line_num
        if not rec or all(not c.strip() for c in rec):
            continue
        if len(rec) != len(QOS5G_COLUMNS):
            raise DataError(f"{path} line {line}: {len(rec)} fields, expected {len(QOS5G_COLUMNS)} ({', '.join(QOS5G_COLUMNS)})")
        row = dict(zip(QOS5G_COLUMNS, (c.strip() for c in rec)))
        for col in ("Timestamp", "User_ID", "Application_Type"):
            if not row[col]:
                raise DataError(f"{path} line {line}, column {col!r}: empty")
        for col, (units, allowed, check) in _QOS_CELLS.items():
            row[col] = _unit_cell(row[col], units, path, line, col, allowed, check)
        rows.append(row)
    if not rows:
        raise DataError(f"{path}: no data rows after the header")
    return pd.DataFrame(rows, columns=list(QOS5G_COLUMNS))


def _read_series(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One `<t_seconds> <value>` file: times (int64, strictly increasing) and values (finite, >= 0)."""
    times, values = [], []
    last_t, last_line = None, 0
    for line, text in enumerate(read_text(path).splitlines(), start=1):
        parts = text.split()
        if not parts:
            continue
        if len(parts) != 2:
            raise DataError(f"{path} line {line}: {len(parts)} fields in {text!r}; expected '<t_seconds> <value>' (a truncated or stray line?)")
        t = _number(parts[0], path, line, "t_seconds", "a whole number of seconds >= 0", lambda v: v >= 0 and v == int(v))
        v = _number(parts[1], path, line, "value", "a finite number >= 0 (0 marks a missing sample)", lambda v: v >= 0)
        if last_t is not None and t <= last_t:
            raise DataError(f"{path} line {line}, column 't_seconds': {parts[0]!r} is not after {int(last_t)} on line {last_line}; times must increase")
        times.append(int(t))
        values.append(v)
        last_t, last_line = t, line
    if not times:
        raise DataError(f"{path}: no samples")
    return np.asarray(times, dtype=np.int64), np.asarray(values, dtype=np.float64)


def _missing_runs(missing: np.ndarray) -> list[tuple[int, int]]:
    """(start index, length) of each run of True."""
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), (ends - starts).tolist()))


def load_operator_kpis(
    folder: str | Path,
    series: dict[str, str] | None = None,
    fill_missing: str = "interpolate",
    align: str = "strict",
    max_gap_samples: int = 96,
) -> pd.DataFrame:
    """Join the KPI series present in `folder` on time, after checking every sample.

    Checks, each failure a `DataError` naming the file, the 1-based line, the column and the
    value: two fields per line, finite values >= 0, whole-second times that increase, a series
    that is not all missing, series that overlap in time and (with `align="strict"`) cover the
    same times, so that a truncated file cannot silently shorten the join. Repairs are explicit
    arguments and every one is logged (logger `oran_gym.data`).

    Args:
        folder: the dataset folder (with `data_series_info.txt` and `data_series/`).
        series: `{column name: series id}`; default: the first series of each KPI type that is
            present (`KPI_SERIES`: internet s1, sessions s11, vpn s31, downstream s41).
        fill_missing: zeros are missing samples; "interpolate" fills them linearly in time
            (ends held), "nan" leaves NaN, "keep" keeps the zeros.
        align: "strict" refuses series whose times differ; "intersect" joins on the common
            times and logs how many samples each series lost.
        max_gap_samples: with "interpolate", a run of more missing samples than this is an error
            (8 h at the source's 5-minute step by default; the real data's longest run is 58).

    Returns:
        A frame indexed by `t_s` (seconds) with one column per KPI and, for each, a boolean
        `<name>_missing` column marking the source's zeros.
    """
    folder = Path(folder)
    if fill_missing not in ("interpolate", "nan", "keep"):
        raise ValueError(f"fill_missing must be 'interpolate', 'nan' or 'keep', got {fill_missing!r}")
    if align not in ("strict", "intersect"):
        raise ValueError(f"align must be 'strict' or 'intersect', got {align!r}")
    if isinstance(max_gap_samples, bool) or not isinstance(max_gap_samples, int) or max_gap_samples < 1:
        raise ValueError(f"max_gap_samples must be an integer >= 1, got {max_gap_samples!r}")
    if folder.is_file():
        raise DataError(f"{folder} is a file; load_operator_kpis reads the dataset folder that holds data_series_info.txt and data_series/")
    info = folder / "data_series_info.txt"
    if not info.exists():
        raise FileNotFoundError(f"{info} not found: is {folder} the operator KPI dataset folder?")
    kinds = {}
    for n, line in enumerate(read_text(info).splitlines(), start=1):
        if line.strip():
            parts = line.split()
            if len(parts) != 2:
                raise DataError(f"{info} line {n}: expected '<series> <kpi type>', got {line!r}")
            kinds[parts[0]] = parts[1]
    if series is None:
        series = {name: sid for name, sid in KPI_SERIES.items() if (folder / "data_series" / f"{sid}.txt").exists()}
        if not series:
            raise FileNotFoundError(f"none of the series {sorted(KPI_SERIES.values())} is in {folder / 'data_series'}")
    frames, spans = [], {}
    for name, sid in series.items():
        if sid not in kinds:
            raise DataError(f"series {sid!r} is not listed in {info}")
        path = folder / "data_series" / f"{sid}.txt"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing (our copy holds only some of the 50 series)")
        t, v = _read_series(path)
        if not (v > 0).any():
            raise DataError(f"{path}: all {v.size} samples are 0 (missing); the series has no data")
        spans[name] = (path, t)
        frames.append(pd.Series(v, index=pd.Index(t, name="t_s"), name=name))
    _check_alignment(spans, align)
    df = pd.concat(frames, axis=1, join="inner").sort_index()
    for name in series:
        path = spans[name][0]
        missing = (df[name] == 0.0).to_numpy()
        df[f"{name}_missing"] = missing
        if fill_missing == "keep" or not missing.any():
            continue
        runs = _missing_runs(missing)
        longest = max(runs, key=lambda r: r[1])
        if fill_missing == "interpolate" and longest[1] > max_gap_samples:
            t0, t1 = df.index[longest[0]], df.index[longest[0] + longest[1] - 1]
            raise DataError(
                f"{path}: {longest[1]} missing samples in a row (t_seconds {t0}..{t1}), more than "
                f"max_gap_samples={max_gap_samples} that interpolation may bridge; raise max_gap_samples or use fill_missing='nan'"
            )
        df.loc[missing, name] = np.nan
        if fill_missing == "interpolate":
            df[name] = df[name].interpolate(method="index", limit_direction="both")
            logger.info("%s (%s): interpolated %d missing samples in %d runs, the longest %d", name, path, int(missing.sum()), len(runs), longest[1])
        else:
            logger.info("%s (%s): %d missing samples left as NaN", name, path, int(missing.sum()))
    return df


def _check_alignment(spans: dict[str, tuple[Path, np.ndarray]], align: str) -> None:
    """Series must overlap in time; with "strict" they must have the same times."""
    names = list(spans)
    lo = max(spans[n][1][0] for n in names)
    hi = min(spans[n][1][-1] for n in names)
    if lo > hi:
        desc = ", ".join(f"{spans[n][0].name} {spans[n][1][0]}..{spans[n][1][-1]}" for n in names)
        raise DataError(f"the KPI series do not overlap in time (t_seconds: {desc})")
    ref_name = max(names, key=lambda n: spans[n][1].size)
    ref = spans[ref_name][1]
    for n in names:
        path, t = spans[n]
        if t.size == ref.size and np.array_equal(t, ref):
            continue
        kept = np.intersect1d(t, ref).size
        where = (f"it ends at t_seconds {t[-1]} on its line {t.size} while {spans[ref_name][0].name} runs to {ref[-1]}"
                 if t[-1] < ref[-1] else f"its {t.size} times differ from the {ref.size} of {spans[ref_name][0].name}")
        if align == "strict":
            raise DataError(
                f"{path}: {where} (a truncated file?); pass align='intersect' to join on the common times "
                f"({kept} of {ref.size})"
            )
        logger.warning("%s: %s; joining on the %d common times (align='intersect')", path, where, kept)


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
