"""The team tracking server (`scripts/tracking-server`) on a real PostgreSQL, and the stages on it.

Both are started by `benchmarks.servers` (which the load benchmark shares): PostgreSQL from
Debian's package, as `nobody` when the tests run as root; the server by the project's own script
with MLflow's basic-auth app and HTTPS (a self-signed certificate). Its users are made by
`python -m convscope.tracking.users`: `alice` may write to the experiment and manage the
champion's registered model, `carol` may write to both but not manage it, `bob` has only the
default, READ. Both servers are stopped by their fixtures, pass or fail.
"""

from __future__ import annotations

import contextlib
import io
import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest
import requests
from omegaconf import OmegaConf
from support import unavailable

from benchmarks.servers import (
    ADMIN,
    SCRIPT,
    STAGE_TIMEOUT_SECONDS,
    Postgres,
    TrackingServer,
    Unavailable,
    add_user,
    free_loopback_port,
    postgres_cluster,
    secured_server,
    server_processes,
    start_server,
    start_stage,
    stop_process_group,
    venv_environment,
    wait_until_healthy,
)
from convscope.errors import ConvscopeError
from convscope.records.seeds import seed_dir
from convscope.sweeps.job import PARENT_RUN_TAG, SWEEP_ID_TAG
from convscope.tracking import users
from convscope.tracking.store import connect

REPO = Path(__file__).resolve().parents[2]
# Tiny trainings: what the assertions need, nothing more.
SMALL_TRAINING = ("model=dense", "train.epochs=1", "train.verbose=0")
T = TypeVar("T")


def entered(stack: contextlib.ExitStack, manager: contextlib.AbstractContextManager[T]) -> T:
    """What `manager` yields, entered on `stack`; `unavailable` when it needs what is not
    installed."""
    try:
        return stack.enter_context(manager)
    except Unavailable as err:
        unavailable(f"{err} (.ci/run installs it)")


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A fresh PostgreSQL cluster with database `mlflow`, stopped after the module's tests."""
    with contextlib.ExitStack() as stack:
        yield entered(stack, postgres_cluster())


# The users the server fixture adds, and their grants (`python -m convscope.tracking.users`).
USER_GRANTS = {
    "alice": ("--experiment", "mnist:EDIT", "--model", "mnist:MANAGE"),
    "carol": ("--experiment", "mnist:EDIT", "--model", "mnist:EDIT", "--model", "mnist-dense:EDIT"),
    "bob": (),
}


@pytest.fixture(scope="module")
def admin_password() -> str:
    """The admin's password: set by the first server on the module's database, kept by MLflow."""
    return secrets.token_urlsafe(16)


@pytest.fixture(scope="module")
def tracking_server(
    postgres: Postgres, admin_password: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TrackingServer]:
    """`scripts/tracking-server` on the PostgreSQL above, HTTPS on a free 127.0.0.1 port (the
    script's default host), artifacts in a temporary folder, the users of USER_GRANTS added;
    stopped after the module. This process's own MLflow calls log in as the admin."""
    folder = tmp_path_factory.mktemp("tracking-server")
    patch = pytest.MonkeyPatch()
    with contextlib.ExitStack() as stack:
        stack.callback(patch.undo)
        server = entered(stack, secured_server(folder, postgres, admin_password))
        (first, grants), *others = USER_GRANTS.items()
        # The command as the admin runs it, password on stdin ...
        add_user(server, first, *grants)
        patch.setenv("MLFLOW_TRACKING_URI", server.uri)
        patch.setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", str(server.certificate))
        for name, value in server.login(ADMIN).items():
            patch.setenv(name, value)
        # ... and the same code in this process for the others, sparing Python start-ups.
        for user, grants in others:
            server.passwords[user] = secrets.token_urlsafe(16)
            patch.setattr(sys, "stdin", io.StringIO(f"{server.passwords[user]}\n"))
            users.run(["add", user, *grants])
        patch.delenv("MLFLOW_TRACKING_URI")
        yield server


