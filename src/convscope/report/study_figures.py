"""The studies' figures: test accuracy against a condition (lines, the spread over seeds as a
band) and against a change (bars, each seed a dot). Each takes a tidy DataFrame, one row per
model, seed and condition, with the test accuracy as a fraction."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, PercentFormatter, ScalarFormatter

from convscope.errors import ConvscopeError
from convscope.report.comparison_figures import MODEL_COLOURS


def accuracy_lines(
    results: pd.DataFrame,
    x: str,
    x_label: str,
    title: str,
    *,
    log_x: bool = False,
    panels: str | None = None,
) -> Figure:
    """Mean test accuracy against column `x`, one line per model, its min-to-max band over
    seeds shaded; one panel per value of column `panels` (if given), sharing the y axis."""
    _require(results, ("model", "seed", "accuracy", x, *([panels] if panels else [])))
    panel_values = list(dict.fromkeys(results[panels])) if panels else [None]
    fig = Figure(figsize=(4.2 * len(panel_values) + 1.4, 4.2), layout="constrained")
    axes_row = fig.subplots(1, len(panel_values), squeeze=False, sharey=True)[0]
    models = list(dict.fromkeys(results["model"]))
    for axes, value in zip(axes_row, panel_values, strict=True):
        shown = results if value is None else results[results[panels] == value]
        for index, model in enumerate(models):
            rows = shown[shown["model"] == model]
            if rows.empty:
                continue
            summary = rows.groupby(x).agg(
                mean=("accuracy", "mean"), low=("accuracy", "min"), high=("accuracy", "max")
            )
            colour = MODEL_COLOURS(index % MODEL_COLOURS.N)
            axes.plot(summary.index, summary["mean"], "o-", color=colour, label=model, ms=4)
            if rows["seed"].nunique() > 1:
                axes.fill_between(
                    summary.index, summary["low"], summary["high"], color=colour, alpha=0.2
                )
        if log_x:
            axes.set_xscale("log")
            axes.set_xticks(sorted(shown[x].unique()))
            axes.xaxis.set_major_formatter(ScalarFormatter())
            axes.xaxis.set_minor_formatter(NullFormatter())  # only the sizes are labelled
            axes.ticklabel_format(axis="x", style="plain")
        else:
            axes.set_xticks(sorted(shown[x].unique()))
        axes.set_xlabel(x_label)
        axes.grid(alpha=0.3)
        if value is not None:
            axes.set_title(str(value), fontsize=10)
    axes_row[0].set_ylabel("test accuracy")
    axes_row[0].yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    axes_row[-1].legend(fontsize=8, loc="best")
    # Wrapped to the figure's width: a one-panel figure is narrow.
    fig.suptitle(title, fontsize=11, wrap=True)
    return fig


def accuracy_bars(results: pd.DataFrame, condition: str, title: str) -> Figure:
    """Mean test accuracy per model (groups) and value of column `condition` (bars), a
    min-to-max bar over seeds and each seed a dot; the y axis starts near the lowest seed."""
    _require(results, ("model", "seed", "accuracy", condition))
    models = list(dict.fromkeys(results["model"]))
    conditions = list(dict.fromkeys(results[condition]))
    width = 0.8 / len(conditions)
    fig = Figure(figsize=(1.6 * len(models) * len(conditions) + 2.0, 4.2), layout="constrained")
    axes = fig.add_subplot()
    for offset, value in enumerate(conditions):
        rows = results[results[condition] == value]
        summary = rows.groupby("model", sort=False)["accuracy"].agg(["mean", "min", "max"])
        summary = summary.reindex(models)
        where = np.arange(len(models)) + (offset - (len(conditions) - 1) / 2) * width
        colour = MODEL_COLOURS(offset % MODEL_COLOURS.N)
        axes.bar(where, summary["mean"], width * 0.9, color=colour, alpha=0.8, label=str(value))
        axes.errorbar(
            where,
            summary["mean"],
            yerr=[summary["mean"] - summary["min"], summary["max"] - summary["mean"]],
            fmt="none",
            ecolor="black",
            capsize=3,
        )
        for position, model in zip(where, models, strict=True):
            seeds = rows[rows["model"] == model]["accuracy"]
            axes.scatter([position] * len(seeds), seeds, s=10, color="black", zorder=3)
            if not seeds.empty:
                axes.annotate(
                    f"{seeds.mean():.2%}",
                    (position, seeds.max()),
                    xytext=(0, 4),
                    textcoords="offset points",
                    ha="center",
                    fontsize=8,
                )
    low = results["accuracy"].min()
    axes.set_ylim(max(0.0, low - (1 - low) * 0.6), 1.0)
    axes.set_xticks(np.arange(len(models)), models)
    axes.set_ylabel("test accuracy")
    axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=1))
    axes.legend(fontsize=8, loc="lower right")
    axes.grid(axis="y", alpha=0.3)
    axes.set_title(title, fontsize=11)
    return fig


def _require(results: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [column for column in columns if column not in results.columns]
    if missing:
        raise ConvscopeError(f"study figure: results lack columns {', '.join(missing)}")
    if results.empty:
        raise ConvscopeError("study figure: no results to draw")
