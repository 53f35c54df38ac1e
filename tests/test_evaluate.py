"""The `evaluate` stage, as DVC ran it in the suite's tiny pipeline and through its command line,
checked against an independent computation from the saved model and the test arrays, and
against the MLflow run it logs into."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from convscope.errors import ConvscopeError
from convscope.evaluation.evaluator import evaluate

# LeNet-5's multiply-accumulates for one 28x28 image, by hand: output positions x kernel size.
LENET5_MACS = (
    28 * 28 * 6 * (5 * 5 * 1)  # C1: 6 maps of 28x28 ('same' padding), 5x5 kernels on 1 channel
    + 10 * 10 * 16 * (5 * 5 * 6)  # C3: 16 maps of 10x10, 5x5 kernels on the 6 pooled 14x14 maps
    + 1 * 1 * 120 * (5 * 5 * 16)  # C5: 120 maps of 1x1, 5x5 kernels on the 16 pooled 5x5 maps
    + 120 * 84  # F6
    + 84 * 10  # output layer
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_metrics(workspace, name: str, seed: int = 42) -> dict:
    """A seed's full record, `reports/evaluation/<model>/seed-<seed>/metrics.json`."""
    return json.loads((workspace.evaluation_dir(name, seed) / "metrics.json").read_text())


def read_dvc_metrics(workspace, name: str) -> dict:
    """A model's DVC metrics file, `reports/metrics/<model>.json`."""
    return json.loads((workspace.reports / "metrics" / f"{name}.json").read_text())


@pytest.mark.slow
def test_evaluate_reads_what_the_train_stage_wrote(evaluated) -> None:
    client = MlflowClient(evaluated.tracking_uri)
    experiment = client.get_experiment_by_name("mnist")
    # (The compare stage added its `comparison` run, tagged stage=compare.)
    runs = [
        run
        for run in client.search_runs([experiment.experiment_id], "tags.model != ''")
        if "study" not in run.data.tags  # the studies' runs
    ]
    # One run per model and seed, each the train stage's, which evaluate logged into; tagged
    # so that the MLflow UI groups the seeds by model.
    assert sorted((run.data.tags["model"], run.data.tags["seed"]) for run in runs) == [
        ("dense", "42"),
        ("dense", "43"),
        ("lenet5", "42"),
        ("lenet5", "43"),
    ]
    for name in ("dense", "lenet5"):  # train with seeds=2: one folder per seed, nothing else
        folder = evaluated.root / "models" / name
        assert sorted(p.name for p in folder.iterdir()) == ["seed-42", "seed-43"]
        evaluation = evaluated.reports / "evaluation" / name
        assert sorted(p.name for p in evaluation.iterdir()) == ["seed-42", "seed-43"]
    for name, seed in ((name, seed) for name in ("dense", "lenet5") for seed in (42, 43)):
        model_dir = evaluated.model_dir(name, seed)
        record = json.loads((model_dir / "run.json").read_text())
        history = pd.read_csv(model_dir / "history.csv")
        metrics = read_metrics(evaluated, name, seed)
        run = client.get_run(record["run_id"])
        assert (run.info.run_name, run.info.status) == (f"{name} seed {seed}", "FINISHED")
        assert run.data.params["train.seed"] == str(seed)
        assert record["experiment_id"] == experiment.experiment_id
        assert record["tracking_uri"] == evaluated.tracking_uri
        assert history["epoch"].tolist() == [1] and record["epochs"] == 1
        assert record["best_val_accuracy"] == history["val_accuracy"].max()
        assert record["train_seconds"] == history["epoch_seconds"].sum() > 0
        assert record["seconds_per_epoch"] == record["train_seconds"]
        for key in ("train_seconds", "seconds_per_epoch"):
            assert metrics[key] == run.data.metrics[key] == record[key]
        assert run.data.metrics["best_val_accuracy"] == record["best_val_accuracy"]
        assert metrics["mlflow_run_id"] == record["run_id"]
        assert metrics["test_accuracy"] == run.data.metrics["test_accuracy"]
        # The model the train stage logged to MLflow belongs to this run.
        model_id = record["model_uri"].removeprefix("models:/")
        assert client.get_logged_model(model_id).source_run_id == record["run_id"]


