"""Four jobs at once (`hydra/launcher=parallel`) writing to one new SQLite store."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import barrier_callback, passed_barrier, with_support_importable


@pytest.mark.system
def test_four_parallel_jobs_all_log_complete_runs(
    run_sweep: Callable[..., Any], tmp_path: Path
) -> None:
    # Each job waits at its start until all four have started (tests/support.py).
    barrier = tmp_path / "barrier"
    # The store does not exist yet: the sweep creates it before its four jobs start.
    sweep = run_sweep(
        "hydra/launcher=parallel",
        "hydra.launcher.n_jobs=4",
        "model=dense",
        "train.learning_rate=1e-3,2e-3,3e-3,4e-3",
        "train.threads.intra_op=1",
        "train.threads.inter_op=1",
        barrier_callback(barrier, 4),
        env=with_support_importable(dict(os.environ)),
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
    # The jobs really ran at once: four processes, each of which passed the barrier only
    # once all four were running.
    assert len(passed_barrier(barrier)) == 4, sweep.output[-3000:]
    assert parent.data.metrics["jobs_finished"] == 4
