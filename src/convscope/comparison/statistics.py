"""Test accuracy over seeds, and paired tests between models, from per-image predictions.

The input is, for each model and training seed, the predicted class of every test image, and
the true classes: the same images, in the same order, for every model and seed (what
`evaluate` writes as `confusion.csv`, one row per image; see `predictions_from_tables`).

Per model (`ModelAccuracy`): test accuracy mean, sample standard deviation over seeds
(undefined, NaN, with one seed), min, max, and a `1 - alpha` interval:
- one seed: the Wilson score interval on the test images. It covers only the test set's
  sampling noise: it says nothing about another seed;
- several seeds: the Student t-interval of the mean over seeds, which covers the training
  noise from seed to seed (and, through it, part of the test-set noise).

Per pair of models (`PairComparison`), seed by seed, on the same test images: each model's
errors, the paired difference, and the exact McNemar test on the discordant images (those
one model gets right and the other wrong). Across seeds, two tests:
- the paired t-test over seeds of the per-seed error counts (`scipy.stats.ttest_rel`, run as
  the one-sample t-test of the per-seed differences, which it is by definition). The
  seed is the unit that is replicated, so this is the test of "would another seed reorder
  them": it weighs the difference against how much it moves from seed to seed. With 3 seeds
  it has 2 degrees of freedom and little power, which is honest: 3 trainings are little
  evidence about training noise;
- the exact McNemar test on the discordant counts summed over seeds. It uses every test image
  of every seed, but it counts the same image once per seed as if independent, and hard images
  are discordant again and again, so on its own it overstates the evidence.
The verdict (`convscope.comparison.verdict`) requires both, and the same sign in every seed:
a conjunction is never more likely to claim a false difference than its most careful part.

Counts, not accuracies, go into the t-tests: the same p-values (a t-test does not depend on
the unit) without the floating-point cancellation scipy warns about for nearly equal
accuracies such as 0.9915 and 0.9916. No correction for multiple pairs is made: the p-values
are per pair.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from convscope.errors import ConvscopeError

# {model: {seed: predicted class of every test image}}
Predictions = Mapping[str, Mapping[int, ArrayLike]]
TABLE_COLUMNS = ("actual", "predicted")


@dataclass(frozen=True)
class ModelAccuracy:
    """One model's test accuracy over its seeds (fractions in [0, 1])."""

    model: str
    seeds: tuple[int, ...]
    images: int  # test images per seed
    errors: tuple[int, ...]  # per seed, in `seeds` order
    mean: float
    std: float  # sample standard deviation over seeds (ddof=1); NaN with one seed
    min: float
    max: float
    interval: tuple[float, float]  # the `1 - alpha` interval of the accuracy
    interval_method: str  # "Wilson" (one seed) or "t over seeds"

    @property
    def accuracies(self) -> tuple[float, ...]:
        """Test accuracy of each seed, in `seeds` order."""
        return tuple(1 - errors / self.images for errors in self.errors)


@dataclass(frozen=True)
class SeedPair:
    """Two models trained with the same seed, compared on the same test images."""

    seed: int
    errors_a: int
    errors_b: int
    only_a_wrong: int  # images model A gets wrong and model B right
    only_b_wrong: int  # images model B gets wrong and model A right
    mcnemar_p: float  # exact McNemar test (two-sided) on only_a_wrong vs only_b_wrong

    @property
    def error_difference(self) -> int:
        """errors_a - errors_b (negative: A makes fewer errors)."""
        return self.errors_a - self.errors_b


