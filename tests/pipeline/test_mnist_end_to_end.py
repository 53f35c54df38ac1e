"""The whole pipeline as a user runs it on MNIST: `dvc exp run -S ...` in a fresh git + DVC
project, every stage for real (download -> preprocess -> train@model -> evaluate@model ->
compare, then the studies), then what DVC and MLflow say about the result.

The experiment is the suite's shared one (tests/conftest.py `mnist_pipeline`), run once a
session; the tests read its results, and the one that edits a config file puts it back. The
one that runs a second experiment does it in a copy of the project.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from convscope.records.metrics import EVALUATION_KEYS, throughput_key
from convscope.records.seeds import seed_dir

REPO_ROOT = Path(__file__).resolve().parents[2]

MODELS = ("dense", "lenet5")
SEEDS = (42, 43)  # mnist_pipeline's params.yaml:seeds=2 from train.seed 42
STUDY_STAGES = [
    f"study@{name}" for name in yaml.safe_load((REPO_ROOT / "params.yaml").read_text())["studies"]
]
STAGES = {
    "download",
    "preprocess",
    *(f"{stage}@{model}" for stage in ("train", "evaluate") for model in MODELS),
    "compare",
    *STUDY_STAGES,
    "study_report",
}
FIGURES = (
    "accuracy_vs_macs.png",
    "accuracy_vs_params.png",
    "kernel_gallery.png",
    "learning_curves.png",
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pipeline(mnist_pipeline) -> tuple:
    """The project after the suite's tiny `dvc exp run` of the whole pipeline on two models,
    and the experiment's stdout."""
    return mnist_pipeline.project, mnist_pipeline.stdout


def test_exp_run_runs_every_stage_and_each_writes_its_outputs(pipeline: tuple) -> None:
    project, stdout = pipeline
    ran = {line.split("'")[1] for line in stdout.splitlines() if line.startswith("Running stage")}
    assert ran == STAGES
    root = project.root
    for model in MODELS:
        for seed in SEEDS:
            folder = seed_dir(root / "models" / model, seed)
            for name in ("model.keras", "run.json", "history.csv"):
                assert (folder / name).stat().st_size > 0
            assert pd.read_csv(folder / "history.csv")["epoch"].tolist() == [1]
            evaluation = seed_dir(root / "reports" / "evaluation" / model, seed)
            assert (evaluation / "confusion.png").stat().st_size > 0
            assert len(pd.read_csv(evaluation / "predictions.csv")) == 10000
        summary = json.loads((root / "reports" / "metrics" / f"{model}.json").read_text())
        assert summary["seeds"] == len(SEEDS)
        pairs = pd.read_csv(root / "reports" / "plots" / model / "confusion.csv")
        assert len(pairs) == 10000  # the whole test set, one row per image
    table = pd.read_csv(root / "reports" / "comparison.csv")
    assert sorted(table["model"]) == list(MODELS)
    assert set(table["seeds"]) == {len(SEEDS)}
    markdown = (root / "reports" / "comparison.md").read_text()
    for name in (*MODELS, *FIGURES):
        assert name in markdown
    figures = sorted(p.name for p in (root / "reports" / "figures").iterdir() if p.is_file())
    assert figures == list(FIGURES)
    assert (root / "mlflow.db").is_file()  # the default store, at the project root


def test_a_second_repro_runs_nothing_and_status_is_clean(pipeline: tuple) -> None:
    project, _ = pipeline
    stdout = project.dvc("repro")
    assert "Running stage" not in stdout
    assert "Data and pipelines are up to date." in stdout
    assert project.dvc_json("status") == {}


def test_metrics_show_lists_every_model_and_plots_show_writes_html(
    pipeline: tuple, tmp_path: Path
) -> None:
    project, _ = pipeline
    (workspace,) = project.dvc_json("metrics", "show").values()
    metrics = workspace["data"]
    # One small file per model; the dataset summary is a report, not a metrics file.
    assert set(metrics) == {f"reports/metrics/{model}.json" for model in MODELS}
    for model in MODELS:
        saved = json.loads((project.root / "reports" / "metrics" / f"{model}.json").read_text())
        assert metrics[f"reports/metrics/{model}.json"]["data"] == saved

    out = tmp_path / "plots-html"
    stdout = project.dvc("plots", "show", "-o", str(out))
    assert (out / "index.html").as_uri() in stdout
    html = (out / "index.html").read_text()
    for model in MODELS:
        # confusion.csv, evaluate stage (the learning curves are compare's figure, over seeds)
        assert f"{model} test-set confusion matrix (first seed)" in html
    images = sorted(p.name for p in (out / "static").iterdir())
    assert images == [f"workspace_reports_figures_{figure}" for figure in FIGURES]


