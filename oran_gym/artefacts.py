"""Saved artefacts with integrity: a manifest beside every saved model, bundle and dataset.

`write_manifest(path, kind, config)` writes `PATH.manifest.json`: the format version, the package
version, the kind of artefact, its configuration and a SHA-256 and size per file. `verify(path,
kind)` checks all of it before anything is unpickled, and raises one `ArtefactError` that names the
file and what is wrong: missing, empty, truncated or changed (a flipped byte changes the digest),
the wrong kind, or a newer format. Nothing here imports torch or gymnasium.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

__all__ = ["ArtefactError", "FORMAT_VERSION", "manifest_path", "sha256", "verify", "write_manifest"]

FORMAT_VERSION = 1


class ArtefactError(ValueError):
    """A saved artefact is missing, damaged, of another kind, or from a newer format."""


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest_path(path: str | Path) -> Path:
    """`PATH.manifest.json` beside the artefact."""
    path = Path(path)
    return path.with_name(path.name + ".manifest.json")


def write_manifest(path: str | Path, kind: str, config: Any = None, extra_files: list[str | Path] | None = None) -> Path:
    """Write the manifest of `path` (and of `extra_files` saved with it, e.g. a DQN's meta.json)."""
    from oran_gym import __version__

    path = Path(path)
    files = [path, *(Path(f) for f in extra_files or [])]
    manifest = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "package_version": __version__,
        "config": config,
        "files": {f.name: {"sha256": sha256(f), "bytes": f.stat().st_size} for f in files},
    }
    out = manifest_path(path)
    out.write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return out


def verify(path: str | Path, kind: str) -> dict[str, Any]:
    """Check `path` against its manifest; return the manifest, or raise `ArtefactError` naming the problem."""
    path = Path(path)
    if not path.exists():
        raise ArtefactError(f"{path}: no such file")
    if path.is_dir():
        raise ArtefactError(f"{path}: is a folder, expected a {kind} file")
    if path.stat().st_size == 0:
        raise ArtefactError(f"{path}: the file is empty")
    mpath = manifest_path(path)
    if not mpath.exists():
        raise ArtefactError(f"{path}: no manifest ({mpath.name}) beside it, so its integrity cannot be checked; "
                            "it was saved by an older version or copied without its manifest: save it again")
    try:
        manifest = json.loads(mpath.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArtefactError(f"{mpath}: the manifest is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or "files" not in manifest:
        raise ArtefactError(f"{mpath}: not an oran-gym manifest")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ArtefactError(f"{path}: format version {version!r} is newer than this oran-gym reads ({FORMAT_VERSION}); upgrade oran-gym")
    if manifest.get("kind") != kind:
        raise ArtefactError(f"{path}: is a {manifest.get('kind')!r} artefact, expected {kind!r}")
    for name, entry in manifest["files"].items():
        f = path.with_name(name)
        if not f.exists():
            raise ArtefactError(f"{f}: listed in {mpath.name} but missing")
        size = f.stat().st_size
        if size != entry.get("bytes"):
            raise ArtefactError(f"{f}: {size} bytes, the manifest says {entry.get('bytes')} (truncated or replaced after saving)")
        if sha256(f) != entry.get("sha256"):
            raise ArtefactError(f"{f}: SHA-256 differs from the manifest (the file was changed or corrupted after saving)")
    return manifest
