"""The `compare` stage through its command line: its table against what MLflow holds for
the same runs, its Markdown and figures; and a model without history is refused."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from convscope.cli import compose_stage_config
from convscope.comparison.collect import collect_results
from convscope.errors import ConvscopeError

# Every number the table takes from the metrics files, all of which the MLflow run holds:
# the evaluation's (logged by evaluate) and the training's (logged by the training).
LOGGED_COLUMNS = (
    "test_accuracy",
    "test_loss",
    "test_errors",
    "macs_per_image",
    "latency_ms_batch1",
    "throughput_images_per_s_batch64",
    "model_size_bytes",
    "total_params",
    "conv_params",
    "dense_params",
    "train_seconds",
    "seconds_per_epoch",
)


@pytest.fixture(scope="module")
def compared(evaluated):
    done = evaluated.run("compare")
    assert done.returncode == 0, done.stderr[-3000:]
    return evaluated


@pytest.mark.slow
def test_table_numbers_equal_what_mlflow_holds(compared) -> None:
    table = pd.read_csv(compared.reports / "comparison.csv")
    assert table["model"].tolist() == ["dense", "lenet5"]
    client = MlflowClient(compared.tracking_uri)
    for row in table.to_dict("records"):
        run = client.get_run(row["mlflow_run_id"])
        assert run.info.run_name == row["model"]
        for column in LOGGED_COLUMNS:
            assert row[column] == run.data.metrics[column], (row["model"], column)


@pytest.mark.slow
def test_markdown_embeds_the_figures_and_names_the_most_accurate(compared) -> None:
    text = (compared.reports / "comparison.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert sorted(links) == [
        "figures/accuracy_vs_params.png",
        "figures/kernel_gallery.png",
        "figures/learning_curves.png",
    ]
    for link in links:
        assert (compared.reports / link).read_bytes().startswith(b"\x89PNG")
    table = pd.read_csv(compared.reports / "comparison.csv")
    best = table.loc[table["test_accuracy"].idxmax()]
    assert (
        f"**Accuracy:** {best['model']} is the most accurate, {best['test_accuracy']:.2%}" in text
    )
    assert "**Parameters:** lenet5 has the fewest parameters (61,706)" in text
    assert "| dense " in text and "| lenet5 " in text


@pytest.mark.slow
def test_model_without_history_is_a_one_line_error(compared, tmp_path: Path) -> None:
    shutil.copytree(compared.reports / "metrics", tmp_path / "reports" / "metrics")
    shutil.copytree(compared.reports / "evaluation", tmp_path / "reports" / "evaluation")
    shutil.copytree(compared.root / "models", tmp_path / "models")
    (tmp_path / "models" / "lenet5" / "history.csv").unlink()
    cfg = compose_stage_config(
        f"paths.reports={tmp_path / 'reports'}",
        f"paths.model_dir={tmp_path}/models/${{model.name}}",
    )
    with pytest.raises(ConvscopeError) as caught:
        collect_results(cfg)
    assert str(tmp_path / "models" / "lenet5" / "history.csv") in str(caught.value)
    assert "\n" not in str(caught.value)
