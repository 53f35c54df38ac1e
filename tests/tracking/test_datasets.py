"""Each training run names its data as MLflow dataset inputs (training, validation, and test
after evaluate), with the verified content checksums as digest and the mirror as source.

The runs are the suite's shared tiny pipeline run (tests/conftest.py `mnist_pipeline`): the
train and evaluate stages as `dvc exp run` ran them, with output to a pipe as in `dvc repro`,
on a store whose experiment was made before (without a kind). The same run's log is checked
for TensorFlow notices and progress-bar redraws.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from mlflow.entities import Run
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

REPO = Path(__file__).resolve().parents[2]
MNIST = OmegaConf.load(REPO / "conf" / "data" / "mnist.yaml")
STAGE_LINE = re.compile(r"^Running stage '([^']+)'", re.MULTILINE)


@dataclass(frozen=True)
class Staged:
    """What the train and evaluate stages left: the store, a run, the stages' output."""

    client: MlflowClient
    experiment_id: str
    run_id: str
    output: dict[str, str]  # stdout and stderr of each train and evaluate stage, by stage


def stage_outputs(log: str) -> dict[str, str]:
    """`{stage: its part of the log}` for the train and evaluate stages of a `dvc exp run`."""
    parts = STAGE_LINE.split(log)  # [before, stage, its part, stage, its part, ...]
    found = dict(zip(parts[1::2], parts[2::2], strict=True))
    return {name: text for name, text in found.items() if name.startswith(("train@", "evaluate@"))}


@pytest.fixture(scope="module")
def staged(mnist_pipeline) -> Staged:
    """The shared pipeline's dense model, seed 42: its run, and the train and evaluate logs."""
    run_file = mnist_pipeline.workspace.model_dir("dense") / "run.json"
    return Staged(
        MlflowClient(mnist_pipeline.project.tracking_uri),
        mnist_pipeline.experiment_id,
        json.loads(run_file.read_text())["run_id"],
        stage_outputs(mnist_pipeline.stdout),
    )


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
    run = staged.client.get_run(staged.run_id)
    inputs = inputs_by_context(run)
    subset = int(run.data.params["train.subset"])
    images = content_sha256(mnist_mirror, "train_images")
    labels = content_sha256(mnist_mirror, "train_labels")
    assert images == MNIST.files.train_images.sha256  # the checksum the download verified
    for context, derivation, count in [
        (
            "training",
            f"train of a stratified split (size 5000, seed 0), first {subset} images",
            subset,
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
    assert sorted(staged.output) == [
        f"{stage}@{model}" for stage in ("evaluate", "train") for model in ("dense", "lenet5")
    ]
    for stage, output in staged.output.items():
        for noise in ("absl", "oneDNN", "cpu_feature_guard", "port.cc", "\r", "\x08"):
            assert noise not in output, (stage, noise)
        if stage.startswith("train@"):
            # Keras' verbose=2: one line for each seed's (single) epoch, with its validation
            # figures (two seeds).
            lines = output.splitlines()
            epochs = [line for line in lines if re.match(r"\d+/\d+ - .* - val_accuracy: ", line)]
            assert len(epochs) == 2, (stage, output)
