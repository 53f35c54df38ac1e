"""What a study stage hands the study report: `reports/studies/<study>/study.json`.

Beside it, the study's section of `reports/studies.md` (`section.md`, its result sentences and
tables) and its per-condition results table (`results.csv`); its figures are in
`reports/figures/studies/<study>/`. The study report stage reads the record of every planned
study and joins their sections, in the plan's order, under one table of their costs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from convscope.errors import ConvscopeError, rerun_hint
from convscope.records.files import read_json_record, write_json

STUDY_FILE = "study.json"
SECTION_FILE = "section.md"
RESULTS_FILE = "results.csv"
REQUIRED_KEYS = (
    "name",
    "title",
    "claim",
    "headline",
    "seeds",
    "trainings",
    "optimizer_steps",
    "images_evaluated",
    "seconds",
)


def studies_dir(reports: Path) -> Path:
    """`<reports>/studies`: one folder per study."""
    return Path(reports) / "studies"


def study_dir(reports: Path, study: str) -> Path:
    """`<reports>/studies/<study>`: the study's record, section and results table."""
    return studies_dir(reports) / study


def study_figures_dir(reports: Path, study: str) -> Path:
    """`<reports>/figures/studies/<study>`: the study's PNGs."""
    return Path(reports) / "figures" / "studies" / study


@dataclass(frozen=True)
class StudyRecord:
    """One study's outcome: its title, the claim it tests (one line), its headline result (one
    sentence, for the README), how many seeds and trainings it ran, its work (optimizer
    steps of its trainings, test images it classified) and its wall-clock seconds."""

    name: str
    title: str
    claim: str
    headline: str
    seeds: int
    trainings: int
    optimizer_steps: int
    images_evaluated: int
    seconds: float

    def write(self, path: Path) -> None:
        """Write the record as JSON at `path`, atomically."""
        write_json(path, asdict(self))

    @classmethod
    def read(cls, path: Path) -> StudyRecord:
        """Read a record; a missing file, bad JSON or a missing key is a one-line error."""
        path = Path(path)
        hint = rerun_hint(f"study@{path.parent.name}")
        data = read_json_record(path, REQUIRED_KEYS, hint)
        try:
            return cls(
                name=str(data["name"]),
                title=str(data["title"]),
                claim=str(data["claim"]),
                headline=str(data["headline"]),
                seeds=int(data["seeds"]),
                trainings=int(data["trainings"]),
                optimizer_steps=int(data["optimizer_steps"]),
                images_evaluated=int(data["images_evaluated"]),
                seconds=float(data["seconds"]),
            )
        except (TypeError, ValueError) as err:
            raise ConvscopeError(f"{path}: a value has the wrong type ({err}); {hint}") from None
