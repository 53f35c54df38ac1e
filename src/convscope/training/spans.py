"""Wall-clock time of the named parts of a training, measured by the trainer itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


def metric_name(part: str) -> str:
    """The MLflow metric that holds part `part`'s seconds: `time_<part>_seconds`."""
    return f"time_{part}_seconds"


class Spans:
    """Seconds spent in each named part (a part entered twice adds up)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def span(self, name: str) -> Iterator[None]:
        """Time the block as part `name`."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def metrics(self) -> dict[str, float]:
        """The spans as MLflow metrics (`metric_name`)."""
        return {metric_name(name): seconds for name, seconds in self.seconds.items()}
