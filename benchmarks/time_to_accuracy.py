"""Time to accuracy: training seconds until a model first reaches a TEST accuracy.

The training is the train stage's own fit (same config, model, optimizer, schedule,
batch size, validation pass and early stopping), without the MLflow and artifact work
around it. At each epoch end the clock stops, the model is evaluated on the test set, and
the clock restarts: the test evaluations are outside the timed region; everything else
from the start of `model.fit` (graph tracing, data conversion, validation) is inside.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from benchmarks.common import interleaved, log, median, model_inputs
from convscope.cli import compose_stage_config


@dataclass(frozen=True)
class Progress:
    """One training's test accuracy after each epoch, and the training seconds until then."""

    seconds: tuple[float, ...]
    test_accuracy: tuple[float, ...]
    target: float

    @property
    def reached_at(self) -> int | None:
        """The first epoch (from 1) whose test accuracy reaches the target, if any."""
        for epoch, accuracy in enumerate(self.test_accuracy, start=1):
            if accuracy >= self.target:
                return epoch
        return None

    @property
    def seconds_to_target(self) -> float | None:
        epoch = self.reached_at
        return None if epoch is None else self.seconds[epoch - 1]

    def __str__(self) -> str:
        if self.reached_at is None:
            return f"not reached in {len(self.seconds)} epochs (best {max(self.test_accuracy):.4f})"
        return f"{self.seconds_to_target:.1f} s, epoch {self.reached_at}"


def _test_clock(x_test, y_test, target: float, started: float):
    """A Keras callback timing training up to each epoch end; stops once `target` is hit."""
    import keras

    class TestAccuracyClock(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.resumed, self.elapsed = started, 0.0
            self.seconds: list[float] = []
            self.accuracy: list[float] = []

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.elapsed += time.perf_counter() - self.resumed
            self.seconds.append(self.elapsed)
            _, accuracy = self.model.evaluate(x_test, y_test, batch_size=1024, verbose=0)
            self.accuracy.append(float(accuracy))
            if accuracy >= target:
                self.model.stop_training = True
            self.resumed = time.perf_counter()

    return TestAccuracyClock()


def train_until(cfg_overrides: Sequence[str], target: float) -> Progress:
    """Fit as the train stage does (config from `cfg_overrides`) until the test accuracy
    reaches `target`, early stopping fires or the configured epochs are done."""

    from convscope.training.callbacks import early_stopping
    from convscope.training.trainer import compiled_model, configure_tensorflow

    cfg = compose_stage_config("train", *cfg_overrides, "train.verbose=0")
    train_cfg = cfg.train
    configure_tensorflow(train_cfg)
    x_train, y_train = model_inputs(cfg, "train")
    x_val, y_val = model_inputs(cfg, "val")
    x_test, y_test = model_inputs(cfg, "test")
    model = compiled_model(cfg.model, cfg.data, cfg.train, len(x_train))
    clock = _test_clock(x_test, y_test, target, started=time.perf_counter())
    callbacks = [clock, *early_stopping(train_cfg.early_stopping)]
    model.fit(
        x_train,
        y_train,
        batch_size=train_cfg.batch_size,
        epochs=train_cfg.epochs,
        validation_data=(x_val, y_val),
        callbacks=callbacks,
        verbose=0,
    )
    return Progress(tuple(clock.seconds), tuple(clock.accuracy), target)


def measure_time_to_accuracy(
    processed: Path,
    variants: dict[str, Sequence[str]],
    model: str,
    target: float,
    repeats: int,
    warmup: bool = True,
    progress: Callable[[str], None] = log,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time to `target` test accuracy of `model` for each named variant (extra overrides).

    Returns (summary, curves): one summary row per variant (median seconds and epoch at
    which the target was first reached, `None` when a repetition did not reach it), and
    the first repetition's test accuracy and training seconds per epoch (long format).
    """
    base = [f"model={model}", f"paths.processed={processed}"]
    progress(f"time to {target:.1%} test accuracy: {model}")
    runs = interleaved(
        {name: _runner([*base, *extra], target) for name, extra in variants.items()},
        repeats=repeats,
        warmups={
            name: _runner([*base, *extra, "train.epochs=1", "train.subset=1024"], target)
            for name, extra in variants.items()
        },
        warmup=warmup,
        progress=progress,
    )
    rows, curves = [], []
    for name, results in runs.items():
        reached = [r.seconds_to_target for r in results]
        rows.append(
            {
                "variant": name,
                "overrides": " ".join(variants[name]) or "(defaults)",
                "seconds to target": None if None in reached else round(median(reached), 1),
                "epoch reached": _epochs(results),
                "best test accuracy": round(median([max(r.test_accuracy) for r in results]), 4),
                "runs reaching target": f"{sum(s is not None for s in reached)}/{len(results)}",
            }
        )
        first = results[0]
        curves += [
            {"variant": name, "epoch": epoch, "seconds": round(seconds, 1), "test accuracy": acc}
            for epoch, seconds, acc in zip(
                range(1, len(first.seconds) + 1), first.seconds, first.test_accuracy, strict=True
            )
        ]
    return pd.DataFrame(rows), pd.DataFrame(curves)


def _runner(overrides: list[str], target: float) -> Callable[[], Progress]:
    return lambda: train_until(overrides, target)


def _epochs(results: Sequence[Progress]) -> str:
    epochs = sorted({r.reached_at for r in results}, key=lambda e: (e is None, e))
    return ", ".join("-" if e is None else str(e) for e in epochs)
