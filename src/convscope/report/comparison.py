"""The model comparison's size and speed: one table row per model, sentences, and Markdown.

`comparison_table` turns one evaluation record per model into a DataFrame (raw numbers, one
column per metric); `summary_sentences` says who wins on size and speed (which model is more
accurate is the verdict's to say: `convscope.comparison.verdict`); `comparison_markdown` lays
out the statistics sections it is given, sentences, table and figures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from convscope.errors import ConvscopeError
from convscope.records.metrics import TABLE_COLUMNS, THROUGHPUT_PREFIX, EvaluationRecord


def comparison_table(records: Mapping[str, EvaluationRecord]) -> pd.DataFrame:
    """One row per model (in the given order) from `{model: evaluation record}`; the columns
    are `TABLE_COLUMNS`, the throughput's naming its batch size."""
    if not records:
        raise ConvscopeError("comparison_table: expected at least one model's metrics, got none")
    throughput_keys = sorted({record.throughput_key for record in records.values()})
    if len(throughput_keys) != 1:
        raise ConvscopeError(
            f"expected every model's metrics to measure throughput at one batch size "
            f"({THROUGHPUT_PREFIX}<N>), found {', '.join(throughput_keys) or 'none'}; re-run "
            "`dvc repro evaluate` with a single evaluate.timing.throughput_batch_size"
        )
    columns = [throughput_keys[0] if c == THROUGHPUT_PREFIX else c for c in TABLE_COLUMNS]
    rows = [{"model": name, **record.to_dict()} for name, record in records.items()]
    return pd.DataFrame(rows, columns=["model", *columns])


def throughput_column(table: pd.DataFrame) -> tuple[str, int]:
    """The table's throughput column and its batch size."""
    column = next(c for c in table.columns if c.startswith(THROUGHPUT_PREFIX))
    return column, int(column.removeprefix(THROUGHPUT_PREFIX))


def summary_sentences(table: pd.DataFrame) -> list[str]:
    """Who wins on parameters (fewest for the accuracy) and on speed."""
    return [_size_sentence(table), _speed_sentence(table)]


def _size_sentence(table: pd.DataFrame) -> str:
    fewest = _winners(table, "total_params", largest=False)
    smallest = table.loc[table["model"] == fewest[0]].iloc[0]
    text = (
        f"**Parameters:** {_names(fewest)} {'has' if len(fewest) == 1 else 'have'} the fewest "
        f"parameters ({smallest.total_params:,})"
    )
    largest = table.loc[table["total_params"].idxmax()]
    if largest.total_params > smallest.total_params:
        ratio = largest.total_params / smallest.total_params
        text += f", {ratio:.1f}x fewer than {largest.model} ({largest.total_params:,})"
    parts = [text + "."]
    efficient = [row.model for row in table.itertuples() if _dominator(table, row) is None]
    parts.append(
        f"Highest test accuracy for {'its' if len(efficient) == 1 else 'their'} size: "
        f"{_names(efficient)} (no model with fewer parameters scores as high)."
    )
    for row in table.itertuples():
        better = _dominator(table, row)
        if better is not None:
            parts.append(
                f"{row.model} is outdone by {better.model}, which scores "
                f"{'higher' if better.test_accuracy > row.test_accuracy else 'as high'} "
                f"({better.test_accuracy:.2%} against {row.test_accuracy:.2%}) with "
                f"{row.total_params / better.total_params:.1f}x fewer parameters."
            )
    return " ".join(parts)


