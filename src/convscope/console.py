"""Stage output that suits where it goes: a live bar on a terminal, plain lines in a log, and
none of TensorFlow's start-up notices.

A `verbose` setting (`train.verbose`, `evaluate.verbose`) is `auto`, 0, 1 or 2, as Keras
takes it, except that `auto` looks at stdout: Keras' own `auto` always means the bar, whose
redraws (carriage returns, backspaces) fill a DVC or CI log.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator
from typing import Any

import convscope
from convscope.errors import ConvscopeError

VERBOSE_CHOICES = ("auto", 0, 1, 2)


def check_verbose(key: str, value: Any) -> None:
    """Raise `ConvscopeError` naming `key` unless `value` is one of `VERBOSE_CHOICES`."""
    if isinstance(value, bool) or value not in VERBOSE_CHOICES:
        raise ConvscopeError(f"{key}: expected auto, 0, 1 or 2, got {value!r}")


def keras_verbose(value: str | int) -> int:
    """Keras' `verbose` for a setting: `auto` is 1 (a progress bar) when stdout is a terminal
    and 2 (one line per epoch) when it is not; 0, 1 and 2 are kept."""
    if value == "auto":
        return 1 if sys.stdout.isatty() else 2
    return int(value)


# Lines of TensorFlow's C++ logging (absl) at INFO or WARNING level, e.g.
# "I0000 00:00:1796176305.859599   15251 port.cc:153] oneDNN custom operations are on. ...",
# and absl's "WARNING: All log messages before absl::InitializeLog() is called ..." before them.
TF_NOTICE = re.compile(
    rb"^([IW]\d{4} \d\d:\d\d:[\d.]+ +\d+ [\w.-]+:\d+\] |WARNING: All log messages before absl::)"
)


@contextlib.contextmanager
def tensorflow_notices_filtered() -> Iterator[None]:
    """Drop TensorFlow's C++ INFO and WARNING lines from this process's stderr (fd 2) while
    the block runs; every other line passes through. Nothing is filtered when the user set
    TF_CPP_MIN_LOG_LEVEL.

    Written by hand because TF_CPP_MIN_LOG_LEVEL does not reach them: TensorFlow logs with
    absl, which writes every message to stderr until absl::InitializeLog() is called, and
    TensorFlow does not call it (e.g. the oneDNN notice appears even at level 3).
    """
    if convscope.TF_LOG_LEVEL_SET_BY_USER:
        yield
        return
    sys.stderr.flush()
    original = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    pump = threading.Thread(target=_pass_lines, args=(read_end, original), daemon=True)
    pump.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(original, 2)  # closes the pipe's last write end but a child process's
        pump.join(timeout=5)
        os.close(original)


def _pass_lines(read_end: int, destination: int) -> None:
    """Copy lines from `read_end` to `destination` until end of file, except TF notices."""
    pending = b""
    with os.fdopen(read_end, "rb", buffering=0) as source:
        while chunk := source.read(1 << 16):
            *lines, pending = (pending + chunk).split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not TF_NOTICE.match(line))
            # An unfinished line passes at once (a progress bar redraws one), unless it may
            # be the start of a notice: those start with I or W.
            if pending[:1] not in (b"I", b"W"):
                kept, pending = kept + pending, b""
            if kept:
                os.write(destination, kept)
        if pending and not TF_NOTICE.match(pending):
            os.write(destination, pending)
