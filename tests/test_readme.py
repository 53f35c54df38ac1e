"""The README states what the committed reports say, leads with its two commands, stays short,
links only to files that exist, and, with docs/, keeps no measurement diary."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from convscope.records.metrics import MetricsSummary, metrics_path

REPO_ROOT = Path(__file__).resolve().parents[1]
README = REPO_ROOT / "README.md"
DOCS = REPO_ROOT / "docs"
REPORTS = REPO_ROOT / "reports"
MAX_README_LINES = 200
DASH = "\N{EN DASH}"  # between the two ends of the README's ranges
README_NAMES = {"dense": "dense", "LeNet-5": "lenet5", "stacked conv": "stacked_conv"}
TABLE_HEADER = "| model | parameters | test accuracy (mean ± std, "
VERDICT_QUOTE = "> **"
# The README's "Why" section quotes each study's headline line of reports/studies.md.
WHY_SECTION = "## Why conv layers win: the studies"
HEADLINE = "- **"  # the README quotes each of the report's verdict lines as "> **...**: ..."
# History, host comparisons and per-host timings belong in benchmarks/decisions.md, not here.
DIARY = re.compile(
    r"earlier (session|round|host)|previous (clean clone|session|round)|measured twice"
    r"|on this host|last round|this round|\d+ min \d+ s\b|load average \d|\b\d+(\.\d+)? s here\b",
    re.IGNORECASE,
)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def readme_text() -> str:
    return README.read_text()


def pages() -> list[Path]:
    """The README and every docs page."""
    return [README, *sorted(DOCS.glob("*.md"))]


def readme_results() -> dict[str, list[str]]:
    """The cells of the README's results table, by model (the comparison's name)."""
    text = readme_text()
    table = text[text.index(TABLE_HEADER) :]
    rows = {}
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        name = next(short for long, short in README_NAMES.items() if cells[0].startswith(long))
        rows[name] = cells[1:]
    return rows


def percent(value: float) -> str:
    return f"{100 * value:.2f}"


def span(low: float, high: float) -> str:
    return f"{percent(low)} {DASH} {percent(high)} %"


def test_results_table_equals_the_committed_comparison() -> None:
    comparison = pd.read_csv(REPORTS / "comparison.csv").set_index("model")
    rows = readme_results()
    assert set(rows) == set(comparison.index)

    header = next(line for line in readme_text().splitlines() if line.startswith(TABLE_HEADER))
    assert f"{comparison['seeds'].iloc[0]} seeds)" in header
    for model, (params, accuracy, spread, interval, seconds) in rows.items():
        row = comparison.loc[model]
        summary = MetricsSummary.read(metrics_path(REPORTS, model))
        assert params == f"{summary.params:,}"
        mean, std = (percent(row["mean_accuracy"]), f"{100 * row['std_accuracy']:.2f}")
        assert accuracy == f"{mean} ± {std} %"
        assert spread == span(row["min_accuracy"], row["max_accuracy"])
        assert interval == span(row["interval_low"], row["interval_high"])
        assert seconds == f"{summary.train_seconds:.0f}"


def report_verdicts() -> list[str]:
    """The pairwise verdict lines of the committed report's "Verdict" section."""
    report = (REPORTS / "comparison.md").read_text()
    section = report.split("## Verdict", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("**")]


def test_verdict_quotes_the_committed_report() -> None:
    quoted = [
        line.removeprefix("> ")
        for line in readme_text().splitlines()
        if line.startswith(VERDICT_QUOTE)
    ]
    verdicts = report_verdicts()
    assert verdicts, "reports/comparison.md has no verdict lines"
    assert quoted == verdicts


def test_why_section_quotes_each_studys_headline_from_the_committed_report() -> None:
    report = (REPORTS / "studies.md").read_text()
    headlines = [line for line in report.splitlines() if line.startswith(HEADLINE)]
    section = readme_text().split(WHY_SECTION, 1)[1].split("\n## ", 1)[0]
    quoted = [line for line in section.splitlines() if line.startswith(HEADLINE)]
    assert headlines, "reports/studies.md has no headlines"
    assert quoted == headlines


def test_readme_leads_with_the_two_commands() -> None:
    text = readme_text()
    first_block = re.search(r"```bash\n(.*?)```", text, re.DOTALL)
    assert first_block is not None
    assert first_block.start() < text.index("\n## "), "the commands come before any section"
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make repro", "make test"]


def test_readme_is_short() -> None:
    lines = readme_text().splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines"


def heading_anchors(page: Path) -> set[str]:
    """GitHub's anchors of a Markdown page's headings."""
    anchors = set()
    for line in page.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


@pytest.mark.parametrize("page", pages(), ids=lambda page: page.name)
def test_links_resolve(page: Path) -> None:
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name} links to a missing file: {target}"
        if anchor and linked.suffix == ".md":
            assert anchor in heading_anchors(linked), f"{page.name}: no heading for {target}"


def test_readme_links_every_docs_page() -> None:
    linked = {target.partition("#")[0] for target in LINK.findall(readme_text())}
    docs = {f"docs/{page.name}" for page in DOCS.glob("*.md")}
    assert docs, "docs/ has no pages"
    assert docs <= linked, f"README.md does not link {sorted(docs - linked)}"


@pytest.mark.parametrize("page", pages(), ids=lambda page: page.name)
def test_no_measurement_diary(page: Path) -> None:
    diary = [line for line in page.read_text().splitlines() if DIARY.search(line)]
    assert not diary, f"{page.name}: history or host timings belong in benchmarks/decisions.md"
