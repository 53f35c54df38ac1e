"""Stage `train`: `python -m convscope.train model=<name> [seeds=<n>] [overrides]`.

Trains the model once per seed (`train.seed`, `train.seed + 1`, ... `seeds` of them) in this
one process, each seed its own MLflow run and its own `seed-<seed>/` folder of
`paths.model_dir`. Returns the mean best validation accuracy over the seeds, so Hydra
sweepers (Optuna) can maximise it.
"""

from __future__ import annotations

import logging
import statistics

from convscope.cli import stage
from convscope.config import StageConfig
from convscope.sweeps.job import current_job

log = logging.getLogger(__name__)


@stage
def main(cfg: StageConfig) -> float:
    """Train one model, once per seed, and log each training to MLflow."""
    # Imported here so that `--help` and config errors answer without loading TensorFlow.
    from convscope.training.trainer import train

    job = current_job()  # set by the sweep callback in a Hydra multirun
    best = []
    for seed in cfg.training_seeds:
        result = train(cfg.for_seed(seed), job.tags() if job else None)
        log.info(
            "%s seed %d: best val accuracy %.4f", cfg.model.name, seed, result.best_val_accuracy
        )
        best.append(result.best_val_accuracy)
    return statistics.fmean(best)


if __name__ == "__main__":
    main()
