"""DVC's experiment queue, two workers: two queued experiments run at once, each in its own copy
of the repository, and both log to the repository's MLflow store with their `dvc_experiment` tag.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import yaml
from mlflow.tracking import MlflowClient

# name: train.learning_rate, each unlike the committed default (an experiment equal to the
# baseline runs nothing: DVC finds its stage up to date, and no MLflow run is made)
EXPERIMENTS = {"lr-low": "0.001", "lr-high": "0.01"}
QUEUE_DEADLINE_SECONDS = 600  # a hung worker fails the test instead of hanging the suite


@pytest.mark.slow
def test_two_queued_experiments_run_on_two_workers_and_log_their_runs(
    trained_clone: Any,
) -> None:
    project, clone = trained_clone, trained_clone.clone_a
    committed = yaml.safe_load((clone / "conf" / "train" / "default.yaml").read_text())
    assert all(float(rate) != committed["learning_rate"] for rate in EXPERIMENTS.values())
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
    try:
        started = project.start(["dvc", "queue", "start", "-j", "2"], clone)
        assert "Started '2' new experiments task queue workers." in started, started
        deadline = time.monotonic() + QUEUE_DEADLINE_SECONDS
        while True:
            status = project.run(["dvc", "queue", "status"], clone).stdout
            if not any(state in status for state in ("Queued", "Running")):
                break
            assert time.monotonic() < deadline, f"the queue did not finish:\n{status}"
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
    # The two workers ran the experiments at once: one started before the other ended.
    first, second = sorted((run.info.start_time, run.info.end_time) for run in runs.values())
    assert second[0] < first[1]
    listed = project.run(["dvc", "exp", "list"], clone).stdout
    assert all(f"[{name}]" in listed for name in EXPERIMENTS), listed
