"""Stage `evaluate`: `python -m convscope.evaluate model=<name> [overrides]`.

Measures the trained `models/<name>/model.keras` on the test set and writes
`reports/metrics/<name>.json`, `reports/evaluation/<name>/` and
`reports/plots/<name>/confusion.csv`; logs the same into the model's MLflow training run.
Returns the test accuracy (for Hydra sweepers).
"""

from __future__ import annotations

from pathlib import Path

from convscope.cli import stage
from convscope.config import StageConfig
from convscope.models.model_file import check_model_file
from convscope.records.run import MODEL_FILE, RUN_FILE, RunRecord


@stage
def main(cfg: StageConfig) -> float:
    """Evaluate one trained model."""
    check_model_file(Path(cfg.paths.model_dir) / MODEL_FILE)
    RunRecord.read(Path(cfg.paths.model_dir) / RUN_FILE)
    # Imported here so that bad input and --help answer without loading TensorFlow.
    from convscope.evaluation.evaluator import evaluate

    return evaluate(cfg).test_accuracy


if __name__ == "__main__":
    main()
