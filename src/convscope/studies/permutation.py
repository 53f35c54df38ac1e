"""Spatial structure: every image's pixels shuffled by one fixed, seeded permutation, the
same for the train, validation and test splits; each of the main comparison's models
retrained on them and compared with itself on the original pixels (the main comparison's run
of the same seed, on the same test images)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from omegaconf import MISSING

from convscope.studies.config import StudyConfig, StudyOutcome

if TYPE_CHECKING:
    from convscope.studies.context import StudyContext

ORIGINAL, PERMUTED = "original pixels", "pixels permuted"


@dataclass
class PermutationStudy(StudyConfig):
    """Retrain each compared model on pixel-permuted images (`permutation_seed` draws the
    permutation)."""

    TITLE = "Spatial structure: the pixels shuffled"
    CLAIM = "A dense unit cannot use the spatial structure of an image; a conv layer does."

    permutation_seed: int = MISSING

    def run(self, context: StudyContext) -> StudyOutcome:
        from convscope.data.permutation import permute_pixels, pixel_permutation
        from convscope.report.study_figures import accuracy_bars
        from convscope.studies.paired import (
            accuracy_cell,
            p_cell,
            paired_verdicts,
            seeds_phrase,
            verdict_word,
        )

        permutation = pixel_permutation(tuple(context.data.image_shape), self.permutation_seed)
        train_images, train_labels = context.recipe_train_split()
        val_images, val_labels = context.split("val")
        test_images, labels = context.split("test")
        shuffled_test = permute_pixels(test_images, permutation)
        transform = f"pixels permuted (seed {self.permutation_seed})"
        seeds = context.seeds(self.seeds)
        context.check_main_seeds(context.compared, seeds)
        original: dict[str, dict[int, object]] = {}
        permuted: dict[str, dict[int, object]] = {}
        for model in context.compared:
            original[model], permuted[model] = {}, {}
            for seed in seeds:
                original[model][seed] = context.main_predictions(model, seed)
                trained = context.train(
                    model,
                    PERMUTED,
                    seed,
                    (permute_pixels(train_images, permutation), train_labels),
                    (permute_pixels(val_images, permutation), val_labels),
                    transform=transform,
                    feature_image=context.feature_image(shuffled_test),
                )
                permuted[model][seed] = context.predict(trained, shuffled_test)
        results = pd.DataFrame(
            [
                {
                    "model": model,
                    "seed": seed,
                    "condition": condition,
                    "accuracy": float((predictions[model][seed] == labels).mean()),
                    "errors": int((predictions[model][seed] != labels).sum()),
                }
                for model in context.compared
                for seed in seeds
                for condition, predictions in ((ORIGINAL, original), (PERMUTED, permuted))
            ]
        )
        per_model, sentences, changes = [], [], []
        for model in context.compared:
            comparison, (verdict,) = paired_verdicts(
                {f"{model}, {ORIGINAL}": original[model], f"{model}, {PERMUTED}": permuted[model]},
                labels,
                context.alpha,
            )
            before, after = comparison.models
            pair = comparison.pairs[0]
            word = {
                "more accurate": "lost accuracy",
                "less accurate": "gained accuracy",
                "within the noise": "within the noise",
            }[verdict_word(verdict, before.model)]
            per_model.append(
                {
                    "model": model,
                    ORIGINAL: accuracy_cell(before),
                    PERMUTED: accuracy_cell(after),
                    "errors added (mean)": f"{-pair.mean_error_difference:+.1f}",
                    "McNemar p": p_cell(pair.pooled_mcnemar_p),
                    "t-test p": p_cell(pair.t_test_p),
                    "on permuted pixels": word,
                }
            )
            sentences.append(verdict.sentence)
            changes.append(f"{model} {accuracy_cell(before)} → {accuracy_cell(after)} ({word})")
        shuffled = {f"{m}, {PERMUTED}": permuted[m] for m in context.compared}
        _, permuted_verdicts = paired_verdicts(shuffled, labels, context.alpha)
        _, original_verdicts = paired_verdicts(original, labels, context.alpha)
        leads = []
        for before, after in zip(original_verdicts, permuted_verdicts, strict=True):
            leads.append(
                {
                    "pair": f"{before.model_a} / {before.model_b}",
                    ORIGINAL: before.more_accurate or "within the noise",
                    PERMUTED: (after.more_accurate or "within the noise").replace(
                        f", {PERMUTED}", ""
                    ),
                }
            )
        sentences += [
            "On the permuted pixels, the models against each other:",
            *(verdict.sentence for verdict in permuted_verdicts),
        ]
        seeds_note = (
            f"{seeds_phrase(seeds)}, paired with the main comparison's runs of the same seeds. "
            "One permutation of the "
            f"{permutation.size} pixel positions (seed {self.permutation_seed}) for every split."
        )
        return StudyOutcome(
            headline=f"Pixels shuffled by one fixed permutation: {'; '.join(changes)}.",
            sentences=sentences,
            tables=[
                ("Each model on original and on permuted pixels", pd.DataFrame(per_model)),
                ("Which model leads, before and after the shuffle", pd.DataFrame(leads)),
            ],
            figures={
                "permutation": (
                    "Test accuracy on original and permuted pixels",
                    accuracy_bars(
                        results,
                        "condition",
                        "Test accuracy: original against permuted pixels (seeds as dots)",
                    ),
                )
            },
            results=results,
            notes=[f"*Seeds:* {seeds_note}"],
        )
