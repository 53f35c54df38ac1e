"""Resuming an interrupted training: same config resumes the same run with a fresh patience
counter, another config discards the checkpoint. Real trainings on a few hundred images."""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from convscope.cli import compose_stage_config
from convscope.config import StageConfig
from convscope.records.seeds import seed_dir
from convscope.training import callbacks, trainer
from convscope.training.checkpoint import ResumeState, fingerprint

EPOCH_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds", "learning_rate")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite store for this module's trainings (creating one costs seconds)."""
    return tmp_path_factory.mktemp("store") / "mlflow.db"


def training_config(tmp: Path, processed: Path, *extra: str) -> StageConfig:
    """The real composed config for the dense model, with temporary outputs (pass
    `tracking.uri=...` to log to a shared store)."""
    overrides = [
        "model=dense",
        f"paths.processed={processed}",
        f"paths.model_dir={tmp / 'models' / 'dense'}",
        f"paths.checkpoints={tmp / 'checkpoints'}",
        f"tracking.uri=sqlite:///{tmp / 'mlflow.db'}",
        f"tracking.artifact_location={tmp / 'mlartifacts'}",
        "tracking.log_model=false",
        "train.subset=256",
        "train.verbose=0",
        *extra,
    ]
    return compose_stage_config(*overrides)


class InterruptAfter(keras.callbacks.Callback):
    """Stops the training after `epochs` epochs, once every other callback has run (so the
    checkpoint of that epoch is complete), as Ctrl-C or a kill at that moment would."""

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch + 1 == self.epochs:
            raise KeyboardInterrupt


def interrupted_training(cfg: StageConfig, after: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the real trainer on `cfg` and interrupt it after epoch `after`."""
    with monkeypatch.context() as patch:
        # The trainer puts early stopping last among its callbacks: interrupt after it.
        patch.setattr(
            trainer,
            "early_stopping",
            lambda es: [*callbacks.early_stopping(es), InterruptAfter(after)],
        )
        with pytest.raises(KeyboardInterrupt):
            trainer.train(cfg)


def epoch_steps(client: MlflowClient, run_id: str) -> dict[str, list[int]]:
    """Every step each per-epoch metric was logged at, in logging order, duplicates kept."""
    return {key: [m.step for m in client.get_metric_history(run_id, key)] for key in EPOCH_METRICS}


def test_fingerprint_covers_data_model_and_train_only(tmp_path: Path) -> None:
    base = training_config(tmp_path, tmp_path)
    same = fingerprint(base.composed)
    elsewhere = training_config(
        tmp_path / "other",
        tmp_path / "other",
        "tracking.experiment=elsewhere",
        "evaluate.batch_size=7",
    )
    assert fingerprint(elsewhere.composed) == same, (
        "paths, tracking and evaluate do not shape the weights"
    )
    for override in ("train.learning_rate=0.5", "model.units=7", "data.validation.seed=1"):
        assert fingerprint(training_config(tmp_path, tmp_path, override).composed) != same, override


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
    state = ResumeState(
        seed_dir(Path(cfg.paths.checkpoints), cfg.train.seed), fingerprint(cfg.composed)
    )
    first_run = state.run_id
    assert state.completed_epochs() == 2

    with caplog.at_level(logging.INFO, logger="convscope"):
        result = trainer.train(cfg)

    assert "Resuming dense at epoch 3 of 8" in caplog.messages
    assert result.run_id == first_run
    history = pd.read_csv(seed_dir(Path(cfg.paths.model_dir), cfg.train.seed) / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3, 4, 5]
    assert history["val_accuracy"].nunique() == 1, "the weights moved: the premise is broken"
    client = MlflowClient(str(cfg.tracking.uri))
    [run] = client.search_runs([client.get_experiment_by_name("patience").experiment_id])
    assert run.info.run_id == first_run
    assert run.info.status == "FINISHED"
    assert epoch_steps(client, first_run) == {key: [1, 2, 3, 4, 5] for key in EPOCH_METRICS}
    assert run.data.metrics["epochs_run"] == 5
    assert not Path(cfg.paths.checkpoints).exists()


@pytest.mark.slow
def test_checkpoint_of_another_config_is_discarded(
    tmp_path: Path,
    processed_mnist: Path,
    store: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    shared = (f"tracking.uri=sqlite:///{store}", "tracking.experiment=fingerprint")
    first = training_config(tmp_path, processed_mnist, *shared, "train.epochs=2")
    interrupted_training(first, after=1, monkeypatch=monkeypatch)
    first_state = seed_dir(Path(first.paths.checkpoints), first.train.seed)
    interrupted_run = ResumeState(first_state, fingerprint(first.composed)).run_id

    changed = training_config(
        tmp_path, processed_mnist, *shared, "train.epochs=2", "model.units=32"
    )
    with caplog.at_level(logging.INFO, logger="convscope"):
        result = trainer.train(changed)

    assert (
        f"Discarding checkpoint {seed_dir(Path(changed.paths.checkpoints), changed.train.seed)}: "
        "it was made with another config" in (caplog.messages)
    )
    assert not any(message.startswith("Resuming") for message in caplog.messages)
    assert result.run_id != interrupted_run
    history = pd.read_csv(
        seed_dir(Path(changed.paths.model_dir), changed.train.seed) / "history.csv"
    )
    assert history["epoch"].tolist() == [1, 2]
    client = MlflowClient(str(changed.tracking.uri))
    new_run = client.get_run(result.run_id)
    assert new_run.data.params["model.units"] == "32"
    assert epoch_steps(client, result.run_id) == {key: [1, 2] for key in EPOCH_METRICS}
    # The interrupted run keeps its one epoch and is not continued.
    assert epoch_steps(client, interrupted_run) == {key: [1] for key in EPOCH_METRICS}
    assert client.get_run(interrupted_run).info.status != "FINISHED"
