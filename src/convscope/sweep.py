"""`python -m convscope.sweep [overrides]`: the train stage as a Hydra multirun.

A grid (`model=dense,lenet5 train.learning_rate=1e-3,3e-3`) or a search
(`+hparams_search=lenet5_optuna`), on any launcher (`hydra/launcher=parallel`, `slurm`, ...).
Its config (`conf/sweep.yaml`) is the train stage's plus the MLflow sweep callback
(`convscope.sweeps.callback`): one parent run per sweep, every job's runs nested under it,
every job writing into its own folder. Each job trains as `python -m convscope.train` does
and returns the mean best validation accuracy, which a search maximises.
"""

from __future__ import annotations

from convscope.cli import stage
from convscope.sweeps.job import current_job
from convscope.train import TrainStageConfig, train_every_seed


@stage(TrainStageConfig)
def main(cfg: TrainStageConfig) -> float:
    """One job of the sweep: train the job's model, tagged as a job of its sweep."""
    job = current_job()  # set by the sweep callback in the job's process
    return train_every_seed(cfg, job.tags() if job else None)


if __name__ == "__main__":
    main()
