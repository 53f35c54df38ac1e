"""Verdict sentences on constructed predictions: a clear win, ties within the noise, one seed."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from convscope.comparison.statistics import compare_models
from convscope.comparison.verdict import (
    accuracy_sentence,
    difference_holds,
    pair_verdict,
    verdict_rule,
    verdict_sentences,
    winner,
)

ALPHA = 0.05


def verdict_of(predictions, labels):
    comparison = compare_models(predictions, labels, alpha=ALPHA)
    (pair,) = comparison.pairs
    return pair, pair_verdict(comparison, pair)


def test_a_clear_win_over_three_seeds_is_called_a_win(labels, random_errors):
    # About 60 against 120 errors, on independent images, in each of three seeds
    predictions = {
        "small": random_errors([120, 125, 118], 2),
        "big": random_errors([60, 62, 65], 1),
    }
    pair, verdict = verdict_of(predictions, labels)

    assert difference_holds(pair, ALPHA)
    assert verdict.more_accurate == "big"
    t_test = stats.ttest_rel([120, 125, 118], [60, 62, 65])
    assert verdict.sentence.startswith(
        "**big is more accurate than small**: 99.38 ± 0.03% against 98.79 ± 0.04% "
        "(mean ± std over 3 seeds); fewer errors in every seed (58.7 fewer on average); "
        f"paired t-test over seeds: p = {t_test.pvalue:.2g}; exact McNemar test"
    )
    assert "summed over seeds" in verdict.sentence
    assert verdict.sentence.endswith("p < 0.0001.")


def test_seeds_that_disagree_in_sign_are_within_the_noise(labels, random_errors):
    predictions = {"a": random_errors([80, 85, 78], 1), "b": random_errors([82, 79, 84], 2)}
    pair, verdict = verdict_of(predictions, labels)

    assert not pair.same_sign
    assert verdict.more_accurate is None
    assert verdict.sentence.startswith("**a and b differ within the noise**: 99.19 ± 0.04% against")
    assert "the seeds disagree (a fewer in seeds 0, 2, b fewer in seed 1)" in verdict.sentence
    assert f"paired t-test over seeds: p = {pair.t_test_p:.2g}" in verdict.sentence
    assert verdict.sentence.endswith("(needed: below 0.05, and the same sign in every seed).")


def test_same_sign_and_mcnemar_are_not_enough_when_the_seeds_vary_too_much(labels, wrong_on):
    # a's 50 errors are among b's in every seed, so McNemar's split is 0 against 43, but
    # b makes 1, 40 and 2 more errors: the t-test over seeds does not reject.
    extra = [1, 40, 2]
    predictions = {
        "a": {seed: wrong_on(np.arange(50)) for seed in range(3)},
        "b": {seed: wrong_on(np.arange(50 + count)) for seed, count in enumerate(extra)},
    }
    pair, verdict = verdict_of(predictions, labels)

    assert pair.same_sign and pair.pooled_mcnemar_p < 1e-4
    assert pair.t_test_p == pytest.approx(stats.ttest_1samp([-1, -40, -2], 0).pvalue)
    assert pair.t_test_p > ALPHA
    assert verdict.more_accurate is None
    assert "**a and b differ within the noise**" in verdict.sentence
    assert "14.3 errors apart on average" in verdict.sentence


def test_a_steady_difference_that_mcnemar_cannot_separate_is_within_the_noise(
    labels, random_errors
):
    # 5 errors apart in every seed, out of ~1,000 discordant images per seed
    predictions = {"a": random_errors([500, 500, 500], 1), "b": random_errors([505, 506, 504], 2)}
    pair, verdict = verdict_of(predictions, labels)

    assert pair.same_sign and pair.t_test_p < ALPHA
    assert pair.pooled_mcnemar_p > ALPHA
    assert verdict.more_accurate is None
    assert f"p = {pair.pooled_mcnemar_p:.2g} (needed" in verdict.sentence


def test_one_seed_lets_mcnemar_decide_and_says_another_seed_could_reorder(labels, random_errors):
    pair, verdict = verdict_of({"a": random_errors([60], 1), "b": random_errors([120], 2)}, labels)

    assert difference_holds(pair, ALPHA) and verdict.more_accurate == "a"
    assert verdict.sentence.startswith(
        "**a is more accurate than b**: 99.40% against 98.80% (one seed); exact McNemar test on "
        "the images only one of them gets wrong ("
    )
    assert "t-test" not in verdict.sentence
    assert verdict.sentence.endswith("One seed: another seed could reorder them.")


def test_one_seed_within_the_noise(labels, random_errors):
    pair, verdict = verdict_of({"a": random_errors([85], 1), "b": random_errors([80], 2)}, labels)

    assert pair.pooled_mcnemar_p > ALPHA
    assert verdict.more_accurate is None
    assert verdict.sentence.startswith(
        "**b and a differ within the noise**: 99.20% against 99.15% (one seed), 5 errors apart; "
        "exact McNemar test"
    )
    assert verdict.sentence.endswith("(needed: below 0.05).")


def test_accuracy_sentences_give_mean_std_min_max_and_the_interval(labels, random_errors):
    several = compare_models({"m": random_errors([80, 85, 90], 1)}, labels, alpha=ALPHA)
    single = compare_models({"m": random_errors([85], 1)}, labels, alpha=ALPHA)

    low, high = several.models[0].interval
    assert accuracy_sentence(several.models[0], ALPHA) == (
        "m: 99.15 ± 0.05% test accuracy (mean ± std over 3 seeds; min 99.10%, max 99.20%; "
        f"95% interval (t over seeds) {low:.2%} to {high:.2%})."
    )
    low, high = single.models[0].interval
    assert accuracy_sentence(single.models[0], ALPHA) == (
        "m: 99.15% test accuracy (one seed, 85 errors of 10,000 images; "
        f"95% interval (Wilson) {low:.2%} to {high:.2%})."
    )


def test_verdict_sentences_cover_every_model_then_every_pair(labels, random_errors):
    predictions = {name: random_errors([50, 60], index) for index, name in enumerate("xyz")}
    comparison = compare_models(predictions, labels, alpha=ALPHA)

    sentences = verdict_sentences(comparison)
    assert len(sentences) == 3 + 3
    assert [sentence.split(":")[0] for sentence in sentences[:3]] == ["x", "y", "z"]
    assert "5% level" in verdict_rule(comparison)


def test_the_winner_is_the_model_called_more_accurate_than_every_other(labels, random_errors):
    predictions = {
        "small": random_errors([120, 125, 118], 2),
        "mid": random_errors([90, 92, 95], 3),
        "big": random_errors([60, 62, 65], 1),
    }
    lead = winner(compare_models(predictions, labels, alpha=ALPHA))
    assert (lead.model, lead.decisive) == ("big", True)


def test_without_a_clear_winner_the_highest_mean_leads_within_the_noise(labels, random_errors):
    predictions = {
        "small": random_errors([120, 125, 118], 2),
        "a": random_errors([60, 70, 64], 1),
        "b": random_errors([66, 61, 69], 3),
    }
    lead = winner(compare_models(predictions, labels, alpha=ALPHA))
    assert (lead.model, lead.decisive) == ("a", False)  # mean 64.7 errors against 65.3
