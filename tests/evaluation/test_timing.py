"""Latency and throughput: what is called, how often, and which statistic is reported."""

from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

from convscope.evaluation.config import TimingConfig
from convscope.evaluation.timing import (
    compiled_forward,
    latency_ms,
    median_block_seconds,
    throughput,
)


def test_median_ignores_one_slow_block_and_warmup_is_untimed() -> None:
    durations = iter([0.5, 0.0, 0.0, 0.3])  # warm-up block first, then three timed blocks
    calls = []

    def block() -> None:
        calls.append(1)
        time.sleep(next(durations))

    seconds = median_block_seconds(block, warmup=1, repeats=3, label="test", progress=False)
    assert len(calls) == 4
    assert seconds < 0.1  # the mean of the timed blocks is 0.1 s, their median is ~0


def test_latency_and_throughput_call_forward_with_the_configured_batches() -> None:
    cfg = TimingConfig(
        warmup=1, repeats=3, latency_calls=4, throughput_batch_size=5, throughput_batches=2
    )
    images = np.arange(3 * 2 * 2, dtype="float32").reshape(3, 2, 2, 1)
    batches: list[np.ndarray] = []

    def forward(inputs: tf.Tensor) -> np.ndarray:
        batches.append(inputs.numpy())
        time.sleep(0.001)
        return inputs.numpy()

    milliseconds = latency_ms(forward, images[:1], cfg, progress=False)
    assert len(batches) == (1 + 3) * 4 and all(b.shape == (1, 2, 2, 1) for b in batches)
    assert 1.0 <= milliseconds < 100.0

    batches.clear()
    rate = throughput(forward, images, cfg, progress=False)
    assert len(batches) == (1 + 3) * 2
    np.testing.assert_array_equal(batches[0], images[[0, 1, 2, 0, 1]])  # cycles the 3 images
    assert 5 * 2 / 0.2 < rate <= 5 * 2 / 0.002  # 10 images per block of >= 2 ms


def test_compiled_forward_gives_the_models_predictions() -> None:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(3, "softmax")]
    )
    inputs = np.random.default_rng(0).random((6, 4, 4, 1), dtype="float32")
    outputs = compiled_forward(model)(tf.constant(inputs))
    assert isinstance(outputs, np.ndarray)
    np.testing.assert_allclose(outputs, model.predict(inputs, verbose=0), rtol=1e-5, atol=1e-6)
