"""Stage `compare`: `python -m convscope.compare [overrides]`.

Compares every model with a metrics file in `reports/metrics/` and writes
`reports/comparison.csv`, `reports/comparison.md` and the figures it embeds in
`reports/figures/`: test accuracy against parameter count, all learning curves, and the
first-layer kernels side by side.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from omegaconf import DictConfig

from convscope.atomic import atomic_path, write_text
from convscope.cli import stage
from convscope.evaluation.collect import collect_results
from convscope.evaluation.config import compare_config
from convscope.report import save_figure
from convscope.report.charts import accuracy_vs_params, kernel_gallery, learning_curves
from convscope.report.comparison import comparison_markdown, comparison_table, summary_sentences

log = logging.getLogger(__name__)


@stage
def main(cfg: DictConfig) -> None:
    """Compare the evaluated models."""
    settings = compare_config(cfg.compare)
    results = collect_results(cfg)
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


if __name__ == "__main__":
    main()
