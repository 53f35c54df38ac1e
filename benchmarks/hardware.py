"""Use of the hardware: achieved training FLOP/s against the machine's float32 matmul peak.

- Peak: the best FLOP/s (2 n^3 per product) of a float32 n x n matrix product, over a few
  sizes and repetitions, by TensorFlow (`tf.matmul` in a `tf.function`, the same kernels
  and thread pool the training uses) and by NumPy (its BLAS); the higher one is the peak.
- Training: one epoch of pure training (no validation) on `images` training images with the
  train stage's model, optimizer, batch size and `steps_per_execution`, after a warm-up
  epoch; achieved FLOP/s = MACs per image (`layer_table`) x 2 FLOP/MAC x 3 (forward, and
  backward for activations and weights) x images/s. The x3 and MAC counts ignore biases,
  activations, pooling and the optimizer: the figure is the useful arithmetic rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import interleaved, log, median, model_inputs
from convscope.cli import compose_stage_config

FLOPS_PER_MAC = 2
TRAINING_PASSES = 3  # forward, backward to the activations, backward to the weights


def matmul_flops(size: int, repeats: int, library: str) -> float:
    """Best FLOP/s over `repeats` products of two random float32 `size` x `size` matrices
    (after one untimed product); `library` is `tensorflow` or `numpy`."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    if library == "tensorflow":
        import tensorflow as tf

        ta, tb = tf.constant(a), tf.constant(b)
        product = tf.function(lambda x, y: tf.reduce_sum(tf.matmul(x, y)))

        def multiply() -> object:
            return product(ta, tb).numpy()
    else:

        def multiply() -> object:
            return a @ b

    multiply()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        multiply()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def measure_peak(sizes: Sequence[int], repeats: int) -> pd.DataFrame:
    """GFLOP/s of float32 matrix products by library and size (best of `repeats`)."""
    rows = [
        {
            "library": library,
            "size": size,
            "GFLOP/s": round(matmul_flops(size, repeats, library) / 1e9, 1),
        }
        for library in ("tensorflow", "numpy")
        for size in sizes
    ]
    return pd.DataFrame(rows)


def training_epoch(model, x: np.ndarray, y: np.ndarray, batch_size: int) -> Callable[[], float]:
    """A callable that trains `model` one epoch on (x, y) and returns images per second."""

    def run() -> float:
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
        return len(x) / (time.perf_counter() - start)

    return run


def measure_training_flops(
    processed: Path,
    models: Sequence[str],
    images: int,
    repeats: int,
    peak_flops: float,
    warmup: bool = True,
    progress: Callable[[str], None] = log,
) -> pd.DataFrame:
    """Achieved training FLOP/s of each model and its share of `peak_flops`."""
    from convscope.models.layers import layer_table
    from convscope.training.trainer import compiled_model

    progress(f"hardware: training throughput on {images} images")
    epochs, warmups, macs = {}, {}, {}
    for name in models:
        cfg = compose_stage_config(
            "train", f"model={name}", f"paths.processed={processed}", f"train.subset={images}"
        )
        x, y = model_inputs(cfg, "train")
        model = compiled_model(cfg.model, cfg.data, cfg.train, len(x))
        macs[name] = int(layer_table(model)["macs"].sum())
        epochs[name] = training_epoch(model, x, y, cfg.train.batch_size)
        small = min(len(x), 4 * cfg.train.batch_size)
        warmups[name] = training_epoch(model, x[:small], y[:small], cfg.train.batch_size)
    runs = interleaved(epochs, repeats=repeats, warmups=warmups, warmup=warmup, progress=progress)
    rows = []
    for name in models:
        speed = median(runs[name])
        achieved = macs[name] * FLOPS_PER_MAC * TRAINING_PASSES * speed
        rows.append(
            {
                "model": name,
                "MACs / image": macs[name],
                "train img/s": round(speed),
                "achieved GFLOP/s": round(achieved / 1e9, 2),
                "% of matmul peak": round(100 * achieved / peak_flops, 1),
            }
        )
    return pd.DataFrame(rows)
