"""Translation: the main comparison's trained models, every seed the study uses, evaluated
on the test images shifted by 0 to `max_pixels` pixels (horizontally, vertically and
diagonally, zero fill). Evaluation only: nothing is retrained."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from omegaconf import MISSING

from convscope.errors import ConvscopeError
from convscope.studies.config import StudyConfig, StudyOutcome, check_positive

if TYPE_CHECKING:
    import numpy as np

    from convscope.studies.context import StudyContext

WEIGHT_SHARING_CLAIM = (
    "A kernel shares its weights over every position (4 kernels of 3x3 = 36 weights, "
    "against 784 for one dense unit on a 28x28 image)."
)


@dataclass
class TranslationStudy(StudyConfig):
    """Shift the test images by up to `max_pixels`; the verdicts compare the models at
    `headline_pixels` in the `headline_direction`."""

    TITLE = "Translation: the test images shifted"
    CLAIM = WEIGHT_SHARING_CLAIM

    max_pixels: int = MISSING
    headline_direction: str = MISSING
    headline_pixels: int = MISSING

    def __post_init__(self) -> None:
        super().__post_init__()
        from convscope.data.translation import DIRECTIONS

        check_positive("max_pixels", self.max_pixels)
        if self.headline_direction not in DIRECTIONS:
            raise ConvscopeError(
                f"study.headline_direction: expected one of {', '.join(DIRECTIONS)}, "
                f"got {self.headline_direction!r}"
            )
        if not 1 <= self.headline_pixels <= self.max_pixels:
            raise ConvscopeError(
                f"study.headline_pixels: expected 1 to study.max_pixels ({self.max_pixels}), "
                f"got {self.headline_pixels}"
            )

    def run(self, context: StudyContext) -> StudyOutcome:
        test_images, labels = context.split("test")
        seeds = context.seeds(self.seeds)
        context.check_main_seeds(context.compared, seeds)
        predictions = shifted_predictions(
            context,
            {
                (model, seed): context.main_model(model, seed)
                for model in context.compared
                for seed in seeds
            },
            test_images,
            self.max_pixels,
        )
        return translation_outcome(
            context,
            predictions,
            labels,
            seeds,
            self.headline_direction,
            self.headline_pixels,
            "the main comparison's trained models",
        )


def shifted_predictions(
    context: StudyContext,
    models: dict[tuple[str, int], object],
    images: np.ndarray,
    max_pixels: int,
    directions: tuple[str, ...] | None = None,
) -> dict[tuple[str, int], dict[tuple[str, int], np.ndarray]]:
    """{(direction, pixels): {(model, seed): predicted classes}} of every model on `images`
    shifted 0..`max_pixels` in each of `directions` (all by default; 0 is listed under each
    direction); each model's accuracies are logged as one MLflow run, a metric per direction
    stepped by the shift."""
    from convscope.data.translation import DIRECTIONS, shift_images

    directions = directions or tuple(DIRECTIONS)
    predictions: dict[tuple[str, int], dict[tuple[str, int], np.ndarray]] = {}
    for (model, seed), trained in models.items():
        unshifted = context.predict(trained, images)
        points: dict[str, list[tuple[int, float]]] = {}
        for direction in directions:
            predictions.setdefault((direction, 0), {})[(model, seed)] = unshifted
            for pixels in range(1, max_pixels + 1):
                shifted = context.predict(trained, shift_images(images, direction, pixels))
                predictions.setdefault((direction, pixels), {})[(model, seed)] = shifted
        labels = context.split("test")[1]
        for (direction, pixels), by_model in predictions.items():
            accuracy = float((by_model[(model, seed)] == labels).mean())
            points.setdefault(f"test_accuracy_{direction}", []).append((pixels, accuracy))
        context.log_run(model, seed, f"shifted 0 to {max_pixels} px", points)
    return predictions


def translation_outcome(
    context: StudyContext,
    predictions: dict[tuple[str, int], dict[tuple[str, int], np.ndarray]],
    labels: np.ndarray,
    seeds: list[int],
    direction: str,
    pixels: int,
    what: str,
) -> StudyOutcome:
    """The translation results of `predictions` (see `shifted_predictions`): accuracy
    against shift per model, and the verdicts at `pixels` in `direction`."""
    from convscope.report.study_figures import accuracy_lines
    from convscope.studies.paired import accuracy_cell, paired_verdicts, seeds_phrase

    results = pd.DataFrame(
        [
            {
                "model": model,
                "seed": seed,
                "direction": shift_direction,
                "pixels": shift,
                "accuracy": float((predicted == labels).mean()),
            }
            for (shift_direction, shift), by_model in predictions.items()
            for (model, seed), predicted in by_model.items()
        ]
    )
    models = list(dict.fromkeys(results["model"]))

    def entry(model: str, at: int) -> dict[int, np.ndarray]:
        return {seed: predictions[(direction, at)][(model, seed)] for seed in seeds}

    headline_shift = f"shifted {pixels} px {direction}"
    _, between_verdicts = paired_verdicts(
        {f"{m}, {headline_shift}": entry(m, pixels) for m in models}, labels, context.alpha
    )
    falls, sentences = [], []
    for model in models:
        comparison, (verdict,) = paired_verdicts(
            {
                f"{model}, unshifted": entry(model, 0),
                f"{model}, {headline_shift}": entry(model, pixels),
            },
            labels,
            context.alpha,
        )
        before, after = comparison.models
        falls.append(f"{model} {accuracy_cell(before)} → {accuracy_cell(after)}")
        sentences.append(verdict.sentence)
    sentences += [
        f"{headline_shift.capitalize()}, the models against each other:",
        *(verdict.sentence for verdict in between_verdicts),
    ]
    table = (
        results.groupby(["model", "direction", "pixels"], sort=False)["accuracy"]
        .agg(["mean", "std"])
        .reset_index()
    )
    table["cell"] = [
        f"{100 * mean:.2f}%" if pd.isna(std) else f"{100 * mean:.2f} ± {100 * std:.2f}%"
        for mean, std in zip(table["mean"], table["std"], strict=True)
    ]
    wide = table.pivot_table(
        index=["model", "direction"], columns="pixels", values="cell", aggfunc="first", sort=False
    )
    wide.columns = [f"{shift} px" for shift in wide.columns]
    figure = accuracy_lines(
        results,
        "pixels",
        "shift (pixels)",
        f"Test accuracy of {what} on shifted test images"
        + (" (band: min to max over seeds)" if len(seeds) > 1 else ""),
        panels="direction",
    )
    return StudyOutcome(
        headline=f"Test images {headline_shift}: {'; '.join(falls)}.",
        sentences=sentences,
        tables=[("Test accuracy against shift", wide.reset_index())],
        figures={"translation": ("Test accuracy against shift", figure)},
        results=results,
        notes=[
            f"*Seeds:* {seeds_phrase(seeds)} of {what}; every seed of the main comparison "
            "costs only its predictions. The shifted images keep their labels; what leaves the "
            "frame is lost and zeros come in."
        ],
    )
