"""What every study config shares, and what every study returns."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from omegaconf import MISSING

from convscope.errors import ConvscopeError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from convscope.studies.context import StudyContext


@dataclass(frozen=True)
class StudyOutcome:
    """What a study found: its `headline` (one plain sentence, numbers included, for the
    README), its result `sentences` (Markdown, hedged as the main verdict is), its `tables`
    (titled), its `figures` (file stem -> (title, figure)) and its per-condition `results`
    (one row per model, seed and condition: `results.csv`)."""

    headline: str
    sentences: list[str]
    tables: list[tuple[str, pd.DataFrame]]
    figures: dict[str, tuple[str, Figure]]
    results: pd.DataFrame
    notes: list[str] = field(default_factory=list)


@dataclass
class StudyConfig(abc.ABC):
    """Keys every study has: its `name` (its YAML's name and its folders) and `seeds`, how
    many training seeds it runs (`train.seed`, `train.seed + 1`, ...), chosen from the size
    of the effect it measures."""

    # The study's title, and the course text's claim it tests, quoted in one line.
    TITLE: ClassVar[str] = ""
    CLAIM: ClassVar[str] = ""

    name: str = MISSING
    seeds: int = MISSING

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ConvscopeError("study.name: expected a non-empty name, got ''")
        check_positive("seeds", self.seeds)

    def model_names(self) -> list[str]:
        """The models, by `conf/model/` name, that the study trains besides the main
        comparison's."""
        return []

    @abc.abstractmethod
    def run(self, context: StudyContext) -> StudyOutcome:
        """Run the study's trainings and evaluations; return what it found."""


def check_sizes(key: str, sizes: list[int]) -> None:
    """Raise `ConvscopeError` naming `study.<key>` unless `sizes` is a non-empty list of
    increasing positive integers."""
    if not sizes or any(isinstance(s, bool) or s < 1 for s in sizes) or sizes != sorted(set(sizes)):
        raise ConvscopeError(
            f"study.{key}: expected increasing positive integers, got {list(sizes)}"
        )


def check_positive(key: str, value: int) -> None:
    """Raise `ConvscopeError` naming `study.<key>` unless `value` is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConvscopeError(f"study.{key}: expected a positive integer, got {value}")
