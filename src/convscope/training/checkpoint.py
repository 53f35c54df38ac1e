"""Resume state of an interrupted training: Keras' backup, the epoch history, the MLflow run.

Everything lives in one folder (`paths.checkpoints`), outside DVC's outputs so that `dvc repro`
does not delete it before the stage reruns. It is only reused when the config that made it is
the same (compared by fingerprint), and removed once the training completes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
from pathlib import Path

from convscope.atomic import write_text
from convscope.records.history import HISTORY_FILE, History

log = logging.getLogger(__name__)


def fingerprint(*groups: object) -> str:
    """Hash of the typed config groups that shape the trained weights (data, model, train):
    each group's class and values."""
    parts = [
        {
            "class": f"{type(group).__module__}.{type(group).__qualname__}",
            **dataclasses.asdict(group),
        }  # type: ignore[call-overload]
        for group in groups
    ]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class ResumeState:
    """The checkpoint folder of one training: `backup/`, `history.csv`, `run_id`."""

    def __init__(self, folder: Path, config_fingerprint: str) -> None:
        self.folder = folder
        self.backup_dir = folder / "backup"
        self.history_path = folder / HISTORY_FILE
        self._run_id_path = folder / "run_id"
        self._fingerprint_path = folder / "fingerprint"
        if folder.exists() and self._stored_fingerprint() != config_fingerprint:
            log.info("Discarding checkpoint %s: it was made with another config", folder)
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_text(self._fingerprint_path, config_fingerprint)

    def _stored_fingerprint(self) -> str | None:
        return self._fingerprint_path.read_text() if self._fingerprint_path.exists() else None

    @property
    def run_id(self) -> str | None:
        """The MLflow run of the interrupted training, if there is one to resume."""
        return self._run_id_path.read_text().strip() if self._run_id_path.exists() else None

    def save_run_id(self, run_id: str) -> None:
        """Remember the MLflow run so that a resumed training continues it."""
        write_text(self._run_id_path, run_id)

    def clear(self) -> None:
        """Remove the checkpoint once training has completed."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def completed_epochs(self) -> int:
        """Epochs saved in Keras' backup (0 when starting fresh)."""
        metadata = self.backup_dir / "training_metadata.json"
        return int(json.loads(metadata.read_text())["epoch"]) if metadata.exists() else 0

    def align_history(self) -> None:
        """Drop history rows of epochs the backup does not hold (killed between the two writes)."""
        if not self.history_path.exists():
            return
        history = History.read(self.history_path, require_rows=False)
        history.up_to(self.completed_epochs()).write(self.history_path)
