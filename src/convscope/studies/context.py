"""What a study works with: the processed dataset, the main comparison's trained models and
per-image predictions, and a training that logs to MLflow tagged with the study and condition.

Every training of a study uses the main comparison's recipe (`conf/train/default.yaml`) with
the seed, and where the study says so the number of epochs, replaced; its model and history are
written under `paths.study_models/<study>/<condition>/<model>/seed-<seed>/`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import mlflow
import numpy as np

from convscope.data.arrays import as_model_input, load_split
from convscope.data.config import DataConfig
from convscope.errors import ConvscopeError, rerun_hint
from convscope.models.config import ModelConfig
from convscope.models.trained import load_trained_model
from convscope.paths import PathsConfig
from convscope.records.metrics import PREDICTIONS_FILE, evaluation_dir, read_predictions
from convscope.records.run import MODEL_FILE
from convscope.records.seeds import seed_dir, training_seeds
from convscope.tracking import datasets
from convscope.tracking.config import TrackingConfig
from convscope.tracking.context import run_tags
from convscope.tracking.unavailable import unavailable_store_reported
from convscope.training.config import TrainConfig
from convscope.training.trainer import TrainingData, train

PREDICT_BATCH = 1000


@dataclass
class Work:
    """What a study did: trainings, their optimizer steps, and test images it classified."""

    trainings: int = 0
    optimizer_steps: int = 0
    images_evaluated: int = 0


@dataclass
class StudyContext:
    """One study's view of the pipeline. `compared` are the main comparison's models (those
    with a metrics file, as the compare stage finds them); `model_configs` the checked config
    of each model the study trains, by name."""

    study: str
    paths: PathsConfig
    data: DataConfig
    train_settings: TrainConfig
    tracking: TrackingConfig
    experiment_id: str
    alpha: float
    figure_dpi: int
    compared: list[str]
    model_configs: dict[str, ModelConfig]
    # The stage's config as MLflow params, and each model's config with its `_target_`.
    params: dict[str, Any]
    model_params: dict[str, dict[str, Any]]
    work: Work = field(default_factory=Work)

    def seeds(self, count: int) -> list[int]:
        """The first `count` training seeds (`train.seed`, `train.seed + 1`, ...)."""
        return training_seeds(self.train_settings.seed, count)

    @functools.cached_property
    def source(self) -> datasets.DataSource:
        """The processed dataset's record and mirror (for MLflow dataset inputs)."""
        return datasets.read_source(Path(self.paths.processed), self.data)

    @property
    def class_names(self) -> list[str]:
        return list(self.source.class_names)

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """A processed split: uint8 images (N, rows, columns) and uint8 labels (N,)."""
        return _load_split(Path(self.paths.processed), name)

    def recipe_train_split(self) -> tuple[np.ndarray, np.ndarray]:
        """The training images and labels the main comparison trained on (its first
        `train.subset` images, when the recipe sets one)."""
        images, labels = self.split("train")
        subset = self.train_settings.subset
        return (images[:subset], labels[:subset]) if subset is not None else (images, labels)

    def feature_image(self, images: np.ndarray) -> np.ndarray:
        """The test image whose feature maps trainings log (`tracking.feature_map_image`),
        taken from `images`, the study's test images."""
        return images[self.tracking.feature_map_image]

    # --- The main comparison's results ----------------------------------------------------

    def check_main_seeds(self, models: list[str], seeds: list[int]) -> None:
        """Fail in one line, before any work, unless the main comparison evaluated every seed
        of `seeds` for every model of `models`."""
        for model in models:
            for seed in seeds:
                folder = seed_dir(evaluation_dir(Path(self.paths.reports), model), seed)
                if not folder.is_dir():
                    raise ConvscopeError(
                        f"{folder}: missing: study {self.study} pairs with seed {seed} of the "
                        f"main comparison's {model}; lower study.seeds to at most params.yaml's "
                        f"seeds, or {rerun_hint(f'evaluate@{model}')}"
                    )

    def main_predictions(self, model: str, seed: int) -> np.ndarray:
        """The predicted class index of every test image by the main comparison's `model`,
        seed `seed` (its evaluation's `predictions.csv`)."""
        self.check_main_seeds([model], [seed])
        folder = seed_dir(evaluation_dir(Path(self.paths.reports), model), seed)
        path = folder / PREDICTIONS_FILE
        # Class names as text: pandas reads MNIST's names ("0".."9") as numbers.
        index = {name: k for k, name in enumerate(self.class_names)}
        predicted = read_predictions(path)["predicted"].astype(str).map(index)
        if predicted.isna().any():
            raise ConvscopeError(
                f"{path}: predicted classes outside the dataset's class names "
                f"({', '.join(self.class_names)}); {rerun_hint(f'evaluate@{model}')}"
            )
        return predicted.to_numpy(dtype=int)

    def main_model(self, model: str, seed: int) -> keras.Model:
        """The main comparison's trained `model`, seed `seed`."""
        return load_trained_model(seed_dir(self.paths.model_dir(model), seed) / MODEL_FILE)

    # --- Training and predicting ----------------------------------------------------------

    def train(
        self,
        model: str,
        condition: str,
        seed: int,
        train_split: tuple[np.ndarray, np.ndarray],
        val_split: tuple[np.ndarray, np.ndarray],
        *,
        transform: str,
        feature_image: np.ndarray,
        epochs: int | None = None,
    ) -> keras.Model:
        """Train `model` with `seed` on `train_split` (uint8 images and labels), validated on
        `val_split`, under `condition` (also its MLflow tag), the main recipe otherwise
        (`epochs` replacing its number of epochs); `transform` says what the study did to the
        images (the dataset inputs' derivation). Returns the trained model."""
        settings = dataclasses.replace(self.train_settings, seed=seed, subset=None)
        if epochs is not None:
            settings = dataclasses.replace(settings, epochs=epochs)
        config = self.model_configs[model]
        x_train, y_train = train_split
        x_val, y_val = val_split
        source = self.source
        data = TrainingData(
            as_model_input(x_train),
            y_train,
            as_model_input(x_val),
            y_val,
            as_model_input(feature_image[np.newaxis])[0],
            [
                datasets.split_input(source, "train", x_train, y_train, transform=transform),
                datasets.split_input(source, "val", x_val, y_val, transform=transform),
            ],
        )
        paths = self.paths.for_study(self.study, folder_name(condition))
        params = self.params | {
            "condition": condition,
            "model": self.model_params[model],
            "train": dataclasses.asdict(settings),
        }
        record = train(
            config,
            self.data,
            settings,
            self.tracking,
            paths,
            params=params,
            group_tags={"study": self.study, "condition": condition},
            split=data,
        )
        self.work.trainings += 1
        self.work.optimizer_steps += record.epochs * math.ceil(len(x_train) / settings.batch_size)
        return load_trained_model(seed_dir(paths.model_dir(model), seed) / MODEL_FILE)

    def predict(self, model: keras.Model, images: np.ndarray) -> np.ndarray:
        """The predicted class index of each of `images` (uint8, N x rows x columns)."""
        self.work.images_evaluated += len(images)
        probabilities = model.predict(as_model_input(images), batch_size=PREDICT_BATCH, verbose=0)
        return probabilities.argmax(axis=1)

    def log_run(
        self,
        model: str,
        seed: int,
        condition: str,
        metrics: dict[str, list[tuple[int, float]]],
        figures: dict[str, Any] | None = None,
    ) -> None:
        """One MLflow run of an evaluation-only study for `model`, seed `seed`: tagged with the
        study and `condition`; `metrics` name -> [(step, value)], `figures` artifact file ->
        matplotlib figure."""
        tags = run_tags(
            model, self.data.name, {"study": self.study, "condition": condition}, seed=seed
        )
        with (
            unavailable_store_reported(),
            mlflow.start_run(
                experiment_id=self.experiment_id,
                run_name=f"{model} seed {seed}: {self.study}, {condition}",
                tags=tags,
            ),
        ):
            for name, points in metrics.items():
                for step, value in points:
                    mlflow.log_metric(name, value, step=step)
            for artifact_file, figure in (figures or {}).items():
                mlflow.log_figure(figure, artifact_file)


def folder_name(condition: str) -> str:
    """`condition` as a folder name: lower case, runs of other characters as one `-`."""
    return re.sub(r"[^a-z0-9]+", "-", condition.lower()).strip("-")


@functools.cache
def _load_split(processed: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    return load_split(processed, name)
