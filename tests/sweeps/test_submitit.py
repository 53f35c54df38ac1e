"""A sweep through hydra-submitit-launcher (`hydra/launcher=submitit_local`).

The local executor is the SLURM launcher's code path with processes instead of `sbatch`: the
launcher pickles itself (with the sweep callback inside Hydra's context) into
`<sweep>/.submitit/`, and each job unpickles it in a new Python process. So the job-side half
of the sweep callback (the job folder, the sweep tags, the parent run) must survive pickling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from support import require_module

from convscope.records.seeds import seed_dir
from convscope.sweeps.job import PARENT_RUN_TAG


@pytest.fixture(autouse=True)
def submitit_launcher() -> None:
    """The launcher comes with the `slurm` extra: missing, the test fails under CI=true."""
    require_module("hydra_plugins.hydra_submitit_launcher", "the extra: pip install -e '.[slurm]'")


@pytest.mark.system
def test_submitit_local_sweep_nests_each_job_process_under_one_parent(
    run_sweep: Callable[..., Any],
) -> None:
    sweep = run_sweep(
        "hydra/launcher=submitit_local",
        "hydra.launcher.timeout_min=10",
        "model=dense",
        "train.learning_rate=1e-3,3e-3",
        "train.threads.intra_op=1",
        "train.threads.inter_op=1",
    )
    assert sweep.done.returncode == 0, sweep.output[-3000:]

    [parent] = sweep.parents()
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["launcher"] == "submitit_local"
    assert parent.data.params["launcher._target_"].endswith("submitit_launcher.LocalLauncher")
    children = sweep.children(parent)
    assert [run.data.tags["sweep_job"] for run in children] == ["0", "1"]
    assert {run.data.params["train.learning_rate"] for run in children} == {"0.001", "0.003"}
    for num, run in enumerate(children):
        assert run.info.status == "FINISHED"
        assert run.data.tags["sweep_id"] == parent.data.tags["sweep_id"]
        assert run.data.tags[PARENT_RUN_TAG] == parent.info.run_id
        assert "best_val_accuracy" in run.data.metrics
        # The job folder travelled to the job's process: its model is there, not in models/.
        job_dir = sweep.folder / str(num)
        assert run.data.tags["sweep_job_dir"] == str(job_dir)
        assert (seed_dir(job_dir / "models" / "dense", 42) / "model.keras").is_file()
    assert not (sweep.workdir / "models").exists()

    # Each job ran in its own process, started by submitit, with its own log folder.
    job_logs = sorted((sweep.folder / ".submitit").glob("*/*_result.pkl"))
    assert len(job_logs) == 2, sorted(p.name for p in (sweep.folder / ".submitit").rglob("*"))
    assert parent.data.metrics["jobs_finished"] == 2
    assert parent.data.metrics["jobs_failed"] == 0
