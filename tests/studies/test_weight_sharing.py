from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_the_locally_connected_net_is_trained_beside_conv_and_dense_and_shifted(
    study_results, mnist_pipeline
) -> None:
    results = study_results("weight_sharing")
    assert set(results["model"]) == {"dense", "locally_connected", "stacked_conv"}
    shifted = results[results["pixels"] > 0]
    assert set(shifted["direction"]) == {"diagonal"} and set(shifted["images"]) == {200}
    section = (
        mnist_pipeline.workspace.reports / "studies" / "weight_sharing" / "section.md"
    ).read_text()
    parameters = section.split("**Parameters**", 1)[1].split("\n\n", 2)[1]
    assert "| locally_connected | 2,016,330" in parameters
    assert "| stacked_conv      | 98,442" in parameters
