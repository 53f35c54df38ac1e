"""Training settings: pure-training throughput of one model under alternative settings.

Each setting trains the train stage's model (its config plus the setting's overrides) for
one epoch on `images` training images, after a warm-up epoch; the figure is images/s and
its change against the default config measured the same way in the same rounds.

- In-process settings (batch size, `steps_per_execution`, XLA `jit_compile`, a `tf.data`
  input pipeline with cache and prefetch, the `mixed_bfloat16` policy) share one process.
- Process settings (oneDNN kernels, thread pools) are fixed when TensorFlow starts, so each
  measurement runs in a fresh `python -m benchmarks.settings` child (its start-up is not
  timed), against a child with the default config.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from benchmarks.common import (
    REPO,
    interleaved,
    log,
    median,
    model_inputs,
)
from convscope.cli import compose_stage_config


@dataclass(frozen=True)
class Setting:
    """An alternative to the default config: Hydra overrides and ways of feeding/compiling."""

    name: str
    overrides: tuple[str, ...] = ()
    compile_options: dict[str, object] = field(default_factory=dict)
    pipeline: str = "arrays"  # arrays | tf_data
    policy: str = "float32"  # Keras dtype policy while the model is built
    environment: dict[str, str] = field(default_factory=dict)  # process settings only


DEFAULT = Setting("default config")

# Batch size and steps per graph call: the settings that could change the defaults.
BATCHING = (
    DEFAULT,
    Setting("batch_size=256", overrides=("train.batch_size=256",)),
    Setting("batch_size=512", overrides=("train.batch_size=512",)),
    Setting("steps_per_execution=8", overrides=("train.steps_per_execution=8",)),
    Setting("steps_per_execution=32", overrides=("train.steps_per_execution=32",)),
)

IN_PROCESS = (
    *BATCHING,
    Setting("jit_compile=True (XLA)", compile_options={"jit_compile": True}),
    Setting("tf.data cache+shuffle+prefetch", pipeline="tf_data"),
    Setting("mixed_bfloat16 policy", policy="mixed_bfloat16"),
)

PROCESS = (
    DEFAULT,
    Setting("oneDNN off (TF_ENABLE_ONEDNN_OPTS=0)", environment={"TF_ENABLE_ONEDNN_OPTS": "0"}),
    Setting(
        "threads intra_op=1 inter_op=1",
        overrides=("train.threads.intra_op=1", "train.threads.inter_op=1"),
    ),
)


def epoch_runner(
    processed: Path, model: str, images: int, setting: Setting
) -> tuple[Callable[[], float], Callable[[], float]]:
    """(timed epoch, warm-up epoch) callables for `setting`; each returns images/s."""
    import keras
    import tensorflow as tf

    from convscope.training.trainer import compiled_model

    cfg = compose_stage_config(
        "train",
        f"model={model}",
        f"paths.processed={processed}",
        f"train.subset={images}",
        *setting.overrides,
    )
    x, y = model_inputs(cfg, "train")
    batch_size = int(cfg.train.batch_size)
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(setting.policy)
    try:
        net = compiled_model(cfg.model, cfg.data, cfg.train, len(x), **setting.compile_options)
    finally:
        keras.config.set_dtype_policy(previous_policy)

    def batches(count: int) -> tf.data.Dataset:
        data = tf.data.Dataset.from_tensor_slices((x[:count], y[:count])).cache()
        return data.shuffle(count).batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def runner(count: int) -> Callable[[], float]:
        dataset = batches(count) if setting.pipeline == "tf_data" else None

        def run() -> float:
            start = time.perf_counter()
            if dataset is None:
                net.fit(x[:count], y[:count], batch_size=batch_size, epochs=1, verbose=0)
            else:
                net.fit(dataset, epochs=1, verbose=0)
            return count / (time.perf_counter() - start)

        return run

    return runner(len(x)), runner(min(len(x), 4 * batch_size))


def measure_in_process(
    processed: Path,
    model: str,
    images: int,
    repeats: int,
    settings: Sequence[Setting] = IN_PROCESS,
    warmup: bool = True,
    progress: Callable[[str], None] = log,
) -> pd.DataFrame:
    """Images/s of `model` under each in-process setting, against the default config."""
    progress(f"settings (in process): {model}, {images} images")
    timed, warm = {}, {}
    for setting in settings:
        timed[setting.name], warm[setting.name] = epoch_runner(processed, model, images, setting)
    return _table(
        model, interleaved(timed, repeats=repeats, warmups=warm, warmup=warmup, progress=progress)
    )


def measure_process_settings(
    processed: Path,
    model: str,
    images: int,
    repeats: int,
    settings: Sequence[Setting] = PROCESS,
    progress: Callable[[str], None] = log,
) -> pd.DataFrame:
    """Images/s of `model` under each process setting, one fresh child process per run
    (each child warms up itself before its timed epoch)."""
    progress(f"settings (fresh processes): {model}, {images} images")
    timed = {s.name: _child_runner(processed, model, images, s) for s in settings}
    return _table(model, interleaved(timed, repeats=repeats, warmup=False, progress=progress))


def _child_runner(
    processed: Path, model: str, images: int, setting: Setting
) -> Callable[[], float]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.settings",
        f"--processed={processed}",
        f"--model={model}",
        f"--images={images}",
        *(f"--override={o}" for o in setting.overrides),
    ]

    def run() -> float:
        done = subprocess.run(
            command,
            cwd=REPO,
            env={**os.environ, **setting.environment},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
        return float(json.loads(done.stdout.strip().splitlines()[-1])["images_per_second"])

    return run


def _table(model: str, runs: dict[str, list[float]]) -> pd.DataFrame:
    baseline = median(runs[DEFAULT.name])
    return pd.DataFrame(
        [
            {
                "model": model,
                "setting": name,
                "train img/s": round(median(speeds)),
                "vs default %": round(100 * (median(speeds) / baseline - 1), 1),
                "runs img/s": ", ".join(f"{s:.0f}" for s in speeds),
            }
            for name, speeds in runs.items()
        ]
    )


def child_main(argv: Sequence[str] | None = None) -> None:
    """Child process: apply the config's thread settings, warm up, time one epoch, print JSON."""
    from convscope.training.trainer import configure_tensorflow

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processed", type=Path, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--images", type=int, required=True)
    parser.add_argument("--override", action="append", default=[])
    args = parser.parse_args(argv)
    cfg = compose_stage_config("train", f"model={args.model}", *args.override)
    configure_tensorflow(cfg.train)
    timed, warm = epoch_runner(
        args.processed, args.model, args.images, Setting("child", tuple(args.override))
    )
    warm()
    print(json.dumps({"images_per_second": timed()}))


if __name__ == "__main__":
    child_main()
