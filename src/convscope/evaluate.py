"""Stage `evaluate`: `python -m convscope.evaluate model=<name> [seeds=<n>] [overrides]`.

Measures each seed's trained `models/<name>/seed-<seed>/model.keras` on the test set and writes
`reports/evaluation/<name>/seed-<seed>/` (its record `metrics.json`, `predictions.csv`, tables
and pictures), logged into that seed's MLflow training run; then `reports/metrics/<name>.json`,
the summary over the seeds, and `reports/plots/<name>/confusion.csv` (the first seed's).
Returns the mean test accuracy (for Hydra sweepers).
"""

from __future__ import annotations

from dataclasses import dataclass

from convscope.cli import stage
from convscope.config import check_seeds
from convscope.data.config import DataConfig
from convscope.evaluation.config import EvaluateConfig
from convscope.models.config import ModelConfig
from convscope.models.model_file import check_model_file
from convscope.paths import PathsConfig
from convscope.records.run import MODEL_FILE, RUN_FILE, RunRecord
from convscope.records.seeds import seed_dir, training_seeds
from convscope.tracking.config import TrackingConfig
from convscope.training.config import TrainConfig


@dataclass(frozen=True)
class EvaluateStageConfig:
    """The evaluate stage's config (`conf/evaluate.yaml`): the train stage's groups (which
    model, which seeds, where they were logged) and `evaluate`, how to measure them."""

    paths: PathsConfig
    data: DataConfig
    model: ModelConfig
    train: TrainConfig
    tracking: TrackingConfig
    evaluate: EvaluateConfig
    seeds: int

    def __post_init__(self) -> None:
        check_seeds(self.seeds)


@stage(EvaluateStageConfig)
def main(cfg: EvaluateStageConfig) -> float:
    """Evaluate every seed of one trained model."""
    name, seeds = cfg.model.name, training_seeds(cfg.train.seed, cfg.seeds)
    for seed in seeds:
        folder = seed_dir(cfg.paths.model_dir(name), seed)
        check_model_file(folder / MODEL_FILE)
        RunRecord.read(folder / RUN_FILE)
    # Imported here so that bad input and --help answer without loading TensorFlow.
    from convscope.evaluation.evaluator import evaluate

    return evaluate(name, seeds, cfg.data, cfg.paths, cfg.evaluate, cfg.tracking).test_accuracy


if __name__ == "__main__":
    main()
