"""The statistical sections of `reports/comparison.md`: the verdict and its rule, accuracy
over seeds per model, the paired tests per pair and per seed, and the seed's argument per layer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from convscope.comparison.statistics import Comparison, model_table, pair_table, seed_table
from convscope.comparison.verdict import verdict_rule, verdict_sentences
from convscope.models.anatomy import anatomy_markdown


def statistics_sections(comparison: Comparison, anatomy: pd.DataFrame) -> list[str]:
    """Markdown sections: verdict, rule, per-model, per-pair and per-seed tables, anatomy."""
    level = f"{100 * (1 - comparison.alpha):g}%"
    if comparison.pairs:
        pairs = _markdown(_shown_pairs(pair_table(comparison)), names=2)
        seeds = _markdown(_shown_seeds(seed_table(comparison)), names=2)
    else:
        pairs = seeds = "(one model: no pair to compare)"
    return [
        "## Verdict",
        "\n\n".join(verdict_sentences(comparison)),
        f"*Rule:* {verdict_rule(comparison)}",
        "## Test accuracy over seeds",
        f"Mean ± sample standard deviation over the seeds, min, max, and the {level} interval "
        "(Wilson on the test images for one seed; a t-interval over seeds for several). "
        "Also in `comparison.csv`.",
        _markdown(_shown_models(model_table(comparison), level), names=1),
        "## Paired differences",
        "Errors of model A minus errors of model B on the same test images (negative: A makes "
        "fewer); the paired t-test over seeds and the exact McNemar test on the images only one "
        "of them gets wrong, summed over seeds. Also in `comparison_pairs.csv`.",
        pairs,
        "### Per seed",
        seeds,
        "## The seed's argument, layer by layer",
        "Computed from each model's first seed's built model: what one kernel holds, what one "
        "dense unit on the same input would need, the output under the layer's padding and the "
        "other one, and the patch of the input image one output value depends on.",
        anatomy_markdown(anatomy),
    ]


def _percent(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.2%}"


def _points(value: float) -> str:
    return "—" if math.isnan(value) else f"{100 * value:.2f}"


def _number(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:,.1f}"


def _p(value: float) -> str:
    return "—" if math.isnan(value) else "< 0.0001" if value < 1e-4 else f"{value:.2g}"


def _format(
    table: pd.DataFrame, columns: dict[str, tuple[str, Callable[[Any], str]]]
) -> pd.DataFrame:
    return pd.DataFrame({label: table[key].map(show) for key, (label, show) in columns.items()})


def _shown_models(table: pd.DataFrame, level: str) -> pd.DataFrame:
    shown = _format(
        table,
        {
            "model": ("model", str),
            "seeds": ("seeds", str),
            "mean_accuracy": ("mean", _percent),
            "std_accuracy": ("± std (points)", _points),
            "min_accuracy": ("min", _percent),
            "max_accuracy": ("max", _percent),
            "mean_errors": ("mean errors", _number),
        },
    )
    shown[f"{level} interval"] = [
        f"{low:.2%} to {high:.2%} ({method})"
        for low, high, method in zip(
            table["interval_low"], table["interval_high"], table["interval_method"], strict=True
        )
    ]
    return shown


def _shown_pairs(table: pd.DataFrame) -> pd.DataFrame:
    return _format(
        table,
        {
            "model_a": ("A", str),
            "model_b": ("B", str),
            "seeds": ("seeds", str),
            "mean_error_difference": ("mean errors A - B", _number),
            "std_error_difference": ("std", _number),
            "same_sign_every_seed": ("same sign every seed", lambda same: "yes" if same else "no"),
            "t_test_p": ("paired t-test p", _p),
            "pooled_only_a_wrong": ("only A wrong", "{:,}".format),
            "pooled_only_b_wrong": ("only B wrong", "{:,}".format),
            "pooled_mcnemar_p": ("McNemar p (summed)", _p),
        },
    )


def _shown_seeds(table: pd.DataFrame) -> pd.DataFrame:
    return _format(
        table,
        {
            "model_a": ("A", str),
            "model_b": ("B", str),
            "seed": ("seed", str),
            "errors_a": ("errors A", "{:,}".format),
            "errors_b": ("errors B", "{:,}".format),
            "error_difference": ("A - B", "{:+,}".format),
            "only_a_wrong": ("only A wrong", "{:,}".format),
            "only_b_wrong": ("only B wrong", "{:,}".format),
            "mcnemar_p": ("McNemar p", _p),
        },
    )


def _markdown(shown: pd.DataFrame, names: int) -> str:
    """The table as Markdown: the first `names` columns (model names) left, numbers right."""
    alignment = ["left"] * names + ["right"] * (len(shown.columns) - names)
    return shown.to_markdown(index=False, colalign=alignment, disable_numparse=True)