def test_mlflow_holds_one_finished_run_per_model_and_seed_with_its_evaluation(
    pipeline: tuple,
) -> None:
    project, _ = pipeline
    client = MlflowClient(project.tracking_uri)
    experiments = client.search_experiments()
    assert [e.name for e in experiments if e.name != "Default"] == ["mnist"]
    experiment_id = client.get_experiment_by_name("mnist").experiment_id
    (comparison,) = client.search_runs([experiment_id], "tags.stage = 'compare'")
    assert comparison.info.status == "FINISHED"
    runs = [
        run
        for run in client.search_runs([experiment_id], "tags.model != ''")
        if "study" not in run.data.tags  # the studies' runs
    ]
    assert sorted((run.data.tags["model"], run.data.tags["seed"]) for run in runs) == [
        (model, str(seed)) for model in MODELS for seed in SEEDS
    ]
    experiment_names = {run.data.tags.get("dvc_experiment") for run in runs}
    assert len(experiment_names) == 1
    exp_list = project.dvc("exp", "list", "--name-only")
    assert experiment_names.pop() in exp_list.split()
    for run in runs:
        model, seed = run.data.tags["model"], int(run.data.tags["seed"])
        assert run.info.status == "FINISHED"
        assert run.data.tags["dataset"] == "mnist"
        assert run.info.run_name == f"{model} seed {seed}"
        evaluation = seed_dir(project.root / "reports" / "evaluation" / model, seed)
        metrics = json.loads((evaluation / "metrics.json").read_text())
        record_file = seed_dir(project.root / "models" / model, seed) / "run.json"
        record = json.loads(record_file.read_text())
        assert metrics["mlflow_run_id"] == record["run_id"] == run.info.run_id
        # throughput_key(64): the batch size of the quick timing (tests/conftest.py)
        for key in (*EVALUATION_KEYS, throughput_key(64)):
            assert run.data.metrics[key] == pytest.approx(metrics[key]), key
        assert run.data.params["train.subset"] == "2000"
        # The training's own record is there too: each epoch's validation accuracy, once.
        history = client.get_metric_history(run.info.run_id, "val_accuracy")
        assert [point.step for point in history] == [1]
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")}
        assert "evaluation/metrics.json" in artifacts
        assert "evaluation/confusion.png" in artifacts


def test_editing_lenet5_config_makes_exactly_its_stages_compare_and_the_studies_stale(
    pipeline: tuple,
) -> None:
    project, _ = pipeline
    config = project.root / "conf" / "model" / "lenet5.yaml"
    original = config.read_text()
    assert "conf/model/lenet5.yaml" not in project.dvc_json("params", "diff")
    config.write_text(original.replace("pooling: max", "pooling: average"))
    try:
        # DVC lists a stage as changed when its own deps or params changed ...
        status = project.dvc_json("status")
        # The studies retrain every model from its YAML: conf/model is one of their deps.
        assert sorted(status) == sorted(["train@lenet5", *STUDY_STAGES])
        changed = status["train@lenet5"][0]["changed deps"]
        assert changed == {"conf/model/lenet5.yaml": {"pooling": "modified"}}
        # ... and `dvc repro` reruns what depends on a stage it reruns: the dry run lists all.
        dry = project.dvc("repro", "--dry", "--force-downstream")
        would_run = {
            line.split("'")[1] for line in dry.splitlines() if line.startswith("Running stage")
        }
        assert would_run == {
            "train@lenet5",
            "evaluate@lenet5",
            "compare",
            *STUDY_STAGES,
            "study_report",
        }
        diff = project.dvc_json("params", "diff")["conf/model/lenet5.yaml"]
        assert diff == {"pooling": {"old": "max", "new": "average"}}
    finally:
        config.write_text(original)
    assert project.dvc_json("status") == {}


def test_changing_seeds_makes_exactly_every_train_and_evaluate_stage_stale(
    pipeline: tuple,
) -> None:
    # What `dvc exp run -S seeds=5` changes before it runs anything.
    project, _ = pipeline
    params = project.root / "params.yaml"
    original = params.read_text()
    plan = yaml.safe_load(original)
    assert plan["seeds"] == len(SEEDS)
    params.write_text(yaml.safe_dump({**plan, "seeds": 5}, sort_keys=False))
    try:
        status = project.dvc_json("status")
        assert sorted(status) == sorted(
            f"{stage}@{model}" for stage in ("train", "evaluate") for model in MODELS
        )
        for changes in status.values():
            assert {"changed deps": {"params.yaml": {"seeds": "modified"}}} in changes, changes
    finally:
        params.write_text(original)
    assert project.dvc_json("status") == {}


def widest(text: str) -> int:
    return max(len(line.rstrip()) for line in text.splitlines())


@pytest.mark.system
def test_after_a_one_parameter_experiment_exp_show_and_metrics_show_fit_120_columns(
    pipeline: tuple, tmp_path: Path
) -> None:
    shared, _ = pipeline
    root = Path(shutil.copytree(shared.root, tmp_path / "project", symlinks=True))
    project = replace(shared, root=root, env=shared.env | {"PYTHONPATH": str(root / "src")})
    # The first experiment's results, committed as the baseline.
    for command in (("add", "-A"), ("commit", "-q", "-m", "the first experiment's results")):
        assert project.run("git", *command).returncode == 0
    # One model's parameter (the dense model's: the quickest to retrain), up to the comparison.
    project.dvc("exp", "run", "-n", "dropout", "-S", "conf/model/dense.yaml:dropout=0.3", "compare")

    # Each column of DVC's table has its own name (a `models` param beside compare's `models`
    # dependency once made two columns of one name, and DVC showed wrong values in them).
    table = project.dvc("exp", "show", "--only-changed", "--csv")
    header = table.splitlines()[0].split(",")
    assert len(header) == len(set(header)), header

    # `make exp-show` at the table's full width (a wide terminal), then in 120 columns.
    for columns in ("1000", "120"):
        shown = subprocess.run(
            [str(REPO_ROOT / "scripts" / "exp-show")],
            cwd=project.root,
            env=project.env | {"COLUMNS": columns},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert widest(shown) <= 120, shown
        assert "…" not in shown, shown  # no column squeezed to an ellipsis
        # the experiment, its parameter's new value, the changed model's accuracy
        for expected in ("[dropout]", "0.3", "reports/metrics/dense.json:test_accuracy"):
            assert expected in shown, shown

    shown = project.dvc("metrics", "show")
    assert len(shown.splitlines()) == 1 + len(MODELS), shown  # a header, one row per model
    assert widest(shown) <= 120, shown
