"""The README's results table states what the committed reports say."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from convscope.records.metrics import MetricsSummary, metrics_path

REPO_ROOT = Path(__file__).resolve().parents[1]
DASH = "\N{EN DASH}"  # between the two ends of the README's ranges
README_NAMES = {"dense": "dense", "LeNet-5": "lenet5", "stacked conv": "stacked_conv"}


def readme_results() -> dict[str, list[str]]:
    """The cells of the README's results table, by model (the comparison's name)."""
    text = (REPO_ROOT / "README.md").read_text()
    table = text[text.index("| model | parameters | test accuracy (mean ± std") :]
    rows = {}
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        name = next(short for long, short in README_NAMES.items() if cells[0].startswith(long))
        rows[name] = cells[1:]
    return rows


def percent(value: float) -> str:
    return f"{100 * value:.2f}"


def span(low: float, high: float) -> str:
    return f"{percent(low)} {DASH} {percent(high)} %"


def test_results_table_equals_the_committed_comparison() -> None:
    comparison = pd.read_csv(REPO_ROOT / "reports" / "comparison.csv").set_index("model")
    rows = readme_results()
    assert set(rows) == set(comparison.index)

    for model, (params, accuracy, spread, interval, seconds) in rows.items():
        row = comparison.loc[model]
        summary = MetricsSummary.read(metrics_path(REPO_ROOT / "reports", model))
        assert params == f"{summary.params:,}"
        mean, std = (percent(row["mean_accuracy"]), f"{100 * row['std_accuracy']:.2f}")
        assert accuracy == f"{mean} ± {std} %"
        assert spread == span(row["min_accuracy"], row["max_accuracy"])
        assert interval == span(row["interval_low"], row["interval_high"])
        assert seconds == f"{summary.train_seconds:.0f}"
