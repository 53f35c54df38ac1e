"""Fixtures shared by the whole suite: the real MNIST files, a processed copy, a loopback server.

The machines that run these tests have no internet. The real MNIST IDX files come from
`$CONVSCOPE_MIRROR` when it is set (a folder, a file:// URL, or an http(s):// URL whose four
files are downloaded once a session) or else from `../shared/datasets/mnist` beside the
repository (where CI puts it). Without them the tests that need MNIST are skipped, except under
`CI=true`: there they fail, so that a CI run cannot pass without its data tests.
"""

from __future__ import annotations

import os
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NoReturn

import mlflow
import pytest
from omegaconf import DictConfig, OmegaConf

from convscope.data.download import MIRROR_ENV, download_from_config
from convscope.errors import ConvscopeError

REPO_ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = REPO_ROOT / "conf"
FASHION_MNIST_FOLDER = Path("/usr/share/datasets/fashion-mnist")
SHARED_MNIST = REPO_ROOT.parent / "shared" / "datasets" / "mnist"
HOW_TO_PROVIDE = (
    f"set {MIRROR_ENV} to a folder or http(s):// URL with the four MNIST IDX .gz files, "
    f"or put them in {SHARED_MNIST}"
)


def running_in_ci() -> bool:
    """True when the CI environment variable says so (CI=true, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def no_mnist(reason: str) -> NoReturn:
    """Skip the test for want of MNIST; under CI=true, fail it instead."""
    if running_in_ci():
        pytest.fail(
            f"CI=true and MNIST is missing: {reason}; {HOW_TO_PROVIDE} "
            "(CI must run the tests that need MNIST, not skip them)",
            pytrace=False,
        )
    pytest.skip(f"no MNIST: {reason}; {HOW_TO_PROVIDE}")


@pytest.fixture(scope="session")
def fashion_mnist_mirror() -> Path:
    """Debian's Fashion-MNIST folder; missing, it fails the test under CI=true, else skips it."""
    if not FASHION_MNIST_FOLDER.is_dir():
        reason = (
            f"no Fashion-MNIST in {FASHION_MNIST_FOLDER}: "
            "`apt-get install dataset-fashion-mnist` (Debian) provides it"
        )
        if running_in_ci():
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)
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
    """Undo what a test's in-process training did to MLflow's store: `mlflow.set_tracking_uri`
    (called by the trainer) also exports MLFLOW_TRACKING_URI, which later tests and the stage
    processes they start would inherit."""
    previous, exported = mlflow.get_tracking_uri(), os.environ.get("MLFLOW_TRACKING_URI")
    yield
    mlflow.set_tracking_uri(previous)
    if exported is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = exported