def _speed_sentence(table: pd.DataFrame) -> str:
    column, batch_size = throughput_column(table)
    quickest = _winners(table, "latency_ms_batch1", largest=False)
    busiest = _winners(table, column, largest=True)
    cheapest = _winners(table, "macs_per_image", largest=False)
    latency = table.loc[table["model"] == quickest[0], "latency_ms_batch1"].iloc[0]
    rate = table.loc[table["model"] == busiest[0], column].iloc[0]
    macs = table.loc[table["model"] == cheapest[0], "macs_per_image"].iloc[0]
    trained = _winners(table, "train_seconds", largest=False)
    seconds = table.loc[table["model"] == trained[0], "train_seconds"].iloc[0]
    if quickest == busiest:
        speed = (
            f"{_names(quickest)} {'is' if len(quickest) == 1 else 'are'} fastest both one image "
            f"at a time ({latency:.3f} ms per image) and in batches of {batch_size} "
            f"({rate:,.0f} images/s)"
        )
    else:
        speed = (
            f"{_names(quickest)} answers fastest one image at a time ({latency:.3f} ms per "
            f"image), {_names(busiest)} gets through the most images in batches of "
            f"{batch_size} ({rate:,.0f} images/s)"
        )
    return (
        f"**Speed:** {speed}; {_names(cheapest)} needs the fewest multiply-accumulates "
        f"({macs:,} per image). {_names(trained)} trained in the least time ({seconds:,.0f} s)."
    )


def _winners(table: pd.DataFrame, column: str, largest: bool) -> list[str]:
    """Models with the best value of `column` (several on a tie)."""
    best = table[column].max() if largest else table[column].min()
    return table.loc[table[column] == best, "model"].tolist()


def _dominator(table: pd.DataFrame, row: Any) -> Any | None:
    """The smallest model at least as accurate as `row` with fewer parameters, if any."""
    better = table[
        (table["test_accuracy"] >= row.test_accuracy) & (table["total_params"] < row.total_params)
    ]
    if better.empty:
        return None
    return next(better.sort_values("total_params").itertuples())


def _names(names: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table with readable headers and formatted numbers (strings), for Markdown."""
    column, batch_size = throughput_column(table)
    formats: dict[str, tuple[str, Callable[[Any], str]]] = {
        "model": ("model", str),
        "total_params": ("parameters", "{:,}".format),
        "conv_params": ("conv params", "{:,}".format),
        "dense_params": ("dense params", "{:,}".format),
        "macs_per_image": ("MACs / image", "{:,}".format),
        "test_accuracy": ("test accuracy", "{:.2%}".format),
        "test_loss": ("test loss", "{:.4f}".format),
        "test_errors": ("errors", "{:,}".format),
        "epochs": ("epochs", str),
        "train_seconds": ("training (s)", "{:,.1f}".format),
        "seconds_per_epoch": ("s / epoch", "{:,.1f}".format),
        "latency_ms_batch1": ("latency, batch 1 (ms)", "{:.3f}".format),
        column: (f"throughput, batch {batch_size} (images/s)", "{:,.0f}".format),
        "model_size_bytes": ("file size (kB)", lambda size: f"{size / 1000:,.1f}"),
    }
    return pd.DataFrame(
        {label: table[key].map(format_value) for key, (label, format_value) in formats.items()}
    )


def comparison_markdown(
    table: pd.DataFrame,
    sentences: Sequence[str],
    figures: Mapping[str, str],
    statistics: Sequence[str] = (),
) -> str:
    """The comparison report: the `statistics` sections (Markdown, e.g. the verdict), the
    sentences, the formatted table, then each figure under its title (`figures` maps a title
    to a link relative to the Markdown file)."""
    sections = [
        "# Model comparison",
        *statistics,
        "## Size and speed" if statistics else "## Results",
        "\n\n".join(sentences),
        "Measured on the test set. MACs: multiply-accumulates of one image's forward pass."
        " Latency: median time of a traced forward pass of one image; throughput: images per"
        " second in batches. Training time: the sum of the epochs' wall-clock times."
        " With several seeds, accuracy, errors and training time are means over the seeds,"
        " size and speed those of the first seed's model.",
        _markdown_table(display_table(table)),
        "## Figures",
    ]
    for title, link in figures.items():
        sections += [f"### {title}", f"![{title}]({link})"]
    return "\n\n".join(sections) + "\n"


def _markdown_table(shown: pd.DataFrame) -> str:
    """The formatted table as Markdown, model names left, numbers right, formatting kept."""
    alignment = ["left"] + ["right"] * (len(shown.columns) - 1)
    return shown.to_markdown(index=False, colalign=alignment, disable_numparse=True)
