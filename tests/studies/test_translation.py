from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_unshifted_accuracy_is_the_main_evaluation_and_every_shift_is_measured(
    study_results, main_accuracy, study_runs
) -> None:
    results = study_results("translation")
    assert set(results["direction"]) == {"horizontal", "vertical", "diagonal"}
    assert set(results["pixels"]) == {0, 1, 2}
    for row in results[results["pixels"] == 0].itertuples():
        assert row.accuracy == pytest.approx(main_accuracy(row.model, row.seed))
    shifted = results.groupby("pixels")["accuracy"].mean()
    assert shifted[2] < shifted[0]  # moving the digits costs accuracy
    runs = [r for r in study_runs("translation") if r.data.tags["condition"] != "summary"]
    assert len(runs) == 4  # two models, two seeds: one run each
    assert {"test_accuracy_diagonal", "test_accuracy_vertical"} <= set(runs[0].data.metrics)
