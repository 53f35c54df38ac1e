from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_each_model_is_retrained_on_permuted_pixels_and_paired_with_its_main_run(
    study_results, main_accuracy, study_runs
) -> None:
    results = study_results("permutation")
    assert set(results["model"]) == {"dense", "lenet5"}
    assert set(results["seed"]) == {42}
    for row in results[results["condition"] == "original pixels"].itertuples():
        assert row.accuracy == pytest.approx(main_accuracy(row.model, row.seed))
    assert len(results[results["condition"] == "pixels permuted"]) == 2
    trainings = [r for r in study_runs("permutation") if r.data.tags["condition"] != "summary"]
    assert {r.data.tags["model"] for r in trainings} == {"dense", "lenet5"}
    assert all(r.data.tags["condition"] == "pixels permuted" for r in trainings)
    derivations = {
        tag.value
        for run in trainings
        for item in run.inputs.dataset_inputs
        for tag in item.tags
        if tag.key == "derivation"
    }
    assert derivations and all("pixels permuted (seed 0)" in d for d in derivations)
