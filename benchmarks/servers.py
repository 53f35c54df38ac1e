"""PostgreSQL and the secured team tracking server (`scripts/tracking-server`), started for
the tests (tests/tracking/test_server.py) and the load benchmark (`benchmarks.load`).

PostgreSQL comes from Debian's `postgresql` package (`.ci/run` installs it). It refuses to run as
root, so when run as root it runs as `nobody`, in a temporary folder that user owns, listening on
127.0.0.1 only (its unix socket in that folder), with a password. The server is started by the
project's own script on a free loopback port, with MLflow's basic-auth app (its admin from
MLFLOW_AUTH_ADMIN_USERNAME/PASSWORD) and, given a certificate, HTTPS (a self-signed one made
here, forced on loopback through the script's CONVSCOPE_TLS_CERT/CONVSCOPE_TLS_KEY). Users are
added by `python -m convscope.tracking.users`. Everything started here is stopped when its
context ends, pass or fail.

Not pytest-postgresql: its process fixture runs initdb and pg_ctl as the current user, so as
root it cannot start PostgreSQL at all.
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import importlib.util
import ipaddress
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from mlflow.tracking import MlflowClient

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "tracking-server"
UNPRIVILEGED_USER = "nobody"
# Guards against a hang, not timings: a healthy start takes seconds.
START_TIMEOUT_SECONDS = 600
STAGE_TIMEOUT_SECONDS = 600
ADMIN = "admin"
LOGIN_VARIABLES = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")


class Unavailable(Exception):
    """A program or package the servers need is not installed (the message says which)."""


class ServerError(RuntimeError):
    """PostgreSQL or the tracking server did not start, or refused a command."""


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
    if importlib.util.find_spec("psycopg") is None:
        raise Unavailable("the `server` extra (psycopg, PostgreSQL's driver) is not installed")
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise Unavailable("Debian's postgresql package is not installed")
    return Path(found[-1]).parent


def as_postgres_user() -> dict[str, object]:
    """`subprocess` arguments that run PostgreSQL's programs as an unprivileged user when root."""
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam(UNPRIVILEGED_USER)
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


@contextlib.contextmanager
def postgres_cluster() -> Iterator[Postgres]:
    """A fresh PostgreSQL cluster on a free 127.0.0.1 port with database `mlflow`, stopped
    (and its folder removed) when the context ends."""
    binaries = postgres_binaries()
    owner = as_postgres_user()
    # Not a private temporary folder of root's: PostgreSQL runs as nobody.
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
    except subprocess.CalledProcessError as err:
        if started:
            run("pg_ctl", f"--pgdata={data}", "--mode=immediate", "--wait", "stop", **owner)
        shutil.rmtree(folder, ignore_errors=True)
        raise ServerError(f"{Path(err.cmd[0]).name} failed: {err.stderr.decode()[-2000:]}") from err
    try:
        yield Postgres(f"postgresql://mlflow:{password}@127.0.0.1:{port}/mlflow", log)
    finally:
        run("pg_ctl", f"--pgdata={data}", "--mode=immediate", "--wait", "stop", **owner)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class TrackingServer:
    """A running `scripts/tracking-server`: its URI, artifact folder, log, certificate, the
    process group of its processes, and the passwords of its users (`admin` included)."""

    uri: str
    artifacts: Path
    log: Path
    certificate: Path | None
    process_group: int
    passwords: dict[str, str] = field(default_factory=dict)

    def client(self) -> MlflowClient:
        """A client of the server, logged in as whoever MLFLOW_TRACKING_USERNAME/PASSWORD name."""
        return MlflowClient(self.uri)

    def login(self, user: str, password: str | None = None) -> dict[str, str]:
        """The variables a stage logs in with as `user` (with `password`, else the user's)."""
        return {
            "MLFLOW_TRACKING_USERNAME": user,
            "MLFLOW_TRACKING_PASSWORD": self.passwords[user] if password is None else password,
        }

    def secrets(self) -> set[str]:
        """Every secret the server knows: user passwords and, from its processes' environment,
        the database URL's password and the auth app's CSRF key."""
        found = set(self.passwords.values())
        for process in server_processes(self.process_group):
            with contextlib.suppress(psutil.Error):
                environment = process.environ()
                if "MLFLOW_FLASK_SERVER_SECRET_KEY" in environment:
                    found.add(environment["MLFLOW_FLASK_SERVER_SECRET_KEY"])
                    database = environment["MLFLOW_BACKEND_STORE_URI"]
                    found.add(database.split("://", 1)[1].split("@")[0].split(":", 1)[1])
        return found


