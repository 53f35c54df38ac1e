"""Fixtures shared by the whole suite: the real MNIST files, a processed copy, a loopback server,
fresh git + DVC copies of the pipeline, and one tiny run of the whole MNIST pipeline.

The machines that run these tests have no internet. The real MNIST IDX files come from
`$CONVSCOPE_MIRROR` when it is set (a folder, a file:// URL, or an http(s):// URL whose four
files are downloaded once a session) or else from `../shared/datasets/mnist` beside the
repository (where CI puts it). Without them the tests that need MNIST are skipped, except under
`CI=true`: there they fail, so that a CI run cannot pass without its data tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn

import mlflow
import pytest
from omegaconf import DictConfig, OmegaConf
from support import mlflow_tracking_uri_kept, unavailable

from convscope.data.download import MIRROR_ENV, download_from_config
from convscope.errors import ConvscopeError
from convscope.records.seeds import seed_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONF_DIR = REPO_ROOT / "conf"
FASHION_MNIST_FOLDER = Path("/usr/share/datasets/fashion-mnist")
SHARED_MNIST = REPO_ROOT.parent / "shared" / "datasets" / "mnist"
HOW_TO_PROVIDE = (
    f"set {MIRROR_ENV} to a folder or http(s):// URL with the four MNIST IDX .gz files, "
    f"or put them in {SHARED_MNIST}"
)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A `system` test is also `slow`: `-m "not slow"` leaves out both."""
    for item in items:
        if item.get_closest_marker("system"):
            item.add_marker(pytest.mark.slow)


def no_mnist(reason: str) -> NoReturn:
    """Skip the test for want of MNIST; under CI=true, fail it instead."""
    unavailable(f"MNIST is missing: {reason}; {HOW_TO_PROVIDE}")


@pytest.fixture(scope="session")
def fashion_mnist_mirror() -> Path:
    """Debian's Fashion-MNIST folder; missing, it fails the test under CI=true, else skips it."""
    if not FASHION_MNIST_FOLDER.is_dir():
        unavailable(
            f"no Fashion-MNIST in {FASHION_MNIST_FOLDER}: "
            "`apt-get install dataset-fashion-mnist` (Debian) provides it"
        )
    return FASHION_MNIST_FOLDER


@pytest.fixture(scope="session")
def mnist_data_config() -> DictConfig:
    """The real dataset config `conf/data/mnist.yaml` (what `data=mnist` selects)."""
    return OmegaConf.load(CONF_DIR / "data" / "mnist.yaml")


