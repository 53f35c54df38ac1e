"""Accuracy over seeds and paired tests, on constructed predictions with known errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from convscope.comparison.statistics import (
    compare_models,
    exact_mcnemar_p,
    model_table,
    pair_table,
    predictions_from_tables,
    seed_table,
)
from convscope.errors import ConvscopeError


def test_exact_mcnemar_is_the_two_sided_binomial_test_on_the_discordant_images():
    # 1 against 5 discordant images: P(X <= 1) for X ~ Binomial(6, 1/2) is 7/64, doubled.
    assert exact_mcnemar_p(1, 5) == pytest.approx(14 / 64)
    assert exact_mcnemar_p(5, 1) == pytest.approx(14 / 64)
    assert exact_mcnemar_p(3, 3) == pytest.approx(1.0)
    assert exact_mcnemar_p(0, 0) == 1.0  # the models agree on every image: no evidence


def test_one_seed_gets_the_wilson_interval_on_the_test_images(labels, random_errors):
    comparison = compare_models({"m": random_errors([85], 0)}, labels, alpha=0.05)

    (model,) = comparison.models
    assert model.errors == (85,)
    assert model.mean == model.min == model.max == pytest.approx(0.9915)
    assert math.isnan(model.std)
    assert model.interval_method == "Wilson"
    # Wilson score interval, p = 0.9915, n = 10,000, z = 1.95996: centre and half-width
    n, p, z = 10_000, 0.9915, 1.959964
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert model.interval == pytest.approx((centre - half, centre + half), abs=1e-6)
    assert model.interval[0] < 0.9915 < model.interval[1]


def test_several_seeds_get_mean_std_and_the_t_interval_over_seeds(labels, random_errors):
    comparison = compare_models({"m": random_errors([80, 85, 90], 0)}, labels, alpha=0.05)

    model = comparison.model("m")
    assert model.seeds == (0, 1, 2)
    assert model.accuracies == pytest.approx((0.992, 0.9915, 0.991))
    assert model.mean == pytest.approx(0.9915)
    assert model.std == pytest.approx(0.0005)  # sample std of 0.9920, 0.9915, 0.9910
    assert (model.min, model.max) == pytest.approx((0.991, 0.992))
    assert model.interval_method == "t over seeds"
    # mean ± t(0.975, 2 df) * s / sqrt(3), t = 4.302653
    half = 4.302653 * 0.0005 / math.sqrt(3)
    assert model.interval == pytest.approx((0.9915 - half, 0.9915 + half), abs=1e-7)


def test_equal_accuracy_in_every_seed_gives_a_zero_width_interval_without_warnings(
    labels, random_errors
):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy warns when it divides by a zero deviation
        model = compare_models({"m": random_errors([85, 85], 0)}, labels, alpha=0.05).models[0]
    assert model.std == 0.0
    assert model.interval == pytest.approx((0.9915, 0.9915))


def test_pairs_count_discordant_images_per_seed(labels, wrong_on):
    # Seed 0: A wrong on 0..9, B wrong on 5..29 (overlap 5..9)
    # Seed 1: A wrong on 0..19, B wrong on 0..4
    predictions = {
        "a": {0: wrong_on(np.arange(10)), 1: wrong_on(np.arange(20))},
        "b": {0: wrong_on(np.arange(5, 30)), 1: wrong_on(np.arange(5))},
    }
    comparison = compare_models(predictions, labels, alpha=0.05)

    (pair,) = comparison.pairs
    assert (pair.model_a, pair.model_b, pair.images) == ("a", "b", 10_000)
    first, second = pair.per_seed
    assert (first.seed, first.errors_a, first.errors_b) == (0, 10, 25)
    assert (first.only_a_wrong, first.only_b_wrong, first.error_difference) == (5, 20, -15)
    assert first.mcnemar_p == pytest.approx(stats.binomtest(5, 25, 0.5).pvalue)
    assert (second.only_a_wrong, second.only_b_wrong, second.error_difference) == (15, 0, 15)
    assert not pair.same_sign
    assert pair.mean_error_difference == 0.0
    assert (pair.pooled_only_a_wrong, pair.pooled_only_b_wrong) == (20, 20)
    assert pair.pooled_mcnemar_p == pytest.approx(1.0)
    assert pair.t_test_p == pytest.approx(1.0)  # differences -15 and +15: mean 0


def test_paired_t_test_over_seeds_is_scipys_ttest_rel_on_the_errors(labels, random_errors):
    predictions = {"a": random_errors([60, 62, 65], 1), "b": random_errors([90, 99, 93], 2)}
    comparison = compare_models(predictions, labels, alpha=0.05)

    pair = comparison.pairs[0]
    expected = stats.ttest_rel([60, 62, 65], [90, 99, 93])
    assert pair.t_test_p == pytest.approx(expected.pvalue)
    assert pair.difference_interval == pytest.approx(tuple(expected.confidence_interval(0.95)))
    assert pair.mean_error_difference == pytest.approx(-95 / 3)
    assert pair.std_error_difference == pytest.approx(np.std([-30, -37, -28], ddof=1))
    assert pair.same_sign


def test_one_seed_has_no_test_over_seeds(labels, random_errors):
    pair = compare_models(
        {"a": random_errors([60], 1), "b": random_errors([90], 2)}, labels, alpha=0.05
    ).pairs[0]
    assert pair.t_test_p is None and pair.difference_interval is None
    assert math.isnan(pair.std_error_difference)
    assert pair.pooled_mcnemar_p == pair.per_seed[0].mcnemar_p


def test_asking_for_an_unknown_model_names_the_known_ones(labels, random_errors):
    comparison = compare_models({"m": random_errors([5], 0)}, labels, alpha=0.05)
    with pytest.raises(ConvscopeError, match=r"no model 'x' in this comparison \(models: m\)"):
        comparison.model("x")


def test_every_pair_in_the_models_order(labels, random_errors):
    predictions = {name: random_errors([50, 60], index) for index, name in enumerate("xyz")}
    comparison = compare_models(predictions, labels, alpha=0.05)
    assert [(pair.model_a, pair.model_b) for pair in comparison.pairs] == [
        ("x", "y"),
        ("x", "z"),
        ("y", "z"),
    ]


def test_tables_have_one_row_per_model_per_pair_and_per_pair_and_seed(labels, random_errors):
    predictions = {name: random_errors([50, 60, 70], index) for index, name in enumerate("xyz")}
    comparison = compare_models(predictions, labels, alpha=0.05)

    models = model_table(comparison)
    assert models["model"].tolist() == ["x", "y", "z"]
    assert models.loc[0, "mean_accuracy"] == pytest.approx(0.994)
    assert models.loc[0, "interval_method"] == "t over seeds"
    assert len(seed_table(comparison)) == 3 * 3
    pairs = pair_table(comparison)
    assert len(pairs) == 3
    assert set(pairs.columns) >= {"t_test_p", "pooled_mcnemar_p", "same_sign_every_seed"}
    assert pairs["mean_error_difference"].tolist() == [0.0, 0.0, 0.0]


def test_predictions_from_tables_reads_confusion_csv_shaped_frames():
    tables = {
        "a": {0: pd.DataFrame({"actual": [1, 2, 3], "predicted": [1, 2, 0]})},
        "b": {0: pd.DataFrame({"actual": [1, 2, 3], "predicted": [1, 1, 3]})},
    }
    labels, predictions = predictions_from_tables(tables)
    assert labels.tolist() == [1, 2, 3]
    assert predictions["b"][0].tolist() == [1, 1, 3]


def test_predictions_from_tables_rejects_tables_on_other_images():
    tables = {
        "a": {0: pd.DataFrame({"actual": [1, 2, 3], "predicted": [1, 2, 3]})},
        "b": {4: pd.DataFrame({"actual": [1, 2, 4], "predicted": [1, 2, 4]})},
    }
    with pytest.raises(ConvscopeError, match=r"model 'b', seed 4 .* not on the same test images"):
        predictions_from_tables(tables)


def test_predictions_from_tables_names_missing_columns():
    with pytest.raises(ConvscopeError, match=r"model 'a', seed 0 lack columns predicted"):
        predictions_from_tables({"a": {0: pd.DataFrame({"actual": [1]})}})


def test_models_with_different_seeds_cannot_be_paired(labels, random_errors):
    predictions = {"a": random_errors([5, 6], 0), "b": random_errors([5], 0)}
    with pytest.raises(ConvscopeError, match=r"'b' has seeds \[0\], but 'a' has \[0, 1\]"):
        compare_models(predictions, labels, alpha=0.05)


def test_predictions_of_the_wrong_length_are_rejected(labels):
    with pytest.raises(ConvscopeError, match=r"model 'a', seed 3 have shape \(9,\)"):
        compare_models({"a": {3: labels[:9]}}, labels, alpha=0.05)


def test_alpha_outside_zero_one_is_rejected(labels):
    with pytest.raises(ConvscopeError, match=r"alpha must be in \(0, 1\), got 5"):
        compare_models({"a": {0: labels}}, labels, alpha=5)
