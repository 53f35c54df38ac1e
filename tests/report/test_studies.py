from __future__ import annotations

import dataclasses

import pandas as pd

from convscope.records.study import StudyRecord
from convscope.report.studies import cost_table, section_markdown, studies_markdown

RECORD = StudyRecord(
    name="translation",
    title="Translation: the test images shifted",
    claim="A kernel shares its weights over every position.",
    headline="Shifted 2 px: dense 98% → 70%.",
    seeds=3,
    trainings=0,
    optimizer_steps=0,
    images_evaluated=1_170_000,
    seconds=75.4,
)


def test_a_section_opens_with_the_claim_then_the_result_the_figure_and_the_table() -> None:
    table = pd.DataFrame({"model": ["dense"], "0 px": ["98.60%"]})
    text = section_markdown(
        RECORD,
        ["**dense is more accurate than dense, shifted**: ..."],
        [("Accuracy against shift", table)],
        {"Accuracy against shift": "figures/studies/translation/translation.png"},
        ["*Seeds:* 3 seeds."],
    )
    blocks = text.split("\n\n")
    assert blocks[0] == "## Translation: the test images shifted"
    assert blocks[1] == "> A kernel shares its weights over every position."
    assert blocks[2].startswith("**dense is more accurate")
    assert blocks[3] == "![Accuracy against shift](figures/studies/translation/translation.png)"
    assert blocks[4] == "**Accuracy against shift**"
    assert "| model   | 0 px   |" in blocks[5] and "| 98.60% |" in blocks[5]
    assert blocks[-1] == "*Seeds:* 3 seeds.\n"


def test_the_report_lists_headlines_and_costs_then_the_sections_in_the_plans_order() -> None:
    other = dataclasses.replace(RECORD, name="layers", title="Layers", seconds=5, trainings=2)
    text = studies_markdown([other, RECORD], ["## Layers\n", "## Translation\n"])
    assert text.index("- **Layers**") < text.index("- **Translation: the test images shifted**")
    assert text.index("## Layers") < text.index("## Translation")
    costs = cost_table([other, RECORD])
    assert list(costs["study"]) == ["layers", "translation"]
    assert list(costs["wall time"]) == ["5 s", "1 min 15 s"]
    assert list(costs["test images classified"]) == ["1,170,000", "1,170,000"]


def test_no_planned_study_says_so() -> None:
    assert "No study is planned" in studies_markdown([], [])
