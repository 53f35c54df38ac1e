"""Pipeline overhead: the real train stage against a minimal `model.fit`, model by model.

What is timed (process start excluded, data read from the same `.npy` files by both):

- stage, end to end: one call of `convscope.train.train_seed(cfg)` with the real
  composed config (`train.epochs` epochs, validation every epoch, MLflow logging to a
  SQLite store in a temporary folder, BackupAndRestore checkpoints, history CSV, kernels,
  feature maps, the logged and saved model, `run.json`); Keras' progress output goes to a
  null file;
- stage, fit: the `model.fit` call inside it (callbacks included), and the stage's other
  parts, as the trainer times them itself (its run's `time_<part>_seconds` metrics);
- baseline, end to end: load the arrays, build and compile the same model with the same
  optimizer, schedule and `steps_per_execution`, then `model.fit(x, y, batch_size,
  epochs, validation_data=(x_val, y_val), verbose=0)` with no callbacks;
- baseline, fit: that `model.fit` call.

Throughput = training images x epochs / fit seconds (the fit includes the per-epoch
validation pass in both). Overhead = stage / baseline - 1.

What the stage adds outside `fit` (logging kernels, feature maps and the model...) is a
fixed cost, the same for 2 epochs on a subset as for a full training. "Fixed cost in a
default training" divides it by the baseline's time projected to the default training
(`train.epochs` epochs of the full training set: baseline fit seconds scaled by the ratio
of images x epochs, plus its time outside fit); the fit overhead is reported apart.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd

from benchmarks.common import (
    interleaved,
    log,
    median,
    model_inputs,
)
from convscope.cli import compose_stage_config
from convscope.training.spans import metric_name


@dataclass(frozen=True)
class Timing:
    """Seconds of one training: the whole function, its `model.fit` call and named parts."""

    total: float
    fit: float
    parts: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.total:.1f} s total, {self.fit:.1f} s fit"


def run_stage(cfg_overrides: Sequence[str], workdir: Path) -> Timing:
    """One call of the real train stage function, writing under `workdir`; its parts as the
    trainer timed them."""
    from mlflow.tracking import MlflowClient

    from convscope.train import train_seed

    run_dir = Path(tempfile.mkdtemp(prefix="stage-", dir=workdir))
    cfg = compose_stage_config(
        "train",
        *cfg_overrides,
        f"paths.models_root={run_dir / 'models'}",
        f"paths.checkpoints={run_dir / 'checkpoints'}",
        f"tracking.uri=sqlite:///{workdir / 'mlflow.db'}",
        f"tracking.artifact_location={workdir / 'mlartifacts'}",
    )
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
        start = time.perf_counter()
        record = train_seed(cfg)
        total = time.perf_counter() - start
    metrics = MlflowClient(str(cfg.tracking.uri)).get_run(record.run_id).data.metrics
    parts = {
        part.group(1): seconds
        for key, seconds in metrics.items()
        if (part := re.fullmatch(metric_name("(.+)"), key))
    }
    return Timing(total=total, fit=parts.pop("fit"), parts=parts)


def run_baseline(cfg_overrides: Sequence[str]) -> Timing:
    """A minimal `model.fit` on the same arrays, model, optimizer, batch size and epochs."""
    import keras

    from convscope.training.trainer import compiled_model

    cfg = compose_stage_config("train", *cfg_overrides)
    keras.backend.clear_session()
    keras.utils.set_random_seed(cfg.train.seed)

    start = time.perf_counter()
    x_train, y_train = model_inputs(cfg, "train")
    x_val, y_val = model_inputs(cfg, "val")
    model = compiled_model(cfg.model, cfg.data, cfg.train, len(x_train))
    fit_start = time.perf_counter()
    model.fit(
        x_train,
        y_train,
        batch_size=cfg.train.batch_size,
        epochs=cfg.train.epochs,
        validation_data=(x_val, y_val),
        verbose=0,
    )
    end = time.perf_counter()
    return Timing(total=end - start, fit=end - fit_start)


def measure_overhead(
    processed: Path,
    models: Sequence[str],
    epochs: int,
    repeats: int,
    subset: int | None = None,
    warmup: bool = True,
    progress: Callable[[str], None] = log,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stage vs baseline for each model.

    Returns (summary, parts): one summary row per model (see `overhead_row`), and the
    median seconds of each part of the stage outside `model.fit` (rows: parts, columns:
    models).
    """
    from convscope.records.dataset import META_FILE, DatasetMeta

    full = DatasetMeta.read(processed / META_FILE).counts["train"]
    images = subset or full
    default_images = full * int(compose_stage_config("train").train.epochs)
    rows, parts = [], {}
    with tempfile.TemporaryDirectory(prefix="convscope-overhead-") as tmp:
        workdir = Path(tmp)
        for model in models:
            progress(f"overhead: {model}, {epochs} epochs of {images} images")
            overrides = [
                f"model={model}",
                f"paths.processed={processed}",
                f"train.epochs={epochs}",
                f"train.subset={subset or 'null'}",
            ]
            # The warm-up trains one small epoch: it compiles kernels and creates the store.
            warm = [*overrides, "train.epochs=1", "train.subset=512"]
            runs = interleaved(
                {
                    "stage": partial(run_stage, overrides, workdir),
                    "baseline": partial(run_baseline, overrides),
                },
                repeats=repeats,
                warmups={
                    "stage": partial(run_stage, warm, workdir),
                    "baseline": partial(run_baseline, warm),
                },
                warmup=warmup,
                progress=progress,
            )
            rows.append(
                overhead_row(
                    model, images * epochs, runs["stage"], runs["baseline"], default_images
                )
            )
            parts[model] = {
                label: round(median([t.parts[label] for t in runs["stage"]]), 2)
                for label in runs["stage"][0].parts
            }
    return pd.DataFrame(rows), pd.DataFrame(parts)


def overhead_row(
    model: str,
    images: int,
    stage: Sequence[Timing],
    baseline: Sequence[Timing],
    default_images: int,
) -> dict[str, object]:
    """Medians of both sides and the overhead ratios for one model; `images` is images x
    epochs of the measured runs, `default_images` that of a default training."""
    stage_total, stage_fit = median([t.total for t in stage]), median([t.fit for t in stage])
    base_total, base_fit = median([t.total for t in baseline]), median([t.fit for t in baseline])
    fixed_cost = (stage_total - stage_fit) - (base_total - base_fit)
    default_baseline = (base_total - base_fit) + base_fit * default_images / images
    return {
        "model": model,
        "images x epochs": images,
        "stage fit img/s": round(images / stage_fit),
        "baseline fit img/s": round(images / base_fit),
        "fit overhead %": round(100 * (stage_fit / base_fit - 1), 1),
        "stage s": round(stage_total, 2),
        "baseline s": round(base_total, 2),
        "end-to-end overhead %": round(100 * (stage_total / base_total - 1), 1),
        "stage outside fit s": round(stage_total - stage_fit, 2),
        "baseline outside fit s": round(base_total - base_fit, 2),
        "fixed cost in a default training %": round(100 * fixed_cost / default_baseline, 1),
    }