@pytest.mark.slow
def test_metrics_equal_an_independent_computation(evaluated) -> None:
    metrics = read_metrics(evaluated, "lenet5")
    model_file = evaluated.model_dir("lenet5") / "model.keras"
    model = keras.models.load_model(model_file, compile=False)  # inference: no training loss
    images = np.load(evaluated.processed / "test_images.npy")
    labels = np.load(evaluated.processed / "test_labels.npy").astype(int)
    inputs = images[..., np.newaxis].astype("float32")
    probabilities = model.predict(inputs, batch_size=1000, verbose=0).astype(float)
    predicted = probabilities.argmax(axis=1)

    assert len(labels) == 10_000
    assert metrics["test_accuracy"] == np.mean(predicted == labels)
    assert metrics["test_errors"] == np.sum(predicted != labels)
    p_true = np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1 - 1e-7)
    assert metrics["test_loss"] == pytest.approx(-np.mean(np.log(p_true)), rel=1e-5)

    expected = np.zeros((10, 10), dtype=int)
    np.add.at(expected, (labels, predicted), 1)
    pairs = pd.read_csv(evaluated.reports / "plots" / "lenet5" / "confusion.csv", dtype=str)
    counted = np.zeros((10, 10), dtype=int)
    np.add.at(counted, (pairs["actual"].astype(int), pairs["predicted"].astype(int)), 1)
    np.testing.assert_array_equal(counted, expected)
    # The DVC plot is the first seed's predictions, which compare pairs across models.
    assert pairs.equals(
        pd.read_csv(evaluated.evaluation_dir("lenet5") / "predictions.csv", dtype=str)
    )
    per_class = pd.read_csv(evaluated.evaluation_dir("lenet5") / "per_class.csv")
    np.testing.assert_allclose(per_class["recall"], np.diag(expected) / expected.sum(axis=1))
    np.testing.assert_allclose(
        per_class["precision"], np.diag(expected) / np.maximum(expected.sum(axis=0), 1)
    )

    assert metrics["macs_per_image"] == LENET5_MACS == 416_520
    assert metrics["total_params"] == model.count_params() == 61_706
    assert metrics["conv_params"] + metrics["dense_params"] == metrics["total_params"]
    assert metrics["model_size_bytes"] == model_file.stat().st_size
    assert metrics["latency_ms_batch1"] > 0
    assert metrics["throughput_images_per_s_batch64"] > 0
    run = json.loads((evaluated.model_dir("lenet5") / "run.json").read_text())
    assert metrics["mlflow_run_id"] == run["run_id"]
    assert (metrics["train_seconds"], metrics["epochs"]) == (run["train_seconds"], 1)


@pytest.mark.slow
def test_the_dvc_metrics_file_summarises_the_seeds(evaluated) -> None:
    for name in ("dense", "lenet5"):
        records = [read_metrics(evaluated, name, seed) for seed in (42, 43)]
        accuracies = [record["test_accuracy"] for record in records]
        summary = read_dvc_metrics(evaluated, name)
        assert summary == pytest.approx(
            {
                "test_accuracy": np.mean(accuracies),
                "accuracy_std": np.std(accuracies, ddof=1),
                "seeds": 2,
                "params": records[0]["total_params"],
                "train_seconds": np.mean([r["train_seconds"] for r in records]),
                "images_per_s": np.mean([r["throughput_images_per_s_batch64"] for r in records]),
            }
        )