@pytest.fixture(scope="session")
def mnist_mirror(mnist_data_config: DictConfig, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder with the four real MNIST IDX .gz files (read-only; copy before changing)."""
    configured = os.environ.get(MIRROR_ENV, "")
    if configured.startswith(("http://", "https://")):
        # Fetched by the project's own download code, from that mirror only.
        only_this_mirror = OmegaConf.merge(mnist_data_config, {"mirrors": []})
        folder = tmp_path_factory.mktemp("mnist-mirror")
        try:
            download_from_config(only_this_mirror, folder)
        except ConvscopeError as err:
            no_mnist(f"{MIRROR_ENV}={configured} did not serve it ({err})")
        return folder
    if configured.startswith("file://"):
        folder = Path(urllib.request.url2pathname(urllib.parse.urlsplit(configured).path))
    else:
        folder = Path(configured) if configured else SHARED_MNIST
    names = [str(spec.name) for spec in mnist_data_config.files.values()]
    absent = [name for name in names if not (folder / name).is_file()]
    if absent:
        where = f"{MIRROR_ENV}={configured}" if configured else f"{MIRROR_ENV} is unset and"
        no_mnist(f"{where} {folder} lacks {', '.join(absent)}")
    return folder


@pytest.fixture(scope="session")
def processed_mnist(
    mnist_mirror: Path, mnist_data_config: DictConfig, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A processed MNIST folder (train/val/test .npy files and meta.json), made once a session.

    Made by the real download and preprocess code from `mnist_mirror`; the reports it writes
    (summary.json, samples.png) are in `<this folder>/../reports`. Do not modify it.
    """
    # Imported here, not at the top: it loads matplotlib (seconds), which the pytest
    # subprocesses of tests/test_mnist_fixture.py, loading this conftest, do not need.
    from convscope.data.preprocess import preprocess_dataset

    root = tmp_path_factory.mktemp("mnist")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(MIRROR_ENV, str(mnist_mirror))
        download_from_config(mnist_data_config, root / "raw")
    preprocess_dataset(mnist_data_config, root / "raw", root / "processed", root / "reports")
    return root / "processed"


@dataclass
class LoopbackServer:
    """A real HTTP server on 127.0.0.1 serving a folder, with scripted misbehaviour.

    - the first `fail_first` requests get `fail_status` (an HTML error page, as servers do);
    - files named in `replacements` are served with those bytes (status 200) instead;
    - files named in `cut_short` announce their full length but send only half of it.
    """

    root: Path
    fail_first: int = 0
    fail_status: int = 503
    replacements: dict[str, bytes] = field(default_factory=dict)
    cut_short: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests_for(self, name: str) -> int:
        """How many requests asked for file `name`."""
        return sum(path == f"/{name}" for path in self.requests)


def handler_for(server: LoopbackServer) -> type[SimpleHTTPRequestHandler]:
    """A request handler class that serves `server.root` and follows its script."""

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(server.root), **kwargs)

        def do_GET(self) -> None:
            with server.lock:
                server.requests.append(self.path)
                failing = server.fail_first > 0
                server.fail_first -= failing
            name = self.path.lstrip("/")
            if failing:
                self.send_error(server.fail_status)
            elif name in server.replacements:
                self.send_body(
                    server.replacements[name], "text/html", len(server.replacements[name])
                )
            elif name in server.cut_short:
                content = (server.root / name).read_bytes()
                self.send_body(content[: len(content) // 2], "application/gzip", len(content))
                self.close_connection = True
            else:
                super().do_GET()

        def send_body(self, body: bytes, content_type: str, declared_length: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(declared_length))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Keep the test output quiet; `server.requests` records what was asked."""

    return Handler


@pytest.fixture
def loopback_server() -> Iterator[Callable[..., LoopbackServer]]:
    """Factory: `loopback_server(folder, fail_first=..., replacements=..., cut_short=...)` starts
    a server on 127.0.0.1 (a free port) in a thread and returns it; all stop after the test."""
    running: list[ThreadingHTTPServer] = []

    def start(root: Path, **script: object) -> LoopbackServer:
        server = LoopbackServer(root=root, **script)
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(server))
        running.append(httpd)
        threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
        server.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
        return server

    yield start
    for httpd in running:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def restore_mlflow_tracking_uri() -> Iterator[None]:
    """Undo what a test did to MLflow's global tracking URI (the trainer, `register_models` and
    `mlflow.pyfunc.load_model` use it): no test module needs to put it back itself."""
    with mlflow_tracking_uri_kept():
        yield


# --- Stages as DVC runs them, in fresh git + DVC copies of this project ----------------------

# Only against a hung command: a whole tiny pipeline takes minutes on an idle 2-core machine,
# but 15 minutes were not enough with five test suites sharing it (load average 20).
HANG_GUARD_SECONDS = 3600
# Variables that would send a stage's outputs or MLflow runs outside the project.
FOREIGN_VARIABLES = ("MLFLOW_TRACKING_URI", "CONVSCOPE_SWEEP_JOB_DIR", "DVC_ROOT", "DVC_EXP_NAME")
# The cheapest training on which every stage still does its real work: 2,000 training images,
# one epoch (conf/train/<key>). Keras' output stays as `dvc repro` writes it (verbose=auto: one
# line per epoch in a log), which tests/tracking/test_datasets.py reads.
TINY_TRAINING = {"subset": 2000, "epochs": 1}
# The evaluate stage's speed measured with one short block instead of seven long ones: the
# tests check what is measured, not how fast the CPU is (conf/evaluate/<key>).
QUICK_TIMING = {
    "timing.warmup": 1,
    "timing.repeats": 1,
    "timing.latency_calls": 2,
    "timing.throughput_batch_size": 64,
    "timing.throughput_batches": 1,
}
# The studies at their cheapest that still does each one's real work (conf/study/<name>.yaml):
# fewer and smaller conditions, one epoch where a study sets its own. Their trainings use
# TINY_TRAINING as the main comparison's do.
TINY_STUDIES = {
    "translation": {"seeds": 2, "max_pixels": 2, "headline_pixels": 1},
    "data_size": {"sizes": "[100,300]", "epochs": 1},
    "weight_sharing": {"sizes": "[200]", "epochs": 1, "max_pixels": 1, "headline_pixels": 1},
    "equal_params": {"seeds": 2},
    "layers": {"images": 300, "per_channel": 2, "field_images": 50},
}
# TINY_TRAINING, QUICK_TIMING and TINY_STUDIES as `dvc exp run -S` settings of the YAML files.
TINY_SETTINGS = (
    *(f"conf/train/default.yaml:{key}={value}" for key, value in TINY_TRAINING.items()),
    *(f"conf/evaluate/default.yaml:{key}={value}" for key, value in QUICK_TIMING.items()),
    *(
        f"conf/study/{study}.yaml:{key}={value}"
        for study, settings in TINY_STUDIES.items()
        for key, value in settings.items()
    ),
)
# The one tiny MNIST pipeline run the suite shares (`mnist_pipeline`).
PIPELINE_MODELS = ("dense", "lenet5")
PIPELINE_SEEDS = 2  # train.seed (42) and the next


def build_tiny_config(*overrides: str, stage: str = "train", root: Path | None = None) -> Any:
    """The checked config of `python -m convscope.<stage>`, composed from the real conf/ with
    the suite's tiny settings (TINY_TRAINING, QUICK_TIMING and a quiet Keras, for the groups
    the stage has), then, with `root`, its outputs and MLflow store under `root`, then
    `overrides`. The one way the suite builds a config without a process."""
    from convscope.cli import compose_config, compose_stage_config

    groups = set(compose_config(stage))
    tiny = []
    if "train" in groups:
        tiny += [f"train.{key}={value}" for key, value in TINY_TRAINING.items()]
        tiny.append("train.verbose=0")
    if "evaluate" in groups:
        tiny += [f"evaluate.{key}={value}" for key, value in QUICK_TIMING.items()]
        tiny.append("evaluate.verbose=0")
    if "study" in groups:
        study = next((o.split("=", 1)[1] for o in overrides if o.startswith("study=")), None)
        tiny += [f"study.{k}={v}" for k, v in TINY_STUDIES.get(study or "", {}).items()]
    if root is not None:
        folders = {
            "models_root": "models",
            "checkpoints": "checkpoints",
            "reports": "reports",
            "study_models": "study_models",
        }
        tiny += [f"paths.{key}={root / folder}" for key, folder in folders.items()]
        if "tracking" in groups:
            tiny += [
                f"tracking.uri=sqlite:///{root / 'mlflow.db'}",
                f"tracking.artifact_location={root / 'mlartifacts'}",
            ]
    return compose_stage_config(stage, *tiny, *overrides)


@pytest.fixture(scope="session")
def tiny_config() -> Callable[..., Any]:
    """`tiny_config(*overrides, stage="train", root=None)`: `build_tiny_config`."""
    return build_tiny_config


@pytest.fixture(scope="session")
def quick_timing() -> tuple[str, ...]:
    """Hydra overrides (`evaluate.timing...`) that make the evaluate stage's speed
    measurements as short as they can be while still measuring."""
    return tuple(f"evaluate.{key}={value}" for key, value in QUICK_TIMING.items())


def stage_environment(mirror: Path | str) -> dict[str, str]:
    """The environment a stage runs in: this virtualenv first on PATH, the given mirror."""
    env = {key: value for key, value in os.environ.items() if key not in FOREIGN_VARIABLES}
    return env | {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        MIRROR_ENV: str(mirror),
        "DVC_NO_ANALYTICS": "1",
    }


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def copy_pipeline(dest: Path) -> Path:
    """This project's pipeline, config and code (no dvc.lock, no outputs) in a new folder."""
    dest.mkdir(parents=True)
    for name in ("dvc.yaml", "params.yaml", ".gitignore", ".dvcignore"):
        shutil.copy(REPO_ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(REPO_ROOT / "conf", dest / "conf", ignore=ignore)
    shutil.copytree(REPO_ROOT / "src", dest / "src", ignore=ignore)
    return dest


def copy_project(dest: Path) -> Path:
    """A fresh git + DVC repository holding this project's pipeline, config and code, committed."""
    copy_pipeline(dest)
    git(dest, "init", "-q")
    git(dest, "config", "user.name", "convscope tests")
    git(dest, "config", "user.email", "tests@convscope.invalid")
    subprocess.run([str(BIN / "dvc"), "init", "-q"], cwd=dest, check=True, capture_output=True)
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "the pipeline, config and code")
    return dest


