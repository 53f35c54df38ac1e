"""Stage `compare`: `python -m convscope.compare [overrides]`.

Compares every model with a metrics file in `reports/metrics/`, over all its seeds, from the
per-image predictions each seed's evaluation wrote: test accuracy mean ± std, min, max and an
interval per model, paired tests per pair of models (`convscope.comparison.statistics`), and
verdict sentences that say only what the tests support (`convscope.comparison.verdict`).
Writes `reports/comparison.md`, `reports/comparison.csv` (one row per model),
`reports/comparison_pairs.csv` (one row per pair) and the figures it embeds in
`reports/figures/`, and logs them all to a `comparison` run of the MLflow experiment. Then,
unless `compare.registry.enabled` is false, registers every seed's model in the MLflow Model
Registry, with the winning model's best seed as `<dataset>@champion`
(see `convscope.tracking.registry`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from convscope.atomic import atomic_path, write_text
from convscope.cli import stage
from convscope.comparison.config import CompareConfig
from convscope.data.config import DataConfig
from convscope.paths import PathsConfig
from convscope.report import save_figure
from convscope.report.comparison import comparison_markdown, comparison_table, summary_sentences
from convscope.report.comparison_figures import kernel_gallery
from convscope.tracking.comparison_run import log_comparison
from convscope.tracking.config import TrackingConfig
from convscope.tracking.registry import Candidate, register_models

if TYPE_CHECKING:
    import pandas as pd

    from convscope.comparison.collect import ModelResults

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompareStageConfig:
    """The compare stage's config (`conf/compare.yaml`): the groups it reads."""

    paths: PathsConfig
    data: DataConfig
    tracking: TrackingConfig
    compare: CompareConfig


@stage(CompareStageConfig)
def main(cfg: CompareStageConfig) -> None:
    """Compare the evaluated models over their seeds."""
    settings = cfg.compare
    # Imported here: collecting loads the models, and so TensorFlow, whose start-up notices
    # are filtered only once the stage runs (convscope.console); `--help` stays fast too.
    import pandas as pd

    from convscope.comparison.collect import collect_results
    from convscope.comparison.report import statistics_sections
    from convscope.comparison.spread_figures import accuracy_vs_size, learning_curves_with_spread
    from convscope.comparison.statistics import (
        compare_models,
        model_table,
        pair_table,
        predictions_from_tables,
    )
    from convscope.comparison.verdict import verdict_sentences, winner

    results = collect_results(cfg.paths)
    labels, predictions = predictions_from_tables(
        {result.name: {s.seed: s.predictions for s in result.seeds} for result in results}
    )
    comparison = compare_models(predictions, labels, alpha=settings.alpha)
    runs = seed_runs(results)
    reports = Path(cfg.paths.reports)
    figures_dir = reports / "figures"
    dpi = settings.figure_dpi
    figures = {
        "Test accuracy against parameter count": save_figure(
            accuracy_vs_size(runs, "total_params"), figures_dir / "accuracy_vs_params.png", dpi
        ),
        "Test accuracy against multiply-accumulates": save_figure(
            accuracy_vs_size(runs, "macs_per_image"), figures_dir / "accuracy_vs_macs.png", dpi
        ),
        "Learning curves over seeds": save_figure(
            learning_curves_with_spread(seed_histories(results)),
            figures_dir / "learning_curves.png",
            dpi,
        ),
        "First-layer weights (first seed)": save_figure(
            kernel_gallery(
                {result.name: result.first_layer for result in results},
                tuple(cfg.data.image_shape),
                settings.gallery_max_tiles,
            ),
            figures_dir / "kernel_gallery.png",
            dpi,
        ),
    }
    models = model_table(comparison)
    with atomic_path(reports / "comparison.csv") as tmp:
        models.to_csv(tmp, index=False)
    with atomic_path(reports / "comparison_pairs.csv") as tmp:
        pair_table(comparison).to_csv(tmp, index=False)
    links = {
        title: Path(os.path.relpath(path, reports)).as_posix() for title, path in figures.items()
    }
    size_table = mean_size_table(results)
    anatomy = pd.concat([result.anatomy for result in results], ignore_index=True)
    write_text(
        reports / "comparison.md",
        comparison_markdown(
            size_table,
            summary_sentences(size_table),
            links,
            statistics_sections(comparison, anatomy),
        ),
    )
    for sentence in verdict_sentences(comparison):
        log.info(sentence.replace("**", ""))
    log_comparison(cfg.tracking, cfg.data.name, models, reports, list(figures.values()))
    if settings.registry.enabled:
        lead = winner(comparison)
        register_models(
            registry_candidates(results),
            settings.registry,
            cfg.data.name,
            cfg.tracking.uri,
            lead.model,
            lead.decisive,
        )


def seed_runs(results: list[ModelResults]) -> pd.DataFrame:
    """One row per model and seed: test accuracy, parameters and MACs (for the figures)."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "model": result.name,
                "seed": seed.seed,
                "test_accuracy": seed.metrics.test_accuracy,
                "total_params": seed.metrics.total_params,
                "macs_per_image": seed.metrics.macs_per_image,
            }
            for result in results
            for seed in result.seeds
        ]
    )


def seed_histories(results: list[ModelResults]) -> pd.DataFrame:
    """Every seed's history, one row per model, seed and epoch."""
    import pandas as pd

    return pd.concat(
        [
            seed.history.assign(model=result.name, seed=seed.seed)
            for result in results
            for seed in result.seeds
        ],
        ignore_index=True,
    )


def mean_size_table(results: list[ModelResults]) -> pd.DataFrame:
    """The size and speed table: the first seed's record of each model, with the test
    accuracy, errors and training times replaced by their means over the seeds."""
    table = comparison_table({result.name: result.seeds[0].metrics for result in results})
    for column in ("test_accuracy", "test_errors", "train_seconds", "seconds_per_epoch"):
        means = {
            result.name: sum(getattr(s.metrics, column) for s in result.seeds) / len(result.seeds)
            for result in results
        }
        table[column] = table["model"].map(means)
    table["test_errors"] = table["test_errors"].round().astype(int)
    return table


def registry_candidates(results: list[ModelResults]) -> list[Candidate]:
    """What the registry needs of each seed: its run.json's run and logged model."""
    return [
        Candidate(
            name=result.name,
            seed=seed.seed,
            run_id=seed.run.run_id,
            model_uri=seed.run.model_uri,
            test_accuracy=float(seed.metrics.test_accuracy),
            run_file=seed.run_file,
        )
        for result in results
        for seed in result.seeds
    ]


if __name__ == "__main__":
    main()
