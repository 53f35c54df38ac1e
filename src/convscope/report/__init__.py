"""Pictures of models and their results, as matplotlib figures (no files, no MLflow here).

- `convscope.report.kernels`: learned conv kernels, dense-unit templates, feature maps.
- `convscope.report.model_figures`: one model's confusion matrix and misclassified digits.
- `convscope.report.comparison_figures`: learning curves, accuracy against parameter count,
  the first-layer kernel gallery.
- `convscope.report.comparison`: the comparison's table, sentences and Markdown.
- `convscope.report.figures`: shared mosaic/colour-scale plumbing and `save_figure`.

Every picture function returns a `matplotlib.figure.Figure`; `save_figure` writes it as a
PNG atomically and closes it.
"""

from convscope.report.figures import save_figure

__all__ = ["save_figure"]
