"""Stage `study`: `python -m convscope.study study=<name> [overrides]`.

Runs one study of `conf/study/<name>.yaml` (a module of `convscope.studies`) against the main
comparison: the models with a metrics file in `reports/metrics/`, their trained seeds and
their per-image test predictions. Writes `reports/studies/<name>/` (`study.json`, the
section of `reports/studies.md`, `results.csv`) and the study's figures in
`reports/figures/studies/<name>/`; its trainings and evaluations are MLflow runs of the
dataset's experiment tagged `study` and `condition`.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from convscope.cli import group_option, stage
from convscope.comparison.config import CompareConfig
from convscope.config import plain, with_target
from convscope.data.config import DataConfig
from convscope.errors import ConvscopeError
from convscope.models.config import ModelConfig
from convscope.paths import PathsConfig
from convscope.records.metrics import metrics_dir
from convscope.records.study import (
    RESULTS_FILE,
    SECTION_FILE,
    STUDY_FILE,
    StudyRecord,
    study_dir,
    study_figures_dir,
)
from convscope.studies.config import StudyConfig, StudyOutcome
from convscope.tracking.config import TrackingConfig
from convscope.training.config import TrainConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StudyStageConfig:
    """The study stage's config (`conf/study.yaml`): the study, the training recipe it
    reuses, where the main comparison's results are, and the comparison's statistics."""

    paths: PathsConfig
    data: DataConfig
    train: TrainConfig
    tracking: TrackingConfig
    compare: CompareConfig
    study: StudyConfig


def compared_models(paths: PathsConfig) -> list[str]:
    """The main comparison's models: those with a metrics file, in file-name order."""
    folder = metrics_dir(Path(paths.reports))
    names = sorted(path.stem for path in folder.glob("*.json"))
    if not names:
        raise ConvscopeError(
            f"{folder}: no metrics files (<model>.json): the studies build on the main "
            "comparison; run `dvc repro evaluate` first"
        )
    return names


@stage(StudyStageConfig)
def main(cfg: StudyStageConfig) -> None:
    """Run one study and write its record, section, results table and figures."""
    study = cfg.study
    compared = compared_models(cfg.paths)
    names = dict.fromkeys([*compared, *study.model_names()])
    models = {name: group_option("model", name, ModelConfig, "study.models") for name in names}
    # Imported here so that bad input and --help answer without loading TensorFlow.
    from convscope.studies.context import StudyContext
    from convscope.tracking.store import connect

    started = time.perf_counter()
    # The study's models folder, a DVC output, exists also for a study that trains nothing.
    Path(cfg.paths.for_study(study.name, "").models_root).mkdir(parents=True, exist_ok=True)
    context = StudyContext(
        study=study.name,
        paths=cfg.paths,
        data=cfg.data,
        train_settings=cfg.train,
        tracking=cfg.tracking,
        experiment_id=connect(cfg.tracking),
        alpha=cfg.compare.alpha,
        figure_dpi=cfg.compare.figure_dpi,
        compared=compared,
        model_configs=models,
        params=plain(cfg),
        model_params={name: with_target(model) for name, model in models.items()},
    )
    outcome = study.run(context)
    record = StudyRecord(
        name=study.name,
        title=study.TITLE,
        claim=study.CLAIM,
        headline=outcome.headline,
        seeds=study.seeds,
        trainings=context.work.trainings,
        optimizer_steps=context.work.optimizer_steps,
        images_evaluated=context.work.images_evaluated,
        seconds=time.perf_counter() - started,
    )
    write_study(cfg.paths, record, outcome, cfg.compare.figure_dpi, context.experiment_id)
    log.info("study %s: %s", study.name, outcome.headline)


def write_study(
    paths: PathsConfig, record: StudyRecord, outcome: StudyOutcome, dpi: int, experiment_id: str
) -> None:
    """Write the study's figures, results table, section and (last: it means the rest is
    there) record; log them to a summary MLflow run of the study."""
    from convscope.atomic import atomic_path, write_text
    from convscope.report import save_figure
    from convscope.report.studies import section_markdown
    from convscope.tracking.study_run import log_study_summary

    reports = Path(paths.reports)
    folder, figures_dir = study_dir(reports, record.name), study_figures_dir(reports, record.name)
    for stale in (folder, figures_dir):
        shutil.rmtree(stale, ignore_errors=True)
    figures = {
        title: save_figure(figure, figures_dir / f"{stem}.png", dpi)
        for stem, (title, figure) in outcome.figures.items()
    }
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / RESULTS_FILE) as tmp:
        outcome.results.to_csv(tmp, index=False)
    links = {title: path.relative_to(reports).as_posix() for title, path in figures.items()}
    section = section_markdown(record, outcome.sentences, outcome.tables, links, outcome.notes)
    write_text(folder / SECTION_FILE, section)
    record.write(folder / STUDY_FILE)
    log_study_summary(experiment_id, record, folder, list(figures.values()))


if __name__ == "__main__":
    main()
