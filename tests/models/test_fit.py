"""Each default model trains on a few hundred real MNIST images and its loss goes down."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from convscope.cli import CONFIG_DIR

MODEL_NAMES = sorted(path.stem for path in (CONFIG_DIR / "model").glob("*.yaml"))


@pytest.mark.slow
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_two_epochs_on_512_real_images(processed_mnist: Path, model_cfg, name: str) -> None:
    images = np.load(processed_mnist / "train_images.npy")[:512]
    labels = np.load(processed_mnist / "train_labels.npy")[:512]
    inputs = images[..., np.newaxis].astype("float32")  # raw 0..255, as the pipeline feeds them

    keras.utils.set_random_seed(0)
    model = model_cfg(name).build(inputs.shape[1:], 10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    losses = model.fit(inputs, labels, batch_size=64, epochs=2, verbose=0).history["loss"]

    assert np.all(np.isfinite(losses))
    assert losses[1] < losses[0]  # Adam on real digits: the second pass has a lower loss
    probabilities = keras.ops.convert_to_numpy(model(inputs[:4], training=False))
    assert probabilities.shape == (4, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
