"""Figures with their spread over seeds: min-max bars and min-to-max bands."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, PolyCollection

from convscope.comparison.spread_figures import accuracy_vs_size, learning_curves_with_spread
from convscope.errors import ConvscopeError
from convscope.report import save_figure

ACCURACIES = {"dense": [0.9812, 0.9825, 0.9805], "lenet5": [0.9915, 0.9908, 0.9921]}
SIZES = {"dense": (407_050, 406_528), "lenet5": (61_706, 416_520)}


def runs(seeds: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "model": model,
                "seed": seed,
                "test_accuracy": accuracy,
                "total_params": SIZES[model][0],
                "macs_per_image": SIZES[model][1],
            }
            for model, accuracies in ACCURACIES.items()
            for seed, accuracy in enumerate(accuracies[:seeds])
        ]
    )


def history() -> pd.DataFrame:
    """Two models, two seeds; lenet5's seed 1 stopped early after 2 of 3 epochs."""
    rows = []
    for model, base in (("dense", 0.90), ("lenet5", 0.95)):
        for seed in (0, 1):
            for epoch in range(1, 4 if (model, seed) != ("lenet5", 1) else 3):
                value = base + 0.01 * epoch + 0.002 * seed
                rows.append(
                    {
                        "model": model,
                        "seed": seed,
                        "epoch": epoch,
                        "accuracy": value,
                        "val_accuracy": value - 0.005,
                        "loss": 1 - value,
                        "val_loss": 1.01 - value,
                    }
                )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("size", ["total_params", "macs_per_image"])
def test_accuracy_bars_run_from_the_worst_to_the_best_seed(size, tmp_path):
    figure = accuracy_vs_size(runs(), size)

    axes = figure.axes[0]
    bars = [container.lines[2][0].get_segments()[0] for container in axes.containers]
    assert len(bars) == 2
    for (model, accuracies), bar in zip(ACCURACIES.items(), bars, strict=True):
        (x_low, y_low), (x_high, y_high) = bar
        assert x_low == x_high == SIZES[model][0 if size == "total_params" else 1]
        assert (y_low, y_high) == pytest.approx((min(accuracies), max(accuracies)))
        assert container_mean(axes, model) == pytest.approx(np.mean(accuracies))
    dots = [c for c in axes.collections if isinstance(c, PathCollection)]
    assert [len(seeds.get_offsets()) for seeds in dots] == [3, 3]  # one dot per seed
    assert axes.get_xscale() == "log"
    assert "bar: min to max" in axes.get_title() and "3 seeds" in axes.get_title()
    assert save_figure(figure, tmp_path / "accuracy.png").stat().st_size > 0


def container_mean(axes, model: str) -> float:
    """The y of the mean marker labelled with `model`'s name."""
    (text,) = [text for text in axes.texts if text.get_text().startswith(model + "\n")]
    return text.xy[1]


def test_one_seed_draws_points_and_says_there_is_no_spread():
    axes = accuracy_vs_size(runs(seeds=1)).axes[0]
    bars = [container.lines[2][0].get_segments()[0] for container in axes.containers]
    assert all(low[1] == high[1] for low, high in bars)
    assert "no spread" in axes.get_title()
    assert "61,706 parameters\n99.15%" in [text.get_text() for text in axes.texts][1]


def test_accuracy_vs_size_rejects_a_size_that_changes_between_seeds():
    table = runs()
    table.loc[1, "total_params"] += 1
    with pytest.raises(ConvscopeError, match="total_params differs between the seeds of dense"):
        accuracy_vs_size(table)


def test_accuracy_vs_size_names_missing_columns_and_unknown_sizes():
    with pytest.raises(ConvscopeError, match=r"lacks columns macs_per_image"):
        accuracy_vs_size(runs().drop(columns="macs_per_image"), "macs_per_image")
    with pytest.raises(ConvscopeError, match="size must be one of total_params, macs_per_image"):
        accuracy_vs_size(runs(), "flops")


def test_learning_curves_are_mean_lines_in_min_to_max_bands(tmp_path):
    figure = learning_curves_with_spread(history())

    accuracy_axes, loss_axes = figure.axes
    # Per model: training and validation, each a band and a mean line
    bands = [c for c in accuracy_axes.collections if isinstance(c, PolyCollection)]
    assert len(bands) == len(accuracy_axes.lines) == 4
    lenet_validation = accuracy_axes.lines[3]
    np.testing.assert_array_equal(lenet_validation.get_xdata(), [1, 2, 3])
    # epochs 1 and 2: mean of both seeds; epoch 3: seed 0 alone (seed 1 stopped early)
    np.testing.assert_allclose(lenet_validation.get_ydata(), [0.956, 0.966, 0.975])
    # The band's outline: seed 0 below at epochs 1, 2, seed 1 above; epoch 3 seed 0 alone
    outline = bands[3].get_paths()[0].vertices
    for epoch, low, high in ((1, 0.955, 0.957), (2, 0.965, 0.967), (3, 0.975, 0.975)):
        at_epoch = outline[outline[:, 0] == epoch, 1]
        assert (at_epoch.min(), at_epoch.max()) == pytest.approx((low, high))
    assert loss_axes.get_title() == "Loss"
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert legend[:2] == ["dense (2 seeds)", "lenet5 (2 seeds)"]
    assert "min to max over seeds" in legend
    assert save_figure(figure, tmp_path / "curves.png").stat().st_size > 0


def test_learning_curves_name_missing_columns():
    with pytest.raises(ConvscopeError, match="lacks columns seed"):
        learning_curves_with_spread(history().drop(columns="seed"))
