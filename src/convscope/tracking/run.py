"""A training's MLflow run: started or resumed, tagged, sampling system metrics, and tagged
with the reason when the training fails."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import mlflow

from convscope.tracking.config import TrackingConfig
from convscope.tracking.context import run_tags
from convscope.tracking.failure import failure_tagged
from convscope.tracking.unavailable import unavailable_store_reported


@contextmanager
def training_run(
    tracking: TrackingConfig,
    experiment_id: str,
    model: str,
    dataset: str,
    seed: int,
    *,
    resume_run_id: str | None = None,
    group_tags: Mapping[str, str] | None = None,
) -> Iterator[mlflow.ActiveRun]:
    """The active MLflow run of one training of `model` with `seed` on `dataset`.

    A new run is named `<model> seed <seed>` and tagged (`convscope.tracking.context.run_tags`,
    with `group_tags` when it belongs to a sweep job or a study); `resume_run_id` continues an
    interrupted one as it is. System metrics are sampled as `tracking` says. If the block
    raises, the run is tagged with the reason and ended FAILED.
    """
    interval = tracking.system_metrics_interval if tracking.system_metrics else None
    if interval is not None:
        mlflow.set_system_metrics_sampling_interval(interval)
    new = resume_run_id is None
    with (
        unavailable_store_reported(),  # outermost: ending the run may be what fails
        mlflow.start_run(
            run_id=resume_run_id,
            experiment_id=experiment_id,
            run_name=f"{model} seed {seed}" if new else None,
            tags=run_tags(model, dataset, group_tags, seed=seed) if new else None,
            log_system_metrics=interval is not None,
        ) as run,
        failure_tagged(),
    ):
        yield run
