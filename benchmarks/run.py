"""Run every benchmark and write `reports/benchmarks.md`: `python -m benchmarks.run [--quick]`.

Full run (about 18 minutes on 2 cores): pipeline overhead for the three models, time to
99 % test accuracy and steady-state throughput for LeNet-5, the hardware's use, orchestration
times, the training settings behind the defaults, and three runs of `dvc repro` of one seed,
each in a fresh clone; `--clean-clone` first runs the README's `make repro` from nothing (about
eight minutes more) and benchmarks with that clone's data and up-to-date pipeline.
`--quick` runs each benchmark on a tiny setting (the smoke test's mode; no pipeline run): its
figures mean nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from benchmarks import (
    hardware,
    load,
    orchestration,
    overhead,
    pipeline,
    recipe,
    settings,
    time_to_accuracy,
)
from benchmarks.common import (
    DECISIONS,
    DEFAULT_PROCESSED,
    MODELS,
    REPO,
    MachineState,
    interleaved,
    machine_state,
    median,
)
from convscope.atomic import write_text
from convscope.records.dataset import META_FILE


@dataclass(frozen=True)
class SettingsRun:
    """Which settings to compare on one model, on how many training images."""

    model: str
    images: int
    in_process: tuple[settings.Setting, ...]
    process: tuple[settings.Setting, ...] = ()


@dataclass(frozen=True)
class Plan:
    """How big each benchmark is."""

    models: tuple[str, ...]
    repeats: int
    warmup: bool
    overhead_epochs: int
    overhead_subset: int | None
    tta_model: str
    tta_target: float
    tta_variants: dict[str, tuple[str, ...]]
    matmul_sizes: tuple[int, ...]
    throughput_images: int
    steady_model: str
    steady_overrides: tuple[str, ...]
    tensorflow_import: bool
    pipeline_repeats: int  # one-seed `dvc repro` runs; 0 = none
    settings_runs: tuple[SettingsRun, ...]


FULL = Plan(
    models=MODELS,
    repeats=3,
    warmup=True,
    overhead_epochs=2,
    overhead_subset=16384,
    tta_model="lenet5",
    tta_target=0.99,
    tta_variants={
        "default config": (),
        # The recipe before issue 11, side by side with the current default.
        "former default (batch 128, 3e-3, 10 epochs)": (
            "train.batch_size=128",
            "train.learning_rate=3e-3",
            "train.warmup_epochs=0",
            "train.label_smoothing=0",
            "train.epochs=10",
        ),
    },
    matmul_sizes=(1024, 2048, 4096),
    throughput_images=16384,
    steady_model="lenet5",
    steady_overrides=(),
    tensorflow_import=True,
    pipeline_repeats=3,
    settings_runs=(
        SettingsRun("lenet5", 8192, settings.IN_PROCESS, settings.PROCESS),
        SettingsRun("stacked_conv", 8192, settings.BATCHING),
        SettingsRun("dense", 8192, settings.BATCHING),
    ),
)

QUICK = Plan(
    models=("dense",),
    repeats=1,
    warmup=False,
    overhead_epochs=1,
    overhead_subset=512,
    tta_model="dense",
    tta_target=0.5,
    tta_variants={"default config": ("train.epochs=2", "train.subset=1024")},
    matmul_sizes=(256,),
    throughput_images=512,
    steady_model="dense",
    steady_overrides=("train.subset=512",),
    tensorflow_import=False,
    pipeline_repeats=0,
    settings_runs=(SettingsRun("dense", 512, settings.BATCHING[:2]),),
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--processed",
        type=Path,
        default=None,
        help=f"processed MNIST folder (default: the clean clone's with --clean-clone, else "
        f"{DEFAULT_PROCESSED}; `dvc repro preprocess` makes it)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "benchmarks.md")
    parser.add_argument("--quick", action="store_true", help="tiny settings, for smoke tests")
    parser.add_argument(
        "--repo",
        type=Path,
        default=None,
        help=f"DVC repository to time (default: the clean clone with --clean-clone, else {REPO})",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed rounds per benchmark (default: 3)"
    )
    parser.add_argument(
        "--clean-clone",
        action="store_true",
        help="first time the README's `make repro` in a fresh clone with no .venv "
        "(every seed; about eight minutes on 2 cores), then benchmark with its data and pipeline",
    )
    parser.add_argument(
        "--keep-clean-clone",
        type=Path,
        default=None,
        metavar="DIR",
        help="with --clean-clone: make the clone at DIR (must not exist) and keep it; its "
        "dvc.lock and reports/ are a clean-clone `make repro` of HEAD",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> Path:
    """Run the benchmarks, print their tables and write the report; returns its path."""
    args = parse_args(argv)
    command = " ".join(["python -m benchmarks.run", *(sys.argv[1:] if argv is None else argv)])
    plan = QUICK if args.quick else FULL
    repeats = args.repeats or plan.repeats
    _refuse_bad_options(args, plan)
    keep = args.keep_clean_clone
    started, before = time.perf_counter(), machine_state()
    with contextlib.ExitStack() as stack:
        clean = workspace = None
        if args.clean_clone:
            if keep is None:
                keep = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="convscope-")))
                keep = keep / "clean-clone"
            workspace = keep.resolve()
            clean = pipeline.measure_clean_clone(workspace)
        repo = (args.repo or workspace or REPO).resolve()
        processed = args.processed or (workspace or REPO) / DEFAULT_PROCESSED.relative_to(REPO)
        processed = _check_processed(processed)
        sections, targets = _benchmark(plan, repeats, processed, repo, clean)
    print("\n## Targets\n" + targets.to_string(index=False), flush=True)
    header = _header(command, args.quick, processed, repeats, before, time.perf_counter() - started)
    write_report(args.out, header, targets, sections)
    print(f"\nwrote {args.out}")
    return args.out


def _refuse_bad_options(args: argparse.Namespace, plan: Plan) -> None:
    """Exit in one line, before any work, on options that cannot run as given."""
    keep = args.keep_clean_clone
    if keep is not None and not args.clean_clone:
        sys.exit(f"error: --keep-clean-clone {keep}: only with --clean-clone")
    if keep is not None and keep.exists():
        sys.exit(f"error: --keep-clean-clone {keep}: exists; name a path that does not")
    if args.quick and args.clean_clone:
        sys.exit("error: --clean-clone: not with --quick (it runs the whole pipeline)")
    if (plan.pipeline_repeats or args.clean_clone) and not os.environ.get("CONVSCOPE_MIRROR"):
        sys.exit(f"error: {pipeline.MISSING_MIRROR}")
    if args.processed is not None or not args.clean_clone:
        _check_processed(args.processed or DEFAULT_PROCESSED)
    if args.repo is not None and not (args.repo / "dvc.yaml").is_file():
        sys.exit(f"error: --repo {args.repo}: no dvc.yaml there")


def _check_processed(processed: Path) -> Path:
    """`processed` resolved, or exit in one line when it holds no processed dataset."""
    processed = processed.resolve()
    if not (processed / META_FILE).exists():
        sys.exit(f"error: {processed}: no processed dataset; run `dvc repro preprocess`")
    return processed


def _benchmark(
    plan: Plan, repeats: int, processed: Path, repo: Path, clean: pd.DataFrame | None
) -> tuple[list[tuple[str, str, list[pd.DataFrame]]], pd.DataFrame]:
    """Every benchmark of `plan`, printed as it ends: the report's sections and the targets."""
    sections: list[tuple[str, str, list[pd.DataFrame]]] = []

    def section(module: object, title: str, *tables: pd.DataFrame) -> None:
        sections.append((title, _doc(module), list(tables)))
        print(f"\n## {title}")
        for table in tables:
            print(table.to_string(index=False), flush=True)

    warm = plan.warmup
    summary, parts = overhead.measure_overhead(
        processed, plan.models, plan.overhead_epochs, repeats, plan.overhead_subset, warm
    )
    section(overhead, "Pipeline overhead", summary, parts.reset_index(names="stage part"))

    tta, curves = time_to_accuracy.measure_time_to_accuracy(
        processed, plan.tta_variants, plan.tta_model, plan.tta_target, repeats, warm
    )
    section(time_to_accuracy, "Time to accuracy", tta, _wide_curves(curves))

    steady = measure_steady_throughput(processed, plan, repeats)
    section(recipe, "Steady-state training throughput", steady)

    peak_table = hardware.measure_peak(plan.matmul_sizes, repeats=max(repeats, 3))
    peak = float(peak_table["GFLOP/s"].max()) * 1e9
    use = hardware.measure_training_flops(
        processed, plan.models, plan.throughput_images, repeats, peak, warm
    )
    section(hardware, "Use of the hardware", peak_table, use)

    commands = orchestration.measure_orchestration(
        repo, repeats, warmup=warm, tensorflow_import=plan.tensorflow_import
    )
    section(orchestration, "Orchestration", commands)

    tables = []
    for run in plan.settings_runs:
        tables.append(
            settings.measure_in_process(
                processed, run.model, run.images, repeats, run.in_process, warm
            )
        )
        if run.process:
            tables.append(
                settings.measure_process_settings(
                    processed, run.model, run.images, repeats, run.process
                )
            )
    section(settings, "Training settings", *tables)

    one_seed = None
    if plan.pipeline_repeats:
        one_seed = pipeline.measure_one_seed(plan.pipeline_repeats)
    pipeline_tables = [table for table in (one_seed, clean) if table is not None]
    if pipeline_tables:
        section(pipeline, "The pipeline end to end", *pipeline_tables)

    targets = target_table(summary, tta, steady, use, commands, one_seed, clean, plan)
    return sections, targets


