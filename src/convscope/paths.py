"""Where stages read and write: the `paths` config group (`conf/paths/default.yaml`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from omegaconf import MISSING


@dataclass
class PathsConfig:
    """The folders of the pipeline's data, models, resume state and reports.

    `models_root` and `checkpoints` hold one folder per model, named after it: `model_dir(name)`
    and `checkpoint_dir(name)` are the only places that spell them.
    """

    raw: str = MISSING
    processed: str = MISSING
    models_root: str = MISSING
    checkpoints: str = MISSING
    reports: str = MISSING
    study_models: str = MISSING

    def model_dir(self, name: str) -> Path:
        """The folder of model `name`'s trained seeds (`<models_root>/<name>`)."""
        return Path(self.models_root) / name

    def for_study(self, study: str, condition: str) -> PathsConfig:
        """These paths with the model and checkpoint folders of `study`'s trainings under
        `condition` (a folder name): `<study_models>/<study>/<condition>/<model>/` and
        `<checkpoints>/studies/<study>/<condition>/<model>/`."""
        return dataclasses.replace(
            self,
            models_root=str(Path(self.study_models) / study / condition),
            checkpoints=str(Path(self.checkpoints) / "studies" / study / condition),
        )

    def checkpoint_dir(self, name: str) -> Path:
        """The folder of model `name`'s resume state (`<checkpoints>/<name>`)."""
        return Path(self.checkpoints) / name
