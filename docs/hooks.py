"""MkDocs hook: pages that are generated from the code at build time, so they never go stale.

`{{ scenario_table }}` in a page becomes the table of every preset's fields (the table `oran-gym
info --markdown` prints). The report page includes `benchmarks/results/REPORT.md`; its figures
are added to the site beside it.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SRC = ROOT / "build" / "docs_src"


def on_startup(command, dirty):
    """Copy the installed package tree (oran_gym with agents/, baselines/, benchmarks/ inside) for the analysis.

    A copy, not links: the analysis resolves links back to the repository's layout. At start-up,
    before the configuration is read: mkdocstrings drops a search path that does not exist yet.
    """
    import shutil

    shutil.rmtree(SRC, ignore_errors=True)
    skip = shutil.ignore_patterns("__pycache__", "results", "*.pyc")
    shutil.copytree(ROOT / "oran_gym", SRC / "oran_gym", ignore=skip)
    for sub in ("agents", "baselines", "benchmarks"):
        shutil.copytree(ROOT / sub, SRC / "oran_gym" / sub, ignore=skip)


def on_files(files, config):
    """Add the report's figures (`benchmarks/results/**/*.png`) at the paths REPORT.md links them."""
    from mkdocs.structure.files import File

    for png in sorted(RESULTS.rglob("*.png")):
        rel = png.relative_to(RESULTS).as_posix()
        files.append(File.generated(config, rel, abs_src_path=str(png)))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Fill the generated placeholders."""
    if "{{ scenario_table }}" in markdown:
        from oran_gym.cli import scenario_table
        from oran_gym.config import PRESET_SOURCES, PRESETS, ScenarioConfig

        parts = []
        for name in PRESETS:
            table = scenario_table(ScenarioConfig.preset(name), markdown=True, sources=PRESET_SOURCES.get(name))
            note = "Each value the preset sets comes with its [source].\n\n" if name in PRESET_SOURCES else ""
            parts.append(f"### `{name}`\n\n{note}" + table + "\n")
        markdown = markdown.replace("{{ scenario_table }}", "\n".join(parts))
    return markdown
