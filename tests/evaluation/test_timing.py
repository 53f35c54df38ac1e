"""Latency and throughput: what is called, how often, and which statistic is reported.

The timed code runs on a fake clock that only the code under test moves forward, so the
figures are exact and no test depends on how fast or busy the machine is.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from convscope.evaluation.config import TimingConfig
from convscope.evaluation.timing import (
    compiled_forward,
    latency_ms,
    median_block_seconds,
    throughput,
)


class FakeClock:
    """A clock that stands still until `advance` moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_median_ignores_one_slow_block_and_warmup_is_untimed() -> None:
    clock = FakeClock()
    durations = iter([5.0, 0.25, 0.5, 3.0])  # warm-up block first, then three timed blocks
    calls = []

    def block() -> None:
        calls.append(1)
        clock.advance(next(durations))

    seconds = median_block_seconds(
        block, warmup=1, repeats=3, label="test", progress=False, clock=clock
    )
    assert len(calls) == 4
    assert seconds == 0.5  # the median of the timed blocks; their mean is 1.25 s


def test_latency_and_throughput_call_forward_with_the_configured_batches() -> None:
    cfg = TimingConfig(
        warmup=1, repeats=3, latency_calls=4, throughput_batch_size=5, throughput_batches=2
    )
    images = np.arange(3 * 2 * 2, dtype="float32").reshape(3, 2, 2, 1)
    clock = FakeClock()
    batches: list[np.ndarray] = []

    def forward(inputs: tf.Tensor) -> np.ndarray:
        batches.append(inputs.numpy())
        clock.advance(0.002 * len(inputs))  # 2 ms per image
        return inputs.numpy()

    milliseconds = latency_ms(forward, images[:1], cfg, progress=False, clock=clock)
    assert len(batches) == (1 + 3) * 4 and all(b.shape == (1, 2, 2, 1) for b in batches)
    assert milliseconds == pytest.approx(2.0)

    batches.clear()
    rate = throughput(forward, images, cfg, progress=False, clock=clock)
    assert len(batches) == (1 + 3) * 2
    np.testing.assert_array_equal(batches[0], images[[0, 1, 2, 0, 1]])  # cycles the 3 images
    assert rate == pytest.approx(500.0)  # 2 batches of 5 images in 20 ms per block


def test_compiled_forward_gives_the_models_predictions() -> None:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(3, "softmax")]
    )
    inputs = np.random.default_rng(0).random((6, 4, 4, 1), dtype="float32")
    outputs = compiled_forward(model)(tf.constant(inputs))
    assert isinstance(outputs, np.ndarray)
    np.testing.assert_allclose(outputs, model.predict(inputs, verbose=0), rtol=1e-5, atol=1e-6)
