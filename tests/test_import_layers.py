"""The package's layers (`[tool.importlinter]` in pyproject.toml) only point down, and
`lint-imports` (run by `make test`) fails on an import that points up."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the `convscope` package under `project/src`, with its pyproject.toml."""
    environment = {**os.environ, "PYTHONPATH": str(project / "src")}
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "pyproject.toml"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_an_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    shutil.copytree(
        REPO / "src" / "convscope",
        tmp_path / "src" / "convscope",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    kept = lint_imports(tmp_path)
    assert kept.returncode == 0, kept.stdout[-3000:] + kept.stderr[-3000:]

    # The data layer reaching up to the comparison's pictures.
    arrays = tmp_path / "src" / "convscope" / "data" / "arrays.py"
    arrays.write_text(arrays.read_text() + "\nfrom convscope.report import comparison_figures\n")
    broken = lint_imports(tmp_path)

    assert broken.returncode != 0
    assert "convscope.data.arrays -> convscope.report.comparison_figures" in broken.stdout