def measure_steady_throughput(processed: Path, plan: Plan, repeats: int) -> pd.DataFrame:
    """Training images per second in epoch 2 (validation included) at the default batch
    size, median of `repeats` runs."""
    runs = interleaved(
        {
            "default config": lambda: recipe.epoch_throughput(
                plan.steady_model, plan.steady_overrides, processed
            )
        },
        repeats=repeats,
        warmup=False,
    )
    times = runs["default config"]
    return pd.DataFrame(
        [
            {
                "model": plan.steady_model,
                "median img/s": round(median(times)),
                "runs img/s": ", ".join(f"{t:.0f}" for t in times),
            }
        ]
    )


def target_table(
    overhead_summary: pd.DataFrame,
    tta: pd.DataFrame,
    steady: pd.DataFrame,
    use: pd.DataFrame,
    orchestration_table: pd.DataFrame,
    one_seed: pd.DataFrame | None,
    clean: pd.DataFrame | None,
    plan: Plan,
) -> pd.DataFrame:
    """Each figure against its target (met: yes / no / not measured): issue 11's first
    (speed), then the stage overheads of issue 6."""
    rows = []
    if one_seed is None:
        rows.append(_target("training, all models, one seed", None, "s", "<=", 120))
        rows.append(_target("stage fixed cost of a dvc repro", None, "s", "<=", 60))
    else:
        total = one_seed.iloc[-1]
        rows.append(_target("training, all models, one seed", total["training s"], "s", "<=", 120))
        for row in one_seed.iloc[:-1].to_dict("records"):
            if row["target"] != "":
                figure = f"test accuracy, one seed, {row['model']}"
                rows.append(_target(figure, row["test accuracy"], "", ">=", row["target"]))
        rows.append(
            _target("stage fixed cost of a dvc repro", total["fixed cost s"], "s", "<=", 60)
        )
    seconds = tta["seconds to target"].iloc[0]
    figure = f"time to {plan.tta_target:.1%} test accuracy, {plan.tta_model}"
    rows.append(_target(figure, seconds, "s", "<=", 25))
    rows.append(
        _target(
            f"steady-state training img/s, {plan.steady_model}",
            steady["median img/s"].iloc[0],
            "img/s",
            ">=",
            6600,
        )
    )
    times = dict(zip(orchestration_table["command"], orchestration_table["median s"], strict=True))
    rows.append(
        _target(
            "dvc repro, nothing changed", times.get("dvc repro (nothing changed)"), "s", "<=", 2.5
        )
    )
    parts = {} if clean is None else dict(zip(clean["part"], clean["s"], strict=True))
    rows.append(
        _target(
            "clean clone: git clone + make repro",
            parts.get("clean clone: git clone + make repro"),
            "s",
            "<=",
            300,
        )
    )
    for row in overhead_summary.to_dict("records"):
        model = row["model"]
        rows.append(_target(f"fit overhead, {model}", row["fit overhead %"], "%", "<=", 5))
        rows.append(
            _target(
                f"fixed cost in a default training, {model}",
                row["fixed cost in a default training %"],
                "%",
                "<=",
                5,
            )
        )
    for row in use[use["model"] == "lenet5"].to_dict("records"):
        rows.append(_target("share of matmul peak, lenet5", row["% of matmul peak"], "%", ">=", 25))
    return pd.DataFrame(rows)


