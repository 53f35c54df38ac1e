"""Load: many trainings logging at once, to the team server and to the embedded SQLite store.

- Team server: `--clients` `python -m convscope.train` processes started together, each with
  its own seed and its own working folder (so its own `paths`), logging as one user (EDIT on
  the experiment) over HTTPS to `scripts/tracking-server` with its basic-auth app, on
  PostgreSQL (both started by `benchmarks.servers`, as the tests start them).
- Sweep: one Hydra multirun of `--sweep-jobs` jobs (one seed each) with the joblib launcher
  (`hydra/launcher=parallel`, as many jobs at once as there are jobs) on a SQLite store
  (`tracking.uri=sqlite:///...`, the default kind of store); its parent run counts as a run.

Every training is `model=dense` on the first 2,000 training images for 2 epochs, one
TensorFlow thread each (`train.threads.intra_op=1`), logging its params, metrics, system
metrics, figures and history but not the model (`tracking.log_model=false`); the server runs
the script's default 4 uvicorn workers. Runs lost = runs expected -
runs FINISHED in the store. Metric points lost = points expected (each per-epoch metric, the
columns of the run's local `history.csv`, x epochs x trainings expected) - points found by
`MlflowClient.get_metric_history` (distinct epochs). Times: each client process's wall time
(start to exit, Python and TensorFlow start-up included; the sweep's jobs share worker
processes, so it has one wall time, the whole sweep's), and each training run's own start to
end in MLflow. On a shared 2-core machine these times measure the contention as much as the
code: read them with the load average.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
from mlflow.tracking import MlflowClient

from benchmarks import servers
from benchmarks.common import DECISIONS, DEFAULT_PROCESSED, REPO, log, machine_state, median
from convscope.atomic import write_text
from convscope.records.dataset import META_FILE
from convscope.records.history import EPOCH, HISTORY_FILE, History

EXPERIMENT = "mnist"
EPOCHS = 2
TRAINING = (
    "model=dense",
    "train.subset=2000",
    f"train.epochs={EPOCHS}",
    "train.verbose=0",
    "train.threads.intra_op=1",
    # Not the model: through the basic-auth server its upload alone took 44 s of a 62 s run
    # (about 40 requests, each checking the password), and it is artifacts, not the store.
    "tracking.log_model=false",
)
USER = "loader"
USER_GRANTS = ("--experiment", f"{EXPERIMENT}:EDIT")
BEGIN = "<!-- benchmarks.load: begin (python -m benchmarks.load rewrites this section) -->"
END = "<!-- benchmarks.load: end -->"
# A guard against a hang: 16 clients on one server on 2 cores took over 10 minutes.
CLIENT_TIMEOUT_SECONDS = 3600
# The script's default (`make tracking-server`), not the tests' single worker.
SERVER_WORKERS = "4"
TITLE = "## Load: concurrent trainings on the team server and a parallel sweep"


@dataclass(frozen=True)
class Workload:
    """One load: what ran, and what its store holds afterwards."""

    name: str
    store: str
    runs_expected: int
    runs_finished: int
    points_expected: int
    points_found: int
    process_seconds: list[float]
    run_seconds: list[float]
    failed_processes: int

    def row(self) -> dict[str, object]:
        """The workload's row of the report's table."""
        return {
            "workload": self.name,
            "store": self.store,
            "runs expected": self.runs_expected,
            "runs FINISHED": self.runs_finished,
            "runs lost": self.runs_expected - self.runs_finished,
            "metric points expected": self.points_expected,
            "metric points found": self.points_found,
            "metric points lost": self.points_expected - self.points_found,
            "processes failed": self.failed_processes,
            "process wall s, median": round(median(self.process_seconds), 1),
            "process wall s, slowest": round(max(self.process_seconds), 1),
            "run start to end s, median": _rounded_median(self.run_seconds),
            "run start to end s, slowest": round(max(self.run_seconds), 1)
            if self.run_seconds
            else None,
        }


def sweep_command(overrides: Sequence[str]) -> list[str]:
    """The command line of a Hydra sweep with `overrides` (the only place that spells the
    sweep's entry point)."""
    return [sys.executable, "-m", "convscope.sweep", *overrides]


def _rounded_median(values: Sequence[float]) -> float | None:
    return round(median(values), 1) if values else None


@contextlib.contextmanager
def _environment(**variables: str) -> Iterator[None]:
    """`variables` set in this process's environment for the context, then restored."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _wait(process: subprocess.Popen[str], started: float) -> tuple[float, int, str]:
    """Wait for `process` (reading its output, so no pipe fills): its wall seconds since
    `started`, its exit status, the end of its stderr; killed (a failure) past the timeout."""
    try:
        _, stderr = process.communicate(timeout=CLIENT_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    return time.perf_counter() - started, process.returncode, stderr[-2000:]


def _history_columns(folder: Path) -> set[str]:
    """The per-epoch metrics of the trainings under `folder`: their history.csv columns."""
    columns: set[str] = set()
    for path in folder.rglob(HISTORY_FILE):
        columns |= set(History.read(path).frame.columns) - {EPOCH}
    return columns


def _store_counts(client: MlflowClient, metrics: set[str]) -> tuple[int, int, list[float]]:
    """Runs FINISHED in the experiment, per-epoch metric points found in its training runs
    (distinct epochs of each of `metrics`), and those runs' start-to-end seconds."""
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        return 0, 0, []
    runs = client.search_runs([experiment.experiment_id], max_results=10_000)
    finished = [run for run in runs if run.info.status == "FINISHED"]
    # A sweep's parent run trains nothing: the trainings are the runs with per-epoch metrics.
    training_runs = [run for run in runs if set(run.data.metrics) & metrics]
    points = 0
    for run in training_runs:
        for metric in metrics:
            steps = {point.step for point in client.get_metric_history(run.info.run_id, metric)}
            points += len(steps & set(range(1, EPOCHS + 1)))
    seconds = [
        (run.info.end_time - run.info.start_time) / 1000
        for run in training_runs
        if run.info.status == "FINISHED" and run.info.end_time
    ]
    return len(finished), points, seconds


def load_server(clients: int, processed: Path, folder: Path) -> Workload:
    """`clients` train stages at once against a fresh secured server on PostgreSQL."""
    with servers.postgres_cluster() as postgres:
        server_folder = folder / "server"
        server_folder.mkdir()
        admin_password = secrets.token_urlsafe(16)
        with servers.secured_server(
            server_folder, postgres, admin_password, workers=SERVER_WORKERS
        ) as server:
            servers.add_user(server, USER, *USER_GRANTS)
            trust = {"MLFLOW_TRACKING_SERVER_CERT_PATH": str(server.certificate)}
            log(f"load: {clients} clients training against {server.uri}")
            started = time.perf_counter()
            processes = []
            for client in range(clients):
                workdir = folder / f"client-{client}"
                workdir.mkdir()
                overrides = (*TRAINING, f"train.seed={client}", f"paths.processed={processed}")
                processes.append(
                    servers.start_stage(
                        "train",
                        workdir,
                        server.uri,
                        *overrides,
                        login={**server.login(USER), **trust},
                    )
                )
            with ThreadPoolExecutor(max_workers=clients) as pool:
                results = list(pool.map(lambda p: _wait(p, started), processes))
            _log_failures("client", results)
            metrics = _history_columns(folder)
            with _environment(**server.login(servers.ADMIN), **trust):
                finished, points, seconds = _store_counts(server.client(), metrics)
    return Workload(
        name=f"{clients} clients at once, team server",
        store="PostgreSQL via HTTPS + basic-auth",
        runs_expected=clients,
        runs_finished=finished,
        points_expected=len(metrics) * EPOCHS * clients,
        points_found=points,
        process_seconds=[seconds_ for seconds_, _, _ in results],
        run_seconds=seconds,
        failed_processes=sum(status != 0 for _, status, _ in results),
    )


def load_sweep(jobs: int, processed: Path, folder: Path) -> Workload:
    """One multirun of `jobs` trainings, all at once, on a SQLite store in `folder`."""
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    overrides = (
        "hydra/launcher=parallel",
        f"hydra.launcher.n_jobs={jobs}",
        *TRAINING,
        "train.seed=" + ",".join(str(seed) for seed in range(jobs)),
        f"paths.processed={processed}",
        f"tracking.uri={uri}",
        f"tracking.artifact_location={folder / 'mlartifacts'}",
        f"hydra.sweep.dir={folder / 'multirun'}",
    )
    environment = servers.venv_environment()
    for name in ("MLFLOW_TRACKING_URI", *servers.LOGIN_VARIABLES):
        environment.pop(name, None)
    log(f"load: a sweep of {jobs} parallel jobs on {uri}")
    started = time.perf_counter()
    process = subprocess.Popen(
        sweep_command(overrides),
        cwd=folder,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    result = _wait(process, started)
    _log_failures("sweep", [result])
    metrics = _history_columns(folder)
    finished, points, seconds = _store_counts(MlflowClient(uri), metrics)
    return Workload(
        name=f"a sweep of {jobs} parallel jobs (joblib)",
        store="SQLite (embedded)",
        runs_expected=jobs + 1,  # and the sweep's parent run
        runs_finished=finished,
        points_expected=len(metrics) * EPOCHS * jobs,
        points_found=points,
        process_seconds=[result[0]],
        run_seconds=seconds,
        failed_processes=int(result[1] != 0),
    )


def _log_failures(kind: str, results: Sequence[tuple[float, int, str]]) -> None:
    for number, (_, status, stderr) in enumerate(results):
        if status != 0:
            log(f"load: {kind} {number} exited {status}: {stderr}")


def section(command: str, workloads: Sequence[Workload], before: str, minutes: float) -> str:
    """The report's load section, between its markers."""
    lines = (__doc__ or "").strip().splitlines()
    table = pd.DataFrame([workload.row() for workload in workloads])
    return "\n\n".join(
        [
            BEGIN,
            TITLE,
            f"Generated by `{command}` on {datetime.now():%Y-%m-%d %H:%M} in {minutes:.1f} min.\n\n"
            f"- at start: {before}\n- at end: {machine_state().describe()}",
            "\n".join(lines[1:]).strip(),
            table.to_markdown(index=False),
            END,
        ]
    )


def kept_section(report: Path) -> str | None:
    """The load section of an existing report (between its markers), or None."""
    if not report.exists():
        return None
    found = re.search(f"{re.escape(BEGIN)}.*?{re.escape(END)}", report.read_text(), re.DOTALL)
    return found.group(0) if found else None


def write_section(report: Path, text: str, before: str | None = None) -> None:
    """Put the load section `text` in `report` atomically: in place of the previous one, or
    else before the line `before` (the hand-written part), or else at the end."""
    old = report.read_text() if report.exists() else "# Benchmarks\n"
    previous = kept_section(report)
    if previous is not None:
        new = old.replace(previous, text)
    elif before and f"\n{before}\n" in old:
        new = old.replace(f"\n{before}\n", f"\n{text}\n\n{before}\n", 1)
    else:
        new = old.rstrip("\n") + f"\n\n{text}\n"
    write_text(report, new)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="trainings on the server")
    parser.add_argument("--sweep-jobs", type=int, default=8, help="parallel jobs of the sweep")
    parser.add_argument(
        "--processed", type=Path, default=DEFAULT_PROCESSED, help="processed MNIST folder"
    )
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "benchmarks.md")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> list[Workload]:
    """Run both loads and write their section of the report; returns the workloads."""
    args = parse_args(argv)
    command = " ".join(["python -m benchmarks.load", *(sys.argv[1:] if argv is None else argv)])
    processed = args.processed.resolve()
    if not (processed / META_FILE).exists():
        sys.exit(f"error: {processed}: no processed dataset; run `dvc repro preprocess`")
    if args.clients < 1 or args.sweep_jobs < 1:
        sys.exit("error: --clients and --sweep-jobs: expected at least 1")
    before, started = machine_state().describe(), time.perf_counter()
    log(f"load: at start: {before}")
    with tempfile.TemporaryDirectory(prefix="convscope-load-") as scratch:
        folders = [Path(scratch) / name for name in ("server", "sweep")]
        for folder in folders:
            folder.mkdir()
        try:
            workloads = [
                load_server(args.clients, processed, folders[0]),
                load_sweep(args.sweep_jobs, processed, folders[1]),
            ]
        except (servers.Unavailable, servers.ServerError) as err:
            sys.exit(f"error: {err}")
    minutes = (time.perf_counter() - started) / 60
    text = section(command, workloads, before, minutes)
    print(text)
    hand_written = DECISIONS.read_text().strip().splitlines()[0] if DECISIONS.exists() else None
    write_section(args.out, text, before=hand_written)
    print(f"\nwrote {args.out}")
    return workloads


if __name__ == "__main__":
    main()
