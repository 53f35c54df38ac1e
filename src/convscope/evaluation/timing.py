"""Inference speed of a Keras model: latency at batch size 1 and throughput at a larger batch.

What is timed is the steady state of a traced graph: `model(x, training=False)` wrapped in a
`tf.function`, called on a tensor already in memory, with the output copied back to numpy
(which also waits for the computation to finish). Untimed warm-up blocks first trace the
graph and fill caches; then each of `repeats` repetitions times a block of calls, and the
median block is reported, so one slow repetition (another process on the CPU) does not move
the figure.
Neither `model.predict` nor `model.predict_on_batch` is timed: their per-call set-up
(data adapter, callbacks, input conversion) costs from several to hundreds of milliseconds,
ten to a thousand times LeNet-5's forward pass on one image, and would swamp the figure.
TensorFlow uses its default thread pools (all cores).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from convscope.evaluation.config import TimingConfig

Forward = Callable[[tf.Tensor], np.ndarray]
# Seconds from an arbitrary start; tests hand in a clock they advance themselves.
Clock = Callable[[], float]


def compiled_forward(model: keras.Model) -> Forward:
    """`x -> model(x, training=False)` as a traced graph (one trace per input shape)."""
    graph = tf.function(lambda inputs: model(inputs, training=False))
    return lambda inputs: graph(inputs).numpy()


def median_block_seconds(
    block: Callable[[], object],
    warmup: int,
    repeats: int,
    label: str,
    progress: bool,
    clock: Clock = time.perf_counter,
) -> float:
    """Run `block` `warmup` times untimed, then `repeats` times timed by `clock`; return the
    median seconds of the timed runs."""
    for _ in range(warmup):
        block()
    durations = []
    for _ in tqdm(range(repeats), desc=label, unit="repeat", disable=not progress):
        start = clock()
        block()
        durations.append(clock() - start)
    return statistics.median(durations)


def latency_ms(
    forward: Forward,
    image: np.ndarray,
    cfg: TimingConfig,
    progress: bool,
    clock: Clock = time.perf_counter,
) -> float:
    """Median milliseconds per call of `forward` on one image (shape (1, ...))."""
    single = tf.constant(image)

    def block() -> None:
        for _ in range(cfg.latency_calls):
            forward(single)

    label = "latency, batch 1"
    seconds = median_block_seconds(block, cfg.warmup, cfg.repeats, label, progress, clock)
    return 1000.0 * seconds / cfg.latency_calls


def throughput(
    forward: Forward,
    images: np.ndarray,
    cfg: TimingConfig,
    progress: bool,
    clock: Clock = time.perf_counter,
) -> float:
    """Median images per second of `forward` on batches of `cfg.throughput_batch_size` images
    (taken from `images`, cycling if there are fewer)."""
    size = cfg.throughput_batch_size
    batch = tf.constant(images[np.arange(size) % len(images)])

    def block() -> None:
        for _ in range(cfg.throughput_batches):
            forward(batch)

    label = f"throughput, batch {size}"
    seconds = median_block_seconds(block, cfg.warmup, cfg.repeats, label, progress, clock)
    return cfg.throughput_batches * size / seconds
