from __future__ import annotations

import pytest

from convscope.records.study import study_figures_dir

pytestmark = pytest.mark.slow


def test_each_conv_layer_has_its_patches_and_each_conv_net_its_fields(
    study_results, mnist_pipeline, study_runs
) -> None:
    results = study_results("layers")
    assert list(results["model"].unique()) == ["lenet5"]  # dense has no conv layer
    assert list(results["layer"]) == ["C1", "C3", "C5"]
    assert list(results["theoretical field"]) == ["5x5", "14x14", "32x32"]
    figures = {
        p.name for p in study_figures_dir(mnist_pipeline.workspace.reports, "layers").glob("*")
    }
    assert figures == {
        "receptive_fields_lenet5.png",
        "top_patches_lenet5_C1.png",
        "top_patches_lenet5_C3.png",
        "top_patches_lenet5_C5.png",
    }
    (run,) = [r for r in study_runs("layers") if r.data.tags["condition"] != "summary"]
    assert set(run.data.metrics) == {f"effective_field_{layer}" for layer in ("C1", "C3", "C5")}