@dataclass(frozen=True)
class DvcProject:
    """A project copy and the environment its commands run in.

    Its stages run this virtualenv's Python on the copy's own `src/` (PYTHONPATH), so the code
    DVC hashes is the code that runs, and they log to the default MLflow store of the project,
    `<project>/mlflow.db` (DVC exports the project root as DVC_ROOT).
    """

    root: Path
    env: dict[str, str]

    def run(self, *command: str) -> subprocess.CompletedProcess:
        """Run `command` in the project; the caller checks the result."""
        return subprocess.run(
            command,
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_SECONDS,
        )

    def dvc(self, *args: str) -> str:
        """Run `dvc <args>`, fail the test with DVC's output unless it exits 0; return stdout."""
        result = self.run(str(BIN / "dvc"), *args)
        assert result.returncode == 0, f"dvc {' '.join(args)}:\n{result.stdout}{result.stderr}"
        return result.stdout

    def dvc_json(self, *args: str) -> Any:
        """`dvc <args> --json`, parsed."""
        return json.loads(self.dvc(*args, "--json"))

    def tiny_experiment(self, *settings: str) -> str:
        """`dvc exp run` of the whole pipeline with TINY_SETTINGS and `settings`; its output
        (stdout and stderr in one, as a terminal or a CI log shows them), or the test fails."""
        command = ["exp", "run", *(f"-S{s}" for s in (*TINY_SETTINGS, *settings))]
        result = subprocess.run(
            [str(BIN / "dvc"), *command],
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=HANG_GUARD_SECONDS,
        )
        assert result.returncode == 0, f"dvc {' '.join(command)}:\n{result.stdout}"
        return result.stdout

    @property
    def tracking_uri(self) -> str:
        """The MLflow store the stages log to by default."""
        return f"sqlite:///{self.root / 'mlflow.db'}"


