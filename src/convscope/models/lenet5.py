"""LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998, "Gradient-based learning applied to
document recognition"), with the paper's layer names C1, S2, C3, S4, C5, F6, output.

Faithful to the paper: C1 has 6 maps of 5x5 on a 32x32 field (here `same` padding on the
28x28 MNIST image, which the paper padded to 32x32), S2/S4 subsample 2x2 with stride 2,
C3 has 16 maps of 5x5, C5 is a 5x5 *convolution* with 120 maps whose output is 1x1x120
(as in the paper, not a Dense layer after flattening), F6 has 84 units.

Simplified, as in most modern replicas (and said in the docs):
- C3 connects every S2 map to every C3 map (the paper used a 60-of-96 connection table,
  1,516 parameters instead of 2,416);
- S2/S4 are plain average (or max) pooling (the paper's had a trainable coefficient and
  bias per map, followed by a sigmoid);
- activations are the plain function chosen in the config (the paper's was the scaled
  1.7159 * tanh(2/3 * a));
- the output is a softmax over `num_classes` (the paper's was Euclidean RBF units).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from omegaconf import MISSING

from convscope.models.config import ACTIVATIONS, POOLINGS, ModelConfig, check_choice

if TYPE_CHECKING:
    import keras


@dataclass
class LeNet5Config(ModelConfig):
    """LeNet-5 (LeCun et al. 1998); the paper used `tanh` and `average` pooling."""

    activation: str = MISSING
    pooling: str = MISSING

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("pooling", self.pooling, POOLINGS)

    def build(self, input_shape: tuple[int, int, int], num_classes: int) -> keras.Model:
        """`C1 => S2 => C3 => S4 => C5 => F6 => output`, activation and pooling from the config."""
        import keras  # here, not at the top: validating a config must not load TensorFlow

        pool = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}[
            self.pooling
        ]
        act = self.activation
        inputs = keras.Input(shape=input_shape, name="image")
        x = keras.layers.Rescaling(1.0 / 255, name="rescale")(inputs)
        x = keras.layers.Conv2D(6, 5, padding="same", activation=act, name="C1")(x)
        x = pool(pool_size=2, strides=2, name="S2")(x)
        x = keras.layers.Conv2D(16, 5, padding="valid", activation=act, name="C3")(x)
        x = pool(pool_size=2, strides=2, name="S4")(x)
        x = keras.layers.Conv2D(120, 5, padding="valid", activation=act, name="C5")(x)
        x = keras.layers.Flatten(name="flatten")(x)
        x = keras.layers.Dense(84, activation=act, name="F6")(x)
        outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
        return keras.Model(inputs, outputs, name=self.name)
