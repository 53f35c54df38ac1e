"""Every evaluated model's results, gathered for the compare stage.

The models are those with a metrics file in `<paths.reports>/metrics/`; each must also have
its full record in `<paths.reports>/evaluation/<model>/metrics.json`, and its training
history and model file in its `paths.model_dir`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from convscope.errors import ConvscopeError
from convscope.evaluation.inputs import MODEL_FILE
from convscope.evaluation.record import RECORD_FILE, read_metrics
from convscope.evaluation.trained_model import first_layer_weights, load_trained_model
from convscope.report.charts import HISTORY_COLUMNS

if TYPE_CHECKING:
    from convscope.config import StageConfig


@dataclass(frozen=True)
class ModelResults:
    """One evaluated model: its metrics, per-epoch history and first-layer weights."""

    name: str
    metrics: dict[str, Any]
    history: pd.DataFrame
    first_layer: np.ndarray


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
                metrics=read_metrics(reports / "evaluation" / path.stem / RECORD_FILE),
                history=read_history(model_dir / "history.csv"),
                first_layer=first_layer_weights(load_trained_model(model_dir / MODEL_FILE)),
            )
        )
    return results


def model_dir_of(cfg: StageConfig, name: str) -> Path:
    """`paths.model_dir` as it resolves for model `name` (it interpolates `model.name`)."""
    resolved = copy.deepcopy(cfg.composed)
    resolved.model.name = name
    return Path(resolved.paths.model_dir)


def read_history(path: Path) -> pd.DataFrame:
    """A training's per-epoch `history.csv`; one-line error if missing or lacking columns."""
    hint = f"run `dvc repro train@{path.parent.name}` to (re)create it"
    try:
        history = pd.read_csv(path)
    except FileNotFoundError:
        raise ConvscopeError(f"{path}: missing; {hint}") from None
    except (OSError, ValueError, UnicodeDecodeError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ConvscopeError(f"{path}: not a readable CSV ({reason}); {hint}") from None
    missing = [column for column in HISTORY_COLUMNS if column not in history.columns]
    if missing or history.empty:
        raise ConvscopeError(
            f"{path}: expected one row per epoch with columns {', '.join(HISTORY_COLUMNS)}; "
            f"{'lacks ' + ', '.join(missing) if missing else 'has no rows'}; {hint}"
        )
    return history
