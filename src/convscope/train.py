"""Stage `train`: `python -m convscope.train model=<name> [overrides]`.

Returns the best validation accuracy, so Hydra sweepers (Optuna) can maximise it.
"""

from __future__ import annotations

from omegaconf import DictConfig

from convscope.cli import stage
from convscope.training.trainer import train


@stage
def main(cfg: DictConfig) -> float:
    """Train one model and log it to MLflow."""
    return train(cfg).best_val_accuracy


if __name__ == "__main__":
    main()
