"""Every evaluated model's results, seed by seed, gathered for the compare stage.

The models are those with a metrics file in `<paths.reports>/metrics/` (the summary over
their seeds); each seed has its record and per-image predictions in
`<paths.reports>/evaluation/<model>/seed-<seed>/`, and its training history, model file and
`run.json` in the seed's folder of the model's folder (`paths.model_dir(name)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from convscope.errors import ConvscopeError, rerun_hint
from convscope.models.anatomy import layer_anatomy
from convscope.models.trained import first_layer_weights, load_trained_model
from convscope.paths import PathsConfig
from convscope.records.history import HISTORY_FILE, History
from convscope.records.metrics import (
    PREDICTIONS_FILE,
    RECORD_FILE,
    EvaluationRecord,
    MetricsSummary,
    evaluation_dir,
    metrics_dir,
    read_predictions,
)
from convscope.records.run import MODEL_FILE, RUN_FILE, RunRecord
from convscope.records.seeds import seed_dir, seed_dirs


@dataclass(frozen=True)
class SeedResults:
    """One seed of a model: its evaluation record, per-image predictions (actual, predicted),
    per-epoch history and the record of its training run (`run_file`, named in errors)."""

    seed: int
    metrics: EvaluationRecord
    predictions: pd.DataFrame
    history: pd.DataFrame
    run: RunRecord
    run_file: Path


@dataclass(frozen=True)
class ModelResults:
    """One evaluated model: its summary over seeds, each seed's results, and its first
    seed's first-layer weights and per-layer anatomy."""

    name: str
    summary: MetricsSummary
    seeds: tuple[SeedResults, ...]
    first_layer: np.ndarray
    anatomy: pd.DataFrame


def collect_results(paths: PathsConfig) -> list[ModelResults]:
    """Results of every model with a metrics file, in file-name order, seeds in order."""
    reports = Path(paths.reports)
    folder = metrics_dir(reports)
    files = sorted(folder.glob("*.json"))
    if not files:
        raise ConvscopeError(
            f"{folder}: no metrics files (<model>.json); run `dvc repro evaluate` first"
        )
    return [model_results(paths, path, evaluation_dir(reports, path.stem)) for path in files]


def model_results(paths: PathsConfig, metrics_file: Path, evaluation_dir: Path) -> ModelResults:
    """One model's results: its metrics file, and every seed folder of its evaluation."""
    name = metrics_file.stem
    summary = MetricsSummary.read(metrics_file)
    evaluated = seed_dirs(evaluation_dir)
    if len(evaluated) != summary.seeds:
        raise ConvscopeError(
            f"{evaluation_dir}: {len(evaluated)} seed folders, but {metrics_file} summarises "
            f"{summary.seeds} seeds; {rerun_hint(f'evaluate@{name}')}"
        )
    model_dir = paths.model_dir(name)
    seeds = []
    for seed, folder in evaluated.items():
        trained = seed_dir(model_dir, seed)
        seeds.append(
            SeedResults(
                seed=seed,
                metrics=EvaluationRecord.read(folder / RECORD_FILE),
                predictions=read_predictions(folder / PREDICTIONS_FILE),
                history=History.read(trained / HISTORY_FILE).frame,
                run=RunRecord.read(trained / RUN_FILE),
                run_file=trained / RUN_FILE,
            )
        )
    first = load_trained_model(seed_dir(model_dir, seeds[0].seed) / MODEL_FILE)
    anatomy = layer_anatomy(first).assign(model=name)
    return ModelResults(name, summary, tuple(seeds), first_layer_weights(first), anatomy)
