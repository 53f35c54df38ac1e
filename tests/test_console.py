"""Stage output: progress bars only on a terminal, TensorFlow's C++ notices filtered out."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from convscope.console import check_verbose, keras_verbose
from convscope.errors import ConvscopeError

# Writes, straight to fd 2 as TensorFlow's C++ code does, absl's notices around a real error,
# then a Python line and an unfinished progress-bar line.
WRITER = r"""
import os, sys
from convscope.console import tensorflow_notices_filtered
with tensorflow_notices_filtered():
    os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are ...\n")
    os.write(2, b"I0000 00:00:1796176305.859599   15251 port.cc:153] oneDNN custom ops on.\n")
    os.write(2, b"W0000 00:00:1796176306.235070   15251 cpu_feature_guard.cc:227] This TF\n")
    os.write(2, b"E0000 00:00:1796176306.235070   15251 cuda.cc:1] a real error\n")
    print("error: from Python", file=sys.stderr)
    os.write(2, b"download  50%")
"""


class FakeStdout(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(("tty", "expected"), [(True, 1), (False, 2)])
def test_auto_is_a_bar_on_a_terminal_and_one_line_per_epoch_in_a_log(
    monkeypatch: pytest.MonkeyPatch, tty: bool, expected: int
) -> None:
    monkeypatch.setattr(sys, "stdout", FakeStdout(tty))
    assert keras_verbose("auto") == expected
    assert [keras_verbose(level) for level in (0, 1, 2)] == [0, 1, 2]


@pytest.mark.parametrize("bad", ["loud", 3, True, None])
def test_other_verbose_values_are_refused_naming_the_key(bad: object) -> None:
    with pytest.raises(ConvscopeError, match=r"train\.verbose: expected auto, 0, 1 or 2"):
        check_verbose("train.verbose", bad)


def test_tensorflow_notices_are_dropped_and_everything_else_passes() -> None:
    # As a stage started by a process that imported convscope (pytest here): the level it
    # inherits is convscope's default, so the notices are still filtered.
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2", "CONVSCOPE_DEFAULT_TF_LOG_LEVEL": "1"}
    done = subprocess.run(
        [sys.executable, "-c", WRITER], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        "E0000 00:00:1796176306.235070   15251 cuda.cc:1] a real error\n"
        "error: from Python\n"
        "download  50%"
    )


def test_nothing_is_filtered_when_the_user_set_the_level() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CONVSCOPE_DEFAULT_TF_LOG_LEVEL"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "0"
    done = subprocess.run(
        [sys.executable, "-c", WRITER], capture_output=True, text=True, env=env, timeout=120
    )
    assert "port.cc:153] oneDNN" in done.stderr and "absl::InitializeLog" in done.stderr


@pytest.mark.parametrize("stage", ["download", "preprocess", "train", "evaluate", "compare"])
def test_a_stage_module_loads_tensorflow_only_once_its_output_is_filtered(stage: str) -> None:
    # The filter starts when the stage runs; TensorFlow imported with the module would print
    # its notices before that (the compare stage did, into every `dvc repro` log).
    probe = f"import sys, convscope.{stage}; print('tensorflow' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
