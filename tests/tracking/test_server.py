"""The team tracking server (`scripts/tracking-server`) on a real PostgreSQL, and the stages on it.

PostgreSQL comes from Debian's `postgresql` package (`.ci/run` installs it). It refuses to run as
root, so when the tests run as root it runs as `nobody`, in a temporary folder that user owns,
listening on 127.0.0.1 only (its unix socket in that folder), with a password. The server is
started by the project's own script on a free loopback port. Both are stopped by their
fixtures, pass or fail.

Not pytest-postgresql: its process fixture runs initdb and pg_ctl as the current user, so as
root it cannot start PostgreSQL at all.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf
from support import require_module, unavailable

from convscope.errors import ConvscopeError
from convscope.records.seeds import seed_dir
from convscope.sweeps.job import PARENT_RUN_TAG, SWEEP_ID_TAG
from convscope.tracking.store import connect

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "tracking-server"
UNPRIVILEGED_USER = "nobody"
# Guards against a hang, not timings: a healthy start takes seconds.
START_TIMEOUT_SECONDS = 600
STAGE_TIMEOUT_SECONDS = 600
# Tiny trainings: what the assertions need, nothing more.
SMALL_TRAINING = ("model=dense", "train.epochs=1", "train.verbose=0")


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (right now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Postgres:
    """A running PostgreSQL with one database for MLflow."""

    url: str
    log: Path


def postgres_binaries() -> Path:
    """The folder of Debian's PostgreSQL server programs (initdb, pg_ctl, createdb)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        unavailable("Debian's postgresql package is not installed (.ci/run installs it)")
    return Path(found[-1]).parent


def as_postgres_user() -> dict[str, object]:
    """`subprocess` arguments that run PostgreSQL's programs as an unprivileged user when root."""
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam(UNPRIVILEGED_USER)
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A fresh PostgreSQL cluster on a free 127.0.0.1 port with database `mlflow`, stopped
    (and its folder removed) after the module's tests."""
    require_module("psycopg", "the `server` extra, PostgreSQL's driver: pip install -e '.[server]'")
    binaries = postgres_binaries()
    owner = as_postgres_user()
    # Not pytest's tmp_path: under root it is private to root, and PostgreSQL runs as nobody.
    folder = Path(tempfile.mkdtemp(prefix="convscope-pg-"))
    if owner:
        os.chown(folder, owner["user"], owner["group"])
    password = secrets.token_hex(16)
    password_file = folder / "password"
    password_file.write_text(password)
    if owner:
        os.chown(password_file, owner["user"], owner["group"])
    data, log, port = folder / "data", folder / "postgres.log", free_loopback_port()

    def run(program: str, *arguments: str, **options: object) -> None:
        subprocess.run(
            [str(binaries / program), *arguments],
            cwd=folder,
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT_SECONDS,
            **options,
        )

    started = False
    try:
        run(
            "initdb",
            f"--pgdata={data}",
            "--username=mlflow",
            f"--pwfile={password_file}",
            "--auth=scram-sha-256",
            "--no-locale",
            "--encoding=UTF8",
            "--no-sync",
            **owner,
        )
        settings = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
        run(
            "pg_ctl", f"--pgdata={data}", f"--log={log}", "-o", settings, "--wait", "start", **owner
        )
        started = True
        run(
            "createdb",
            "--host=127.0.0.1",
            f"--port={port}",
            "--username=mlflow",
            "mlflow",
            env={**os.environ, "PGPASSWORD": password},
        )
        yield Postgres(f"postgresql://mlflow:{password}@127.0.0.1:{port}/mlflow", log)
    except subprocess.CalledProcessError as err:
        pytest.fail(f"{Path(err.cmd[0]).name} failed: {err.stderr.decode()[-2000:]}")
    finally:
        if started:
            run("pg_ctl", f"--pgdata={data}", "--mode=immediate", "--wait", "stop", **owner)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class TrackingServer:
    """A running `scripts/tracking-server`: its URI, artifact folder and log."""

    uri: str
    artifacts: Path
    log: Path

    def client(self) -> MlflowClient:
        return MlflowClient(self.uri)


def stop_process_group(process: subprocess.Popen) -> None:
    """Stop `process` and every process it started (the server's uvicorn supervisor and
    workers, which can outlive it): SIGTERM, then SIGKILL to whatever is left of the group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def wait_until_healthy(uri: str, process: subprocess.Popen, log: Path) -> None:
    """Poll `<uri>/health` until the server answers; fail with its log if it exits first."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the tracking server exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    pytest.fail(f"the tracking server did not answer /health:\n{log.read_text()}")


