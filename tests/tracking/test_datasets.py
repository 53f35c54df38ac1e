"""Each training run names its data as MLflow dataset inputs (training, validation, and test
after evaluate), with the verified content checksums as digest and the mirror as source.

The module trains and evaluates one tiny model through the stage CLIs once, on a store whose
experiment was made before (without a kind), with output to a pipe as in `dvc repro`; the
same runs' logs are checked for TensorFlow notices and progress-bar redraws, which saves two
more stage processes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from mlflow.entities import Run
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from convscope.records.seeds import seed_dir

REPO = Path(__file__).resolve().parents[2]
MNIST = OmegaConf.load(REPO / "conf" / "data" / "mnist.yaml")
SUBSET = 300


@dataclass(frozen=True)
class Staged:
    """What the train and evaluate stages left: the store, the run, the stages' output."""

    client: MlflowClient
    experiment_id: str
    run_id: str
    output: str  # stdout and stderr of both stages


def stage(name: str, root: Path, processed: Path, *overrides: str) -> str:
    command = [
        sys.executable,
        "-m",
        f"convscope.{name}",
        "model=dense",
        f"paths.processed={processed}",
        f"paths.model_dir={root / 'models' / 'dense'}",
        f"paths.checkpoints={root / 'checkpoints'}",
        f"paths.reports={root / 'reports'}",
        f"tracking.uri=sqlite:///{root / 'mlflow.db'}",
        f"tracking.artifact_location={root / 'mlartifacts'}",
        f"hydra.run.dir={root / 'outputs'}",
        *overrides,
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def staged(processed_mnist: Path, tmp_path_factory: pytest.TempPathFactory) -> Staged:
    root = tmp_path_factory.mktemp("datasets")
    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    # Made as before this change: no mlflow.experimentKind tag.
    experiment_id = client.create_experiment(
        "mnist", artifact_location=(root / "mlartifacts").as_uri()
    )
    output = stage("train", root, processed_mnist, f"train.subset={SUBSET}", "train.epochs=1")
    output += stage(
        "evaluate",
        root,
        processed_mnist,
        "evaluate.timing.warmup=1",
        "evaluate.timing.repeats=2",
        "evaluate.timing.throughput_batches=2",
    )
    run_id = json.loads((seed_dir(root / "models" / "dense", 42) / "run.json").read_text())[
        "run_id"
    ]
    return Staged(client, experiment_id, run_id, output)


def content_sha256(mirror: Path, key: str) -> str:
    """SHA-256 of a raw file's decompressed content, computed here from the mirror's copy."""
    return hashlib.sha256(
        gzip.decompress((mirror / MNIST.files[key].name).read_bytes())
    ).hexdigest()


def inputs_by_context(run: Run) -> dict[str, object]:
    found = {}
    for item in run.inputs.dataset_inputs:
        tags = {tag.key: tag.value for tag in item.tags}
        found[tags["mlflow.data.context"]] = (item.dataset, tags)
    return found


@pytest.mark.slow
def test_training_run_logs_training_and_validation_data(staged: Staged, mnist_mirror: Path) -> None:
    inputs = inputs_by_context(staged.client.get_run(staged.run_id))
    images = content_sha256(mnist_mirror, "train_images")
    labels = content_sha256(mnist_mirror, "train_labels")
    assert images == MNIST.files.train_images.sha256  # the checksum the download verified
    for context, derivation, count in [
        (
            "training",
            f"train of a stratified split (size 5000, seed 0), first {SUBSET} images",
            SUBSET,
        ),
        ("validation", "val of a stratified split (size 5000, seed 0)", 5000),
    ]:
        dataset, tags = inputs[context]
        assert dataset.name == "mnist"
        expected = hashlib.sha256(f"{images}\n{labels}\n{derivation}".encode()).hexdigest()
        assert dataset.digest == expected[:10]
        assert json.loads(dataset.source) == {"uri": mnist_mirror.resolve().as_uri()}
        assert json.loads(dataset.profile)["features_shape"] == [count, 28, 28]
        assert (tags["images_sha256"], tags["labels_sha256"]) == (images, labels)
        assert tags["derivation"] == derivation
    assert inputs["training"][0].digest != inputs["validation"][0].digest


@pytest.mark.slow
def test_evaluate_adds_the_test_set_to_the_training_run(staged: Staged, mnist_mirror: Path) -> None:
    inputs = inputs_by_context(staged.client.get_run(staged.run_id))
    assert set(inputs) == {"training", "validation", "test"}
    dataset, tags = inputs["test"]
    images = content_sha256(mnist_mirror, "test_images")
    labels = content_sha256(mnist_mirror, "test_labels")
    assert dataset.name == "mnist"
    assert dataset.digest == hashlib.sha256(f"{images}\n{labels}\n".encode()).hexdigest()[:10]
    assert json.loads(dataset.profile)["features_shape"] == [10000, 28, 28]
    assert (tags["images_sha256"], tags["labels_sha256"], tags["split"]) == (images, labels, "test")


@pytest.mark.slow
def test_the_experiment_made_before_became_model_training(staged: Staged) -> None:
    experiment = staged.client.get_experiment(staged.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert staged.client.get_run(staged.run_id).info.experiment_id == staged.experiment_id


@pytest.mark.slow
def test_stage_logs_hold_no_tensorflow_notices_nor_redraws(staged: Staged) -> None:
    for noise in ("absl", "oneDNN", "cpu_feature_guard", "port.cc", "\r", "\x08"):
        assert noise not in staged.output, noise
    lines = staged.output.splitlines()
    # Keras' verbose=2: one line for the (single) epoch, with its validation figures.
    assert len([line for line in lines if re.match(r"\d+/\d+ - .* - val_accuracy: ", line)]) == 1
