from __future__ import annotations

import numpy as np

from convscope.studies.paired import (
    accuracy_cell,
    p_cell,
    paired_verdicts,
    seeds_phrase,
    verdict_word,
)


def test_a_model_against_itself_under_a_condition_gets_the_main_verdict() -> None:
    labels = np.repeat(np.arange(10), 100)
    rng = np.random.default_rng(0)
    good = {seed: np.where(rng.random(1000) < 0.99, labels, (labels + 1) % 10) for seed in (1, 2)}
    bad = {seed: np.where(rng.random(1000) < 0.7, labels, (labels + 1) % 10) for seed in (1, 2)}
    comparison, (verdict,) = paired_verdicts(
        {"a, original": good, "a, shuffled": bad}, labels, 0.05
    )
    assert verdict.more_accurate == "a, original"
    assert verdict_word(verdict, "a, original") == "more accurate"
    assert verdict_word(verdict, "a, shuffled") == "less accurate"
    assert accuracy_cell(comparison.models[0]).endswith("%") and "±" in accuracy_cell(
        comparison.models[0]
    )
    _, (same,) = paired_verdicts({"x": good, "y": good}, labels, 0.05)
    assert verdict_word(same, "x") == "within the noise"


def test_cells_and_phrases() -> None:
    assert p_cell(None) == "—"
    assert p_cell(1e-9) == "< 0.0001"
    assert p_cell(0.0312) == "0.031"
    assert seeds_phrase([42]) == "1 seed (42)"
    assert seeds_phrase([42, 43]) == "2 seeds (42, 43)"