def server_processes(process_group: int) -> list[psutil.Process]:
    """The processes of a process group (the script, `mlflow server`, uvicorn and its workers)."""
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if os.getpgid(process.pid) == process_group:
                found.append(process)
    return found


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its private key (PEM files in `folder`), signed by
    itself: the one file clients trust through MLFLOW_TRACKING_SERVER_CERT_PATH."""
    if importlib.util.find_spec("cryptography") is None:
        raise Unavailable("the cryptography package (a dependency of mlflow) is not installed")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "convscope test server")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "server.crt", folder / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return cert_file, key_file


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


def wait_until_healthy(
    uri: str, process: subprocess.Popen, log: Path, certificate: Path | None = None
) -> None:
    """Poll `<uri>/health` until the server answers (over HTTPS trusting `certificate`); raise
    ServerError with its log if it exits first."""
    context = ssl.create_default_context(cafile=str(certificate)) if certificate else None
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(
                f"the tracking server exited ({process.returncode}):\n{log.read_text()}"
            )
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=5, context=context) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise ServerError(f"the tracking server did not answer /health:\n{log.read_text()}")


def venv_environment(**variables: str) -> dict[str, str]:
    """This environment with this interpreter's scripts (mlflow) first on PATH, plus `variables`."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, **variables}


def start_server(folder: Path, postgres: Postgres, **variables: str) -> subprocess.Popen:
    """`scripts/tracking-server` on `postgres`, artifacts and log in `folder`, its own process
    group (stopped as a whole), the admin's password and `variables` in its environment."""
    environment = venv_environment(
        MLFLOW_BACKEND_STORE_URI=postgres.url,
        MLFLOW_ARTIFACTS_DESTINATION=str(folder / "artifacts"),
        MLFLOW_AUTH_ADMIN_USERNAME=ADMIN,
        # One process unless told: lean on 2 cores; it serves requests concurrently.
        **({"MLFLOW_WORKERS": "1"} | variables),
    )
    for name in ("MLFLOW_HOST", *LOGIN_VARIABLES):
        environment.pop(name, None)  # the script's default host: 127.0.0.1
    with (folder / "server.log").open("w") as output:
        return subprocess.Popen(
            [str(SCRIPT)],
            cwd=folder,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@contextlib.contextmanager
def secured_server(
    folder: Path, postgres: Postgres, admin_password: str, tls: bool = True, workers: str = "1"
) -> Iterator[TrackingServer]:
    """`scripts/tracking-server` on `postgres` on a free 127.0.0.1 port (the script's default
    host), artifacts and log in `folder`, the admin's login set; over HTTPS with a self-signed
    certificate made in `folder` unless `tls` is false; `workers` uvicorn processes. Stopped
    when the context ends."""
    port = free_loopback_port()
    variables = {
        "MLFLOW_PORT": str(port),
        "MLFLOW_AUTH_ADMIN_PASSWORD": admin_password,
        "MLFLOW_WORKERS": workers,
    }
    certificate = None
    if tls:
        certificate, key = self_signed_certificate(folder)
        variables |= {"CONVSCOPE_TLS_CERT": str(certificate), "CONVSCOPE_TLS_KEY": str(key)}
    process = start_server(folder, postgres, **variables)
    try:
        uri = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        wait_until_healthy(uri, process, folder / "server.log", certificate)
        server = TrackingServer(
            uri, folder / "artifacts", folder / "server.log", certificate, process.pid
        )
        server.passwords[ADMIN] = admin_password
        yield server
    finally:
        stop_process_group(process)


def manage_users(
    server: TrackingServer, *arguments: str, password: str = ""
) -> subprocess.CompletedProcess[str]:
    """`python -m convscope.tracking.users <arguments>` as the admin, `password` on stdin."""
    environment = venv_environment(
        MLFLOW_TRACKING_URI=server.uri,
        MLFLOW_TRACKING_SERVER_CERT_PATH=str(server.certificate),
        **server.login(ADMIN),
    )
    return subprocess.run(
        [sys.executable, "-m", "convscope.tracking.users", *arguments],
        env=environment,
        input=f"{password}\n",
        capture_output=True,
        text=True,
        timeout=STAGE_TIMEOUT_SECONDS,
    )


def add_user(server: TrackingServer, user: str, *grants: str) -> None:
    """Add `user` with `grants` (`--experiment <name>:<permission>`, `--model ...`) through
    `python -m convscope.tracking.users`, as the admin runs it; its new random password goes
    to `server.passwords`."""
    password = secrets.token_urlsafe(16)
    added = manage_users(server, "add", user, *grants, password=password)
    if added.returncode != 0:
        raise ServerError(f"adding user {user} failed: {added.stderr[-3000:]}")
    server.passwords[user] = password


def start_stage(
    stage: str,
    workdir: Path,
    tracking_uri: str,
    *overrides: str,
    login: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """`python -m convscope.<stage>` started in `workdir`, logging to `tracking_uri` as a user
    would (MLFLOW_TRACKING_URI, and the `login` variables, which may name the certificate to
    trust too); everything it writes to relative paths lands in `workdir`."""
    environment = venv_environment(MLFLOW_TRACKING_URI=tracking_uri)
    for name in LOGIN_VARIABLES:
        environment.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-m", f"convscope.{stage}", *overrides],
        cwd=workdir,
        env={**environment, **(login or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
