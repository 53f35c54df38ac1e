"""Stage `train`: `python -m convscope.train model=<name> [seeds=<n>] [overrides]`.

Trains the model once per seed (`train.seed`, `train.seed + 1`, ... `seeds` of them) in this
one process, each seed its own MLflow run and its own `seed-<seed>/` folder of the model's
folder of `paths.models_root`. Returns the mean best validation accuracy over the seeds, so Hydra
sweepers (Optuna, through `convscope.sweep`) can maximise it.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, replace

from convscope.cli import stage
from convscope.config import check_seeds, plain
from convscope.data.config import DataConfig
from convscope.models.config import ModelConfig
from convscope.paths import PathsConfig
from convscope.records.run import RunRecord
from convscope.records.seeds import training_seeds
from convscope.tracking.config import TrackingConfig
from convscope.training.config import TrainConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainStageConfig:
    """The train stage's config (`conf/train.yaml`): the groups it reads, and `seeds`, how
    many seeds each model trains."""

    paths: PathsConfig
    data: DataConfig
    model: ModelConfig
    train: TrainConfig
    tracking: TrackingConfig
    seeds: int

    def __post_init__(self) -> None:
        check_seeds(self.seeds)

    def for_seed(self, seed: int) -> TrainStageConfig:
        """This config with `train.seed` set to `seed`."""
        return replace(self, train=replace(self.train, seed=seed))


def train_seed(cfg: TrainStageConfig, sweep_tags: Mapping[str, str] | None = None) -> RunRecord:
    """Train `cfg.model` with seed `cfg.train.seed`: one MLflow run (`cfg` its params), one
    seed folder. `sweep_tags` are the tags of the sweep job this training is
    (`convscope.sweep`)."""
    # Imported here so that `--help` and config errors answer without loading TensorFlow.
    from convscope.training.trainer import train

    groups = (cfg.model, cfg.data, cfg.train, cfg.tracking, cfg.paths)
    return train(*groups, params=plain(cfg), group_tags=sweep_tags)


def train_every_seed(cfg: TrainStageConfig, sweep_tags: Mapping[str, str] | None = None) -> float:
    """Train `cfg.model` once per seed; return the mean best validation accuracy."""
    best = []
    for seed in training_seeds(cfg.train.seed, cfg.seeds):
        record = train_seed(cfg.for_seed(seed), sweep_tags)
        log.info(
            "%s seed %d: best val accuracy %.4f", cfg.model.name, seed, record.best_val_accuracy
        )
        best.append(record.best_val_accuracy)
    return statistics.fmean(best)


@stage(TrainStageConfig)
def main(cfg: TrainStageConfig) -> float:
    """Train one model, once per seed, and log each training to MLflow."""
    return train_every_seed(cfg)


if __name__ == "__main__":
    main()
