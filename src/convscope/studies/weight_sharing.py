"""Weight sharing against locality: stacked conv, the same net with each convolution
replaced by a locally connected layer (same windows, no shared weights), and the dense
baseline, trained on the same stratified subsets with one budget rule, then compared on
accuracy, parameters and shifted test images."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from omegaconf import MISSING

from convscope.errors import ConvscopeError
from convscope.studies.config import StudyConfig, StudyOutcome, check_positive, check_sizes
from convscope.studies.translation import WEIGHT_SHARING_CLAIM

if TYPE_CHECKING:
    from convscope.studies.context import StudyContext

SHIFT_DIRECTION = "diagonal"


@dataclass
class WeightSharingStudy(StudyConfig):
    """Train `models` on `sizes` images (stratified subsets of `subset_seed`, the main
    recipe's early stopping for at most `epochs` epochs); shift the test images diagonally by
    up to `max_pixels` for the models trained on the largest size, the verdicts at
    `headline_pixels`."""

    TITLE = "Weight sharing against locality: a locally connected net"
    CLAIM = WEIGHT_SHARING_CLAIM

    models: list[str] = MISSING
    sizes: list[int] = MISSING
    subset_seed: int = MISSING
    epochs: int = MISSING
    max_pixels: int = MISSING
    headline_pixels: int = MISSING

    def __post_init__(self) -> None:
        super().__post_init__()
        check_sizes("sizes", self.sizes)
        check_positive("epochs", self.epochs)
        check_positive("max_pixels", self.max_pixels)
        if not 1 <= self.headline_pixels <= self.max_pixels:
            raise ConvscopeError(
                f"study.headline_pixels: expected 1 to study.max_pixels ({self.max_pixels}), "
                f"got {self.headline_pixels}"
            )

    def model_names(self) -> list[str]:
        return list(self.models)

    def run(self, context: StudyContext) -> StudyOutcome:
        from convscope.studies.data_size import budget_note, size_outcome, subset_predictions
        from convscope.studies.paired import seeds_phrase
        from convscope.studies.translation import shifted_predictions, translation_outcome

        seeds = context.seeds(self.seeds)
        largest = self.sizes[-1]
        predictions, kept = subset_predictions(
            context, self.models, self.sizes, self.subset_seed, self.epochs, seeds, keep=largest
        )
        full = len(context.recipe_train_split()[1])
        sizes = size_outcome(
            context,
            predictions,
            seeds,
            budget_note(context, self.epochs, full),
            "every model is trained by this study",
        )
        test_images, labels = context.split("test")
        shifted = translation_outcome(
            context,
            shifted_predictions(
                context, kept, test_images, self.max_pixels, directions=(SHIFT_DIRECTION,)
            ),
            labels,
            seeds,
            SHIFT_DIRECTION,
            self.headline_pixels,
            f"the models trained on {largest:,} images",
        )
        parameters = pd.DataFrame(
            [
                {"model": model, "parameters": f"{kept[(model, seeds[0])].count_params():,}"}
                for model in self.models
            ]
        )
        return StudyOutcome(
            headline=f"{sizes.headline[:-1]}. {shifted.headline}",
            sentences=[*sizes.sentences, *shifted.sentences],
            tables=[("Parameters", parameters), *sizes.tables, *shifted.tables],
            figures={
                "data_size": sizes.figures["data_size"],
                "translation": shifted.figures["translation"],
            },
            results=pd.concat(
                [sizes.results.assign(pixels=0), shifted.results.assign(images=largest)],
                ignore_index=True,
            ),
            notes=[
                sizes.notes[0],
                f"*Seeds:* {seeds_phrase(seeds)}; every model trained by this study on the "
                "same stratified, nested subsets.",
            ],
        )