def venv_environment(**variables: str) -> dict[str, str]:
    """This environment with this interpreter's scripts (mlflow) first on PATH, plus `variables`."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, **variables}


@pytest.fixture(scope="module")
def tracking_server(
    postgres: Postgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TrackingServer]:
    """`scripts/tracking-server` on the PostgreSQL above and a free 127.0.0.1 port (the
    script's default host), artifacts in a temporary folder; stopped after the module."""
    folder = tmp_path_factory.mktemp("tracking-server")
    artifacts, log, port = folder / "artifacts", folder / "server.log", free_loopback_port()
    environment = venv_environment(
        MLFLOW_BACKEND_STORE_URI=postgres.url,
        MLFLOW_ARTIFACTS_DESTINATION=str(artifacts),
        MLFLOW_PORT=str(port),
        MLFLOW_WORKERS="1",  # one process, lean on 2 cores; it serves requests concurrently
    )
    environment.pop("MLFLOW_HOST", None)  # the script's default: 127.0.0.1
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(SCRIPT)],
            cwd=folder,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )
    try:
        uri = f"http://127.0.0.1:{port}"
        wait_until_healthy(uri, process, log)
        yield TrackingServer(uri, artifacts, log)
    finally:
        stop_process_group(process)


def run_stage(
    stage: str, workdir: Path, tracking_uri: str, *overrides: str
) -> subprocess.CompletedProcess[str]:
    """`python -m convscope.<stage>` in `workdir`, logging to `tracking_uri` as a user would
    (MLFLOW_TRACKING_URI); everything it writes to relative paths lands in `workdir`."""
    return subprocess.run(
        [sys.executable, "-m", f"convscope.{stage}", *overrides],
        cwd=workdir,
        env=venv_environment(MLFLOW_TRACKING_URI=tracking_uri),
        capture_output=True,
        text=True,
        timeout=STAGE_TIMEOUT_SECONDS,
    )


@dataclass(frozen=True)
class ServedDense:
    """The dense model trained and evaluated by the stages in `workdir`, through the server;
    its `run.json` record."""

    workdir: Path
    record: dict


