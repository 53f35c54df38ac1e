from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_each_model_trains_on_each_subset_and_the_whole_set_is_the_main_run(
    study_results, main_accuracy, mnist_pipeline
) -> None:
    results = study_results("data_size")
    # TINY_STUDIES' sizes, then the main comparison's 2,000 training images (TINY_TRAINING)
    assert sorted(set(results["images"])) == [100, 300, 2000]
    for row in results[results["images"] == 2000].itertuples():
        assert row.accuracy == pytest.approx(main_accuracy(row.model, row.seed))
    root = mnist_pipeline.workspace.root / "study_models" / "data_size"
    assert (root / "100-images" / "lenet5" / "seed-42" / "model.keras").is_file()
    section = (
        mnist_pipeline.workspace.reports / "studies" / "data_size" / "section.md"
    ).read_text()
    assert "*Training budget:* one rule for every size" in section
