"""Resuming an interrupted training: same config resumes the same run with a fresh patience
counter, another config discards the checkpoint. Real trainings on a few hundred images."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import keras
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from convscope.records.seeds import seed_dir
from convscope.train import TrainStageConfig, train_seed
from convscope.training import callbacks
from convscope.training.checkpoint import ResumeState, fingerprint

EPOCH_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds", "learning_rate")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite store for this module's trainings (creating one costs seconds)."""
    return tmp_path_factory.mktemp("store") / "mlflow.db"


@pytest.fixture
def training_config(
    tiny_config: Callable[..., TrainStageConfig],
) -> Callable[..., TrainStageConfig]:
    """`training_config(tmp, processed, *extra)`: the tiny config for the dense model, with
    outputs under `tmp` (pass `tracking.uri=...` to log to a shared store)."""

    def make(tmp: Path, processed: Path, *extra: str) -> TrainStageConfig:
        return tiny_config(
            "model=dense",
            f"paths.processed={processed}",
            "tracking.log_model=false",
            "train.subset=256",
            *extra,
            root=tmp,
        )

    return make


def weights_fingerprint(cfg: TrainStageConfig) -> str:
    """The resume fingerprint of `cfg`'s training, as the trainer computes it."""
    return fingerprint(cfg.data, cfg.model, cfg.train)


def checkpoint_of(cfg: TrainStageConfig) -> Path:
    """The resume state folder of `cfg`'s training."""
    return seed_dir(cfg.paths.checkpoint_dir(cfg.model.name), cfg.train.seed)


class InterruptAfter(keras.callbacks.Callback):
    """Stops the training after `epochs` epochs, once every other callback has run (so the
    checkpoint of that epoch is complete), as Ctrl-C or a kill at that moment would."""

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch + 1 == self.epochs:
            raise KeyboardInterrupt


def interrupted_training(
    cfg: TrainStageConfig, after: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run the real trainer on `cfg` and interrupt it after epoch `after`."""
    early_stopping = callbacks.early_stopping
    with monkeypatch.context() as patch:
        # The trainer puts early stopping last among its callbacks: interrupt after it.
        patch.setattr(
            callbacks, "early_stopping", lambda es: [*early_stopping(es), InterruptAfter(after)]
        )
        with pytest.raises(KeyboardInterrupt):
            train_seed(cfg)


def epoch_steps(client: MlflowClient, run_id: str) -> dict[str, list[int]]:
    """Every step each per-epoch metric was logged at, in logging order, duplicates kept."""
    return {key: [m.step for m in client.get_metric_history(run_id, key)] for key in EPOCH_METRICS}


def test_fingerprint_covers_data_model_and_train_only(
    tmp_path: Path, training_config: Callable[..., TrainStageConfig]
) -> None:
    base = training_config(tmp_path, tmp_path)
    same = weights_fingerprint(base)
    elsewhere = training_config(
        tmp_path / "other",
        tmp_path / "other",
        "tracking.experiment=elsewhere",
        "seeds=3",
    )
    assert weights_fingerprint(elsewhere) == same, "paths, tracking, seeds do not shape weights"
    for override in ("train.learning_rate=0.5", "model.units=7", "data.validation.seed=1"):
        changed = training_config(tmp_path, tmp_path, override)
        assert weights_fingerprint(changed) != same, override


def test_resume_state_discards_a_checkpoint_of_another_config(tmp_path: Path) -> None:
    state = ResumeState(tmp_path / "ckpt", "config-a")
    state.save_run_id("run-a")
    (state.backup_dir).mkdir()

    assert ResumeState(tmp_path / "ckpt", "config-a").run_id == "run-a"
    other = ResumeState(tmp_path / "ckpt", "config-b")
    assert other.run_id is None
    assert list(other.folder.iterdir()) == [other.folder / "fingerprint"]
    assert (other.folder / "fingerprint").read_text() == "config-b"


@pytest.mark.slow
def test_interrupted_training_resumes_its_run_and_restarts_patience(
    tmp_path: Path,
    processed_mnist: Path,
    store: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    training_config: Callable[..., TrainStageConfig],
) -> None:
    # A learning rate too small to move any weight: val_accuracy never improves after epoch 1,
    # so with patience 2 an uninterrupted run stops after epoch 3. Interrupted after epoch 2
    # (counter at 1), a resumed run whose counter restarts stops after epoch 5, not 3.
    cfg = training_config(
        tmp_path,
        processed_mnist,
        f"tracking.uri=sqlite:///{store}",
        "tracking.experiment=patience",
        "train.learning_rate=1e-30",
        "train.epochs=8",
        "train.early_stopping.patience=2",
        "train.early_stopping.monitor=val_accuracy",
    )
    interrupted_training(cfg, after=2, monkeypatch=monkeypatch)
    state = ResumeState(checkpoint_of(cfg), weights_fingerprint(cfg))
    first_run = state.run_id
    assert state.completed_epochs() == 2

    with caplog.at_level(logging.INFO, logger="convscope"):
        result = train_seed(cfg)

    assert "Resuming dense at epoch 3 of 8" in caplog.messages
    assert result.run_id == first_run
    history = pd.read_csv(seed_dir(cfg.paths.model_dir("dense"), cfg.train.seed) / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3, 4, 5]
    assert history["val_accuracy"].nunique() == 1, "the weights moved: the premise is broken"
    client = MlflowClient(str(cfg.tracking.uri))
    [run] = client.search_runs([client.get_experiment_by_name("patience").experiment_id])
    assert run.info.run_id == first_run
    assert run.info.status == "FINISHED"
    assert epoch_steps(client, first_run) == {key: [1, 2, 3, 4, 5] for key in EPOCH_METRICS}
    assert run.data.metrics["epochs_run"] == 5
    assert not cfg.paths.checkpoint_dir("dense").exists()


@pytest.mark.slow
def test_checkpoint_of_another_config_is_discarded(
    tmp_path: Path,
    processed_mnist: Path,
    store: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    training_config: Callable[..., TrainStageConfig],
) -> None:
    shared = (f"tracking.uri=sqlite:///{store}", "tracking.experiment=fingerprint")
    first = training_config(tmp_path, processed_mnist, *shared, "train.epochs=2")
    interrupted_training(first, after=1, monkeypatch=monkeypatch)
    interrupted_run = ResumeState(checkpoint_of(first), weights_fingerprint(first)).run_id

    changed = training_config(
        tmp_path, processed_mnist, *shared, "train.epochs=2", "model.units=32"
    )
    with caplog.at_level(logging.INFO, logger="convscope"):
        result = train_seed(changed)

    assert f"Discarding checkpoint {checkpoint_of(changed)}: it was made with another config" in (
        caplog.messages
    )
    assert not any(message.startswith("Resuming") for message in caplog.messages)
    assert result.run_id != interrupted_run
    history = pd.read_csv(
        seed_dir(changed.paths.model_dir("dense"), changed.train.seed) / "history.csv"
    )
    assert history["epoch"].tolist() == [1, 2]
    client = MlflowClient(str(changed.tracking.uri))
    new_run = client.get_run(result.run_id)
    assert new_run.data.params["model.units"] == "32"
    assert epoch_steps(client, result.run_id) == {key: [1, 2] for key in EPOCH_METRICS}
    # The interrupted run keeps its one epoch and is not continued.
    assert epoch_steps(client, interrupted_run) == {key: [1] for key in EPOCH_METRICS}
    assert client.get_run(interrupted_run).info.status != "FINISHED"
