"""Evaluation and comparison charts on small, realistic inputs."""

from __future__ import annotations

import numpy as np
import pytest

from convscope.errors import ConvscopeError
from convscope.report.model_figures import confusion_matrix_figure, misclassified_grid

CLASSES = [str(digit) for digit in range(10)]


def test_confusion_matrix_annotates_counts_and_colours_by_row_fraction():
    counts = np.diag([90, 5, 40]) + np.array([[0, 10, 0], [5, 0, 0], [0, 0, 0]])

    figure = confusion_matrix_figure(counts, ["zero", "one", "two"], "lenet5 on test")

    axes = figure.axes[0]
    assert [int(text.get_text()) for text in axes.texts] == counts.ravel().tolist()
    colours = axes.images[0].get_array()
    np.testing.assert_allclose(colours.sum(axis=1), 1.0)
    assert colours[1, 1] == pytest.approx(0.5)  # 5 of class "one"'s 10 images
    assert [label.get_text() for label in axes.get_xticklabels()] == ["zero", "one", "two"]
    assert axes.get_xlabel() == "predicted class" and axes.get_ylabel() == "true class"
    assert "lenet5 on test" in axes.get_title() and "90.00% correct" in axes.get_title()
    assert len(figure.axes) == 2  # with its colour bar


def test_confusion_matrix_rejects_a_size_that_does_not_match_the_class_names():
    with pytest.raises(ConvscopeError, match=r"10x10 matrix for 10 class names.*\(3, 3\)"):
        confusion_matrix_figure(np.eye(3, dtype=int), CLASSES, "x")


def test_confusion_matrix_rejects_negative_counts():
    with pytest.raises(ConvscopeError, match="non-negative integer counts"):
        confusion_matrix_figure(-np.eye(2, dtype=int), ["a", "b"], "x")


def test_misclassified_grid_titles_each_tile_with_truth_prediction_and_confidence(mosaic):
    images = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28, 1), dtype=np.uint8)

    figure = misclassified_grid(
        images, [4, 1, 7, 3, 5], [9, 7, 1, 8, 6], [0.98, 0.5, 0.61, 0.7, 0.333], CLASSES, "x"
    )

    axes, _, tiles = mosaic(figure)
    assert tiles == 5
    assert axes.texts[0].get_text() == "true 4 → pred 9 (0.98)"
    assert axes.texts[4].get_text() == "true 5 → pred 6 (0.33)"


def test_misclassified_grid_with_no_mistakes_says_so():
    figure = misclassified_grid(np.zeros((0, 28, 28)), [], [], [], CLASSES, "stacked_conv")
    assert figure.axes[0].texts[0].get_text() == "no misclassified images"


def test_misclassified_grid_rejects_labels_outside_the_classes():
    with pytest.raises(ConvscopeError, match="pred_labels must index the 10 class names"):
        misclassified_grid(np.zeros((1, 28, 28)), [1], [10], [0.9], CLASSES, "x")


def test_misclassified_grid_rejects_mismatched_lengths():
    with pytest.raises(ConvscopeError, match="2 labels, 1 predictions"):
        misclassified_grid(np.zeros((2, 28, 28)), [1, 2], [3], [0.9, 0.8], CLASSES, "x")