@dataclass(frozen=True)
class PairComparison:
    """Model A against model B: seed by seed and across seeds."""

    model_a: str
    model_b: str
    images: int
    per_seed: tuple[SeedPair, ...]
    mean_error_difference: float  # errors_a - errors_b, mean over seeds
    std_error_difference: float  # sample standard deviation over seeds; NaN with one seed
    t_test_p: float | None  # paired t-test over seeds; None with one seed
    # The `1 - alpha` t-interval of the mean error difference; None with one seed
    difference_interval: tuple[float, float] | None
    pooled_only_a_wrong: int
    pooled_only_b_wrong: int
    pooled_mcnemar_p: float  # exact McNemar test on the discordant counts summed over seeds

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(pair.seed for pair in self.per_seed)

    @property
    def same_sign(self) -> bool:
        """Whether one model makes strictly fewer errors than the other in every seed."""
        signs = {np.sign(pair.error_difference) for pair in self.per_seed}
        return len(signs) == 1 and 0 not in signs


@dataclass(frozen=True)
class Comparison:
    """Every model's accuracy and every pair's tests, at significance level `alpha`."""

    alpha: float
    models: tuple[ModelAccuracy, ...]
    pairs: tuple[PairComparison, ...]

    def model(self, name: str) -> ModelAccuracy:
        """The accuracy of model `name`."""
        for model in self.models:
            if model.model == name:
                return model
        known = ", ".join(model.model for model in self.models)
        raise ConvscopeError(f"no model {name!r} in this comparison (models: {known})")


def compare_models(predictions: Predictions, labels: ArrayLike, *, alpha: float) -> Comparison:
    """Accuracy of each model and paired tests of each pair (in the models' order).

    `predictions[model][seed]` holds the predicted class of every test image, `labels` the
    true ones. Every model must have the same seeds. Intervals are at level `1 - alpha`.
    """
    truth = _checked_labels(labels)
    if not 0 < alpha < 1:
        raise ConvscopeError(f"compare_models: alpha must be in (0, 1), got {alpha}")
    correct = _correctness(predictions, truth)
    models = tuple(
        _model_accuracy(name, seeds, len(truth), alpha) for name, seeds in correct.items()
    )
    pairs = tuple(
        _pair(a, correct[a], b, correct[b], alpha) for a, b in itertools.combinations(correct, 2)
    )
    return Comparison(alpha, models, pairs)


def predictions_from_tables(
    tables: Mapping[str, Mapping[int, pd.DataFrame]],
) -> tuple[np.ndarray, dict[str, dict[int, np.ndarray]]]:
    """(labels, predictions) from per-image tables with columns actual, predicted.

    `tables[model][seed]` is one evaluation's table (e.g. a `confusion.csv` read with
    pandas). Every table must list the same images: its `actual` column equal to the others'.
    """
    labels: np.ndarray | None = None
    first = ""
    predictions: dict[str, dict[int, np.ndarray]] = {}
    for model, seeds in tables.items():
        predictions[model] = {}
        for seed, table in seeds.items():
            where = f"model {model!r}, seed {seed}"
            missing = [column for column in TABLE_COLUMNS if column not in table.columns]
            if missing:
                raise ConvscopeError(
                    f"predictions of {where} lack columns {', '.join(missing)}; expected "
                    f"{', '.join(TABLE_COLUMNS)}"
                )
            actual = table["actual"].to_numpy()
            if labels is None:
                labels, first = actual, where
            elif not np.array_equal(actual, labels):
                raise ConvscopeError(
                    f"predictions of {where} are not on the same test images as those of "
                    f"{first} (their 'actual' columns differ)"
                )
            predictions[model][seed] = table["predicted"].to_numpy()
    if labels is None:
        raise ConvscopeError("predictions_from_tables: expected at least one table, got none")
    return labels, predictions


def model_table(comparison: Comparison) -> pd.DataFrame:
    """One row per model: seeds, mean ± std, min, max and interval of the test accuracy."""
    rows = [
        {
            "model": model.model,
            "seeds": len(model.seeds),
            "test_images": model.images,
            "mean_accuracy": model.mean,
            "std_accuracy": model.std,
            "min_accuracy": model.min,
            "max_accuracy": model.max,
            "interval_low": model.interval[0],
            "interval_high": model.interval[1],
            "interval_method": model.interval_method,
            "mean_errors": float(np.mean(model.errors)),
        }
        for model in comparison.models
    ]
    return pd.DataFrame(rows)


