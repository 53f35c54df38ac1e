"""Fashion-MNIST through the same stages and code as MNIST, as the README runs it:
`CONVSCOPE_MIRROR=/usr/share/datasets/fashion-mnist dvc exp run -S dataset=fashion_mnist`
(here on a tiny setting and one model), in its own fresh project."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from convscope.records.metrics import EVALUATION_KEYS
from convscope.records.seeds import seed_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
CLASS_NAMES = list(OmegaConf.load(REPO_ROOT / "conf" / "data" / "fashion_mnist.yaml").class_names)
MODEL = "lenet5"


@pytest.mark.system
def test_fashion_mnist_flows_through_every_stage_under_its_own_names(
    fashion_mnist_mirror: Path, dvc_project: Callable
) -> None:
    assert "Ankle boot" in CLASS_NAMES  # the config read is Fashion-MNIST's
    project = dvc_project("fashion-pipeline", fashion_mnist_mirror)
    stdout = project.tiny_experiment(
        "params.yaml:dataset=fashion_mnist",
        f"params.yaml:architectures=[{MODEL}]",
        "params.yaml:seeds=1",
        "params.yaml:studies=[layers]",  # one study, the cheapest: the others run on MNIST
    )

    ran = [line.split("'")[1] for line in stdout.splitlines() if line.startswith("Running stage")]
    stages = ["download", "preprocess", f"train@{MODEL}", f"evaluate@{MODEL}", "compare"]
    assert sorted(ran) == sorted([*stages, "study@layers", "study_report"])
    root = project.root
    assert sorted(p.name for p in (root / "data" / "raw").iterdir()) == ["fashion_mnist"]
    meta = json.loads((root / "data" / "processed" / "fashion_mnist" / "meta.json").read_text())
    assert meta["class_names"] == CLASS_NAMES
    summary = json.loads((root / "reports" / "data" / "summary.json").read_text())
    assert summary["dataset"] == "fashion_mnist"
    assert summary["splits"]["test"]["images"] == 10000
    assert list(summary["splits"]["test"]["class_counts"].values()) == [1000] * 10

    for name in ("model.keras", "run.json", "history.csv"):
        assert (seed_dir(root / "models" / MODEL, 42) / name).stat().st_size > 0
    per_class = pd.read_csv(seed_dir(root / "reports" / "evaluation" / MODEL, 42) / "per_class.csv")
    assert per_class["name"].tolist() == CLASS_NAMES
    assert per_class["support"].tolist() == [1000] * 10
    pairs = pd.read_csv(root / "reports" / "plots" / MODEL / "confusion.csv")
    assert len(pairs) == 10000
    assert set(pairs["actual"]) == set(CLASS_NAMES)
    # The full record; reports/metrics/<model>.json holds the few figures `dvc metrics show` lists.
    metrics = json.loads(
        (seed_dir(root / "reports" / "evaluation" / MODEL, 42) / "metrics.json").read_text()
    )
    # One epoch on 2,000 images: well above chance (10 %), well below a trained model.
    assert 0.3 < metrics["test_accuracy"] < 0.95
    table = pd.read_csv(root / "reports" / "comparison.csv")
    assert table["model"].tolist() == [MODEL]
    assert table[["seeds", "interval_method"]].values.tolist() == [[1, "Wilson"]]
    # compare computes it from the error count: equal up to the last bit of a float
    assert table["mean_accuracy"].tolist() == [pytest.approx(metrics["test_accuracy"], rel=1e-12)]
    assert (root / "reports" / "figures" / "kernel_gallery.png").stat().st_size > 0

    client = MlflowClient(project.tracking_uri)
    assert client.get_experiment_by_name("mnist") is None
    experiment = client.get_experiment_by_name("fashion_mnist")
    # The training's run, and the comparison's (tagged stage=compare).
    runs = [
        run
        for run in client.search_runs([experiment.experiment_id], "tags.model != ''")
        if "study" not in run.data.tags  # the studies' runs
    ]
    assert [run.info.run_id for run in runs] == [metrics["mlflow_run_id"]]
    assert len(client.search_runs([experiment.experiment_id], "tags.stage = 'compare'")) == 1
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert run.data.tags["dataset"] == "fashion_mnist"
    assert run.data.tags["model"] == MODEL
    assert run.data.params["data.name"] == "fashion_mnist"
    for key in EVALUATION_KEYS:
        assert run.data.metrics[key] == pytest.approx(metrics[key]), key
