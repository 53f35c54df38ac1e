from __future__ import annotations

import pandas as pd
import pytest

from convscope.errors import ConvscopeError
from convscope.report.study_figures import accuracy_bars, accuracy_lines


def results(**columns: list) -> pd.DataFrame:
    return pd.DataFrame(columns)


def test_accuracy_lines_draw_one_panel_per_value_and_one_line_per_model() -> None:
    frame = results(
        model=["dense", "dense", "lenet5", "lenet5"] * 2,
        seed=[42, 43, 42, 43] * 2,
        pixels=[0, 0, 0, 0, 2, 2, 2, 2],
        direction=["diagonal"] * 4 + ["diagonal"] * 4,
        accuracy=[0.98, 0.97, 0.99, 0.99, 0.6, 0.62, 0.9, 0.91],
    )
    frame = pd.concat([frame, frame.assign(direction="vertical")], ignore_index=True)
    fig = accuracy_lines(frame, "pixels", "shift", "title", panels="direction")
    axes = fig.axes
    assert [a.get_title() for a in axes] == ["diagonal", "vertical"]
    assert [line.get_label() for line in axes[0].get_lines()] == ["dense", "lenet5"]
    assert len(axes[0].collections) == 2  # a min-max band per model: two seeds each


def test_accuracy_lines_on_a_log_axis_have_one_tick_per_size() -> None:
    frame = results(
        model=["dense"] * 3, seed=[42] * 3, images=[600, 3000, 55000], accuracy=[0.8, 0.9, 0.98]
    )
    fig = accuracy_lines(frame, "images", "training images", "title", log_x=True)
    assert fig.axes[0].get_xscale() == "log"
    assert list(fig.axes[0].get_xticks()) == [600, 3000, 55000]
    assert not fig.axes[0].collections  # one seed: no band
    assert not [t for t in fig.axes[0].get_xminorticklabels() if t.get_text()]


def test_accuracy_bars_draw_a_bar_per_model_and_condition_and_a_dot_per_seed() -> None:
    frame = results(
        model=["dense", "dense", "lenet5", "lenet5"],
        seed=[42, 42, 42, 42],
        condition=["original", "permuted"] * 2,
        accuracy=[0.98, 0.979, 0.99, 0.96],
    )
    fig = accuracy_bars(frame, "condition", "title")
    axes = fig.axes[0]
    assert len(axes.patches) == 4
    assert [t.get_text() for t in axes.get_xticklabels()] == ["dense", "lenet5"]


def test_missing_columns_or_no_rows_are_one_line() -> None:
    with pytest.raises(ConvscopeError, match="lack columns pixels"):
        accuracy_lines(results(model=[], seed=[], accuracy=[]), "pixels", "x", "t")
    with pytest.raises(ConvscopeError, match="no results"):
        accuracy_bars(results(model=[], seed=[], accuracy=[], condition=[]), "condition", "t")