@pytest.fixture(scope="module")
def served_dense(
    tracking_server: TrackingServer,
    processed_mnist: Path,
    tmp_path_factory: pytest.TempPathFactory,
    quick_timing: tuple[str, ...],
) -> ServedDense:
    """The train and evaluate stages (dense, 300 images, an epoch) in a new folder, logging
    through `tracking_server`."""
    workdir = tmp_path_factory.mktemp("served-dense")
    data = f"paths.processed={processed_mnist}"
    trained = run_stage(
        "train", workdir, tracking_server.uri, *SMALL_TRAINING, "train.subset=300", data
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    evaluated = run_stage(
        "evaluate", workdir, tracking_server.uri, "model=dense", data, *quick_timing
    )
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    record = json.loads((seed_dir(workdir / "models" / "dense", 42) / "run.json").read_text())
    return ServedDense(workdir, record)


def test_script_refuses_to_start_without_a_database_url() -> None:
    environment = venv_environment()
    environment.pop("MLFLOW_BACKEND_STORE_URI", None)
    done = subprocess.run([str(SCRIPT)], env=environment, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: MLFLOW_BACKEND_STORE_URI is not set; export the PostgreSQL URL, "
        "postgresql://<user>:<password>@<host>:<port>/<database>"
    ]


def test_script_refuses_a_database_that_is_not_postgresql() -> None:
    environment = venv_environment(MLFLOW_BACKEND_STORE_URI="sqlite:///mlflow.db")
    done = subprocess.run([str(SCRIPT)], env=environment, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: MLFLOW_BACKEND_STORE_URI: expected a postgresql:// URL, got another scheme"
    ]


@pytest.mark.slow
def test_train_and_evaluate_log_everything_through_the_server(
    tracking_server: TrackingServer,
    postgres: Postgres,
    processed_mnist: Path,
    served_dense: ServedDense,
) -> None:
    import mlflow
    import psycopg

    record = served_dense.record
    assert record["tracking_uri"] == tracking_server.uri
    run = tracking_server.client().get_run(record["run_id"])
    assert run.info.status == "FINISHED"
    assert {"best_val_accuracy", "train_seconds", "total_params", "test_accuracy"} <= set(
        run.data.metrics
    )
    listed = {item.path for item in tracking_server.client().list_artifacts(run.info.run_id)}
    assert {"config.yaml", "history.csv", "kernels", "parameters"} <= listed

    # The run is a row of PostgreSQL, its files are in the server's artifact folder, and the
    # client kept nothing: no local store, no artifact folder of its own.
    with psycopg.connect(postgres.url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT status FROM runs WHERE run_uuid = %s", (run.info.run_id,))
        assert cursor.fetchall() == [("FINISHED",)]
    stored = tracking_server.artifacts / run.info.experiment_id / run.info.run_id / "artifacts"
    assert (stored / "config.yaml").is_file()
    assert (stored / "history.csv").is_file()
    local = {p.name for p in served_dense.workdir.iterdir()}
    assert not {"mlartifacts", "mlruns", "mlflow.db"} & local

    # The logged model is the server's too: stored in its folder, loaded through it, predicts.
    model_id = record["model_uri"].removeprefix("models:/")
    logged = tracking_server.client().get_logged_model(model_id)
    assert logged.source_run_id == run.info.run_id
    model_folder = tracking_server.artifacts / run.info.experiment_id / "models" / model_id
    assert (model_folder / "artifacts" / "MLmodel").is_file()
    mlflow.set_tracking_uri(tracking_server.uri)
    model = mlflow.pyfunc.load_model(record["model_uri"])
    images = np.load(processed_mnist / "test_images.npy")[:2].astype("float32")[..., np.newaxis]
    assert np.asarray(model.predict(images)).shape == (2, 10)


@pytest.mark.slow
def test_compare_logs_and_registers_through_the_server(
    tracking_server: TrackingServer, served_dense: ServedDense
) -> None:
    done = run_stage("compare", served_dense.workdir, tracking_server.uri)
    assert done.returncode == 0, done.stderr[-3000:]

    client = tracking_server.client()
    experiment = client.get_experiment_by_name("mnist")
    [comparison] = client.search_runs([experiment.experiment_id], "tags.stage = 'compare'")
    assert comparison.info.status == "FINISHED"
    listed = {item.path for item in client.list_artifacts(comparison.info.run_id)}
    assert {"comparison.md", "comparison.csv", "figures"} <= listed
    stored = tracking_server.artifacts / experiment.experiment_id / comparison.info.run_id
    assert (stored / "artifacts" / "comparison.md").is_file()
    # The registry is the server's: the seed's model a version, the champion alias on it.
    record = served_dense.record
    [version] = client.search_model_versions("name = 'mnist-dense'")
    assert (version.source, version.run_id) == (record["model_uri"], record["run_id"])
    champion = client.get_model_version_by_alias("mnist", "champion")
    assert champion.source == record["model_uri"]
    assert (champion.tags["model"], champion.tags["seed"]) == ("dense", "42")
    local = {p.name for p in served_dense.workdir.iterdir()}
    assert not {"mlartifacts", "mlruns", "mlflow.db"} & local


@pytest.mark.slow
def test_parallel_sweep_nests_every_job_under_one_parent(
    tracking_server: TrackingServer, processed_mnist: Path, tmp_path: Path
) -> None:
    done = run_stage(
        "sweep",
        tmp_path,
        tracking_server.uri,
        "hydra/launcher=parallel",
        "hydra.launcher.n_jobs=2",
        *SMALL_TRAINING,
        "train.learning_rate=1e-3,2e-3,3e-3,4e-3",
        "train.subset=256",
        "train.threads.intra_op=1",
        "tracking.log_model=false",
        f"paths.processed={processed_mnist}",
        f"hydra.sweep.dir={tmp_path / 'multirun'}",
    )
    assert done.returncode == 0, done.stderr[-3000:]

    client = tracking_server.client()
    experiment = client.get_experiment_by_name("mnist")
    runs = client.search_runs([experiment.experiment_id])
    [parent] = [run for run in runs if "sweep_command" in run.data.tags]
    assert parent.info.status == "FINISHED"
    sweep_runs = [
        r for r in runs if r.data.tags.get(SWEEP_ID_TAG) == parent.data.tags[SWEEP_ID_TAG]
    ]
    children = [run for run in sweep_runs if run is not parent]
    assert len(children) == 4  # 0 lost, none extra
    assert all(run.data.tags[PARENT_RUN_TAG] == parent.info.run_id for run in children)
    assert sorted(run.data.tags["sweep_job"] for run in children) == ["0", "1", "2", "3"]
    assert all(run.info.status == "FINISHED" for run in children)
    assert parent.data.metrics["jobs_finished"] == 4
    assert parent.data.metrics["jobs_failed"] == 0


@pytest.mark.slow
def test_train_fails_at_once_with_one_line_when_the_server_is_down(
    processed_mnist: Path, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_loopback_port()}"  # nothing listens there
    done = run_stage(
        "train",
        tmp_path,
        dead,
        *SMALL_TRAINING,
        "train.subset=300",
        f"paths.processed={processed_mnist}",
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    # At once: the stage's own probe answered, not MLflow's client after minutes of retries.
    assert errors == [
        f"error: tracking.uri: cannot reach the MLflow tracking server at {dead} "
        "(Connection refused); start it (scripts/tracking-server) or set MLFLOW_TRACKING_URI "
        "to one that runs"
    ], done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    # Nothing half-written where DVC expects the stage's outputs.
    assert not (tmp_path / "models").exists()


def test_connect_stops_at_once_naming_a_server_that_does_not_answer() -> None:
    dead = f"http://127.0.0.1:{free_loopback_port()}"
    tracking = OmegaConf.create({"uri": dead, "experiment": "mnist", "artifact_location": "."})
    with pytest.raises(ConvscopeError) as caught:
        connect(tracking)
    assert str(caught.value).startswith(
        f"tracking.uri: cannot reach the MLflow tracking server at {dead} ("
    )
