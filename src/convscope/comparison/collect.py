"""Every evaluated model's results, gathered for the compare stage.

The models are those with a metrics file in `<paths.reports>/metrics/`; each must also have
its full record in `<paths.reports>/evaluation/<model>/metrics.json`, and its training
history, model file and `run.json` in its `paths.model_dir`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from convscope.errors import ConvscopeError
from convscope.models.trained import first_layer_weights, load_trained_model
from convscope.records.history import HISTORY_FILE, History
from convscope.records.metrics import RECORD_FILE, EvaluationRecord
from convscope.records.run import MODEL_FILE, RUN_FILE, RunRecord

if TYPE_CHECKING:
    from convscope.config import StageConfig


@dataclass(frozen=True)
class ModelResults:
    """One evaluated model: its evaluation record, per-epoch history, first-layer weights,
    and the record of its training run (`run_file`, named in errors)."""

    name: str
    metrics: EvaluationRecord
    history: pd.DataFrame
    first_layer: np.ndarray
    run: RunRecord
    run_file: Path


def collect_results(cfg: StageConfig) -> list[ModelResults]:
    """Results of every model with a metrics file, in file-name order."""
    reports = Path(cfg.paths.reports)
    metrics_dir = reports / "metrics"
    files = sorted(metrics_dir.glob("*.json"))
    if not files:
        raise ConvscopeError(
            f"{metrics_dir}: no metrics files (<model>.json); run `dvc repro evaluate` first"
        )
    results = []
    for path in files:
        model_dir = model_dir_of(cfg, path.stem)
        results.append(
            ModelResults(
                name=path.stem,
                metrics=EvaluationRecord.read(reports / "evaluation" / path.stem / RECORD_FILE),
                history=History.read(model_dir / HISTORY_FILE).frame,
                first_layer=first_layer_weights(load_trained_model(model_dir / MODEL_FILE)),
                run=RunRecord.read(model_dir / RUN_FILE),
                run_file=model_dir / RUN_FILE,
            )
        )
    return results


def model_dir_of(cfg: StageConfig, name: str) -> Path:
    """`paths.model_dir` as it resolves for model `name` (it interpolates `model.name`)."""
    resolved = copy.deepcopy(cfg.composed)
    resolved.model.name = name
    return Path(resolved.paths.model_dir)
