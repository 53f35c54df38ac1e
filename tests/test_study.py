"""The study stage: every planned study, run by `dvc exp run` on the suite's shared tiny
pipeline, writes its record, section, results, figures and MLflow runs; bad input is one line."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest
from omegaconf import OmegaConf

from convscope.records.study import (
    RESULTS_FILE,
    SECTION_FILE,
    STUDY_FILE,
    StudyRecord,
    study_dir,
    study_figures_dir,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
STUDIES = list(OmegaConf.load(REPO_ROOT / "params.yaml").studies)


def test_the_plan_names_every_study_of_conf() -> None:
    assert sorted(STUDIES) == sorted(p.stem for p in (REPO_ROOT / "conf" / "study").glob("*.yaml"))


@pytest.mark.slow
@pytest.mark.parametrize("study", STUDIES)
def test_each_study_writes_its_section_figures_results_and_mlflow_runs(
    study: str, mnist_pipeline
) -> None:
    reports = mnist_pipeline.workspace.reports
    assert f"Running stage 'study@{study}'" in mnist_pipeline.stdout
    folder = study_dir(reports, study)
    record = StudyRecord.read(folder / STUDY_FILE)
    section = (folder / SECTION_FILE).read_text()
    # The claim quoted in one line, then the result sentences, the figures and the tables.
    assert section.startswith(f"## {record.title}\n\n> {record.claim}\n\n")
    assert "\n" not in record.claim and "\n" not in record.headline
    figures = sorted(study_figures_dir(reports, study).glob("*.png"))
    assert figures
    for figure in figures:
        assert f"(figures/studies/{study}/{figure.name})" in section
    assert section.index("![") < section.index("| ")
    assert not pd.read_csv(folder / RESULTS_FILE).empty
    assert section.strip() in (reports / "studies.md").read_text()

    client = mlflow.MlflowClient(mnist_pipeline.workspace.tracking_uri)
    runs = client.search_runs(
        [mnist_pipeline.experiment_id], filter_string=f"tags.study = '{study}'"
    )
    conditions = {run.data.tags["condition"] for run in runs}
    assert "summary" in conditions and len(conditions) >= 2, conditions
    summary = next(run for run in runs if run.data.tags["condition"] == "summary")
    assert summary.data.metrics["trainings"] == record.trainings
    artifacts = {item.path for item in client.list_artifacts(summary.info.run_id)}
    assert {SECTION_FILE, RESULTS_FILE, STUDY_FILE, "figures"} <= artifacts


@pytest.mark.slow
def test_the_report_joins_the_sections_in_the_plans_order(mnist_pipeline) -> None:
    report = (mnist_pipeline.workspace.reports / "studies.md").read_text()
    titles = [
        StudyRecord.read(study_dir(mnist_pipeline.workspace.reports, s) / STUDY_FILE).title
        for s in STUDIES
    ]
    positions = [report.index(f"\n## {title}\n") for title in titles]
    assert positions == sorted(positions)
    assert "| study " in report and "wall time" in report


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["study=nosuch"], "Could not find 'study/nosuch'"),
        (["study=weight_sharing", "study.models=[dense,nosuch]"], "study.models: no model"),
        (["study=equal_params", "study.against=[stacked_conv]"], "study.against: stacked_conv"),
        (["study=permutation", "study.seeds=5"], "lower study.seeds to at most"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    arguments: list[str], message: str, evaluated, tmp_path: Path
) -> None:
    workspace = evaluated.copy(tmp_path)
    before = sorted(p.read_bytes() for p in workspace.reports.rglob("*") if p.is_file())
    result = workspace.run("study", *arguments, "train.subset=200", "train.epochs=1")
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert sorted(p.read_bytes() for p in workspace.reports.rglob("*") if p.is_file()) == before


@pytest.mark.slow
def test_without_the_main_comparison_a_study_says_what_to_run(evaluated, tmp_path: Path) -> None:
    result = evaluated.elsewhere(tmp_path).run("study", "study=translation")
    assert result.returncode == 1
    assert "no metrics files" in result.stderr and "dvc repro evaluate" in result.stderr
