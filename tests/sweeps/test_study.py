"""A persistent Optuna study (`hydra/sweeper: optuna_study`): concurrent sweeps share its
trials, and a killed search resumes with only the trials still missing.

Real sweeps (`python -m convscope.sweep +hparams_search=lenet5_optuna`) on the default SQLite
study (optuna.db in the folder they run from, the test's), with a short heartbeat so that a
killed sweep's trial is found in seconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import FrozenTrial, TrialState
from support import unavailable

from benchmarks import servers
from convscope.sweeps.study import FAILURE_ATTR, SWEEPER_ATTR, open_storage, search_space
from convscope.tracking.store import connect

# Grace: a sweep importing TensorFlow on a busy machine can miss beats for seconds.
SEARCH = (
    "+hparams_search=lenet5_optuna",
    "hydra.sweeper.n_trials=3",
    "hydra.sweeper.n_jobs=1",
    "hydra.sweeper.heartbeat_interval=1",
    "hydra.sweeper.grace_period=30",
)
PLUGINS = Path(__file__).parent / "plugins"  # barrier.py
TIMEOUT = 1200


def trials(workdir: Path) -> list[FrozenTrial]:
    """The trials of the search's study, in `workdir`'s optuna.db."""
    storage = open_storage(f"sqlite:///{workdir / 'optuna.db'}")  # a sweep may be creating it
    return optuna.load_study(study_name="lenet5_optuna", storage=storage).trials


def sweeper_id(process: subprocess.Popen) -> str:
    return f"{socket.gethostname()}:{process.pid}"


def finish(process: subprocess.Popen, log: Path) -> None:
    """Wait for `process`, failing with its output unless it exits 0."""
    assert process.wait(timeout=TIMEOUT) == 0, log.read_text()[-3000:]


@pytest.mark.system
def test_two_concurrent_sweeps_share_one_study(
    tmp_path: Path, start_sweep: Callable[..., subprocess.Popen]
) -> None:
    store_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"  # where the sweeps log (conftest.py)
    # Each sweep's first job waits until both sweeps have asked a trial: they overlap for sure.
    barrier = (
        "+hydra.callbacks.barrier._target_=barrier.Barrier",
        f"+hydra.callbacks.barrier.folder={tmp_path / 'barrier'}",
        "+hydra.callbacks.barrier.parties=2",
    )
    env = {**os.environ, "PYTHONPATH": str(PLUGINS)}
    # The MLflow store and experiment made before, as a team server's would be: two sweeps
    # starting together would both migrate a new SQLite store.
    store = OmegaConf.create(
        {
            "uri": store_uri,
            "experiment": "mnist",
            "artifact_location": str(tmp_path / "mlartifacts"),
        }
    )
    connect(store)
    sweeps = [start_sweep(name, *SEARCH, *barrier, env=env) for name in ("first", "second")]
    for name, process in zip(("first", "second"), sweeps, strict=True):
        finish(process, tmp_path / f"{name}.log")

    study = trials(tmp_path)
    assert [trial.number for trial in study] == [0, 1, 2], "n_trials in all, none duplicated"
    assert all(trial.state == TrialState.COMPLETE for trial in study)
    assert {trial.user_attrs[SWEEPER_ATTR] for trial in study} == {
        sweeper_id(process) for process in sweeps
    }, "both sweeps ran trials of the study"

    client = MlflowClient(store_uri)
    runs = client.search_runs([client.get_experiment_by_name("mnist").experiment_id])
    assert sum("sweep_command" in run.data.tags for run in runs) == 2, "a parent run per sweep"
    assert sum("mlflow.parentRunId" in run.data.tags for run in runs) == 3, "a child per trial"
    best = max(trial.value for trial in study)
    for name in ("first", "second"):
        results = yaml.safe_load((tmp_path / name / "optimization_results.yaml").read_text())
        assert results["best_value"] == best, "each sweep reports the study's best"


def wait_for(condition: Callable[[], Any], process: subprocess.Popen, log: Path) -> None:
    """Poll `condition` until true; fail if `process` ends first or it never becomes true."""
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert process.poll() is None, f"the sweep ended early:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"timed out:\n{log.read_text()[-3000:]}"
        time.sleep(0.5)


def killable(workdir: Path) -> bool:
    """Whether the study has a completed trial and a running one asked in full: time to kill.

    A trial's params are suggested one at a time; a kill between two suggestions leaves a
    trial holding part of the space, whose retry keeps those and samples the rest. Waiting for
    the whole space makes the retry's params exactly the interrupted trial's.
    """
    if not (workdir / "optuna.db").exists():
        return False
    try:
        study = trials(workdir)
    except KeyError:  # the study is not created yet
        return False
    done = [trial for trial in study if trial.state == TrialState.COMPLETE]
    running = [trial for trial in study if trial.state == TrialState.RUNNING]
    return bool(done and running) and running[0].params.keys() == done[0].params.keys()


@pytest.mark.system
def test_killed_search_resumes_with_only_the_missing_trials(
    tmp_path: Path,
    start_sweep: Callable[..., subprocess.Popen],
    run_sweep: Callable[..., Any],
) -> None:
    killed = start_sweep("killed", *SEARCH)
    wait_for(lambda: killable(tmp_path), killed, tmp_path / "killed.log")
    os.killpg(killed.pid, signal.SIGKILL)  # nothing of the sweep runs after this
    killed.wait()
    before = trials(tmp_path)
    done_before = [trial for trial in before if trial.state == TrialState.COMPLETE]
    [interrupted] = [trial for trial in before if trial.state == TrialState.RUNNING]

    resumed = run_sweep(*SEARCH)  # the same command again
    assert resumed.done.returncode == 0, resumed.output[-3000:]

    after = trials(tmp_path)
    assert sum(trial.state == TrialState.COMPLETE for trial in after) == 3
    for trial in done_before:
        assert after[trial.number].state == TrialState.COMPLETE, "kept, not run again"
    ran_again = after[len(before) :]  # the trials the resumed sweep asked
    assert len(ran_again) == 3 - len(done_before), "only the missing trials ran"
    assert all(trial.state == TrialState.COMPLETE for trial in ran_again)
    # The interrupted trial: failed by the heartbeat (no failure of its own), asked again.
    assert after[interrupted.number].state == TrialState.FAIL
    assert FAILURE_ATTR not in after[interrupted.number].user_attrs
    [retry] = [t for t in after if t.system_attrs.get("failed_trial") == interrupted.number]
    assert (retry.state, retry.params) == (TrialState.COMPLETE, interrupted.params)
    # The killed sweep's parent run stays behind; the resumed sweep has its own.
    [parent] = [p for p in resumed.parents() if p.data.tags["sweep_dir"] == str(resumed.folder)]
    assert len(resumed.children(parent)) == len(ran_again)


def test_search_space_keeps_the_override_grammar() -> None:
    space, fixed = search_space(
        [
            "train.learning_rate=tag(log, interval(1e-4, 1e-2))",
            "train.batch_size=choice(64, 128)",
            "model.filters=interval(4, 16)",
            "train.epochs=range(1, 4)",
            "train.optimizer=adam",
            "model.pooling=choice(max, average)",
            "model.pooling=max",  # a later plain override fixes a searched key
        ]
    )
    assert space == {
        "train.learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
        "train.batch_size": CategoricalDistribution([64, 128]),
        "model.filters": FloatDistribution(4.0, 16.0),  # Hydra's intervals are floats
        "train.epochs": CategoricalDistribution([1, 2, 3]),
    }
    assert fixed == {"train.optimizer": "adam", "model.pooling": "max"}


@pytest.mark.system
def test_a_study_on_postgresql_holds_the_trials_of_a_sweep(
    tmp_path: Path, start_sweep: Callable[..., subprocess.Popen]
) -> None:
    """The team's storage: `CONVSCOPE_OPTUNA_STORAGE` names a PostgreSQL database, which Optuna
    (through SQLAlchemy 2 and psycopg 3) keeps the study in."""
    with contextlib.ExitStack() as stack:
        try:
            postgres = stack.enter_context(servers.postgres_cluster())
        except servers.Unavailable as err:
            unavailable(f"{err} (.ci/run installs it)")
        storage = postgres.url
        env = {**os.environ, "CONVSCOPE_OPTUNA_STORAGE": storage}
        search = ("+hparams_search=lenet5_optuna", "hydra.sweeper.n_trials=2")
        finish(
            start_sweep("team", *search, "hydra.sweeper.n_jobs=1", env=env), tmp_path / "team.log"
        )

        study = optuna.load_study(study_name="lenet5_optuna", storage=storage)
        assert [trial.state for trial in study.trials] == [TrialState.COMPLETE] * 2
        assert not (tmp_path / "optuna.db").exists()  # nothing went to the SQLite default
