"""The `compare` stage as DVC ran it in the suite's tiny pipeline, on two models of two seeds:
its tables against the seeds' records, its Markdown (verdict, tables, anatomy, figures), its
MLflow run; and a seed without history is refused."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from convscope.comparison.collect import collect_results
from convscope.errors import ConvscopeError


@pytest.mark.slow
def test_table_summarises_each_models_seeds_from_their_records(evaluated) -> None:
    table = pd.read_csv(evaluated.reports / "comparison.csv")
    assert table["model"].tolist() == ["dense", "lenet5"]
    for row in table.to_dict("records"):
        accuracies = [
            json.loads((evaluated.evaluation_dir(row["model"], seed) / "metrics.json").read_text())[
                "test_accuracy"
            ]
            for seed in (42, 43)
        ]
        assert row["seeds"] == 2 and row["test_images"] == 10_000
        assert row["mean_accuracy"] == pytest.approx(np.mean(accuracies))
        assert row["std_accuracy"] == pytest.approx(np.std(accuracies, ddof=1))
        assert (row["min_accuracy"], row["max_accuracy"]) == pytest.approx(
            (min(accuracies), max(accuracies))
        )
        assert row["interval_method"] == "t over seeds"
    pairs = pd.read_csv(evaluated.reports / "comparison_pairs.csv")
    assert pairs[["model_a", "model_b", "seeds"]].values.tolist() == [["dense", "lenet5", 2]]
    assert 0 <= pairs["pooled_mcnemar_p"].iloc[0] <= 1


@pytest.mark.slow
def test_markdown_has_the_verdict_tables_anatomy_and_figures(evaluated) -> None:
    text = (evaluated.reports / "comparison.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert sorted(links) == [
        "figures/accuracy_vs_macs.png",
        "figures/accuracy_vs_params.png",
        "figures/kernel_gallery.png",
        "figures/learning_curves.png",
    ]
    for link in links:
        assert (evaluated.reports / link).read_bytes().startswith(b"\x89PNG")
    for heading in ("## Verdict", "## Test accuracy over seeds", "## Paired differences"):
        assert heading in text
    # Two models: one verdict sentence on the pair, either a win or within the noise.
    assert ("is more accurate than" in text) != ("differ within the noise" in text)
    assert "*Rule:*" in text and "mean ± std over 2 seeds" in text
    assert "## The seed's argument, layer by layer" in text
    assert "| 5x5x1 " in text  # LeNet-5's C1 kernel, from the built model
    assert "**Parameters:** lenet5 has the fewest parameters (61,706)" in text


@pytest.mark.slow
def test_comparison_is_an_mlflow_run_with_the_table(evaluated) -> None:
    client = MlflowClient(evaluated.tracking_uri)
    experiment = client.get_experiment_by_name("mnist")
    runs = client.search_runs([experiment.experiment_id], "tags.stage = 'compare'")
    assert len(runs) == 1 and runs[0].info.run_name == "comparison"
    logged = {item.path for item in client.list_artifacts(runs[0].info.run_id)}
    assert {"comparison.md", "comparison.csv", "comparison_pairs.csv", "comparison.json"} <= logged
    assert "figures" in logged


@pytest.mark.slow
def test_model_without_history_is_a_one_line_error(evaluated, tmp_path: Path) -> None:
    shutil.copytree(evaluated.reports / "metrics", tmp_path / "reports" / "metrics")
    shutil.copytree(evaluated.reports / "evaluation", tmp_path / "reports" / "evaluation")
    shutil.copytree(evaluated.root / "models", tmp_path / "models")
    missing = tmp_path / "models" / "lenet5" / "seed-43" / "history.csv"
    missing.unlink()
    cfg = evaluated.elsewhere(tmp_path).config("compare")
    with pytest.raises(ConvscopeError) as caught:
        collect_results(cfg.paths)
    assert str(missing) in str(caught.value)
    assert "\n" not in str(caught.value)
