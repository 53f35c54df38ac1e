"""Verdict sentences: which model is more accurate, said only as strongly as the data allow.

"A is more accurate than B" only when the difference holds across seeds and the paired test
rejects at level `alpha` (see `verdict_rule`); otherwise the sentence says that the
difference is within the noise, and why. Every sentence gives the means ± standard
deviations over seeds and the p-values (from `convscope.comparison.statistics`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from convscope.comparison.statistics import Comparison, ModelAccuracy, PairComparison


@dataclass(frozen=True)
class PairVerdict:
    """The verdict on one pair: who is more accurate (None: within the noise), in words."""

    model_a: str
    model_b: str
    more_accurate: str | None
    sentence: str


def verdict_rule(comparison: Comparison) -> str:
    """The rule the verdicts follow, in one paragraph (for the report)."""
    level = _percent(comparison.alpha)
    return (
        f"A model is called more accurate than another only when, at the {level} level, the "
        "exact McNemar test on the test images they classify differently rejects a 50:50 split "
        "(summed over seeds) and, with several seeds, it makes fewer errors in every seed and "
        "the paired t-test over seeds rejects equal errors. Otherwise the difference is "
        "called within the noise. With a single seed, a verdict speaks for the two trained "
        "models only: another seed could reorder them. The p-values are per pair, not "
        "corrected for the number of pairs."
    )


def accuracy_sentence(model: ModelAccuracy, alpha: float) -> str:
    """'lenet5: 99.15 ± 0.05% test accuracy (mean ± std over 3 seeds; min, max; interval).'"""
    low, high = model.interval
    interval = f"{_percent(1 - alpha)} interval ({model.interval_method}) {low:.2%} to {high:.2%}"
    if len(model.seeds) == 1:
        return (
            f"{model.model}: {model.mean:.2%} test accuracy (one seed, "
            f"{model.errors[0]:,} errors of {model.images:,} images; {interval})."
        )
    return (
        f"{model.model}: {_mean_std(model)} test accuracy (mean ± std over "
        f"{len(model.seeds)} seeds; min {model.min:.2%}, max {model.max:.2%}; {interval})."
    )


def difference_holds(pair: PairComparison, alpha: float) -> bool:
    """Whether `pair` shows a real difference at level `alpha` (the rule of `verdict_rule`).

    One seed: the exact McNemar test rejects. Several: the McNemar test on the discordant
    images summed over seeds rejects, one model makes strictly fewer errors in every seed,
    and the paired t-test over seeds rejects.
    """
    if pair.pooled_mcnemar_p >= alpha:
        return False
    if len(pair.per_seed) == 1:
        return True
    return pair.same_sign and pair.t_test_p is not None and pair.t_test_p < alpha


def pair_verdict(comparison: Comparison, pair: PairComparison) -> PairVerdict:
    """The verdict on `pair` (one of `comparison.pairs`), at `comparison.alpha`."""
    alpha = comparison.alpha
    several = len(pair.per_seed) > 1
    # Orient the sentence: the model with fewer errors on average first.
    a_leads = pair.mean_error_difference <= 0
    leader, follower = (pair.model_a, pair.model_b) if a_leads else (pair.model_b, pair.model_a)
    only_follower_wrong, only_leader_wrong = (
        (pair.pooled_only_b_wrong, pair.pooled_only_a_wrong)
        if a_leads
        else (pair.pooled_only_a_wrong, pair.pooled_only_b_wrong)
    )
    accuracies = (
        f"{_mean_std(comparison.model(leader))} against "
        f"{_mean_std(comparison.model(follower))}"
        + (f" (mean ± std over {len(pair.per_seed)} seeds)" if several else " (one seed)")
    )
    pooled = " summed over seeds" if several else ""
    mcnemar = (
        f"exact McNemar test on the images only one of them gets wrong{pooled} "
        f"({only_follower_wrong:,} only {follower}, {only_leader_wrong:,} only {leader}): "
        f"{_p(pair.pooled_mcnemar_p)}"
    )
    tests = [mcnemar]
    if several:
        assert pair.t_test_p is not None
        tests.insert(0, f"paired t-test over seeds: {_p(pair.t_test_p)}")
    fewer = abs(pair.mean_error_difference)
    if difference_holds(pair, alpha):
        if several:
            evidence = f"fewer errors in every seed ({fewer:,.1f} fewer on average); "
            caveat = ""
        else:
            evidence, caveat = "", " One seed: another seed could reorder them."
        sentence = (
            f"**{leader} is more accurate than {follower}**: {accuracies}; {evidence}"
            f"{'; '.join(tests)}.{caveat}"
        )
        return PairVerdict(pair.model_a, pair.model_b, leader, sentence)
    apart = f"{fewer:,.1f} errors apart on average" if several else f"{fewer:,.0f} errors apart"
    needed = f"below {alpha:g}, and the same sign in every seed" if several else f"below {alpha:g}"
    sentence = (
        f"**{leader} and {follower} differ within the noise**: {accuracies}, {apart}; "
        f"{_seed_signs(pair)}{'; '.join(tests)} (needed: {needed})."
    )
    return PairVerdict(pair.model_a, pair.model_b, None, sentence)


def verdict_sentences(comparison: Comparison) -> list[str]:
    """One accuracy sentence per model, then one verdict per pair."""
    return [accuracy_sentence(model, comparison.alpha) for model in comparison.models] + [
        pair_verdict(comparison, pair).sentence for pair in comparison.pairs
    ]


def _seed_signs(pair: PairComparison) -> str:
    """With several seeds, which model made fewer errors in each seed (when they disagree)."""
    if len(pair.per_seed) == 1 or pair.same_sign:
        return ""
    fewer_a = [seed.seed for seed in pair.per_seed if seed.error_difference < 0]
    fewer_b = [seed.seed for seed in pair.per_seed if seed.error_difference > 0]
    equal = [seed.seed for seed in pair.per_seed if seed.error_difference == 0]
    parts = [
        f"{who} fewer in {_seeds(seeds)}"
        for who, seeds in ((pair.model_a, fewer_a), (pair.model_b, fewer_b), ("equal", equal))
        if seeds
    ]
    return f"the seeds disagree ({', '.join(parts)}); "


def _seeds(seeds: list[int]) -> str:
    return f"{'seeds' if len(seeds) > 1 else 'seed'} {', '.join(str(seed) for seed in seeds)}"


def _mean_std(model: ModelAccuracy) -> str:
    """'99.15 ± 0.05%' (± the standard deviation in percentage points), or '99.15%'."""
    if math.isnan(model.std):
        return f"{model.mean:.2%}"
    return f"{100 * model.mean:.2f} ± {100 * model.std:.2f}%"


def _p(p: float) -> str:
    return "p < 0.0001" if p < 1e-4 else f"p = {p:.2g}"


def _percent(fraction: float) -> str:
    return f"{100 * fraction:g}%"


@dataclass(frozen=True)
class Winner:
    """The model that leads the comparison, and whether the verdict backs the lead."""

    model: str
    decisive: bool  # the verdict calls it more accurate than every other model


def winner(comparison: Comparison) -> Winner:
    """The model the verdict calls more accurate than every other; if there is none, the
    highest mean accuracy (first in order on a tie), with `decisive` False."""
    names = [model.model for model in comparison.models]
    beaten: dict[str, set[str]] = {name: set() for name in names}
    for pair in comparison.pairs:
        verdict = pair_verdict(comparison, pair)
        if verdict.more_accurate is not None:
            loser = pair.model_b if verdict.more_accurate == pair.model_a else pair.model_a
            beaten[verdict.more_accurate].add(loser)
    for name in names:
        if beaten[name] == set(names) - {name}:
            return Winner(name, decisive=True)
    best = max(comparison.models, key=lambda model: model.mean)
    return Winner(best.model, decisive=len(names) == 1)
