"""The documentation site: it builds with warnings as errors, and every tutorial runs, at small sizes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RUNNABLE = sorted([DOCS / "index.md", *(DOCS / "tutorials").glob("*.md")])


def test_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    env_page = (tmp_path / "site" / "environment" / "index.html").read_text()
    assert "Version History" in env_page and "invalid_action" in env_page  # the env's docstring is there
    assert "ru_max_power_dbm" in (tmp_path / "site" / "scenarios" / "index.html").read_text()  # the generated table
    assert (tmp_path / "site" / "vector_speed.png").exists()  # the report's figures


@pytest.mark.slow
@pytest.mark.requires_torch
@pytest.mark.parametrize("page", RUNNABLE, ids=lambda p: p.stem)
def test_tutorial_python_blocks_run_in_order(page, tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    if not blocks:
        pytest.skip(f"{page.name} has no Python block")
    for module in ("ray",) if "ray" in page.read_text() else ():
        pytest.importorskip(module)
    script = tmp_path / f"{page.stem}.py"
    script.write_text("\n".join(blocks))
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
