"""Data size: each of the main comparison's models trained on stratified, nested subsets of
the training set; the whole training set is the main comparison's own runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from omegaconf import MISSING

from convscope.studies.config import StudyConfig, StudyOutcome, check_positive, check_sizes
from convscope.studies.translation import WEIGHT_SHARING_CLAIM

if TYPE_CHECKING:
    import keras
    import numpy as np

    from convscope.studies.context import StudyContext


@dataclass
class DataSizeStudy(StudyConfig):
    """Train on `sizes` images (stratified subsets drawn with `subset_seed`), each with the
    main recipe's early stopping for at most `epochs` epochs."""

    TITLE = "Data size: fewer training images"
    CLAIM = WEIGHT_SHARING_CLAIM

    sizes: list[int] = MISSING
    subset_seed: int = MISSING
    epochs: int = MISSING

    def __post_init__(self) -> None:
        super().__post_init__()
        check_sizes("sizes", self.sizes)
        check_positive("epochs", self.epochs)

    def run(self, context: StudyContext) -> StudyOutcome:
        seeds = context.seeds(self.seeds)
        context.check_main_seeds(context.compared, seeds)
        trained, _ = subset_predictions(
            context, context.compared, self.sizes, self.subset_seed, self.epochs, seeds
        )
        full = len(context.recipe_train_split()[1])
        for model in context.compared:
            for seed in seeds:
                trained[(full, model, seed)] = context.main_predictions(model, seed)
        return size_outcome(
            context,
            trained,
            seeds,
            budget_note(context, self.epochs, full),
            f"the whole training set ({full:,} images) is the main comparison's runs",
        )


def subset_predictions(
    context: StudyContext,
    models: list[str],
    sizes: list[int],
    subset_seed: int,
    epochs: int,
    seeds: list[int],
    keep: int | None = None,
) -> tuple[dict[tuple[int, str, int], np.ndarray], dict[tuple[str, int], keras.Model]]:
    """{(size, model, seed): predicted test classes} of each model trained on each stratified
    subset, and {(model, seed): trained model} of the trainings on `keep` images."""
    from convscope.data.subsets import stratified_subsets

    images, labels = context.split("train")
    val = context.split("val")
    test_images, _ = context.split("test")
    subsets = stratified_subsets(labels, sizes, subset_seed)
    predictions, kept = {}, {}
    for size, indices in subsets.items():
        for model in models:
            for seed in seeds:
                trained = context.train(
                    model,
                    f"{size} images",
                    seed,
                    (images[indices], labels[indices]),
                    val,
                    transform=f"stratified subset of {size} images (seed {subset_seed})",
                    feature_image=context.feature_image(test_images),
                    epochs=epochs,
                )
                predictions[(size, model, seed)] = context.predict(trained, test_images)
                if size == keep:
                    kept[(model, seed)] = trained
    return predictions, kept


def budget_note(context: StudyContext, epochs: int, full: int) -> str:
    """The training-budget rule, in one sentence."""
    stopping = context.train_settings.early_stopping
    rule = (
        f"early stopping on {stopping.monitor} (patience {stopping.patience}, the best epoch kept)"
        if stopping.enabled
        else "no early stopping"
    )
    return (
        f"*Training budget:* one rule for every size: the main recipe's optimizer and "
        f"schedule with {rule}, for at most {epochs} epochs; the main comparison's runs on "
        f"all {full:,} images had at most {context.train_settings.epochs}."
    )


def size_outcome(
    context: StudyContext,
    predictions: dict[tuple[int, str, int], np.ndarray],
    seeds: list[int],
    budget: str,
    full_note: str,
) -> StudyOutcome:
    """Accuracy against training-set size per model, and the verdicts at each size."""
    from convscope.report.study_figures import accuracy_lines
    from convscope.studies.paired import accuracy_cell, paired_verdicts, seeds_phrase

    labels = context.split("test")[1]
    results = pd.DataFrame(
        [
            {
                "model": model,
                "seed": seed,
                "images": size,
                "accuracy": float((predicted == labels).mean()),
            }
            for (size, model, seed), predicted in predictions.items()
        ]
    ).sort_values(["images", "model", "seed"], kind="stable", ignore_index=True)
    sizes = sorted(results["images"].unique())
    models = list(dict.fromkeys(results.sort_values("model", kind="stable")["model"]))
    cells: dict[str, dict[str, str]] = {model: {"model": model} for model in models}
    leads, sentences, smallest = [], [], []
    for size in sizes:
        entries = {
            model: {seed: predictions[(size, model, seed)] for seed in seeds} for model in models
        }
        comparison, verdicts = paired_verdicts(entries, labels, context.alpha)
        for accuracy in comparison.models:
            cells[accuracy.model][f"{size:,} images"] = accuracy_cell(accuracy)
            if size == sizes[0]:
                smallest.append(f"{accuracy.model} {accuracy_cell(accuracy)}")
        for verdict in verdicts:
            leads.append(
                {
                    "images": f"{size:,}",
                    "pair": f"{verdict.model_a} / {verdict.model_b}",
                    "more accurate": verdict.more_accurate or "within the noise",
                }
            )
        if size == sizes[0]:
            sentences += [f"Trained on {size:,} images:", *(v.sentence for v in verdicts)]
    largest = [f"{m} {cells[m][f'{sizes[-1]:,} images']}" for m in models]
    figure = accuracy_lines(
        results,
        "images",
        "training images (log scale)",
        "Test accuracy against training-set size",
        log_x=True,
    )
    return StudyOutcome(
        headline=(
            f"Trained on {sizes[0]:,} images: {'; '.join(smallest)}; on "
            f"{sizes[-1]:,}: {'; '.join(largest)}."
        ),
        sentences=sentences,
        tables=[
            ("Test accuracy against training-set size", pd.DataFrame(list(cells.values()))),
            ("Which model leads at each size", pd.DataFrame(leads)),
        ],
        figures={"data_size": ("Test accuracy against training-set size", figure)},
        results=results,
        notes=[
            budget,
            f"*Seeds:* {seeds_phrase(seeds)}; {full_note}. The subsets are stratified by "
            "class and nested (each smaller one inside every larger one).",
        ],
    )
