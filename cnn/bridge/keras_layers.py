"""The Keras importer's reading state and the readers of the layers that slide no window over an
image, each reader(layer, reading, refuse): Dropout, BatchNormalization (over the last axis; its ε
goes into the running variance), Reshape (to the shape the image has already), Flatten, Dense,
ReLU, Softmax, and the activations (inline, or an Activation layer). refuse(reason) is the
BridgeError naming the layer. The windows (Conv2D and its padding and bias, pooling):
cnn.bridge.keras_convolutions; the table of readers: cnn.bridge.reading."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..activations import ReLU, Sigmoid, Softmax, Tanh
from ..batchnorm import EPS, BatchNorm
from ..dense import Dense
from ..dropout import Dropout
from ..reshape import Reshape
from . import links

ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "softmax": Softmax}


@dataclass
class Reading:
    """The network read so far from the model's chain of layers."""
    chain: list
    shape: tuple                                   # per sample, ours: (C, H, W) or (n,)
    dtype: str
    position: int = 0                              # the next layer of the chain
    layers: list = field(default_factory=list)
    linked: list = field(default_factory=list)
    values: dict = field(default_factory=dict)     # parameters no Keras variable holds (a missing bias: zeros)
    buffers: dict = field(default_factory=dict)    # running statistics, ours
    flattened: tuple | None = None                 # the image the last Flatten made a vector of
    padding: int = 0                               # a ZeroPadding2D's N, for the Conv2D that follows

    def add(self, layer) -> int:
        self.layers.append(layer)
        self.shape = tuple(layer.output_shape(self.shape))
        return len(self.layers) - 1

    def following(self):
        return self.chain[self.position] if self.position < len(self.chain) else None


def channels_last(shape: tuple) -> tuple:
    """Our (C, H, W) as Keras' (H, W, C); a vector's shape as it is."""
    return (*shape[1:], shape[0]) if len(shape) == 3 else shape


def read_activation(function, reading: Reading, refuse) -> None:
    """A layer's activation (inline, or an Activation layer's) as the engine's layer; linear: none."""
    name = getattr(function, "__name__", None)
    if name == "linear":
        return
    if name not in ACTIVATIONS:
        raise refuse(f"activation '{name}' is not read; only sigmoid, tanh, relu, softmax and linear are")
    if name == "softmax" and len(reading.shape) != 1:
        raise refuse("softmax over an image's channels has no counterpart here; only after a Dense")
    reading.add(ACTIVATIONS[name](dtype=reading.dtype))


def dropout(layer, reading: Reading, refuse) -> None:
    if layer.noise_shape is not None or not 0.0 <= float(layer.rate) < 1.0:
        raise refuse(f"rate {layer.rate}, noise_shape {layer.noise_shape}: only a rate below 1 and no noise_shape "
                     "are read")
    reading.add(Dropout(float(layer.rate), 0, len(reading.layers), dtype=reading.dtype))


def batchnorm(layer, reading: Reading, refuse) -> None:
    axis = layer.axis if isinstance(layer.axis, int) else (list(layer.axis) + [None])[0]
    if axis not in (-1, len(reading.shape)) or getattr(layer, "renorm", False):
        raise refuse(f"axis {layer.axis}: only a normalization over the last axis (the channels, or a vector's "
                     "units) without renorm is read")
    if reading.flattened is not None and reading.flattened[0] > 1:
        raise refuse("after a Flatten of a many-channel image its units are in Keras' order (height, width, "
                     "channels), not the engine's: put it before the Flatten")
    index = reading.add(BatchNorm(reading.shape, dtype=reading.dtype))
    channels = reading.shape[0]
    for name, present, variable, absent in (("gamma", layer.scale, "gamma", 1.0), ("beta", layer.center, "beta", 0.0)):
        if present:
            reading.linked.append(links.same(f"{index}.{name}", getattr(layer, variable)))
        else:
            reading.values[f"{index}.{name}"] = np.full(channels, absent, dtype=reading.dtype)
    variance = np.asarray(layer.moving_variance.numpy())
    if float(layer.epsilon) != EPS:
        variance = variance.astype(np.float64) + float(layer.epsilon) - EPS
    if np.any(variance <= 0):
        raise refuse(f"epsilon {layer.epsilon} with a moving variance of {float(np.min(variance)):.3g}: the "
                     "engine's ε is 1e-05")
    reading.buffers[f"{index}.running_mean"] = np.asarray(layer.moving_mean.numpy())
    reading.buffers[f"{index}.running_var"] = variance


def reshape(layer, reading: Reading, refuse) -> None:
    target = tuple(layer.target_shape)
    if target != channels_last(reading.shape):
        raise refuse(f"to {target}: only a Reshape to the shape the image has already (a 28×28 input to "
                     "28×28×1) is read")


def flatten(layer, reading: Reading, refuse) -> None:
    if len(reading.shape) == 3:
        reading.flattened = reading.shape
        reading.add(Reshape(reading.shape, (math.prod(reading.shape),), dtype=reading.dtype))


def dense(layer, reading: Reading, refuse) -> None:
    if len(reading.shape) != 1:
        raise refuse(f"gets a {'×'.join(map(str, channels_last(reading.shape)))} image: put a Flatten before it")
    index = reading.add(Dense(reading.shape[0], layer.units, rng=0, dtype=reading.dtype))
    reading.linked.append(links.dense_weights(f"{index}.weights", layer.kernel, reading.flattened))
    if layer.use_bias:
        reading.linked.append(links.same(f"{index}.bias", layer.bias))
    else:
        reading.values[f"{index}.bias"] = np.zeros(layer.units, dtype=reading.dtype)
    reading.flattened = None
    read_activation(layer.activation, reading, refuse)


def relu(layer, reading: Reading, refuse) -> None:
    if (layer.max_value, float(layer.negative_slope), float(layer.threshold)) != (None, 0.0, 0.0):
        raise refuse("only a plain ReLU (no max_value, negative_slope or threshold) is read")
    reading.add(ReLU(dtype=reading.dtype))


def softmax(layer, reading: Reading, refuse) -> None:
    if layer.axis not in (-1, [-1]) or len(reading.shape) != 1:
        raise refuse("only a softmax over a vector (after a Dense) is read")
    reading.add(Softmax(dtype=reading.dtype))