@pytest.mark.slow
def test_dvc_metrics_show_fits_120_columns(evaluated, tmp_path: Path) -> None:
    # The default pipeline's three metrics files, from the real evaluate output; stacked_conv's
    # is LeNet-5's under its name (what matters is the keys and number widths, not who won).
    names = {"dense": "dense", "lenet5": "lenet5", "stacked_conv": "lenet5"}
    (tmp_path / "reports" / "metrics").mkdir(parents=True)
    for name, source in names.items():
        shutil.copy(
            evaluated.reports / "metrics" / f"{source}.json",
            tmp_path / "reports" / "metrics" / f"{name}.json",
        )
    metrics = "".join(f"  - reports/metrics/{name}.json\n" for name in names)
    (tmp_path / "dvc.yaml").write_text(f"metrics:\n{metrics}")
    dvc = str(Path(sys.executable).with_name("dvc"))
    subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=tmp_path, check=True)
    shown = subprocess.run(
        [dvc, "metrics", "show"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(shown) == 4, shown  # a header and one row per model
    assert max(len(line.rstrip()) for line in shown) <= 120, "\n".join(shown)


@pytest.mark.slow
def test_reports_are_written_and_logged_into_the_training_run(evaluated) -> None:
    folder = evaluated.evaluation_dir("lenet5")
    for picture in ("confusion.png", "misclassified.png"):
        assert (folder / picture).read_bytes().startswith(PNG_SIGNATURE)
    mistakes = pd.read_csv(folder / "misclassified.csv")
    assert len(mistakes) == 25 and (mistakes["actual"] != mistakes["predicted"]).all()
    assert mistakes["confidence"].is_monotonic_decreasing
    layers = pd.read_csv(folder / "layers.csv")
    assert layers["macs"].sum() == LENET5_MACS

    metrics = read_metrics(evaluated, "lenet5")
    client = MlflowClient(evaluated.tracking_uri)
    run = client.get_run(metrics["mlflow_run_id"])
    for key in ("test_accuracy", "test_loss", "macs_per_image", "latency_ms_batch1"):
        assert run.data.metrics[key] == metrics[key]
    assert run.data.metrics["total_params"] == metrics["total_params"]  # from "training"
    logged = {item.path for item in client.list_artifacts(run.info.run_id, "evaluation")}
    assert {
        "evaluation/confusion.png",
        "evaluation/misclassified.png",
        "evaluation/per_class.csv",
        "evaluation/metrics.json",
        "evaluation/predictions.csv",
        "evaluation/anatomy.csv",
        "evaluation/anatomy.md",
    } <= logged
    anatomy = pd.read_csv(folder / "anatomy.csv")
    # The seed's argument from the trained model: LeNet-5's weights are all kernels.
    assert anatomy["weights"].sum() == layers["weights"].sum()
    first = anatomy.iloc[0]
    assert (first["kernel"], first["kernels"], first["dense_unit_weights"]) == ("5x5x1", 6, 784)
    # Logged beside the training, not by reopening its run: status and end time unchanged.
    assert run.info.status == "FINISHED"
    evaluated_at = client.get_metric_history(run.info.run_id, "test_accuracy")[0].timestamp
    assert run.info.end_time < evaluated_at


@pytest.mark.slow
@pytest.mark.parametrize("how", ["missing", "truncated", "text"])
def test_bad_model_file_fails_with_one_line_naming_it(evaluated, tmp_path: Path, how: str) -> None:
    workspace = evaluated.elsewhere(tmp_path)
    model_dir = workspace.model_dir("lenet5")
    model_dir.mkdir(parents=True)
    shutil.copy(evaluated.model_dir("lenet5") / "run.json", model_dir)
    original = (evaluated.model_dir("lenet5") / "model.keras").read_bytes()
    if how == "truncated":
        (model_dir / "model.keras").write_bytes(original[: len(original) // 2])
    elif how == "text":
        (model_dir / "model.keras").write_text("version https://git-lfs.github.com/spec/v1\n")

    done = workspace.run("evaluate", "model=lenet5")
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert str(model_dir / "model.keras") in errors[0]
    assert "Traceback" not in done.stderr
    assert not workspace.reports.exists()


@pytest.mark.slow
def test_training_run_missing_from_the_tracking_store_is_one_line(
    evaluated, tmp_path: Path
) -> None:
    workspace = evaluated.elsewhere(tmp_path)
    shutil.copytree(evaluated.model_dir("lenet5"), workspace.model_dir("lenet5"))
    run_file = workspace.model_dir("lenet5") / "run.json"
    # A run.json from another store: its run id is unknown to this one.
    run_file.write_text(json.dumps(json.loads(run_file.read_text()) | {"run_id": "f" * 32}))
    cfg = workspace.config("evaluate", f"tracking.uri={evaluated.tracking_uri}", "model=lenet5")
    with pytest.raises(ConvscopeError) as caught:
        evaluate("lenet5", [cfg.train.seed], cfg.data, cfg.paths, cfg.evaluate, cfg.tracking)
    message = str(caught.value)
    assert str(run_file) in message and "f" * 32 in message and "\n" not in message
    assert not workspace.reports.exists()
