"""The statistical sections of comparison.md, on constructed predictions."""

from __future__ import annotations

import pandas as pd

from convscope.comparison.report import statistics_sections
from convscope.comparison.statistics import compare_models
from convscope.models.anatomy import COLUMNS

ANATOMY = pd.DataFrame(
    [
        [
            "lenet5",
            "C1",
            "Conv2D",
            "28x28x1",
            "5x5x1",
            6,
            25,
            150,
            784,
            "same",
            "28x28x6",
            "24x24x6",
            "5x5",
        ]
    ],
    columns=list(COLUMNS),
)


def test_sections_hold_the_verdict_the_tables_and_the_anatomy(labels, random_errors) -> None:
    predictions = {
        "small": random_errors([120, 125, 118], 2),
        "big": random_errors([60, 62, 65], 1),
    }
    text = "\n\n".join(
        statistics_sections(compare_models(predictions, labels, alpha=0.05), ANATOMY)
    )
    assert "**big is more accurate than small**" in text
    assert "*Rule:* A model is called more accurate" in text
    assert "| small   |       3 |" in text  # per model: seeds right-aligned
    assert "| small | big |      0 |        120 |" in text  # per seed: seed 0, 120 errors
    assert "| 5x5x1 " in text and "|   784 |" not in text.split("seed's argument")[0]


def test_one_model_has_no_pair_table(labels, random_errors) -> None:
    comparison = compare_models({"only": random_errors([50], 1)}, labels, alpha=0.05)
    text = "\n\n".join(statistics_sections(comparison, ANATOMY))
    assert "(one model: no pair to compare)" in text
    assert "Wilson" in text