def seed_table(comparison: Comparison) -> pd.DataFrame:
    """One row per pair of models and seed: errors, their difference, McNemar's test."""
    rows = [
        {
            "model_a": pair.model_a,
            "model_b": pair.model_b,
            "seed": seed.seed,
            "errors_a": seed.errors_a,
            "errors_b": seed.errors_b,
            "error_difference": seed.error_difference,
            "only_a_wrong": seed.only_a_wrong,
            "only_b_wrong": seed.only_b_wrong,
            "mcnemar_p": seed.mcnemar_p,
        }
        for pair in comparison.pairs
        for seed in pair.per_seed
    ]
    return pd.DataFrame(rows)


def pair_table(comparison: Comparison) -> pd.DataFrame:
    """One row per pair of models: the error difference over seeds and the two tests."""
    rows = []
    for pair in comparison.pairs:
        low, high = pair.difference_interval or (math.nan, math.nan)
        rows.append(
            {
                "model_a": pair.model_a,
                "model_b": pair.model_b,
                "seeds": len(pair.per_seed),
                "mean_error_difference": pair.mean_error_difference,
                "std_error_difference": pair.std_error_difference,
                "difference_interval_low": low,
                "difference_interval_high": high,
                "same_sign_every_seed": pair.same_sign,
                "t_test_p": math.nan if pair.t_test_p is None else pair.t_test_p,
                "pooled_only_a_wrong": pair.pooled_only_a_wrong,
                "pooled_only_b_wrong": pair.pooled_only_b_wrong,
                "pooled_mcnemar_p": pair.pooled_mcnemar_p,
            }
        )
    return pd.DataFrame(rows)


def exact_mcnemar_p(only_a_wrong: int, only_b_wrong: int) -> float:
    """Two-sided exact McNemar test: are the discordant images split 50:50?

    scipy has no McNemar function; the exact test *is* the two-sided binomial test of the
    discordant count against p = 0.5, so it is `scipy.stats.binomtest`. (statsmodels'
    `mcnemar(exact=True)` computes the same; it is not a dependency of convscope.) With no
    discordant image at all the two models agree everywhere: no evidence, p = 1.
    """
    discordant = only_a_wrong + only_b_wrong
    if discordant == 0:
        return 1.0
    return float(stats.binomtest(only_a_wrong, discordant, 0.5).pvalue)


def _checked_labels(labels: ArrayLike) -> np.ndarray:
    truth = np.asarray(labels)
    if truth.ndim != 1 or truth.size == 0:
        raise ConvscopeError(
            f"compare_models: expected a non-empty 1-D array of true labels, got shape "
            f"{truth.shape}"
        )
    return truth


def _correctness(predictions: Predictions, truth: np.ndarray) -> dict[str, dict[int, np.ndarray]]:
    """{model: {seed: boolean array, True where the image is classified right}}, checked."""
    if not predictions:
        raise ConvscopeError("compare_models: expected at least one model's predictions, got none")
    first_model, first_seeds = next(iter(predictions.items()))
    expected_seeds = sorted(first_seeds)
    correct: dict[str, dict[int, np.ndarray]] = {}
    for model, seeds in predictions.items():
        if sorted(seeds) != expected_seeds or not seeds:
            raise ConvscopeError(
                f"compare_models: model {model!r} has seeds {sorted(seeds)}, but "
                f"{first_model!r} has {expected_seeds}; every model needs the same, non-empty "
                "set of seeds to be paired"
            )
        correct[model] = {}
        for seed in expected_seeds:
            predicted = np.asarray(seeds[seed])
            if predicted.shape != truth.shape:
                raise ConvscopeError(
                    f"compare_models: predictions of model {model!r}, seed {seed} have shape "
                    f"{predicted.shape}; expected one per test image, {truth.shape}"
                )
            correct[model][seed] = predicted == truth
    return correct


