"""Saved artefacts carry a manifest; damaged, truncated, empty or wrong-kind copies get one clear error."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from oran_gym.artefacts import ArtefactError, manifest_path, verify, write_manifest


def _damaged_copies(src, tmp_path):
    """(label, path, expected message) for every kind of damage, each a corrupted copy in its own folder."""
    out = []
    data = src.read_bytes()
    for label, mutate, match in [
        ("flipped byte", lambda b: b[: len(b) // 2] + bytes([b[len(b) // 2] ^ 0xFF]) + b[len(b) // 2 + 1 :], "SHA-256 differs"),
        ("truncated", lambda b: b[: len(b) // 2], "truncated or replaced"),
        ("empty", lambda b: b"", "the file is empty"),
    ]:
        d = tmp_path / label.replace(" ", "_")
        d.mkdir()
        dst = d / src.name
        dst.write_bytes(mutate(data))
        shutil.copy(manifest_path(src), manifest_path(dst))
        out.append((label, dst, match))
    d = tmp_path / "no_manifest"
    d.mkdir()
    shutil.copy(src, d / src.name)
    out.append(("no manifest", d / src.name, "no manifest"))
    return out


def test_manifest_round_trip_and_every_damage(tmp_path):
    f = tmp_path / "blob.bin"
    f.write_bytes(np.random.default_rng(0).bytes(4096))
    write_manifest(f, "thing", {"a": 1})
    m = verify(f, "thing")
    assert m["config"] == {"a": 1} and m["files"]["blob.bin"]["bytes"] == 4096 and m["format_version"] == 1
    for label, path, match in _damaged_copies(f, tmp_path):
        with pytest.raises(ArtefactError, match=match) as err:
            verify(path, "thing")
        assert str(path) in str(err.value), label
    with pytest.raises(ArtefactError, match="is a 'thing' artefact, expected 'ssvae'"):
        verify(f, "ssvae")
    with pytest.raises(ArtefactError, match="no such file"):
        verify(tmp_path / "missing.bin", "thing")


@pytest.mark.requires_torch
def test_forecast_bundle_and_ssvae_refuse_damaged_copies(tmp_path):
    pytest.importorskip("torch")
    from oran_gym.agents.forecasting import KPIForecasterBundle, run_kpi_pipeline
    from oran_gym.data import synthetic_operator_kpis

    res = run_kpi_pipeline(synthetic_operator_kpis(days=2, seed=0), epochs=1, units=(8, 8, 4), max_samples=300)
    path = res["bundle"].save(tmp_path / "kpi.pt")
    assert KPIForecasterBundle.load(path).window == res["bundle"].window
    for label, bad, match in _damaged_copies(path, tmp_path):
        with pytest.raises(ArtefactError, match=match):
            KPIForecasterBundle.load(bad)
    from oran_gym.agents.ssvae import load_ssvae

    with pytest.raises(ArtefactError, match="is a 'kpi_forecaster' artefact, expected 'ssvae'"):
        load_ssvae(path)
