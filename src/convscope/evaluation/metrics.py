"""Classification scores computed in numpy from predicted probabilities and true labels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

# Probabilities are clipped to [EPSILON, 1 - EPSILON] before the log, exactly as Keras'
# sparse_categorical_crossentropy does, so `cross_entropy` equals `model.evaluate`'s loss.
EPSILON = 1e-7


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts (num_classes, num_classes) int64: row = true class, column = predicted class."""
    labels, predictions = np.asarray(labels, np.int64), np.asarray(predictions, np.int64)
    flat = np.bincount(labels * num_classes + predictions, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def cross_entropy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean sparse categorical cross-entropy (natural log) of (N, classes) probabilities."""
    probabilities = np.asarray(probabilities, np.float64)
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    chosen = probabilities[np.arange(len(labels)), np.asarray(labels, np.int64)]
    return float(-np.log(np.clip(chosen, EPSILON, 1.0 - EPSILON)).mean())


def per_class_table(counts: np.ndarray, class_names: Sequence[str]) -> pd.DataFrame:
    """Precision, recall and F1 of each class from a confusion matrix.

    Columns: class (index), name, support (true images), predicted (images predicted as the
    class), correct, precision, recall, f1. A class never predicted (or absent) scores 0.
    """
    counts = np.asarray(counts, np.int64)
    correct = np.diag(counts)
    support = counts.sum(axis=1)
    predicted = counts.sum(axis=0)
    precision = _ratio(correct, predicted)
    recall = _ratio(correct, support)
    f1 = _ratio(2 * precision * recall, precision + recall)
    return pd.DataFrame(
        {
            "class": np.arange(len(class_names)),
            "name": list(class_names),
            "support": support,
            "predicted": predicted,
            "correct": correct,
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }
    )


def confusion_pairs(
    labels: np.ndarray, predictions: np.ndarray, class_names: Sequence[str]
) -> pd.DataFrame:
    """One row per image with columns `actual` and `predicted` (class names): the long format
    DVC's `confusion` plot template counts."""
    names = np.asarray(list(class_names), dtype=object)
    return pd.DataFrame({"actual": names[labels], "predicted": names[predictions]})


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)
