"""The studies' report in Markdown: one section per study, and `reports/studies.md`, their
costs in a table and then their sections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from convscope.records.study import StudyRecord

TITLE = "# Why conv layers win: the studies"
INTRODUCTION = (
    "Each study puts one claim of the course text to a controlled experiment: one thing "
    "changes, the training recipe of the main comparison (`conf/train/default.yaml`) stays. "
    "The statistics are those of the main verdict (`comparison.md`): models are compared on "
    "the same test images, with the exact McNemar test on the images only one of them gets "
    "wrong (summed over seeds) and, with several seeds, the paired t-test over seeds; a "
    "difference is called real only when both reject at the 5% level and it has the same sign "
    "in every seed. Each study states its number of seeds, chosen from the size of the effect "
    "it measures."
)


def section_markdown(
    record: StudyRecord,
    sentences: Sequence[str],
    tables: Sequence[tuple[str, pd.DataFrame]],
    figures: Mapping[str, str],
    notes: Sequence[str],
) -> str:
    """One study's section: its title, the claim quoted in one line, the result sentences,
    the figures (title -> path relative to the report), the tables and the notes."""
    parts = [f"## {record.title}", f"> {record.claim}", *sentences]
    parts += [f"![{title}]({path})" for title, path in figures.items()]
    for title, table in tables:
        parts += [f"**{title}**", table.to_markdown(index=False, disable_numparse=True)]
    parts += list(notes)
    return "\n\n".join(parts) + "\n"


def cost_table(records: Sequence[StudyRecord]) -> pd.DataFrame:
    """One row per study: seeds, trainings, optimizer steps, test images classified and
    wall-clock time."""
    return pd.DataFrame(
        [
            {
                "study": record.name,
                "seeds": record.seeds,
                "trainings": record.trainings,
                "optimizer steps": f"{record.optimizer_steps:,}",
                "test images classified": f"{record.images_evaluated:,}",
                "wall time": _minutes(record.seconds),
            }
            for record in records
        ]
    )


def studies_markdown(records: Sequence[StudyRecord], sections: Sequence[str]) -> str:
    """`reports/studies.md`: the introduction, the headline of each study, the costs and
    the sections, in the plan's order."""
    if not records:
        return f"{TITLE}\n\nNo study is planned (`studies` in params.yaml).\n"
    headlines = [f"- **{record.title}**: {record.headline}" for record in records]
    parts = [
        TITLE,
        INTRODUCTION,
        "\n".join(headlines),
        "**What each study cost** (wall time of its stage on the machine that ran it, "
        "start-up excluded)",
        cost_table(records).to_markdown(index=False),
        *(section.rstrip("\n") for section in sections),
    ]
    return "\n\n".join(parts) + "\n"


def _minutes(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"