@pytest.fixture(scope="session")
def project_copy() -> Callable[[Path], Path]:
    """`project_copy(dest)`: a fresh, committed git + DVC copy of the pipeline at `dest`."""
    return copy_project


@pytest.fixture(scope="session")
def pipeline_files() -> Callable[[Path], Path]:
    """`pipeline_files(dest)`: this project's pipeline, config and code at `dest`, no VCS."""
    return copy_pipeline


@pytest.fixture(scope="session")
def stage_env() -> Callable[[Path | str], dict[str, str]]:
    """`stage_env(mirror)`: the environment a stage runs in, reading data from `mirror`."""
    return stage_environment


@pytest.fixture(scope="session")
def dvc_project(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, Path], DvcProject]:
    """`dvc_project(name, mirror)`: a new project copy whose stages read data from `mirror`."""

    def make(name: str, mirror: Path) -> DvcProject:
        root = copy_project(tmp_path_factory.mktemp(name) / "project")
        return DvcProject(root, stage_environment(mirror) | {"PYTHONPATH": str(root / "src")})

    return make


# --- One tiny run of the whole pipeline, shared ----------------------------------------------


@dataclass(frozen=True)
class Workspace:
    """A project layout (models, reports, an MLflow store) on processed MNIST, and the stage
    commands that work on it. `root` may be a DVC project: its layout is the same."""

    root: Path
    processed: Path

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.root / 'mlflow.db'}"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def model_dir(self, name: str, seed: int = 42) -> Path:
        """The folder of one seed's trained model (seed 42, train.seed, by default)."""
        return seed_dir(self.root / "models" / name, seed)

    def evaluation_dir(self, name: str, seed: int = 42) -> Path:
        """The folder of one seed's evaluation (seed 42, train.seed, by default)."""
        return seed_dir(self.reports / "evaluation" / name, seed)

    def elsewhere(self, root: Path) -> Workspace:
        """An empty workspace at `root` on the same processed data."""
        return Workspace(root, self.processed)

    def copy(self, root: Path) -> Workspace:
        """A copy at `root` of this workspace's models, reports and MLflow store, to change.

        Runs already in the store keep their artifacts where they are (the store records
        absolute locations); what a stage logs to them lands in new files there.
        """
        shutil.copytree(self.root / "models", root / "models")
        shutil.copytree(self.reports, root / "reports")
        shutil.copy(self.root / "mlflow.db", root / "mlflow.db")
        return Workspace(root, self.processed)

    def overrides(self) -> list[str]:
        """Hydra overrides pointing a stage at this workspace."""
        return [
            f"paths.processed={self.processed}",
            f"paths.models_root={self.root / 'models'}",
            f"paths.checkpoints={self.root / 'checkpoints'}",
            f"paths.reports={self.reports}",
            f"paths.study_models={self.root / 'study_models'}",
            f"tracking.uri={self.tracking_uri}",
            f"tracking.artifact_location={self.root / 'mlartifacts'}",
            f"hydra.run.dir={self.root / 'outputs'}",
            f"hydra.sweep.dir={self.root / 'multirun'}",
        ]

    def config(self, stage: str, *overrides: str) -> Any:
        """The (tiny) config `stage` gets on this workspace (`tiny_config`, no process)."""
        stage_overrides = [o for o in self.overrides() if not o.startswith("hydra.")]
        return build_tiny_config(*stage_overrides, *overrides, stage=stage)

    def run(self, stage: str, *arguments: str) -> subprocess.CompletedProcess[str]:
        """Run `python -m convscope.<stage> <arguments>` on this workspace from the repository
        root; the caller checks the result."""
        command = [sys.executable, "-m", f"convscope.{stage}", *arguments, *self.overrides()]
        return subprocess.run(
            command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=HANG_GUARD_SECONDS
        )


