"""Stage `compare`: `python -m convscope.compare [overrides]`.

Compares every model with a metrics file in `reports/metrics/` and writes
`reports/comparison.csv`, `reports/comparison.md` and the figures it embeds in
`reports/figures/`: test accuracy against parameter count, all learning curves, and the
first-layer kernels side by side. Then, unless `compare.registry.enabled` is false, registers
every model in the MLflow Model Registry, with the most accurate as `<dataset>@champion`
(see `convscope.tracking.registry`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from convscope.atomic import atomic_path, write_text
from convscope.cli import stage
from convscope.config import StageConfig
from convscope.report import save_figure
from convscope.report.comparison import comparison_markdown, comparison_table, summary_sentences
from convscope.report.comparison_figures import accuracy_vs_params, kernel_gallery, learning_curves
from convscope.tracking.registry import Candidate, register_models

if TYPE_CHECKING:
    from convscope.comparison.collect import ModelResults

log = logging.getLogger(__name__)


@stage
def main(cfg: StageConfig) -> None:
    """Compare the evaluated models."""
    settings = cfg.compare
    # Imported here: collecting loads the models, and so TensorFlow, whose start-up notices
    # are filtered only once the stage runs (convscope.console); `--help` stays fast too.
    from convscope.comparison.collect import collect_results

    results = collect_results(cfg)
    candidates = [registry_candidate(result) for result in results]
    table = comparison_table({result.name: result.metrics for result in results})
    reports = Path(cfg.paths.reports)
    figures_dir = reports / "figures"
    dpi = settings.figure_dpi
    figures = {
        "Test accuracy against parameter count": save_figure(
            accuracy_vs_params(table), figures_dir / "accuracy_vs_params.png", dpi
        ),
        "Learning curves": save_figure(
            learning_curves({result.name: result.history for result in results}),
            figures_dir / "learning_curves.png",
            dpi,
        ),
        "First-layer weights": save_figure(
            kernel_gallery(
                {result.name: result.first_layer for result in results},
                tuple(cfg.data.image_shape),
                settings.gallery_max_tiles,
            ),
            figures_dir / "kernel_gallery.png",
            dpi,
        ),
    }
    with atomic_path(reports / "comparison.csv") as tmp:
        table.to_csv(tmp, index=False)
    links = {
        title: Path(os.path.relpath(path, reports)).as_posix() for title, path in figures.items()
    }
    sentences = summary_sentences(table)
    write_text(reports / "comparison.md", comparison_markdown(table, sentences, links))
    for sentence in sentences:
        log.info(sentence.replace("**", ""))
    if settings.registry.enabled:
        register_models(candidates, settings.registry, cfg.data.name, cfg.tracking.uri)


def registry_candidate(result: ModelResults) -> Candidate:
    """What the registry needs of one compared model: its run.json's run and logged model."""
    return Candidate(
        name=result.name,
        run_id=result.run.run_id,
        model_uri=result.run.model_uri,
        test_accuracy=float(result.metrics.test_accuracy),
        run_file=result.run_file,
    )


if __name__ == "__main__":
    main()
