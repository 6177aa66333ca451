"""The original network's convolution bias, one per output position (B_i has the output's shape),
has no Keras layer: this one adds a trainable (H, W, C) tensor, channels-last, to its input.
Registered as "cnn_studio>PositionBias", so a .keras file holding it loads wherever this module
is imported (the bridge imports it before loading)."""
from __future__ import annotations

from . import keras_module
from .declared import REGISTERED_NAME  # noqa: F401  (where the bridge looks for it)

keras = keras_module()


@keras.saving.register_keras_serializable(package="cnn_studio", name="PositionBias")
class PositionBias(keras.layers.Layer):
    """(N, H, W, C) → (N, H, W, C): y = x + B, B of shape (H, W, C)."""

    def build(self, input_shape):
        self.bias = self.add_weight(name="bias", shape=tuple(input_shape[1:]), initializer="zeros")

    def call(self, inputs):
        return inputs + self.bias

    def compute_output_shape(self, input_shape):
        return input_shape

