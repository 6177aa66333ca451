"""Network → Keras 3 model (cnn-export): Conv2D / PositionBias / MaxPooling2D / Flatten / Dense /
Activation, channels-last, the same dtype, the same weights; a .keras file written atomically."""
from __future__ import annotations

import os
from pathlib import Path

from ..activations import ReLU, Sigmoid, Softmax, Tanh
from ..convolution import Convolutional
from ..dense import Dense
from ..network import Network
from ..pooling import MaxPool2D
from ..reshape import Reshape
from . import BridgeError, keras_module, links

ACTIVATION_NAMES = {Sigmoid: "sigmoid", Tanh: "tanh", ReLU: "relu", Softmax: "softmax"}


def to_keras(network: Network):
    """(keras.Sequential, [Link]): the same function as `network`, on (N, H, W, C) images."""
    keras = keras_module()
    from .position_bias import PositionBias
    if len(network.input_shape) != 3:
        raise BridgeError(f"the network takes {network.input_shape}, not images (channels, height, width)")
    dtype, (c, h, w) = network.dtype.name, network.input_shape
    layers, pending = [], []          # pending: (our parameter name, link maker, layer, attribute)
    flattened = None
    for index, layer in enumerate(network.layers):
        named = f"{index}_{type(layer).__name__.lower()}"
        if isinstance(layer, Convolutional):
            if layer.stride != 1 or layer.padding not in ("valid", 0):   # until the bridge writes them
                raise BridgeError(f"layer {index} (Convolutional, stride {layer.stride}, padding {layer.padding}): "
                                  "only stride 1 without padding goes to Keras yet")
            per_kernel = layer.params["biases"].ndim == 1
            conv = keras.layers.Conv2D(layer.depth, layer.kernel_size, use_bias=per_kernel, dtype=dtype, name=named)
            layers.append(conv)
            pending.append((f"{index}.kernels", links.conv_kernels, conv, "kernel"))
            if per_kernel:
                pending.append((f"{index}.biases", links.same, conv, "bias"))
            else:
                bias = PositionBias(dtype=dtype, name=f"{index}_position_bias")
                layers.append(bias)
                pending.append((f"{index}.biases", links.position_biases, bias, "bias"))
        elif isinstance(layer, MaxPool2D):
            layers.append(keras.layers.MaxPooling2D(layer.pool_size, dtype=dtype, name=named))
        elif isinstance(layer, Reshape):
            following = network.layers[index + 1] if index + 1 < len(network.layers) else None
            if len(layer.input_shape) != 3 or len(layer.out_shape) != 1 or not isinstance(following, Dense):
                raise BridgeError(f"layer {index} (Reshape {layer.input_shape} → {layer.out_shape}): only a flatten "
                                  "of an image right before a dense layer has a Keras equivalent")
            layers.append(keras.layers.Flatten(dtype=dtype, name=named))
            flattened = layer.input_shape
        elif isinstance(layer, Dense):
            dense = keras.layers.Dense(layer.output_size, dtype=dtype, name=named)
            layers.append(dense)
            maker = (lambda f: lambda name, variable: links.dense_weights(name, variable, f))(flattened)
            pending += [(f"{index}.weights", maker, dense, "kernel"), (f"{index}.bias", links.same, dense, "bias")]
            flattened = None
        elif type(layer) in ACTIVATION_NAMES:
            layers.append(keras.layers.Activation(ACTIVATION_NAMES[type(layer)], dtype=dtype, name=named))
        else:
            raise BridgeError(f"layer {index} ({type(layer).__name__}) has no Keras equivalent")
    model = keras.Sequential([keras.Input((h, w, c), dtype=dtype), *layers], name="cnn_studio")
    linked = [make(name, getattr(layer, attribute)) for name, make, layer, attribute in pending]
    assert sorted(link.name for link in linked) == sorted(network.params)
    links.assign(linked, network.params)
    return model, linked


def save_keras(model, path) -> Path:
    """model.save to a .keras path, atomically (a temporary file beside it, then a rename)."""
    path = Path(path)
    if path.suffix != ".keras":
        raise BridgeError(f"{path}: a Keras model file must end in .keras")
    if path.is_dir():
        raise BridgeError(f"{path}: is a folder")
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")
    try:
        model.save(temporary)
        os.replace(temporary, path)
    except OSError as error:
        raise BridgeError(f"{path}: cannot be written ({error.strerror or error})") from None
    finally:
        temporary.unlink(missing_ok=True)
    return path
