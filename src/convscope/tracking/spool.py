"""Metrics the tracking server did not take, kept on disk until it answers again.

One JSON line per logging call (run id, step, timestamp, metrics), in a file outside DVC's
outputs (a training keeps it in its checkpoint folder). `replay` logs them into their run
with their original step and timestamp, and forgets each once the server has taken it.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

from convscope.atomic import write_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpooledMetrics:
    """One logging call's metrics, as the server should have received them."""

    run_id: str
    step: int
    timestamp: int  # milliseconds since the epoch, as MLflow stores them
    metrics: dict[str, float]

    def as_line(self) -> str:
        return json.dumps(
            {"run_id": self.run_id, "step": self.step, "timestamp": self.timestamp}
            | {"metrics": self.metrics}
        )


class MetricSpool:
    """A JSON-lines file of metrics waiting for the tracking server."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, run_id: str, metrics: dict[str, float], step: int) -> None:
        """Keep `metrics` of `run_id` at `step`, stamped now, until `replay` logs them."""
        entry = SpooledMetrics(run_id, step, int(time.time() * 1000), metrics)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as spool:
            spool.write(entry.as_line() + "\n")

    def entries(self) -> list[SpooledMetrics]:
        """What is waiting, oldest first (a line cut short by a kill is dropped)."""
        if not self.path.exists():
            return []
        entries = []
        for line in self.path.read_text().splitlines():
            try:
                entries.append(SpooledMetrics(**json.loads(line)))
            except (json.JSONDecodeError, TypeError):
                log.warning("Dropping a damaged line of %s: %r", self.path, line[:200])
        return entries

    def replay(self, client: MlflowClient | None = None) -> int:
        """Log every waiting entry into its run, oldest first; return how many were logged.

        Raises what MLflow raises when the server still does not answer; what was logged
        before that is forgotten, the rest stays for the next replay.
        """
        waiting = self.entries()
        client = client or MlflowClient()
        for done, entry in enumerate(waiting):
            try:
                client.log_batch(
                    entry.run_id,
                    metrics=[
                        Metric(key, value, entry.timestamp, entry.step)
                        for key, value in entry.metrics.items()
                    ],
                )
            except BaseException:
                self._keep(waiting[done:])
                raise
        self._keep([])
        return len(waiting)

    def _keep(self, entries: list[SpooledMetrics]) -> None:
        if entries:
            write_text(self.path, "".join(entry.as_line() + "\n" for entry in entries))
        else:
            self.path.unlink(missing_ok=True)
