"""SIGTERM handled as Ctrl-C: the stages stop the same way for both (`dvc queue kill`, SLURM at
a job's time limit and `kill` send SIGTERM), keeping checkpoints and marking runs KILLED."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    # Once: a second SIGTERM while the first unwinds kills the process the default way.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise Terminated


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises `Terminated` in the main thread, as SIGINT raises
    KeyboardInterrupt; the previous handler is restored after. Outside the main thread (where
    Python cannot set handlers) the block runs unchanged."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupt_signal(err: KeyboardInterrupt) -> signal.Signals:
    """The signal that stopped the process: SIGTERM for `Terminated`, else SIGINT."""
    return signal.SIGTERM if isinstance(err, Terminated) else signal.SIGINT


def exit_status(err: KeyboardInterrupt) -> int:
    """The shell's status for a process stopped by that signal: 128 + its number."""
    return 128 + interrupt_signal(err)