def _model_accuracy(
    name: str, correct: Mapping[int, np.ndarray], images: int, alpha: float
) -> ModelAccuracy:
    seeds = tuple(correct)
    errors = np.array([images - int(correct[seed].sum()) for seed in seeds])
    accuracies = 1 - errors / images
    if len(seeds) == 1:
        wilson = stats.binomtest(images - int(errors[0]), images).proportion_ci(
            confidence_level=1 - alpha, method="wilson"
        )
        interval, method = (float(wilson.low), float(wilson.high)), "Wilson"
    else:
        _, (low_errors, high_errors) = _t_test(errors, alpha)
        # More errors, less accuracy: the bounds swap. A t-interval can pass 0 or 1: clip.
        interval = (max(0.0, 1 - high_errors / images), min(1.0, 1 - low_errors / images))
        method = "t over seeds"
    return ModelAccuracy(
        model=name,
        seeds=seeds,
        images=images,
        errors=tuple(int(count) for count in errors),
        mean=float(accuracies.mean()),
        std=float(accuracies.std(ddof=1)) if len(seeds) > 1 else math.nan,
        min=float(accuracies.min()),
        max=float(accuracies.max()),
        interval=interval,
        interval_method=method,
    )


def _pair(
    name_a: str,
    correct_a: Mapping[int, np.ndarray],
    name_b: str,
    correct_b: Mapping[int, np.ndarray],
    alpha: float,
) -> PairComparison:
    per_seed = []
    for seed, right_a in correct_a.items():
        right_b = correct_b[seed]
        only_a_wrong = int((~right_a & right_b).sum())
        only_b_wrong = int((right_a & ~right_b).sum())
        per_seed.append(
            SeedPair(
                seed=seed,
                errors_a=int((~right_a).sum()),
                errors_b=int((~right_b).sum()),
                only_a_wrong=only_a_wrong,
                only_b_wrong=only_b_wrong,
                mcnemar_p=exact_mcnemar_p(only_a_wrong, only_b_wrong),
            )
        )
    differences = np.array([pair.error_difference for pair in per_seed])
    t_test_p: float | None = None
    interval: tuple[float, float] | None = None
    if len(per_seed) > 1:
        t_test_p, interval = _t_test(differences, alpha)
    pooled_a = sum(pair.only_a_wrong for pair in per_seed)
    pooled_b = sum(pair.only_b_wrong for pair in per_seed)
    return PairComparison(
        model_a=name_a,
        model_b=name_b,
        images=len(next(iter(correct_a.values()))),
        per_seed=tuple(per_seed),
        mean_error_difference=float(differences.mean()),
        std_error_difference=float(differences.std(ddof=1)) if len(per_seed) > 1 else math.nan,
        t_test_p=t_test_p,
        difference_interval=interval,
        pooled_only_a_wrong=pooled_a,
        pooled_only_b_wrong=pooled_b,
        pooled_mcnemar_p=exact_mcnemar_p(pooled_a, pooled_b),
    )


def _t_test(values: np.ndarray, alpha: float) -> tuple[float, tuple[float, float]]:
    """Two-sided one-sample t-test of mean 0 and the `1 - alpha` t-interval of the mean.

    On per-seed error differences this is exactly `ttest_rel(errors_a, errors_b)`. When every
    value is the same, the standard deviation is 0 and scipy divides by it (with a warning):
    the interval is then the value itself, and the p-value 0 for a non-zero value (every seed
    shows the same difference) or 1 for zero (no difference at all).
    """
    if np.ptp(values) == 0:
        value = float(values[0])
        return (0.0 if value != 0 else 1.0), (value, value)
    result = stats.ttest_1samp(values, 0.0)
    ci = result.confidence_interval(confidence_level=1 - alpha)
    return float(result.pvalue), (float(ci.low), float(ci.high))