@dataclass(frozen=True)
class PipelineRun:
    """The project after its `dvc exp run`, that run's output (stdout and stderr in one), the
    project as a Workspace, and the id of its experiment, made before the run."""

    project: DvcProject
    stdout: str
    workspace: Workspace
    experiment_id: str


@pytest.fixture(scope="session")
def mnist_pipeline(mnist_mirror: Path, dvc_project: Callable) -> PipelineRun:
    """The whole pipeline, run once a session as a user runs it: `dvc exp run` in a fresh git
    + DVC project, every stage for real (download -> preprocess -> train@model ->
    evaluate@model -> compare, then study@<study> -> study_report) on dense and LeNet-5, two
    seeds each, TINY_SETTINGS.

    The store already holds the `mnist` experiment, made as stores made before experiments had
    a kind (`mlflow.experimentKind`): the stages must adopt it.

    Tests only read it (the DVC tests may run DVC commands that change nothing, and put back
    what they edit). A test that changes it works on `workspace.copy(tmp_path)`.
    """
    project = dvc_project("mnist-pipeline", mnist_mirror)
    experiment_id = mlflow.MlflowClient(project.tracking_uri).create_experiment(
        "mnist", artifact_location=(project.root / "mlartifacts").as_uri()
    )
    stdout = project.tiny_experiment(
        f"params.yaml:architectures=[{','.join(PIPELINE_MODELS)}]",
        f"params.yaml:seeds={PIPELINE_SEEDS}",
    )
    processed = project.root / "data" / "processed" / "mnist"
    return PipelineRun(project, stdout, Workspace(project.root, processed), experiment_id)


@pytest.fixture(scope="session")
def mnist_workspace(mnist_pipeline: PipelineRun) -> Workspace:
    """`mnist_pipeline`'s project as a Workspace: dense and LeNet-5, seeds 42 and 43, trained,
    evaluated and compared by the real stages. Read only; copy it to change it."""
    return mnist_pipeline.workspace


@pytest.fixture(scope="session")
def evaluated(mnist_workspace: Workspace) -> Workspace:
    """`mnist_workspace`, named for the evaluate and compare stage tests that read it."""
    return mnist_workspace
