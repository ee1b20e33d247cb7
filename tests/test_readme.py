"""Every Python block of the README runs, in order, as one script (what a reader pasting them gets)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_python_blocks():
    blocks = python_blocks()
    assert len(blocks) >= 5
    assert any("gym.make(\"ORANSlicing-v0\"" in b for b in blocks)


@pytest.mark.slow
@pytest.mark.requires_torch
def test_readme_python_blocks_run_in_order(tmp_path):
    pytest.importorskip("stable_baselines3")
    pytest.importorskip("ray")
    script = tmp_path / "readme_blocks.py"
    parts = []
    for i, block in enumerate(python_blocks()):
        parts.append(f"print('--- README block {i}', flush=True)\n{block}")
    script.write_text("\n".join(parts))
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-4000:]
    assert r.stdout.count("--- README block") == len(python_blocks())
