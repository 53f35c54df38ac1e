"""Stage `study_report`: `python -m convscope.study_report [overrides]`.

Joins the sections of the planned studies (`studies` in `params.yaml`, in that order; each
written by the study stage to `reports/studies/<name>/`) into `reports/studies.md`, under
their headlines and a table of what each cost. With no study planned it says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from convscope.atomic import write_text
from convscope.cli import stage
from convscope.data.config import DataConfig
from convscope.errors import ConvscopeError, first_line, rerun_hint
from convscope.paths import PathsConfig
from convscope.records.files import read_or_fail
from convscope.records.study import SECTION_FILE, STUDY_FILE, StudyRecord, study_dir
from convscope.report.studies import studies_markdown

REPORT_FILE = "studies.md"  # in paths.reports


@dataclass(frozen=True)
class StudyReportStageConfig:
    """The study report's config (`conf/study_report.yaml`): where the reports are, and the
    file whose `studies` list plans the studies (DVC's `params.yaml`)."""

    paths: PathsConfig
    data: DataConfig  # the dataset whose folders `paths` name
    plan: str


def planned_studies(plan: Path) -> list[str]:
    """The `studies` list of the plan file (params.yaml)."""
    try:
        studies = OmegaConf.to_container(OmegaConf.load(plan)).get("studies", [])
    except (OSError, OmegaConfBaseException) as err:
        raise ConvscopeError(f"{plan}: cannot read the plan ({first_line(err)})") from None
    if not isinstance(studies, list) or not all(isinstance(s, str) for s in studies):
        raise ConvscopeError(f"{plan}: studies: expected a list of study names, got {studies!r}")
    return studies


@stage(StudyReportStageConfig)
def main(cfg: StudyReportStageConfig) -> None:
    """Write `reports/studies.md` from the planned studies' records and sections."""
    reports = Path(cfg.paths.reports)
    names = planned_studies(Path(cfg.plan))
    records = [StudyRecord.read(study_dir(reports, name) / STUDY_FILE) for name in names]
    sections = [
        read_or_fail(
            study_dir(reports, name) / SECTION_FILE,
            Path.read_text,
            "text",
            (OSError, UnicodeDecodeError),
            rerun_hint(f"study@{name}"),
        )
        for name in names
    ]
    write_text(reports / REPORT_FILE, studies_markdown(records, sections))


if __name__ == "__main__":
    main()
