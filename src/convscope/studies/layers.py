"""Edges first, then shapes: for each conv layer of the main comparison's conv nets (their
first seed), the test-image patches that excite each channel most, and the layer's
effective receptive field beside the theoretical one. Evaluation only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from omegaconf import MISSING

from convscope.errors import ConvscopeError
from convscope.studies.config import StudyConfig, StudyOutcome, check_positive

if TYPE_CHECKING:
    from convscope.studies.context import StudyContext


@dataclass
class LayersStudy(StudyConfig):
    """Top patches of each channel (`per_channel` of them, from the first `images` test
    images) and effective receptive fields (`mass` of the mean absolute input gradient of
    the centre unit, over the first `field_images` test images)."""

    TITLE = "Edges first, then shapes: what each conv layer responds to"
    CLAIM = "Stacked conv layers learn edges first, then more abstract shapes."

    images: int = MISSING
    per_channel: int = MISSING
    field_images: int = MISSING
    mass: float = MISSING

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("images", "per_channel", "field_images"):
            check_positive(key, getattr(self, key))
        if not 0 < self.mass < 1:
            raise ConvscopeError(f"study.mass: expected a fraction in (0, 1), got {self.mass}")

    def run(self, context: StudyContext) -> StudyOutcome:
        from convscope.data.arrays import as_model_input
        from convscope.report.receptive_fields import effective_field_figure, effective_fields
        from convscope.report.top_patches import top_patches, top_patches_figure

        test_images, _ = context.split("test")
        seed = context.seeds(1)[0]
        rows, figures, growth = [], {}, []
        for model in context.compared:
            trained = context.main_model(model, seed)
            fields = effective_fields(
                trained, as_model_input(test_images[: self.field_images]), self.mass
            )
            if not fields:
                continue  # no conv layer: nothing to show
            patches = top_patches(
                trained, as_model_input(test_images[: self.images]), self.per_channel
            )
            context.work.images_evaluated += self.images + self.field_images
            run_figures = {}
            for result in patches:
                title = f"{model} seed {seed}: strongest test patches per channel"
                figure = top_patches_figure(result, title)
                figures[f"top_patches_{model}_{result.layer}"] = (
                    f"{model} {result.layer}: the test patches each channel responds to most",
                    figure,
                )
                run_figures[f"top_patches_{result.layer}.png"] = figure
            field_figure = effective_field_figure(
                fields,
                f"{model} seed {seed}: effective receptive fields (solid: {self.mass:.0%} of "
                "the input gradient; dashed: theoretical)",
            )
            figures[f"receptive_fields_{model}"] = (
                f"{model}: effective and theoretical receptive fields",
                field_figure,
            )
            run_figures["receptive_fields.png"] = field_figure
            for field in fields:
                height, width = field.theoretical
                rows.append(
                    {
                        "model": model,
                        "layer": field.layer,
                        "theoretical field": f"{height}x{width}",
                        f"effective field ({field.mass:.0%})": f"{field.extent}x{field.extent}",
                    }
                )
            growth.append(
                f"{model} " + " → ".join(f"{f.layer} {f.extent}x{f.extent}" for f in fields)
            )
            context.log_run(
                model,
                seed,
                "top patches and receptive fields",
                {f"effective_field_{f.layer}": [(0, float(f.extent))] for f in fields},
                run_figures,
            )
        if not rows:
            raise ConvscopeError(
                f"study {self.name}: none of the main comparison's models "
                f"({', '.join(context.compared)}) has a conv or locally connected layer"
            )
        return StudyOutcome(
            headline=(
                f"Effective receptive fields ({self.mass:.0%} of the input gradient) grow with "
                f"depth: {'; '.join(growth)}."
            ),
            sentences=[
                "Each picture shows, for one layer, the input patches (cut to the layer's "
                "receptive field) where each channel responds most, one row per channel. "
                "Whether the first layers pick strokes and edges and the deeper ones parts of "
                "digits is read from the pictures; the receptive fields are measured.",
            ],
            tables=[("Receptive fields, theoretical and effective", pd.DataFrame(rows))],
            figures=figures,
            results=pd.DataFrame(rows),
            notes=[
                f"*Seeds:* the first seed ({seed}) of each model; patches "
                f"from the first {self.images:,} test images, fields measured on the first "
                f"{self.field_images:,}. Descriptive: no test."
            ],
        )
