"""A trained model's file, written by the train stage, checked with one-line errors.

`<model_dir>/model.keras` is the Keras model (its `run.json` is `convscope.records.run`).
Nothing here imports TensorFlow, so a stage can reject bad input before paying for that
import; loading the model is `convscope.models.trained`.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from convscope.errors import ConvscopeError
from convscope.records.seeds import train_hint


def check_model_file(path: Path) -> None:
    """Fail with one line unless `path` is a file with the zip layout of a `.keras` model."""
    path = Path(path)
    if not path.is_file():
        raise ConvscopeError(f"{path}: missing; {train_hint(path)}")
    if not zipfile.is_zipfile(path):
        # Keras would report such a file as "not found"; say what is actually wrong.
        raise ConvscopeError(
            f"{path}: not a Keras model file (expected a .keras zip archive; the file is "
            f"truncated or not a model); {train_hint(path)}"
        )
