"""Stage `evaluate`: `python -m convscope.evaluate model=<name> [seeds=<n>] [overrides]`.

Measures each seed's trained `models/<name>/seed-<seed>/model.keras` on the test set and writes
`reports/evaluation/<name>/seed-<seed>/` (its record `metrics.json`, `predictions.csv`, tables
and pictures), logged into that seed's MLflow training run; then `reports/metrics/<name>.json`,
the summary over the seeds, and `reports/plots/<name>/confusion.csv` (the first seed's).
Returns the mean test accuracy (for Hydra sweepers).
"""

from __future__ import annotations

from pathlib import Path

from convscope.cli import stage
from convscope.config import StageConfig
from convscope.models.model_file import check_model_file
from convscope.records.run import MODEL_FILE, RUN_FILE, RunRecord
from convscope.records.seeds import seed_dir


@stage
def main(cfg: StageConfig) -> float:
    """Evaluate every seed of one trained model."""
    for seed in cfg.training_seeds:
        folder = seed_dir(Path(cfg.paths.model_dir), seed)
        check_model_file(folder / MODEL_FILE)
        RunRecord.read(folder / RUN_FILE)
    # Imported here so that bad input and --help answer without loading TensorFlow.
    from convscope.evaluation.evaluator import evaluate

    return evaluate(cfg).test_accuracy


if __name__ == "__main__":
    main()
