"""Equal parameter budget: a dense net with about LeNet-5's parameter count, trained with the
main recipe, against the main comparison's models, so that accuracy is compared at equal
parameters and not only per parameter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from omegaconf import MISSING

from convscope.errors import ConvscopeError
from convscope.studies.config import StudyConfig, StudyOutcome

if TYPE_CHECKING:
    from convscope.studies.context import StudyContext


@dataclass
class EqualParamsStudy(StudyConfig):
    """Train `models` on the whole training set; compare them with the main comparison's
    `against` models, seed by seed."""

    TITLE = "Equal parameter budget: a dense net of LeNet-5's size"
    CLAIM = "A dense unit cannot use the spatial structure of an image; a conv layer does."

    models: list[str] = MISSING
    against: list[str] = MISSING

    def model_names(self) -> list[str]:
        return list(self.models)

    def run(self, context: StudyContext) -> StudyOutcome:
        from convscope.comparison.spread_figures import accuracy_vs_size
        from convscope.studies.paired import accuracy_cell, paired_verdicts, seeds_phrase

        missing = [name for name in self.against if name not in context.compared]
        if missing:
            raise ConvscopeError(
                f"study.against: {', '.join(missing)} not in the main comparison "
                f"({', '.join(context.compared)}); add it to params.yaml's architectures"
            )
        seeds = context.seeds(self.seeds)
        context.check_main_seeds(self.against, seeds)
        train_split, val_split = context.recipe_train_split(), context.split("val")
        test_images, labels = context.split("test")
        predictions, parameters = {}, {}
        for model in self.models:
            predictions[model] = {}
            for seed in seeds:
                trained = context.train(
                    model,
                    "whole training set",
                    seed,
                    train_split,
                    val_split,
                    transform="",
                    feature_image=context.feature_image(test_images),
                )
                predictions[model][seed] = context.predict(trained, test_images)
            parameters[model] = trained.count_params()
        for model in self.against:
            predictions[model] = {seed: context.main_predictions(model, seed) for seed in seeds}
            parameters[model] = context.main_model(model, seeds[0]).count_params()
        comparison, verdicts = paired_verdicts(predictions, labels, context.alpha)
        runs = pd.DataFrame(
            [
                {
                    "model": model,
                    "seed": seed,
                    "test_accuracy": float((predicted == labels).mean()),
                    "total_params": parameters[model],
                }
                for model, by_seed in predictions.items()
                for seed, predicted in by_seed.items()
            ]
        )
        table = pd.DataFrame(
            [
                {
                    "model": accuracy.model,
                    "parameters": f"{parameters[accuracy.model]:,}",
                    "test accuracy": accuracy_cell(accuracy),
                    "mean errors": f"{sum(accuracy.errors) / len(accuracy.errors):.1f}",
                }
                for accuracy in comparison.models
            ]
        )
        summary = "; ".join(
            f"{a.model} ({parameters[a.model]:,} parameters) {accuracy_cell(a)}"
            for a in sorted(comparison.models, key=lambda a: parameters[a.model])
        )
        return StudyOutcome(
            headline=f"At equal parameter budgets: {summary}.",
            sentences=[verdict.sentence for verdict in verdicts],
            tables=[("Accuracy and parameters", table)],
            figures={
                "equal_params": (
                    "Test accuracy against parameter count",
                    accuracy_vs_size(runs, "total_params"),
                )
            },
            results=runs.rename(columns={"test_accuracy": "accuracy"}),
            notes=[
                f"*Seeds:* {seeds_phrase(seeds)}, paired with the main comparison's runs of "
                "the same seeds; the same recipe on the whole training set."
            ],
        )
