"""The `train` stage through its command line, as users and DVC run it: bad configs, `--help`,
what a run logs, bit-exact reruns, and resuming after a kill under `dvc repro`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from convscope.records.seeds import seed_dir

REPO = Path(__file__).resolve().parents[1]
EPOCH_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds", "learning_rate")
TIMING_COLUMNS = ["epoch_seconds", "images_per_second"]


def train_command(tmp: Path, processed: Path, *overrides: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "convscope.train",
        *train_overrides(tmp, processed),
        *overrides,
    ]


def train_overrides(tmp: Path, processed: Path) -> list[str]:
    return [
        f"paths.processed={processed}",
        f"paths.models_root={tmp / 'models'}",
        f"paths.checkpoints={tmp / 'checkpoints'}",
        f"tracking.uri=sqlite:///{tmp / 'mlflow.db'}",
        f"tracking.artifact_location={tmp / 'mlartifacts'}",
        f"hydra.run.dir={tmp / 'outputs'}",
        "train.verbose=2",
    ]


def epoch_steps(client: MlflowClient, run_id: str) -> dict[str, list[int]]:
    """Every step each per-epoch metric was logged at, in logging order, duplicates kept."""
    return {key: [m.step for m in client.get_metric_history(run_id, key)] for key in EPOCH_METRICS}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model.filters=[32,-8,64]", "model.filters[1]: expected a positive integer, got -8"),
        ("model.kernel_size=4", "model.kernel_size: expected an odd integer, got 4"),
        ("model.activation=wiggle", "model.activation: expected one of relu, tanh"),
        ("train.batch_size=0", "train.batch_size: expected a positive integer, got 0"),
        ("train.optimizer=adagrad", "train.optimizer: expected one of ('adam', 'adamw'"),
        ("model.fliters=[8,8,8]", "model.fliters: unknown key 'fliters'"),
        ("+model.fliters=[8,8,8]", "model.fliters: Key 'fliters' not in 'StackedConvConfig'"),
        ("model.dense_units=many", "model.dense_units: Value 'many' of type 'str' could not"),
        (
            "model=resnet",
            "available: dense, dense_equal_params, lenet5, locally_connected, stacked_conv",
        ),
        ("+seed=7", "seed: unknown top-level key 'seed', not in conf/"),
    ],
)
def test_bad_config_exits_1_with_one_error_line_naming_the_key(
    tmp_path: Path, override: str, message: str
) -> None:
    # The config is checked before any data is read: no dataset is needed.
    command = train_command(tmp_path, tmp_path / "no-data", "model=stacked_conv", override)
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: ") and message in line, done.stderr
    assert not (tmp_path / "models").exists()
    assert not (tmp_path / "mlflow.db").exists()


def test_help_lists_the_config_groups_and_the_composed_config() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "convscope.train", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    groups_part, config_part = done.stdout.split("== Config ==")
    assert "== Configuration groups ==" in groups_part
    listed = dict(
        line.split(": ", 1) for line in groups_part.splitlines() if ": " in line and "(" not in line
    )
    for group in ("data", "model", "train", "tracking", "evaluate", "compare", "hparams_search"):
        assert group in listed, group
    assert {"mnist", "fashion_mnist"} <= set(listed["data"].split(", "))
    assert {"dense", "lenet5", "stacked_conv"} <= set(listed["model"].split(", "))
    # After the header line: the composed config as YAML, then Hydra's footer.
    composed = yaml.safe_load(config_part.split("\n", 2)[2].split("Powered by Hydra")[0])
    assert {"data", "model", "train", "tracking", "paths"} <= set(composed)
    assert composed["model"]["name"] == "lenet5"


DETERMINISTIC = (
    "model=lenet5",
    "train.subset=256",
    "train.epochs=2",
    "train.schedule=cosine",
    "train.learning_rate=0.004",
    "train.deterministic=true",
)


@pytest.fixture(scope="module")
def deterministic_runs(
    tmp_path_factory: pytest.TempPathFactory, processed_mnist: Path
) -> list[tuple[Path, list[str]]]:
    """Two trainings of the same deterministic config, each in its own folder and store, run
    at the same time inside a DVC experiment named `tiny-exp`: (folder, overrides) each."""
    env = {**os.environ, "DVC_EXP_NAME": "tiny-exp"}
    started = []
    for name in ("first", "second"):
        folder = tmp_path_factory.mktemp(name)
        overrides = [*train_overrides(folder, processed_mnist), *DETERMINISTIC]
        command = [sys.executable, "-m", "convscope.train", *overrides]
        log = (folder / "stage.log").open("w")
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)
        started.append((folder, overrides, process, log))
    for folder, _, process, log in started:
        try:
            process.wait(timeout=600)
        finally:
            if process.poll() is None:
                process.kill()
            log.close()
        assert process.returncode == 0, (folder / "stage.log").read_text()[-3000:]
    return [(folder, overrides) for folder, overrides, _, _ in started]


def only_run(folder: Path) -> tuple[MlflowClient, mlflow.entities.Run]:
    client = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    [run] = client.search_runs([client.get_experiment_by_name("mnist").experiment_id])
    return client, run


@pytest.mark.slow
def test_deterministic_reruns_are_bit_exact(
    deterministic_runs: list[tuple[Path, list[str]]],
) -> None:
    (first, _), (second, _) = deterministic_runs
    # compile=False: the weights are what is compared, and the saved loss is this project's
    # class, which Keras finds only once convscope.training.optim is imported
    # (docs/tracking-and-registry.md).
    models = [
        keras.saving.load_model(
            seed_dir(f / "models" / "lenet5", 42) / "model.keras", compile=False
        )
        for f in (first, second)
    ]
    weights = [model.get_weights() for model in models]
    assert len(weights[0]) == len(weights[1]) > 0
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)
    histories = [
        pd.read_csv(seed_dir(f / "models" / "lenet5", 42) / "history.csv") for f in (first, second)
    ]
    pd.testing.assert_frame_equal(
        histories[0].drop(columns=TIMING_COLUMNS), histories[1].drop(columns=TIMING_COLUMNS)
    )


@pytest.mark.slow
def test_run_tags_record_the_overrides_and_the_dvc_experiment(
    deterministic_runs: list[tuple[Path, list[str]]],
) -> None:
    for folder, overrides in deterministic_runs:
        _, run = only_run(folder)
        # The job's overrides, not Hydra's own (hydra.run.dir).
        task = [override for override in overrides if not override.startswith("hydra.")]
        assert run.data.tags["hydra_overrides"] == " ".join(task)
        assert run.data.tags["dvc_experiment"] == "tiny-exp"


@pytest.mark.slow
def test_each_epoch_is_logged_once_with_its_learning_rate(
    deterministic_runs: list[tuple[Path, list[str]]],
) -> None:
    client, run = only_run(deterministic_runs[0][0])
    assert epoch_steps(client, run.info.run_id) == {key: [1, 2] for key in EPOCH_METRICS}
    # Cosine over 2 epochs from 0.004: half of it after epoch 1, zero after epoch 2.
    rates = [m.value for m in client.get_metric_history(run.info.run_id, "learning_rate")]
    assert rates == pytest.approx([0.002, 0.0], abs=1e-9)


@pytest.mark.slow
def test_logged_model_has_a_signature_and_an_input_example(
    deterministic_runs: list[tuple[Path, list[str]]],
    processed_mnist: Path,
) -> None:
    folder = deterministic_runs[0][0]
    _, run = only_run(folder)
    record = yaml.safe_load((seed_dir(folder / "models" / "lenet5", 42) / "run.json").read_text())
    # `models:/<id>` URIs resolve in the store the model was logged to (the suite's autouse
    # `restore_mlflow_tracking_uri` puts the global URI back after the test).
    mlflow.set_tracking_uri(record["tracking_uri"])
    info = mlflow.models.get_model_info(record["model_uri"])
    assert info.run_id == run.info.run_id

    [model_input] = info.signature.inputs.inputs
    assert (model_input.type, model_input.shape) == (np.dtype("float32"), (-1, 28, 28, 1))
    [model_output] = info.signature.outputs.inputs
    assert (model_output.type, model_output.shape) == (np.dtype("float32"), (-1, 10))

    example = mlflow.models.Model.load(record["model_uri"]).load_input_example(record["model_uri"])
    validation = np.load(processed_mnist / "val_images.npy")[:2]
    np.testing.assert_array_equal(example, validation.astype("float32")[..., None])
    predicted = np.asarray(mlflow.pyfunc.load_model(record["model_uri"]).predict(example))
    assert predicted.shape == (2, 10)
    np.testing.assert_allclose(predicted.sum(axis=1), 1.0, rtol=1e-5)


def dvc_project(folder: Path, processed: Path) -> Path:
    """`folder` (this repository's pipeline, config and code) made a DVC project with the
    processed MNIST in place, and the train config made tiny (3 epochs of 1024 images, no early
    stopping, one seed)."""
    shutil.copytree(processed, folder / "data" / "processed" / "mnist")
    params_yaml = folder / "params.yaml"
    params_yaml.write_text(yaml.safe_dump({**yaml.safe_load(params_yaml.read_text()), "seeds": 1}))
    train_yaml = folder / "conf" / "train" / "default.yaml"
    train = yaml.safe_load(train_yaml.read_text())
    train.update(subset=1024, epochs=3, verbose=2)
    train["early_stopping"]["enabled"] = False
    train_yaml.write_text(yaml.safe_dump(train, sort_keys=False))
    tracking_yaml = folder / "conf" / "tracking" / "local.yaml"
    tracking_yaml.write_text(
        tracking_yaml.read_text().replace("log_model: true", "log_model: false")
    )
    subprocess.run(
        [sys.executable, "-m", "dvc", "init", "--no-scm", "-q"],
        cwd=folder,
        env={**os.environ, "DVC_NO_ANALYTICS": "1"},
        check=True,
    )
    return folder


def recorded_epoch(backup: Path) -> int | None:
    """The epoch Keras' backup metadata records, once the file is written whole (else None:
    the file may exist, still empty or half-written, when the test looks)."""
    try:
        recorded = yaml.safe_load(backup.read_text())
    except (FileNotFoundError, yaml.YAMLError):
        return None
    return int(recorded["epoch"]) if isinstance(recorded, dict) and "epoch" in recorded else None


@pytest.mark.system
def test_training_killed_under_dvc_repro_resumes_the_same_run_under_dvc_repro(
    tmp_path: Path,
    mnist_mirror: Path,
    processed_mnist: Path,
    pipeline_files: Callable[[Path], Path],
    stage_env: Callable[[Path], dict[str, str]],
) -> None:
    project = dvc_project(pipeline_files(tmp_path / "project"), processed_mnist)
    # The stage logs to the project's own default store (no MLFLOW_TRACKING_URI).
    env = stage_env(mnist_mirror)
    repro = [sys.executable, "-m", "dvc", "repro", "--single-item", "train@lenet5"]
    checkpoint = seed_dir(project / "checkpoints" / "mnist" / "lenet5", 42)
    backup = checkpoint / "backup" / "training_metadata.json"

    first = subprocess.Popen(
        repro,
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: DVC and the stage it runs
    )
    try:
        deadline = time.monotonic() + 400
        while (
            recorded_epoch(backup) is None and first.poll() is None and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert recorded_epoch(backup) is not None, "no checkpoint after the first epoch"
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    killed_after = recorded_epoch(backup)
    assert killed_after in (1, 2)
    assert not (seed_dir(project / "models" / "lenet5", 42) / "model.keras").exists()
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    [interrupted] = client.search_runs([client.get_experiment_by_name("mnist").experiment_id])

    second = subprocess.run(
        repro, cwd=project, env=env, capture_output=True, text=True, timeout=600
    )

    assert second.returncode == 0, second.stderr[-3000:]
    assert f"Resuming lenet5 at epoch {killed_after + 1} of 3" in second.stdout + second.stderr
    history = pd.read_csv(seed_dir(project / "models" / "lenet5", 42) / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]
    [run] = client.search_runs([client.get_experiment_by_name("mnist").experiment_id])
    assert run.info.run_id == interrupted.info.run_id, "dvc repro must continue the same run"
    assert run.info.status == "FINISHED"
    assert epoch_steps(client, run.info.run_id) == {key: [1, 2, 3] for key in EPOCH_METRICS}
    assert "train@lenet5" in yaml.safe_load((project / "dvc.lock").read_text())["stages"]
    assert not (project / "checkpoints" / "mnist" / "lenet5").exists()
