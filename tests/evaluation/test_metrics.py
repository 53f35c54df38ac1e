"""Scores from probabilities and labels, checked against hand counts and against Keras."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from convscope.evaluation.metrics import (
    confusion_matrix,
    confusion_pairs,
    cross_entropy,
    per_class_table,
)
from convscope.evaluation.misclassified import most_confident_mistakes

# 3 classes, 8 images: class 0 right 2 of 3, class 1 right 3 of 3, class 2 never predicted.
LABELS = np.array([0, 0, 0, 1, 1, 1, 2, 2])
PREDICTED = np.array([0, 0, 1, 1, 1, 1, 0, 1])


def test_confusion_matrix_counts_true_rows_and_predicted_columns() -> None:
    expected = np.array([[2, 1, 0], [0, 3, 0], [1, 1, 0]])
    np.testing.assert_array_equal(confusion_matrix(LABELS, PREDICTED, 3), expected)


def test_per_class_scores_match_hand_computation() -> None:
    table = per_class_table(confusion_matrix(LABELS, PREDICTED, 3), ["a", "b", "c"])
    assert table["name"].tolist() == ["a", "b", "c"]
    assert table["support"].tolist() == [3, 3, 2]
    assert table["predicted"].tolist() == [3, 5, 0]
    np.testing.assert_allclose(table["precision"], [2 / 3, 3 / 5, 0.0])
    np.testing.assert_allclose(table["recall"], [2 / 3, 1.0, 0.0])
    f1_b = 2 * (3 / 5) * 1.0 / (3 / 5 + 1.0)
    np.testing.assert_allclose(table["f1"], [2 / 3, f1_b, 0.0])


def test_cross_entropy_equals_keras_loss_including_clipped_zeros() -> None:
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(10), size=200).astype("float32")
    probabilities[0] = np.eye(10)[3]  # certain and wrong for label 7 below: log(0) is clipped
    labels = rng.integers(0, 10, size=200)
    labels[0] = 7
    keras_loss = keras.losses.SparseCategoricalCrossentropy()(labels, probabilities)
    assert cross_entropy(probabilities, labels) == pytest.approx(float(keras_loss), rel=1e-5)
    assert cross_entropy(np.eye(3), np.arange(3)) == pytest.approx(0.0, abs=1e-6)


def test_confusion_pairs_are_one_named_row_per_image() -> None:
    pairs = confusion_pairs(LABELS, PREDICTED, ["a", "b", "c"])
    assert pairs.columns.tolist() == ["actual", "predicted"]
    assert len(pairs) == len(LABELS)
    assert pairs.iloc[6].tolist() == ["c", "a"]


def test_most_confident_mistakes_are_wrong_and_sorted_by_confidence() -> None:
    probabilities = np.array(
        [
            [0.9, 0.1, 0.0],  # label 0: right
            [0.2, 0.7, 0.1],  # label 0: wrong, 0.7
            [0.05, 0.05, 0.9],  # label 1: wrong, 0.9
            [0.4, 0.6, 0.0],  # label 2: wrong, 0.6
        ]
    )
    mistakes = most_confident_mistakes(probabilities, np.array([0, 0, 1, 2]), count=2)
    assert mistakes["index"].tolist() == [2, 1]
    assert mistakes["actual"].tolist() == [1, 0]
    assert mistakes["predicted"].tolist() == [2, 1]
    np.testing.assert_allclose(mistakes["confidence"], [0.9, 0.7])
    np.testing.assert_allclose(mistakes["p_actual"], [0.05, 0.2])
    assert most_confident_mistakes(probabilities[:1], np.array([0]), count=5).empty