def run_stage(
    stage: str,
    workdir: Path,
    tracking_uri: str,
    *overrides: str,
    login: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`start_stage`, waited for: its exit status, stdout and stderr."""
    process = start_stage(stage, workdir, tracking_uri, *overrides, login=login)
    stdout, stderr = process.communicate(timeout=STAGE_TIMEOUT_SECONDS)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


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
    through `tracking_server` as alice."""
    workdir = tmp_path_factory.mktemp("served-dense")
    data = f"paths.processed={processed_mnist}"
    alice = tracking_server.login("alice")
    trained = run_stage(
        "train",
        workdir,
        tracking_server.uri,
        *SMALL_TRAINING,
        "train.subset=300",
        data,
        login=alice,
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    evaluated = run_stage(
        "evaluate", workdir, tracking_server.uri, "model=dense", data, *quick_timing, login=alice
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


@pytest.mark.system
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


@pytest.mark.system
def test_compare_logs_and_registers_through_the_server(
    tracking_server: TrackingServer, served_dense: ServedDense
) -> None:
    done = run_stage(
        "compare", served_dense.workdir, tracking_server.uri, login=tracking_server.login("alice")
    )
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


@pytest.mark.system
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
        login=tracking_server.login("alice"),
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


@pytest.mark.system
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


# --- Authentication, permissions and TLS ------------------------------------------------------


def script_errors(**variables: str) -> list[str]:
    """The stderr lines of `scripts/tracking-server` started with `variables` (on a database
    URL nothing listens at: each check fails before the server would connect)."""
    defaults = {
        "MLFLOW_BACKEND_STORE_URI": "postgresql://mlflow:pw@127.0.0.1:1/mlflow",
        "MLFLOW_AUTH_ADMIN_USERNAME": ADMIN,
        "MLFLOW_AUTH_ADMIN_PASSWORD": "not-used-here",
    }
    environment = venv_environment(**(defaults | variables))
    done = subprocess.run([str(SCRIPT)], env=environment, capture_output=True, text=True)
    assert done.returncode == 1
    return done.stderr.splitlines()


def test_script_refuses_to_start_without_the_admin_login() -> None:
    assert script_errors(MLFLOW_AUTH_ADMIN_PASSWORD="") == [
        "error: MLFLOW_AUTH_ADMIN_USERNAME and MLFLOW_AUTH_ADMIN_PASSWORD must be set: the admin "
        "user of the server (docs/team-server.md)"
    ]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "tracking-host"])
def test_script_refuses_to_serve_the_network_without_tls(host: str) -> None:
    assert script_errors(MLFLOW_HOST=host) == [
        f"error: MLFLOW_HOST={host} serves the network: set CONVSCOPE_TLS_CERT and "
        "CONVSCOPE_TLS_KEY (certificate and key) so that passwords do not cross it in clear"
    ]


def test_script_refuses_half_a_tls_setting(tmp_path: Path) -> None:
    certificate = tmp_path / "server.crt"
    certificate.write_text("")
    assert script_errors(MLFLOW_HOST="0.0.0.0", CONVSCOPE_TLS_CERT=str(certificate)) == [
        "error: CONVSCOPE_TLS_CERT and CONVSCOPE_TLS_KEY: set both (the certificate and its "
        "key), or neither"
    ]


@pytest.mark.system
def test_plain_loopback_server_keeps_its_auth_config_private_and_removes_it(
    postgres: Postgres, admin_password: str, tmp_path: Path
) -> None:
    port = free_loopback_port()
    process = start_server(
        tmp_path, postgres, MLFLOW_PORT=str(port), MLFLOW_AUTH_ADMIN_PASSWORD=admin_password
    )
    try:
        uri = f"http://127.0.0.1:{port}"  # loopback without a certificate: plain HTTP
        wait_until_healthy(uri, process, tmp_path / "server.log")
        [config] = {
            Path(member.environ()["MLFLOW_AUTH_CONFIG_PATH"])
            for member in server_processes(process.pid)
            if "MLFLOW_AUTH_CONFIG_PATH" in member.environ()
        }
        assert config.stat().st_mode & 0o777 == 0o600
        assert config.parent.stat().st_mode & 0o777 == 0o700
        assert not config.is_relative_to(REPO)
        assert f"database_uri = {postgres.url}" in config.read_text()
        anonymous = requests.get(f"{uri}/api/2.0/mlflow/experiments/search", timeout=60)
        assert anonymous.status_code == 401
    finally:
        stop_process_group(process)
    assert not config.parent.exists()


@pytest.mark.system
def test_no_login_gets_401_and_a_login_gets_in(tracking_server: TrackingServer) -> None:
    search = f"{tracking_server.uri}/api/2.0/mlflow/experiments/search?max_results=10"
    trust = str(tracking_server.certificate)
    assert requests.get(search, verify=trust, timeout=60).status_code == 401
    bob = ("bob", tracking_server.passwords["bob"])
    assert requests.get(search, verify=trust, auth=bob, timeout=60).status_code == 200
    # The certificate is what clients trust: without it, TLS fails.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(search, auth=bob, timeout=60)


@pytest.mark.system
def test_train_with_a_wrong_password_fails_in_one_line_before_any_work(
    tracking_server: TrackingServer, processed_mnist: Path, tmp_path: Path
) -> None:
    done = run_stage(
        "train",
        tmp_path,
        tracking_server.uri,
        *SMALL_TRAINING,
        "train.subset=300",
        f"paths.processed={processed_mnist}",
        login=tracking_server.login("alice", password="not-" + tracking_server.passwords["alice"]),
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: tracking.uri: the MLflow tracking server at {tracking_server.uri} refused the "
        "login of user 'alice' (401) to write to experiment 'mnist'; set "
        "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD to a user of that server"
    ], done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "models").exists()


