"""DVC's experiment queue, two workers: two queued experiments run at once, each in its own copy
of the repository, and both log to the repository's MLflow store with their `dvc_experiment` tag.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlflow.tracking import MlflowClient
from support import barrier_command, passed_barrier

# name: train.learning_rate, each unlike the committed default (an experiment equal to the
# baseline runs nothing: DVC finds its stage up to date, and no MLflow run is made)
EXPERIMENTS = {"lr-low": "0.001", "lr-high": "0.01"}
QUEUE_DEADLINE_SECONDS = 600  # a hung worker fails the test instead of hanging the suite
TRAIN_COMMAND = "cmd: python -m convscope.train "


@pytest.mark.system
def test_two_queued_experiments_run_on_two_workers_and_log_their_runs(
    trained_clone: Any, tmp_path: Path
) -> None:
    project, clone = trained_clone, trained_clone.clone_a
    committed = yaml.safe_load((clone / "conf" / "train" / "default.yaml").read_text())
    assert all(float(rate) != committed["learning_rate"] for rate in EXPERIMENTS.values())
    # The queued train stages first wait at a barrier until both have started (tests/support.py).
    barrier = tmp_path / "barrier"
    pipeline = clone / "dvc.yaml"
    original = pipeline.read_text()
    assert TRAIN_COMMAND in original
    held = f"cmd: {barrier_command(barrier, len(EXPERIMENTS))} && python -m convscope.train "
    pipeline.write_text(original.replace(TRAIN_COMMAND, held))
    try:  # the queue keeps the workspace as it was when each experiment was queued
        for name, rate in EXPERIMENTS.items():
            project.run(
                [
                    "dvc",
                    "exp",
                    "run",
                    "--queue",
                    "-n",
                    name,
                    "-S",
                    f"conf/train/default.yaml:learning_rate={rate}",
                    "train@dense",
                ],
                clone,
            )
    finally:
        pipeline.write_text(original)
    try:
        started = project.start(["dvc", "queue", "start", "-j", "2"], clone)
        assert "Started '2' new experiments task queue workers." in started, started
        deadline = time.monotonic() + QUEUE_DEADLINE_SECONDS
        while True:
            status = project.run(["dvc", "queue", "status"], clone).stdout
            if not any(state in status for state in ("Queued", "Running")):
                break
            if time.monotonic() > deadline:  # a hang guard, not a measurement
                pytest.fail(f"the queue did not finish:\n{status}")
            time.sleep(3)
    finally:
        project.run(["dvc", "queue", "stop", "--kill"], clone)

    for name in EXPERIMENTS:
        assert any(
            line.split()[1:2] == [name] and "Success" in line for line in status.splitlines()
        ), status
    client = MlflowClient(f"sqlite:///{clone / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("mnist")
    runs = {
        run.data.tags["dvc_experiment"]: run
        for run in client.search_runs([experiment.experiment_id], "tags.dvc_experiment != ''")
    }
    assert set(runs) == set(EXPERIMENTS)
    for name, rate in EXPERIMENTS.items():
        assert runs[name].info.status == "FINISHED"
        assert runs[name].data.params["train.learning_rate"] == rate
        assert "best_val_accuracy" in runs[name].data.metrics
    # The two workers ran the experiments at once: two stage processes each passed the
    # barrier only once both were running.
    assert len(passed_barrier(barrier)) == len(EXPERIMENTS)
    listed = project.run(["dvc", "exp", "list"], clone).stdout
    assert all(f"[{name}]" in listed for name in EXPERIMENTS), listed
