"""The comparison table, its generated sentences and its Markdown, on hand-made metrics."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from convscope.errors import ConvscopeError
from convscope.records.metrics import EvaluationRecord
from convscope.report.comparison import (
    comparison_markdown,
    comparison_table,
    display_table,
    summary_sentences,
)


def metrics(accuracy: float, params: int, latency: float, rate: float) -> EvaluationRecord:
    return EvaluationRecord(
        test_accuracy=accuracy,
        test_loss=1.0 - accuracy,
        test_errors=round((1.0 - accuracy) * 10_000),
        test_macro_f1=accuracy,
        total_params=params,
        conv_params=params // 2,
        dense_params=params - params // 2,
        macs_per_image=params * 3,
        latency_ms_batch1=latency,
        throughput_batch_size=256,
        throughput_images_per_s=rate,
        model_size_bytes=params * 4,
        train_seconds=params / 1000,
        seconds_per_epoch=params / 10_000,
        epochs=10,
        mlflow_run_id=f"run-{params}",
    )


# big: least accurate AND largest, so both smaller models beat it; small: fewest parameters.
MODELS = {
    "big": metrics(0.97, 400_000, latency=0.2, rate=90_000.0),
    "mid": metrics(0.99, 100_000, latency=0.9, rate=8_000.0),
    "small": metrics(0.98, 60_000, latency=0.5, rate=12_000.0),
}


def test_table_has_one_row_per_model_with_raw_numbers() -> None:
    table = comparison_table(MODELS)
    assert table["model"].tolist() == ["big", "mid", "small"]
    assert table.loc[1, "test_accuracy"] == 0.99
    assert table.loc[2, "total_params"] == 60_000
    assert "throughput_images_per_s_batch256" in table.columns
    assert "test_macro_f1" not in table.columns  # per-model detail, not compared


def test_sentences_name_the_winners_on_size_and_speed_not_accuracy() -> None:
    # Which model is more accurate is the verdict's to say, from the paired tests.
    size, speed = summary_sentences(comparison_table(MODELS))
    assert "more accurate" not in size + speed
    assert "small has the fewest parameters (60,000), 6.7x fewer than big" in size
    assert "Highest test accuracy for their size: mid and small" in size
    # Both smaller models beat big; the sentence names the smallest of them.
    assert "big is outdone by small, which scores higher" in size
    assert "6.7x fewer parameters" in size
    assert speed.startswith(
        "**Speed:** big is fastest both one image at a time (0.200 ms per image) and in "
        "batches of 256 (90,000 images/s); small needs the fewest multiply-accumulates"
    )


def test_speed_sentence_names_separate_latency_and_throughput_winners() -> None:
    models = MODELS | {"mid": replace(MODELS["mid"], latency_ms_batch1=0.1)}
    speed = summary_sentences(comparison_table(models))[1]
    assert "mid answers fastest one image at a time (0.100 ms per image)" in speed
    assert "big gets through the most images in batches of 256 (90,000 images/s)" in speed


def test_tie_on_accuracy_names_every_model_as_highest_for_its_size() -> None:
    tied = {name: replace(record, test_accuracy=0.99) for name, record in MODELS.items()}
    size = summary_sentences(comparison_table(tied))[0]
    assert "Highest test accuracy for its size: small" in size
    assert "mid is outdone by small, which scores as high" in size


def test_different_throughput_batch_sizes_are_refused() -> None:
    mixed = dict(MODELS)
    mixed["odd"] = replace(MODELS["mid"], throughput_batch_size=64)
    with pytest.raises(ConvscopeError, match="throughput_images_per_s_batch64"):
        comparison_table(mixed)


def test_markdown_embeds_sentences_table_and_figures() -> None:
    table = comparison_table(MODELS)
    text = comparison_markdown(
        table, summary_sentences(table), {"Accuracy against size": "figures/acc.png"}
    )
    assert text.startswith("# Model comparison\n")
    assert "![Accuracy against size](figures/acc.png)" in text
    assert "| small " in text and "60,000" in text and "98.00%" in text
    shown = display_table(table)
    assert shown.loc[2, "file size (kB)"] == "240.0"
    assert shown.columns[-2] == "throughput, batch 256 (images/s)"
    assert isinstance(shown, pd.DataFrame)


def test_table_has_exactly_the_compared_columns_all_filled() -> None:
    table = comparison_table(MODELS)
    assert list(table.columns) == [
        "model",
        "total_params",
        "conv_params",
        "dense_params",
        "macs_per_image",
        "test_accuracy",
        "test_loss",
        "test_errors",
        "epochs",
        "train_seconds",
        "seconds_per_epoch",
        "latency_ms_batch1",
        "throughput_images_per_s_batch256",
        "model_size_bytes",
        "mlflow_run_id",
    ]
    assert table.notna().all().all(), "a column the metrics do not fill (renamed?)"
