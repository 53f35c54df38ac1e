"""The study report stage: reports/studies.md from the planned studies, in the plan's order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_report(reports: Path, plan: Path) -> subprocess.CompletedProcess[str]:
    """Run the study report stage on `reports` with the plan file `plan`."""
    command = [
        sys.executable,
        "-m",
        "convscope.study_report",
        f"plan={plan}",
        f"paths.reports={reports}",
        f"hydra.run.dir={reports.parent / 'outputs'}",
    ]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_report_follows_the_plan_and_says_when_nothing_is_planned(
    evaluated, tmp_path: Path
) -> None:
    workspace = evaluated.copy(tmp_path / "workspace")
    plan = tmp_path / "params.yaml"
    plan.write_text("studies: [layers, translation]\n")
    result = run_report(workspace.reports, plan)
    assert result.returncode == 0, result.stderr
    report = (workspace.reports / "studies.md").read_text()
    assert report.index("\n## Edges first") < report.index("\n## Translation")
    assert "\n## Spatial structure" not in report  # a study run before, not in the plan

    plan.write_text("studies: []\n")
    assert run_report(workspace.reports, plan).returncode == 0
    assert "No study is planned" in (workspace.reports / "studies.md").read_text()


@pytest.mark.slow
def test_a_planned_study_not_run_is_one_line_naming_its_stage(evaluated, tmp_path: Path) -> None:
    workspace = evaluated.copy(tmp_path / "workspace")
    plan = tmp_path / "params.yaml"
    plan.write_text("studies: [translation, nosuch]\n")
    before = (workspace.reports / "studies.md").read_text()
    result = run_report(workspace.reports, plan)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {workspace.reports}/studies/nosuch/study.json: missing; run `dvc repro "
        "study@nosuch` to (re)create it"
    ]
    assert (workspace.reports / "studies.md").read_text() == before
    plan.write_text("studies: layers\n")
    result = run_report(workspace.reports, plan)
    assert "studies: expected a list of study names" in result.stderr
