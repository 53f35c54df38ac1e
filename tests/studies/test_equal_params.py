from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_the_dense_net_of_lenet5s_size_is_compared_seed_by_seed(
    study_results, main_accuracy, mnist_pipeline
) -> None:
    results = study_results("equal_params")
    assert set(results["model"]) == {"dense_equal_params", "dense", "lenet5"}
    assert set(results["seed"]) == {42, 43}
    for row in results[results["model"] != "dense_equal_params"].itertuples():
        assert row.accuracy == pytest.approx(main_accuracy(row.model, row.seed))
    counts = results.groupby("model")["total_params"].first()
    assert counts["dense_equal_params"] == 62_020 and counts["lenet5"] == 61_706
    section = mnist_pipeline.workspace.reports / "studies" / "equal_params" / "section.md"
    assert "paired t-test over seeds" in section.read_text()
