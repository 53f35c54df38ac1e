"""Helpers the whole suite shares (on the path as `support`: `pythonpath` in pyproject.toml).

- `unavailable(reason)`: the one rule for a test whose external need (a dataset, a server
  program, an optional package) is missing: it fails under `CI=true` and skips elsewhere.
- `require_module(name, how)`: that rule for an optional package (instead of
  `pytest.importorskip`, which skips under CI too).
- `mlflow_tracking_uri_kept()`: put back MLflow's global tracking URI after a block.
- `box_convs(count)`: a model of `count` linear 3x3 all-one convs, whose receptive fields and
  activations are worked out by hand.
- `Barrier` (a Hydra callback) and `python tests/support.py <folder> <parties>`: proof that
  jobs ran at once. Each job writes `<folder>/arrived/<its pid>` and waits until `parties` jobs
  have arrived; then it writes `<folder>/passed/<its pid>`. A job passes only if all were alive
  together: jobs run one after another never pass, and `passed_barrier` lists no pids.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

TESTS = Path(__file__).resolve().parent
# Guards against a hang only: a job that waits longer gives up; it does not measure anything.
BARRIER_HANG_GUARD_SECONDS = 480


def running_in_ci() -> bool:
    """True when the CI environment variable says so (CI=true, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def unavailable(reason: str) -> NoReturn:
    """Skip the test for want of something external; under CI=true, fail it instead."""
    if running_in_ci():
        pytest.fail(f"CI=true and {reason} (CI must run this test, not skip it)", pytrace=False)
    pytest.skip(reason)


def require_module(name: str, how: str) -> None:
    """`unavailable` unless the module `name` can be imported; `how` says how to install it."""
    try:
        found = importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a parent package of `name` is missing
        found = False
    if not found:
        unavailable(f"{name} is not installed: {how}")


@contextlib.contextmanager
def mlflow_tracking_uri_kept() -> Iterator[None]:
    """Put back MLflow's tracking URI after the block: `mlflow.set_tracking_uri` (which
    training calls) also exports MLFLOW_TRACKING_URI, which later tests and the stage
    processes they start would inherit."""
    import mlflow

    previous, exported = mlflow.get_tracking_uri(), os.environ.get("MLFLOW_TRACKING_URI")
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)
        if exported is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = exported


def wait_at_barrier(folder: Path, parties: int) -> None:
    """Arrive at the barrier in `folder` and wait there until `parties` processes have
    arrived; then record this process as passed."""
    arrived, passed = folder / "arrived", folder / "passed"
    arrived.mkdir(parents=True, exist_ok=True)
    (arrived / str(os.getpid())).touch()
    give_up = time.monotonic() + BARRIER_HANG_GUARD_SECONDS
    while len(list(arrived.iterdir())) < parties:
        if time.monotonic() > give_up:
            raise RuntimeError(f"barrier {folder}: {parties} processes never ran at once")
        time.sleep(0.2)
    passed.mkdir(exist_ok=True)
    (passed / str(os.getpid())).touch()


def barrier_command(folder: Path, parties: int) -> str:
    """A shell command that waits at the barrier in `folder` (exit status 1 if it gives up)."""
    return f"{sys.executable} {TESTS / 'support.py'} {folder} {parties}"


def barrier_callback(folder: Path, parties: int) -> str:
    """The Hydra override adding `Barrier` to a run's callbacks (run it with
    `with_support_importable`'s environment)."""
    return (
        f"+hydra.callbacks.barrier={{_target_:support.Barrier,folder:'{folder}',parties:{parties}}}"
    )


def with_support_importable(env: dict[str, str]) -> dict[str, str]:
    """`env` with this folder first on PYTHONPATH, so that processes can import `support`."""
    path = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    return env | {"PYTHONPATH": path}


def passed_barrier(folder: Path) -> list[int]:
    """The process ids that passed the barrier in `folder`."""
    passed = folder / "passed"
    return sorted(int(path.name) for path in passed.iterdir()) if passed.is_dir() else []


class Barrier(Callback):
    """A Hydra callback holding each job at its start until `parties` jobs have started (add
    it with `barrier_callback`, in `with_support_importable`'s environment). Hydra turns a
    callback's error into a warning: a job that gave up still runs, but is missing from
    `passed_barrier`."""

    def __init__(self, folder: str, parties: int) -> None:
        self.folder, self.parties = Path(folder), parties

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        wait_at_barrier(self.folder, self.parties)


def box_convs(count: int, size: int = 9) -> Any:
    """`count` linear 3x3 'same' convs with all-one kernels on a size x size image."""
    import keras  # only the tests that build a model load TensorFlow

    inputs = keras.Input((size, size, 1))
    x = inputs
    for index in range(count):
        x = keras.layers.Conv2D(
            1, 3, padding="same", kernel_initializer="ones", use_bias=False, name=f"c{index}"
        )(x)
    return keras.Model(inputs, x)


if __name__ == "__main__":
    wait_at_barrier(Path(sys.argv[1]), int(sys.argv[2]))
