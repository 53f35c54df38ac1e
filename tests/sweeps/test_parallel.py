"""Four jobs at once (`hydra/launcher=parallel`) writing to one new SQLite store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.mark.slow
def test_four_parallel_jobs_all_log_complete_runs(run_sweep: Callable[..., Any]) -> None:
    # The store does not exist yet: the sweep creates it before its four jobs start.
    sweep = run_sweep(
        "hydra/launcher=parallel",
        "hydra.launcher.n_jobs=4",
        "model=dense",
        "train.learning_rate=1e-3,2e-3,3e-3,4e-3",
        "train.threads.intra_op=1",
        "train.threads.inter_op=1",
    )
    assert sweep.done.returncode == 0, sweep.output[-3000:]
    assert "database is locked" not in sweep.output

    [parent] = sweep.parents()
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["launcher"] == "parallel"
    children = sweep.children(parent)
    assert [run.data.tags["sweep_job"] for run in children] == ["0", "1", "2", "3"]
    for run in children:
        run_id = run.info.run_id
        assert run.info.status == "FINISHED"
        for key in ("loss", "val_accuracy", "epoch_seconds"):
            assert [m.step for m in sweep.client.get_metric_history(run_id, key)] == [1], key
        assert {"best_val_accuracy", "total_params", "train_seconds"} <= set(run.data.metrics)
        assert len(run.data.params) > 40, "the whole config"
        listed = {a.path for a in sweep.client.list_artifacts(run_id)}
        assert {"config.yaml", "parameters", "kernels", "history.csv"} <= listed
    # The jobs really overlapped: some job started before another one ended.
    spans = sorted((run.info.start_time, run.info.end_time) for run in children)
    assert any(start < spans[0][1] for start, _ in spans[1:])
    assert parent.data.metrics["jobs_finished"] == 4
