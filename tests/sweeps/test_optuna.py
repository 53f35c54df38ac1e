"""An Optuna search (`+hparams_search=lenet5_optuna`) with failing trials."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import optuna
import pytest
import yaml
from optuna.trial import TrialState


@pytest.mark.system
def test_optuna_search_survives_failing_trials_and_records_best_params(
    run_sweep: Callable[..., Any],
) -> None:
    # A learning rate of 1e9 makes LeNet-5's loss NaN in the first epoch (the trainer raises):
    # at full rate from the first step: no warm-up, which would start the rate at 0.
    sweep = run_sweep(
        "+hparams_search=lenet5_optuna",
        "hydra.sweeper.n_trials=3",
        "train.learning_rate=choice(1e-3,1e9)",
        "train.warmup_epochs=0",
        "model.activation=relu",
        "train.optimizer=adam",
        "train.batch_size=64",  # 4 steps of the 256 images: enough for the loss to become NaN
    )
    assert sweep.done.returncode == 0, sweep.output[-3000:]

    [parent] = sweep.parents()
    children = sweep.children(parent)
    assert len(children) == 3, "every trial ran, failed ones included"
    by_rate = {"1000000000.0": "FAILED", "0.001": "FINISHED"}
    assert {run.data.params["train.learning_rate"] for run in children} == set(by_rate)
    for run in children:
        assert run.info.status == by_rate[run.data.params["train.learning_rate"]]
        assert run.data.params["model.name"] == "lenet5"
        if run.info.status == "FAILED":
            reason = run.data.tags["failure_reason"]
            assert reason.startswith("FloatingPointError: training loss became")
            assert math.isnan(run.data.metrics.get("best_val_accuracy", math.nan))
    assert sweep.output.count("Failed experiment: training loss became") == sum(
        run.info.status == "FAILED" for run in children
    ), "each failed trial is told to Optuna as failed"

    results = yaml.safe_load((sweep.folder / "optimization_results.yaml").read_text())
    finished = [run for run in children if run.info.status == "FINISHED"]
    assert results["best_value"] == max(r.data.metrics["best_val_accuracy"] for r in finished)
    best = results["best_params"]
    assert set(best) == {"train.learning_rate", "model.pooling"}
    assert best["train.learning_rate"] == 0.001

    assert parent.info.status == "FINISHED"
    params = parent.data.params
    assert params["model.pooling"] == "choice(max, average)", "the search space"
    assert (params["sweeper.n_trials"], params["sweeper.sampler.seed"]) == ("3", "42")
    assert params["best.train.learning_rate"] == "0.001"
    assert params["best.model.pooling"] == str(best["model.pooling"])
    assert (parent.data.metrics["jobs_finished"], parent.data.metrics["jobs_failed"]) == (
        len(finished),
        3 - len(finished),
    )
    listed = {a.path for a in sweep.client.list_artifacts(parent.info.run_id)}
    assert {"optimization_results.yaml", "sweep_results.yaml"} <= listed
    summary = yaml.safe_load((sweep.folder / "sweep_results.yaml").read_text())
    assert summary["optimization"] == results

    # The default storage, optuna.db in the folder the search ran from, keeps every trial.
    study = optuna.load_study(
        study_name="lenet5_optuna", storage=f"sqlite:///{sweep.workdir / 'optuna.db'}"
    )
    failed = [trial for trial in study.trials if trial.state == TrialState.FAIL]
    assert len(study.trials) == 3
    assert len(failed) == 3 - len(finished)
    for trial in failed:
        assert trial.user_attrs["failure_reason"].startswith("FloatingPointError: training loss")
