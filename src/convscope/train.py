"""Stage `train`: `python -m convscope.train model=<name> [overrides]`.

Returns the best validation accuracy, so Hydra sweepers (Optuna) can maximise it.
"""

from __future__ import annotations

from omegaconf import DictConfig

from convscope.cli import stage
from convscope.models.config import validate_model_config
from convscope.sweeps.job import current_job
from convscope.tracking.system_metrics import system_metrics_interval
from convscope.training.config import validate_train_config


@stage
def main(cfg: DictConfig) -> float:
    """Train one model and log it to MLflow."""
    validate_model_config(cfg.model)
    validate_train_config(cfg.train)
    system_metrics_interval(cfg.tracking)
    # Imported here so that `--help` and config errors answer without loading TensorFlow.
    from convscope.training.trainer import train

    job = current_job()  # set by the sweep callback in a Hydra multirun
    return train(cfg, job.tags() if job else None).best_val_accuracy


if __name__ == "__main__":
    main()
