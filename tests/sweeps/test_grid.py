"""Grid sweeps (Hydra's basic sweeper and launcher): nesting, tags, outputs, a failing job."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from convscope.records.seeds import seed_dir
from convscope.sweeps.job import PARENT_RUN_TAG


@pytest.mark.slow
def test_grid_sweep_nests_every_job_under_one_parent(run_sweep: Callable[..., Any]) -> None:
    sweep = run_sweep("model=dense,lenet5", "train.learning_rate=1e-3,3e-3")
    assert sweep.done.returncode == 0, sweep.output[-3000:]

    [parent] = sweep.parents()
    tags, params = parent.data.tags, parent.data.params
    assert parent.info.status == "FINISHED"
    assert "-m convscope.sweep model=dense,lenet5" in tags["sweep_command"]
    assert params["model"] == "dense,lenet5"
    assert params["train.learning_rate"] == "1e-3,3e-3"
    assert (tags["sweeper"], tags["launcher"]) == ("basic", "basic")
    assert tags["sweep_dir"] == str(sweep.folder)

    children = sweep.children(parent)
    combos = {(r.data.params["model.name"], r.data.params["train.learning_rate"]) for r in children}
    assert combos == {(m, lr) for m in ("dense", "lenet5") for lr in ("0.001", "0.003")}
    for num, run in enumerate(children):
        assert run.info.status == "FINISHED"
        assert run.data.tags["sweep_id"] == tags["sweep_id"] == parent.info.run_name
        assert run.data.tags[PARENT_RUN_TAG] == parent.info.run_id
        assert run.data.tags["sweep_job"] == str(num)
        assert f"model={run.data.params['model.name']}" in run.data.tags["hydra_overrides"]
        # Each job wrote its model into its own folder, not into the DVC outputs models/.
        job_dir = sweep.folder / str(num)
        assert run.data.tags["sweep_job_dir"] == str(job_dir)
        model_dir = seed_dir(job_dir / "models" / run.data.params["model.name"], 42)
        assert run.data.params["paths.models_root"] == str(job_dir / "models")
        assert (model_dir / "model.keras").is_file()
    assert not (sweep.workdir / "models").exists()
    assert not (sweep.workdir / "checkpoints").exists()

    summary = yaml.safe_load((sweep.folder / "sweep_results.yaml").read_text())
    scores = {job["run_id"]: job["score"] for job in summary["jobs"]}
    assert scores == {run.info.run_id: run.data.metrics["best_val_accuracy"] for run in children}
    assert summary["best"]["score"] == max(scores.values())
    assert parent.data.tags["best_run_id"] == summary["best"]["run_id"]
    assert parent.data.metrics["best_val_accuracy"] == max(scores.values())
    assert (parent.data.metrics["jobs"], parent.data.metrics["jobs_finished"]) == (4, 4)
    listed = {a.path for a in sweep.client.list_artifacts(parent.info.run_id)}
    assert {"sweep_results.yaml", "sweep_config.yaml"} <= listed


@pytest.mark.system
def test_failing_job_is_recorded_and_the_other_jobs_still_run(
    run_sweep: Callable[..., Any],
) -> None:
    # Job 0 fails before opening its run (no such test image); job 1 trains normally.
    sweep = run_sweep("model=dense", "tracking.feature_map_image=99999,0")
    # Hydra's basic sweeper reports a failed job once all jobs of the batch have run: status 1.
    assert sweep.done.returncode == 1, sweep.output[-3000:]

    [parent] = sweep.parents()
    failed, finished = sweep.children(parent)
    assert failed.info.status == "FAILED"
    assert failed.data.tags["failure_reason"]
    assert "tracking.feature_map_image=99999" in failed.data.tags["hydra_overrides"]
    assert finished.info.status == "FINISHED"
    assert "best_val_accuracy" in finished.data.metrics

    # The sweep raised before its end, so the parent was ended FAILED at exit, with the reason.
    assert parent.info.status == "FAILED"
    assert parent.data.tags["failure_reason"].startswith("1 of 2 jobs failed; first: job 0")
    assert parent.data.tags["best_run_id"] == finished.info.run_id
    summary = yaml.safe_load((sweep.folder / "sweep_results.yaml").read_text())
    assert (summary["jobs_finished"], summary["jobs_failed"]) == (1, 1)
    assert Path(seed_dir(sweep.folder / "1" / "models" / "dense", 42) / "model.keras").is_file()
