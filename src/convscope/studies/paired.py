"""The main verdict's statistics applied to a study's conditions: each entry of `predictions`
is a model under a condition ("lenet5, permuted"), compared on the same test images, seed by
seed (`convscope.comparison.statistics`, `convscope.comparison.verdict`)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from convscope.comparison.statistics import Comparison, ModelAccuracy, compare_models
from convscope.comparison.verdict import PairVerdict, pair_verdict


def paired_verdicts(
    predictions: Mapping[str, Mapping[int, np.ndarray]], labels: np.ndarray, alpha: float
) -> tuple[Comparison, list[PairVerdict]]:
    """Every entry's accuracy over its seeds and the verdict on every pair, in order."""
    comparison = compare_models(predictions, labels, alpha=alpha)
    return comparison, [pair_verdict(comparison, pair) for pair in comparison.pairs]


def accuracy_cell(model: ModelAccuracy) -> str:
    """'99.18 ± 0.12%' over several seeds, '99.18%' with one."""
    if math.isnan(model.std):
        return f"{model.mean:.2%}"
    return f"{100 * model.mean:.2f} ± {100 * model.std:.2f}%"


def verdict_word(verdict: PairVerdict, first: str) -> str:
    """How `first` (one of the pair) fares: 'more accurate', 'less accurate' or 'within the
    noise'."""
    if verdict.more_accurate is None:
        return "within the noise"
    return "more accurate" if verdict.more_accurate == first else "less accurate"


def p_cell(p: float | None) -> str:
    """A p-value for a table: '< 0.0001', two significant digits, or '—' (no test)."""
    if p is None:
        return "—"
    return "< 0.0001" if p < 1e-4 else f"{p:.2g}"


def seeds_phrase(seeds: list[int]) -> str:
    """'1 seed (42)' or '3 seeds (42, 43, 44)'."""
    return f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} ({', '.join(map(str, seeds))})"