def _target(figure: str, value: float | None, unit: str, op: str, limit: float) -> dict:
    if value is None or pd.isna(value):
        met = "not measured"
    else:
        ok = {"<=": value <= limit, ">=": value >= limit, "<": value < limit}[op]
        met = "yes" if ok else "no"
    return {"figure": figure, "measured": value, "target": f"{op} {limit:g} {unit}", "met": met}


def _wide_curves(curves: pd.DataFrame) -> pd.DataFrame:
    """Per-epoch test accuracy and training seconds of each variant, one row per epoch."""
    wide = curves.pivot(index="epoch", columns="variant", values=["test accuracy", "seconds"])
    wide.columns = [f"{variant}: {value}" for value, variant in wide.columns]
    return wide.reset_index()


def _doc(module: object) -> str:
    """A module's docstring without its first line (the section's definitions)."""
    lines = (module.__doc__ or "").strip().splitlines()
    return "\n".join(lines[1:]).strip()


def _header(
    command: str,
    quick: bool,
    processed: Path,
    repeats: int,
    before: MachineState,
    seconds: float,
) -> str:
    mode = "tiny settings: its figures mean nothing" if quick else "full settings"
    return (
        f"Generated by `{command}` on {datetime.now():%Y-%m-%d %H:%M} in "
        f"{seconds / 60:.1f} min ({mode}); {repeats} timed round(s) after a warm-up, "
        f"medians; data `{processed}`.\n\n"
        f"- at start: {before.describe()}\n- at end: {machine_state().describe()}\n\n"
        "Every comparison runs its variants side by side in the same rounds, alternating "
        "their order; on a shared machine compare rows within a table, not across runs."
    )


def write_report(
    out: Path, header: str, targets: pd.DataFrame, sections: list[tuple[str, str, list]]
) -> None:
    """Write the Markdown report atomically, keeping the load section of the one it replaces
    (`python -m benchmarks.load` writes that section: it needs PostgreSQL and runs apart)."""
    parts = ["# Benchmarks", header, "## Targets", targets.to_markdown(index=False)]
    for title, text, tables in sections:
        parts += [f"## {title}", text, *(t.to_markdown(index=False) for t in tables)]
    kept = load.kept_section(out)
    if kept is not None:
        parts.append(kept)
    if DECISIONS.exists():
        parts.append(DECISIONS.read_text().strip())
    write_text(out, "\n\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
