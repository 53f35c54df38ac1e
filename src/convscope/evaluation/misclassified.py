"""The test images a model got wrong while most sure of itself."""

from __future__ import annotations

import numpy as np
import pandas as pd


def most_confident_mistakes(
    probabilities: np.ndarray, labels: np.ndarray, count: int
) -> pd.DataFrame:
    """Up to `count` misclassified images, most confident first.

    Columns: index (into the test set), actual, predicted, confidence (the probability given
    to the wrong prediction), p_actual (the probability given to the true class). Ties keep
    test-set order.
    """
    probabilities = np.asarray(probabilities)
    labels = np.asarray(labels, np.int64)
    predictions = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predictions != labels)
    confidence = probabilities[wrong, predictions[wrong]]
    chosen = wrong[np.argsort(-confidence, kind="stable")[:count]]
    return pd.DataFrame(
        {
            "index": chosen,
            "actual": labels[chosen],
            "predicted": predictions[chosen],
            "confidence": probabilities[chosen, predictions[chosen]].astype(float),
            "p_actual": probabilities[chosen, labels[chosen]].astype(float),
        }
    )
