"""Where one training seed's files go: `<folder>/seed-<seed>/`, the one place that spells it.

A model trains several seeds (`seeds` in params.yaml); each seed's model, run record and
history live in `seed_dir(paths.model_dir(model), seed)`, its resume state in
`seed_dir(paths.checkpoint_dir(model), seed)` and its evaluation in
`seed_dir(reports/evaluation/<model>, seed)`.
"""

from __future__ import annotations

import re
from pathlib import Path

from convscope.errors import rerun_hint

SEED_PREFIX = "seed-"
_SEED_FOLDER = re.compile(rf"{SEED_PREFIX}(\d+)")


def train_hint(path: Path) -> str:
    """How to recreate the train stage's output `path` (named by its model folder, the
    parent of its seed folder)."""
    folder = Path(path).parent
    if folder.name.startswith(SEED_PREFIX):
        folder = folder.parent
    return rerun_hint(f"train@{folder.name}")


def seed_dir(folder: Path, seed: int) -> Path:
    """`folder/seed-<seed>`."""
    return Path(folder) / f"{SEED_PREFIX}{seed}"


def seed_dirs(folder: Path) -> dict[int, Path]:
    """`{seed: folder/seed-<seed>}` of every seed folder in `folder`, by seed (none if absent)."""
    found = {}
    for path in Path(folder).glob(f"{SEED_PREFIX}*"):
        match = _SEED_FOLDER.fullmatch(path.name)
        if match and path.is_dir():
            found[int(match.group(1))] = path
    return dict(sorted(found.items()))


def training_seeds(first: int, count: int) -> list[int]:
    """The seeds a model trains: `first + k` for k in range(count) (`train.seed`, `seeds`)."""
    return [first + k for k in range(count)]
