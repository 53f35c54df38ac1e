"""What every benchmark shares: the pipeline's models, the data, fair repetitions, timers.

Fairness rules used throughout: every variant runs once untimed first (warm-up: kernels,
graph tracing, the MLflow store's schema), then `repeats` rounds in which every variant runs
once, in alternating order (forward, then backward), so a busy spell on the machine hits all
variants alike; figures are medians over the rounds.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from omegaconf import OmegaConf

from convscope.cli import CONFIG_DIR
from convscope.train import TrainStageConfig

REPO = CONFIG_DIR.parent
DEFAULT_PROCESSED = REPO / "data" / "processed" / "mnist"
# The hand-written part of reports/benchmarks.md, appended after the generated sections.
DECISIONS = Path(__file__).with_name("decisions.md")

T = TypeVar("T")
_STARTED = time.perf_counter()


def log(message: str) -> None:
    """Print a progress line prefixed by the minutes:seconds since the benchmarks started."""
    minutes, seconds = divmod(int(time.perf_counter() - _STARTED), 60)
    print(f"[{minutes:02d}:{seconds:02d}] {message}", flush=True)


def pipeline_models() -> tuple[str, ...]:
    """The models `dvc repro` trains: params.yaml's `architectures` (conf/model/<name>.yaml)."""
    models = tuple(OmegaConf.load(REPO / "params.yaml").architectures)
    missing = [name for name in models if not (CONFIG_DIR / "model" / f"{name}.yaml").is_file()]
    if missing:
        raise ValueError(f"params.yaml: architectures without a conf/model/<name>.yaml: {missing}")
    return models


MODELS = pipeline_models()


def interleaved(
    variants: Mapping[str, Callable[[], T]],
    repeats: int,
    warmups: Mapping[str, Callable[[], object]] | None = None,
    warmup: bool = True,
    progress: Callable[[str], None] = log,
) -> dict[str, list[T]]:
    """Run every variant's warm-up once untimed (unless `warmup` is false), then `repeats`
    alternating rounds.

    `warmups` maps a variant's name to a cheaper stand-in for its warm-up run (by default
    the variant itself runs). Returns each variant's results in round order. Round r runs
    the variants forward when r is even and backward when odd, so none always goes first.
    """
    names = list(variants)
    for name in names if warmup else ():
        progress(f"  warm-up: {name}")
        (warmups or {}).get(name, variants[name])()
    results: dict[str, list[T]] = {name: [] for name in names}
    for round_index in range(repeats):
        order = names if round_index % 2 == 0 else names[::-1]
        for name in order:
            results[name].append(variants[name]())
            progress(f"  round {round_index + 1}/{repeats}: {name}: {results[name][-1]}")
    return results


def median(values: Sequence[float]) -> float:
    """The median of `values` (the mean of the middle two for an even count)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def model_inputs(cfg: TrainStageConfig, split: str) -> tuple[np.ndarray, np.ndarray]:
    """One split as the train stage feeds it: float32 (N, H, W, 1) images and uint8 labels;
    the training split cut to `train.subset` images when that is set."""
    from convscope.data.arrays import as_model_input, load_split

    images, labels = load_split(Path(cfg.paths.processed), split)
    if split == "train" and cfg.train.subset is not None:
        images, labels = images[: cfg.train.subset], labels[: cfg.train.subset]
    return as_model_input(images), labels


@dataclass(frozen=True)
class MachineState:
    """The conditions a benchmark ran under, for the report's header."""

    cpus: int
    load_average: tuple[float, float, float]
    processor: str
    vector_units: str  # what the oneDNN kernels can use: hosts of one name differ here
    onednn: str
    tensorflow: str
    keras: str

    def describe(self) -> str:
        one, five, fifteen = self.load_average
        return (
            f"{self.cpus} CPUs ({self.processor}, {self.vector_units}), load average "
            f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min), "
            f"TensorFlow {self.tensorflow}, Keras {self.keras}, "
            f"TF_ENABLE_ONEDNN_OPTS={self.onednn}"
        )


def machine_state() -> MachineState:
    """CPU count, load average and library versions right now."""
    import keras
    import tensorflow as tf

    return MachineState(
        cpus=os.cpu_count() or 1,
        load_average=os.getloadavg(),
        processor=_cpu_model() or platform.processor() or platform.machine(),
        vector_units=_vector_units(),
        onednn=os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset"),
        tensorflow=tf.__version__,
        keras=keras.__version__,
    )


def _cpuinfo(field: str) -> str | None:
    """The first value of `field` in /proc/cpuinfo (None where there is none)."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return None
    for line in cpuinfo.read_text().splitlines():
        if line.split(":", 1)[0].strip() == field:
            return line.split(":", 1)[1].strip()
    return None


def _cpu_model() -> str | None:
    return _cpuinfo("model name")


def _vector_units() -> str:
    """The widest x86 vector instructions the CPU has, e.g. `AVX-512 (BF16)` or `AVX2`:
    machines sold under one model name ("AMD EPYC") train at different speeds by these."""
    flags = set((_cpuinfo("flags") or "").split())
    if not flags:  # no /proc/cpuinfo (macOS), or no x86 flags line (ARM)
        return "vector units unknown"
    if "avx512f" in flags:
        return "AVX-512" + (" (BF16)" if "avx512_bf16" in flags else "")
    return "AVX2" if "avx2" in flags else "no AVX2"