@pytest.mark.system
def test_a_read_only_user_cannot_log_a_run(
    tracking_server: TrackingServer, processed_mnist: Path, tmp_path: Path
) -> None:
    client = tracking_server.client()
    experiment = client.get_experiment_by_name("mnist")
    runs_before = client.search_runs([experiment.experiment_id])
    done = run_stage(
        "train",
        tmp_path,
        tracking_server.uri,
        *SMALL_TRAINING,
        "train.subset=300",
        f"paths.processed={processed_mnist}",
        login=tracking_server.login("bob"),
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: tracking.uri: the MLflow tracking server at {tracking_server.uri} refused user "
        "'bob' permission to write to experiment 'mnist' (403); ask the server's admin to "
        "grant it (docs/team-server.md)"
    ], done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "models").exists()
    assert len(client.search_runs([experiment.experiment_id])) == len(runs_before)


def command_lines() -> dict[int, str]:
    """Every process's command line, by pid (what `ps` shows)."""
    lines = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            lines[int(cmdline.parent.name)] = cmdline.read_bytes().replace(b"\0", b" ").decode()
    return lines


def assert_no_secret_in_command_lines(process: subprocess.Popen, secrets_: set[str]) -> None:
    """Watch every command line on the machine while `process` runs; none holds a secret.
    The watch saw `process` itself, or it proves nothing."""
    seen_stage = False
    while process.poll() is None:
        lines = command_lines()
        seen_stage |= process.pid in lines
        leaks = [line for line in lines.values() for secret in secrets_ if secret in line]
        assert not leaks, "a secret on a command line"
        time.sleep(0.5)
    assert seen_stage


@pytest.mark.system
def test_pipeline_through_the_secured_server_and_who_moves_the_champion(
    tracking_server: TrackingServer,
    processed_mnist: Path,
    tmp_path: Path,
    quick_timing: tuple[str, ...],
) -> None:
    import mlflow

    data = f"paths.processed={processed_mnist}"
    alice, carol = tracking_server.login("alice"), tracking_server.login("carol")
    stage_secrets = tracking_server.secrets()
    assert len(stage_secrets) == len(tracking_server.passwords) + 2  # the CSRF key, the database's

    training = start_stage(
        "train", tmp_path, tracking_server.uri, *SMALL_TRAINING, "train.subset=300", data,
        login=alice,
    )  # fmt: skip
    assert_no_secret_in_command_lines(training, stage_secrets)
    assert training.returncode == 0, training.stderr.read()[-3000:]
    for stage, overrides in (("evaluate", ("model=dense", data, *quick_timing)), ("compare", ())):
        done = run_stage(stage, tmp_path, tracking_server.uri, *overrides, login=alice)
        assert done.returncode == 0, done.stderr[-3000:]

    client = tracking_server.client()
    champion = client.get_model_version_by_alias("mnist", "champion")
    record = json.loads((seed_dir(tmp_path / "models" / "dense", 42) / "run.json").read_text())
    assert champion.source == record["model_uri"]

    # The admin points @champion at another version of the same model; compare, run by carol
    # (EDIT on `mnist`, enough for MLflow's own check), would move it back to the first
    # version, and is refused: one line, the alias where it was.
    mlflow.set_tracking_uri(tracking_server.uri)  # restored by the suite's autouse fixture
    other = mlflow.register_model(record["model_uri"], "mnist")
    client.set_registered_model_alias("mnist", "champion", other.version)
    refused = run_stage("compare", tmp_path, tracking_server.uri, login=carol)
    assert refused.returncode == 1
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: tracking.uri: the MLflow tracking server at {tracking_server.uri} refused user "
        f"'carol' permission to move the alias mnist@champion to version {champion.version} "
        "(it needs MANAGE on registered model 'mnist') (403); ask the server's admin to grant "
        "it (docs/team-server.md)"
    ], refused.stderr[-3000:]
    assert "Traceback" not in refused.stderr
    assert client.get_model_version_by_alias("mnist", "champion").version == other.version

    # Alice (MANAGE) moves it.
    moved = run_stage("compare", tmp_path, tracking_server.uri, login=alice)
    assert moved.returncode == 0, moved.stderr[-3000:]
    assert client.get_model_version_by_alias("mnist", "champion").version == champion.version

    # No secret in any file the stages wrote, nor in any file of the repository.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert not [s for s in stage_secrets if s.encode() in content], path
    for secret in stage_secrets:
        found = subprocess.run(
            ["git", "grep", "--untracked", "-F", "-l", "-e", secret],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        assert found.returncode == 1, found.stdout  # 1: no match
