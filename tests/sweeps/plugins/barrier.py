"""A Hydra callback that holds each sweep's first job until `parties` sweeps have reached it.

Tests add it (`+hydra.callbacks.barrier._target_=barrier.Barrier`, with this folder on
PYTHONPATH) to prove that concurrent sweeps really overlap, whatever their start-up times.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


class Barrier(Callback):
    """Wait in the first job's start until `parties` processes have each written their pid."""

    def __init__(self, folder: str, parties: int, timeout: float = 600) -> None:
        self.folder, self.parties, self.timeout = Path(folder), parties, timeout
        self.passed = False

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        if self.passed:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / str(os.getpid())).touch()
        deadline = time.monotonic() + self.timeout
        while len(list(self.folder.iterdir())) < self.parties:
            if time.monotonic() > deadline:
                raise TimeoutError(f"barrier {self.folder}: the other sweeps never arrived")
            time.sleep(0.2)
        self.passed = True
