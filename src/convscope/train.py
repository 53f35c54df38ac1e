"""Stage `train`: `python -m convscope.train model=<name> [overrides]`.

Returns the best validation accuracy, so Hydra sweepers (Optuna) can maximise it.
"""

from __future__ import annotations

from convscope.cli import stage
from convscope.config import StageConfig
from convscope.sweeps.job import current_job


@stage
def main(cfg: StageConfig) -> float:
    """Train one model and log it to MLflow."""
    # Imported here so that `--help` and config errors answer without loading TensorFlow.
    from convscope.training.trainer import train

    job = current_job()  # set by the sweep callback in a Hydra multirun
    return train(cfg, job.tags() if job else None).best_val_accuracy


if __name__ == "__main__":
    main()
