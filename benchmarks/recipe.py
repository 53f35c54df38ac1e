"""Exploration behind the training recipe (`conf/train/*.yaml`): epochs to accuracy and speed.

Two measurements, kept apart because accuracy does not depend on the machine's load and
time does:

- `curves`: trains a model as the train stage does (its composed config, builder,
  optimizer, schedule, validation pass and early stopping) and records, after each epoch,
  the training seconds so far (test evaluation outside the timed region), the validation
  and the test accuracy; then the test accuracy of the model the stage would save (after
  early stopping restored the best weights). One JSON line per training.
- `throughput`: steady-state training images per second (epoch 2, validation included)
  of variants run side by side in alternating rounds; medians.

Variants are `name=override override ...` (Hydra overrides of the stage's config).

    python -m benchmarks.recipe curves --model lenet5 --seeds 42 0 \\
        --variant "base=" --variant "warm=train.warmup_epochs=0.5" --out /tmp/curves.jsonl
    python -m benchmarks.recipe throughput --model lenet5 --variant "b128=" \\
        --variant "b256=train.batch_size=256" --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import (
    DEFAULT_PROCESSED,
    interleaved,
    log,
    median,
    model_inputs,
)
from convscope.cli import compose_stage_config


def parse_variant(text: str) -> tuple[str, list[str]]:
    """`name=override override ...` -> (name, overrides)."""
    name, _, rest = text.partition("=")
    return name, rest.split()


def _fit_setup(model: str, overrides: Sequence[str], processed: Path, seed: int | None):
    from convscope.training.trainer import compiled_model, configure_tensorflow

    extra = [] if seed is None else [f"train.seed={seed}"]
    cfg = compose_stage_config(
        "train",
        f"model={model}",
        f"paths.processed={processed}",
        *overrides,
        *extra,
        "train.verbose=0",
    )
    train_cfg = cfg.train
    configure_tensorflow(train_cfg)
    x_train, y_train = model_inputs(cfg, "train")
    net = compiled_model(cfg.model, cfg.data, cfg.train, len(x_train))
    return cfg, train_cfg, net, (x_train, y_train)


def curve(model: str, overrides: Sequence[str], processed: Path, seed: int) -> dict:
    """One training's per-epoch seconds, validation and test accuracy, and its final test
    accuracy (the weights the stage would save)."""
    import keras

    from convscope.training.callbacks import early_stopping

    cfg, train_cfg, net, (x_train, y_train) = _fit_setup(model, overrides, processed, seed)
    x_val, y_val = model_inputs(cfg, "val")
    x_test, y_test = model_inputs(cfg, "test")

    class Clock(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.resumed, self.elapsed = time.perf_counter(), 0.0
            self.rows: list[dict] = []

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.elapsed += time.perf_counter() - self.resumed
            _, test_accuracy = self.model.evaluate(x_test, y_test, batch_size=1024, verbose=0)
            self.rows.append(
                {
                    "epoch": epoch + 1,
                    "seconds": round(self.elapsed, 2),
                    "val": round(float(logs["val_accuracy"]), 4),
                    "test": round(float(test_accuracy), 4),
                }
            )
            self.resumed = time.perf_counter()

    clock = Clock()
    load = os.getloadavg()[0]
    net.fit(
        x_train,
        y_train,
        batch_size=train_cfg.batch_size,
        epochs=train_cfg.epochs,
        validation_data=(x_val, y_val),
        callbacks=[clock, *early_stopping(train_cfg.early_stopping)],
        verbose=0,
    )
    _, final = net.evaluate(x_test, y_test, batch_size=1024, verbose=0)
    return {
        "model": model,
        "overrides": list(overrides),
        "seed": seed,
        "epochs": clock.rows,
        "train_seconds": clock.rows[-1]["seconds"],
        "final_test": round(float(final), 4),
        "load_1min": [round(load, 2), round(os.getloadavg()[0], 2)],
    }


def epoch_throughput(model: str, overrides: Sequence[str], processed: Path) -> float:
    """Training images per second in epoch 2 of 2 (validation included)."""
    import keras

    cfg, train_cfg, net, (x_train, y_train) = _fit_setup(model, overrides, processed, None)
    x_val, y_val = model_inputs(cfg, "val")
    starts: list[float] = []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: starts.append(time.perf_counter())
    )
    net.fit(
        x_train,
        y_train,
        batch_size=train_cfg.batch_size,
        epochs=2,
        validation_data=(x_val, y_val),
        callbacks=[timer],
        verbose=0,
    )
    return len(x_train) / (time.perf_counter() - starts[1])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("curves", "throughput"))
    parser.add_argument("--model", action="append", required=True)
    parser.add_argument("--variant", action="append", required=True, type=parse_variant)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--processed", type=Path, default=DEFAULT_PROCESSED)
    parser.add_argument("--out", type=Path, default=Path("/tmp/recipe.jsonl"))
    args = parser.parse_args(argv)
    log(f"load average {os.getloadavg()}")
    if args.mode == "curves":
        for model in args.model:
            for seed in args.seeds:
                for name, overrides in args.variant:
                    row = {"variant": name, **curve(model, overrides, args.processed, seed)}
                    with args.out.open("a") as handle:
                        handle.write(json.dumps(row) + "\n")
                    tests = " ".join(f"{r['test']:.4f}" for r in row["epochs"])
                    log(
                        f"{model} seed {seed} {name}: {row['train_seconds']:.1f} s, "
                        f"final {row['final_test']:.4f}; per epoch test {tests}"
                    )
        return
    for model in args.model:
        runs = interleaved(
            {
                name: (lambda o=overrides, m=model: epoch_throughput(m, o, args.processed))
                for name, overrides in args.variant
            },
            repeats=args.repeats,
            warmup=False,
        )
        for name, values in runs.items():
            row = {"mode": "throughput", "model": model, "variant": name, "images_per_s": values}
            with args.out.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            log(f"{model} {name}: median {median(values):.0f} img/s ({[round(v) for v in values]})")
    log(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
