"""Fixtures shared by the whole suite: the real MNIST files, a processed copy, a loopback server.

The machines that run these tests have no internet. The real MNIST IDX files come from the
folder in `$CONVSCOPE_MIRROR` or, failing that, from `../shared/datasets/mnist` beside the
repository (where CI puts it); tests that need them are skipped when neither exists.
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

import pytest
from omegaconf import DictConfig, OmegaConf

from convscope.data.download import MIRROR_ENV, download_from_config
from convscope.data.preprocess import preprocess_dataset

REPO_ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = REPO_ROOT / "conf"
SHARED_MNIST = REPO_ROOT.parent / "shared" / "datasets" / "mnist"


def local_mirror_folder() -> Path | None:
    """The folder holding the real MNIST .gz files, if this machine has one."""
    configured = os.environ.get(MIRROR_ENV, "")
    if configured.startswith("file://"):
        configured = urllib.request.url2pathname(urllib.parse.urlsplit(configured).path)
    for candidate in (configured, SHARED_MNIST):
        if candidate and "://" not in str(candidate) and Path(candidate).is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def mnist_mirror() -> Path:
    """Folder with the four real MNIST IDX .gz files (read-only; copy before changing)."""
    folder = local_mirror_folder()
    if folder is None:
        pytest.skip(
            f"no offline MNIST mirror: set {MIRROR_ENV} to a folder with the four MNIST IDX "
            f".gz files, or put them in {SHARED_MNIST}"
        )
    return folder


@pytest.fixture(scope="session")
def mnist_data_config() -> DictConfig:
    """The real dataset config `conf/data/mnist.yaml` (what `data=mnist` selects)."""
    return OmegaConf.load(CONF_DIR / "data" / "mnist.yaml")


@pytest.fixture(scope="session")
def processed_mnist(
    mnist_mirror: Path, mnist_data_config: DictConfig, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A processed MNIST folder (train/val/test .npy files and meta.json), made once a session.

    Made by the real download and preprocess code from `mnist_mirror`; the reports it writes
    (summary.json, samples.png) are in `<this folder>/../reports`. Do not modify it.
    """
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
