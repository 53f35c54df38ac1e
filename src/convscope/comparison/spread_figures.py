"""Comparison figures that show the spread over seeds: accuracy against size with min-max
bars, and learning curves as mean lines in min-to-max bands.

Both take tidy DataFrames, one row per model and seed (and epoch), and return a
`matplotlib.figure.Figure`; nothing is written here (see `convscope.report.figures.save_figure`).
The spread is min to max over seeds, not ± std: it needs no assumption about the
distribution, it is defined for two seeds, and every seed's value lies inside it.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import EngFormatter, LogLocator, MaxNLocator, PercentFormatter
from matplotlib.transforms import offset_copy

from convscope.errors import ConvscopeError
from convscope.report.comparison_figures import MODEL_COLOURS

# Size column -> (axis label, unit in a point's label)
SIZES = {
    "total_params": ("parameters", "parameters"),
    "macs_per_image": ("multiply-accumulates per image", "MACs"),
}
SEED_DOT_OFFSET = -9  # points: each seed's dot left of its model's bar, not hidden by the mean
RUN_COLUMNS = ("model", "seed", "test_accuracy")
HISTORY_COLUMNS = ("model", "seed", "epoch", "accuracy", "val_accuracy", "loss", "val_loss")


def accuracy_vs_size(runs: pd.DataFrame, size: str = "total_params") -> Figure:
    """Mean test accuracy against model size (log scale), a min-max bar over seeds per model.

    `runs` has one row per model and seed: columns model, seed, test_accuracy (a fraction)
    and `size` (one of `SIZES`, positive, the same for every seed of a model). Each seed is a
    small dot; each model is labelled with its size and mean accuracy.
    """
    if size not in SIZES:
        raise ConvscopeError(
            f"accuracy_vs_size: size must be one of {', '.join(SIZES)}, got {size!r}"
        )
    _require(f"accuracy_vs_size({size})", runs, (*RUN_COLUMNS, size))
    if not runs["test_accuracy"].between(0, 1).all():
        raise ConvscopeError("accuracy_vs_size: test_accuracy must be a fraction in [0, 1]")
    if (runs[size] <= 0).any():
        raise ConvscopeError(f"accuracy_vs_size: {size} must be positive (log scale)")
    varying = runs.groupby("model", sort=False)[size].nunique()
    if (varying > 1).any():
        raise ConvscopeError(
            f"accuracy_vs_size: {size} differs between the seeds of "
            f"{', '.join(varying[varying > 1].index)}; expected one size per model"
        )

    summary = runs.groupby("model", sort=False).agg(
        size=(size, "first"),
        mean=("test_accuracy", "mean"),
        low=("test_accuracy", "min"),
        high=("test_accuracy", "max"),
        seeds=("seed", "nunique"),
    )
    axis_label, unit = SIZES[size]
    fig = Figure(figsize=(7.0, 4.8), layout="constrained")
    axes = fig.add_subplot()
    beside = offset_copy(axes.transData, fig=fig, x=SEED_DOT_OFFSET, units="points")
    for index, (model, row) in enumerate(summary.iterrows()):
        colour = MODEL_COLOURS(index % MODEL_COLOURS.N)
        seeds = runs[runs["model"] == model]
        if row["seeds"] > 1:
            axes.scatter(
                seeds[size], seeds["test_accuracy"], s=12, color=colour, alpha=0.5, transform=beside
            )
        axes.errorbar(
            row["size"],
            row["mean"],
            yerr=[[row["mean"] - row["low"]], [row["high"] - row["mean"]]],
            fmt="o",
            markersize=7,
            color=colour,
            capsize=5,
            elinewidth=1.5,
        )
        axes.annotate(
            f"{model}\n{int(row['size']):,} {unit}\n{row['mean']:.2%}",
            (row["size"], row["mean"]),
            xytext=(9, 4),
            textcoords="offset points",
            fontsize=9,
        )
    axes.set_xscale("log")
    count = EngFormatter(sep="")
    axes.xaxis.set_major_formatter(count)
    axes.xaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
    axes.xaxis.set_minor_formatter(count)
    axes.tick_params(axis="x", which="both", labelsize=9)
    axes.margins(x=0.5, y=0.25)
    axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=2))
    axes.set_xlabel(f"{axis_label} (log scale)")
    axes.set_ylabel("test accuracy")
    axes.grid(alpha=0.3, which="both")
    axes.set_title(
        f"Test accuracy against {axis_label}\n{_spread_note(summary['seeds'])}", fontsize=10
    )
    return fig


def learning_curves_with_spread(history: pd.DataFrame) -> Figure:
    """Accuracy and loss per epoch: each model's mean over seeds, in a min-to-max band.

    `history` has one row per model, seed and epoch (columns: `HISTORY_COLUMNS`). Training
    is dashed, validation solid; one colour per model. Where early stopping ended some seeds
    sooner, the later epochs summarise the seeds that reached them.
    """
    _require("learning_curves_with_spread", history, HISTORY_COLUMNS)
    metrics = ["accuracy", "val_accuracy", "loss", "val_loss"]
    spread = history.groupby(["model", "epoch"], sort=False)[metrics].agg(["mean", "min", "max"])
    seeds = history.groupby("model", sort=False)["seed"].nunique()

    fig = Figure(figsize=(11.0, 4.4), layout="constrained")
    accuracy_axes, loss_axes = fig.subplots(1, 2)
    model_handles = []
    for index, model in enumerate(seeds.index):
        colour = MODEL_COLOURS(index % MODEL_COLOURS.N)
        curves = spread.loc[model].sort_index()
        epochs = curves.index.to_numpy()
        for axes, metric in ((accuracy_axes, "accuracy"), (loss_axes, "loss")):
            for column, style, shade in ((metric, "--", 0.10), (f"val_{metric}", "-", 0.22)):
                axes.fill_between(
                    epochs,
                    curves[(column, "min")],
                    curves[(column, "max")],
                    color=colour,
                    alpha=shade,
                    linewidth=0,
                )
                axes.plot(epochs, curves[(column, "mean")], color=colour, linestyle=style)
        model_handles.append(
            Line2D([], [], color=colour, linewidth=2.5, label=f"{model} ({seeds[model]} seeds)")
        )
    for axes, metric in ((accuracy_axes, "accuracy"), (loss_axes, "loss")):
        axes.set_xlabel("epoch")
        axes.set_ylabel(metric)
        axes.set_title(metric.capitalize())
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
    style_handles = [
        Line2D([], [], color="0.3", linestyle="--", label="training (mean)"),
        Line2D([], [], color="0.3", label="validation (mean)"),
        Patch(color="0.3", alpha=0.22, linewidth=0, label="min to max over seeds"),
    ]
    fig.legend(handles=model_handles + style_handles, loc="outside right upper", frameon=False)
    fig.suptitle(
        "Learning curves over seeds: training (dashed) and validation (solid)", fontsize=11
    )
    return fig


def _spread_note(seeds: pd.Series) -> str:
    """What the marks mean, for the number of seeds of each model."""
    low, high = int(seeds.min()), int(seeds.max())
    if high == 1:
        return "one seed per model: no spread over seeds to show"
    counts = f"{low} seeds" if low == high else f"{low} to {high} seeds"
    return f"mean over {counts}; bar: min to max; dots, left: each seed"


def _require(what: str, frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Fail with one line naming the missing columns, or on an empty table."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ConvscopeError(
            f"{what} lacks columns {', '.join(missing)}; expected {', '.join(columns)}"
        )
    if frame.empty:
        raise ConvscopeError(f"{what}: expected at least one row, got none")
