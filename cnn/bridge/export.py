"""Network → Keras 3 model (cnn-export): Keras' own layers only, channels-last, the same dtype, the
same weights; a .keras file, a SavedModel folder or a .tflite file, each written atomically.

One writer per layer kind (WRITERS); a new kind is one entry:

    Convolutional   Conv2D (bias_mode kernel: its bias), strides s; pad=same as padding='same' (Keras
                    pads as we do: ⌊total/2⌋ before, the rest after); pad=N as ZeroPadding2D(N), then 'valid'
                    bias_mode position: Conv2D without bias, then Add of a bias branch (below)
    MaxPool2D       MaxPooling2D
    AvgPool2D       AveragePooling2D;  GlobalAvgPool  GlobalAveragePooling2D
    Dropout         Dropout (rate p; identity in inference, as ours in evaluation)
    BatchNorm       BatchNormalization (γ, β, the running mean and variance; ε = 1e−5, and Keras' momentum
                    0.9 is PyTorch's and ours 0.1: moving ← 0.9 moving + 0.1 batch)
    Reshape         Flatten (an image flattened right before a Dense, a Dropout between allowed)
    Dense           Dense (the kernel transposed; after a flatten its rows permuted, cnn.bridge.links)
    activations     Activation (sigmoid, tanh, relu, softmax)

The original network's one bias per output position has no Keras layer of its own. It is written
with standard layers, so that the file loads in any Keras 3 without this project: a branch from
the model's input, Rescaling(0) → GlobalAveragePooling2D → Dense(H'·W'·D) → Reshape(H', W', D),
makes 0·K + b = b exactly (K zeros, its gradient always zero: the input it multiplies is 0); the
Dense's bias b holds the biases, channels last, and an Add puts them on the convolution's output.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..activations import ReLU, Sigmoid, Softmax, Tanh
from ..batchnorm import EPS, MOMENTUM, BatchNorm
from ..convolution import Convolutional
from ..dense import Dense
from ..dropout import Dropout
from ..network import Network
from ..pooling import AvgPool2D, GlobalAvgPool, MaxPool2D
from ..reshape import Reshape
from . import BridgeError, keras_module, links

ACTIVATION_NAMES = {Sigmoid: "sigmoid", Tanh: "tanh", ReLU: "relu", Softmax: "softmax"}
BRANCH = ("position_zero", "position_pool", "position_bias", "position_shape")   # the bias branch's layer names


@dataclass
class Building:
    """What the writers share: Keras, the dtype, the model's input, the parameters to link."""
    keras: object
    dtype: str
    image: object                                   # the model's input tensor
    network: Network
    pending: list = field(default_factory=list)     # (our parameter name, link maker, layer, attribute)
    buffers: list = field(default_factory=list)     # (our buffer name, layer, attribute): running statistics
    flattened: tuple | None = None                  # the (C, H, W) image the last flatten made a vector of

    def layer(self, kind, *args, **kwargs):
        return getattr(self.keras.layers, kind)(*args, dtype=self.dtype, **kwargs)


def _conv(layer: Convolutional, x, index: int, named: str, b: Building):
    padding = layer.padding if layer.padding in ("valid", "same") else "valid"
    if layer.padding not in ("valid", "same", 0):
        x = b.layer("ZeroPadding2D", layer.padding, name=f"{index}_padding")(x)
    per_kernel = layer.bias_mode == "kernel"
    conv = b.layer("Conv2D", layer.depth, layer.kernel_size, strides=layer.stride, padding=padding,
                   use_bias=per_kernel, name=named)
    b.pending.append((f"{index}.kernels", links.conv_kernels, conv, "kernel"))
    y = conv(x)
    if per_kernel:
        b.pending.append((f"{index}.biases", links.same, conv, "bias"))
        return y
    depth, height, width = layer.output_shape()
    zero = b.layer("Rescaling", 0.0, name=f"{index}_{BRANCH[0]}")(b.image)
    pooled = b.layer("GlobalAveragePooling2D", name=f"{index}_{BRANCH[1]}")(zero)
    dense = b.layer("Dense", depth * height * width, kernel_initializer="zeros", name=f"{index}_{BRANCH[2]}")
    biases = b.layer("Reshape", (height, width, depth), name=f"{index}_{BRANCH[3]}")(dense(pooled))
    b.pending.append((f"{index}.biases", lambda name, v: links.flat_position_biases(name, v, (height, width, depth)),
                      dense, "bias"))
    return b.layer("Add", name=f"{index}_add")([y, biases])


def _pool(layer: MaxPool2D, x, index: int, named: str, b: Building):
    return b.layer("MaxPooling2D", layer.pool_size, name=named)(x)


def _avgpool(layer: AvgPool2D, x, index: int, named: str, b: Building):
    return b.layer("AveragePooling2D", layer.pool_size, name=named)(x)


def _global_avgpool(layer: GlobalAvgPool, x, index: int, named: str, b: Building):
    return b.layer("GlobalAveragePooling2D", name=named)(x)


def _dropout(layer: Dropout, x, index: int, named: str, b: Building):
    return b.layer("Dropout", layer.p, name=named)(x)


def _batchnorm(layer: BatchNorm, x, index: int, named: str, b: Building):
    norm = b.layer("BatchNormalization", axis=-1, momentum=1 - MOMENTUM, epsilon=EPS, name=named)
    b.pending += [(f"{index}.gamma", links.same, norm, "gamma"), (f"{index}.beta", links.same, norm, "beta")]
    b.buffers += [(f"{index}.running_mean", norm, "moving_mean"), (f"{index}.running_var", norm, "moving_variance")]
    return norm(x)


def _reshape(layer: Reshape, x, index: int, named: str, b: Building):
    rest = b.network.layers[index + 1:]
    following = next((later for later in rest if not isinstance(later, Dropout)), None)
    if len(layer.input_shape) != 3 or len(layer.out_shape) != 1 or not isinstance(following, Dense):
        raise BridgeError(f"layer {index} (Reshape {layer.input_shape} → {layer.out_shape}): only a flatten "
                          "of an image right before a dense layer has a Keras equivalent")
    b.flattened = layer.input_shape
    return b.layer("Flatten", name=named)(x)


def _dense(layer: Dense, x, index: int, named: str, b: Building):
    dense = b.layer("Dense", layer.output_size, name=named)
    flattened, b.flattened = b.flattened, None
    b.pending += [(f"{index}.weights", lambda name, v: links.dense_weights(name, v, flattened), dense, "kernel"),
                  (f"{index}.bias", links.same, dense, "bias")]
    return dense(x)


def _activation(layer, x, index: int, named: str, b: Building):
    return b.layer("Activation", ACTIVATION_NAMES[type(layer)], name=named)(x)


WRITERS = {Convolutional: _conv, MaxPool2D: _pool, AvgPool2D: _avgpool, GlobalAvgPool: _global_avgpool,
           Dropout: _dropout, BatchNorm: _batchnorm, Reshape: _reshape, Dense: _dense,
           **dict.fromkeys(ACTIVATION_NAMES, _activation)}


def to_keras(network: Network):
    """(keras.Model, [Link]): the same function as `network` in evaluation mode (the Keras model called
    with training=False, as predict does), on (N, H, W, C) images; the running statistics are copied."""
    keras = keras_module()
    if len(network.input_shape) != 3:
        raise BridgeError(f"the network takes {network.input_shape}, not images (channels, height, width)")
    dtype, (c, h, w) = network.dtype.name, network.input_shape
    image = keras.Input((h, w, c), dtype=dtype, name="image")
    building, x = Building(keras, dtype, image, network), image
    for index, layer in enumerate(network.layers):
        writer = WRITERS.get(type(layer))
        if writer is None:
            raise BridgeError(f"layer {index} ({type(layer).__name__}) has no Keras equivalent")
        x = writer(layer, x, index, f"{index}_{type(layer).__name__.lower()}", building)
    model = keras.Model(image, x, name="cnn_studio")
    linked = [make(name, getattr(layer, attribute)) for name, make, layer, attribute in building.pending]
    assert sorted(link.name for link in linked) == sorted(network.params)
    links.assign(linked, network.params)
    for name, layer, attribute in building.buffers:
        getattr(layer, attribute).assign(network.buffers[name])
    return model, linked


def _target(path, suffix: str | None) -> Path:
    path = Path(path)
    if suffix is not None and path.suffix != suffix:
        raise BridgeError(f"{path}: a {'Keras' if suffix == '.keras' else 'TensorFlow Lite'} model file must end "
                          f"in {suffix}")
    if path.exists() and (suffix is None or path.is_dir()):
        raise BridgeError(f"{path}: {'is a folder' if suffix else 'exists already; a SavedModel is a new folder'}")
    return path


def _replace(path: Path, write) -> Path:
    """write(temporary) beside `path`, then one rename: a failure leaves nothing behind."""
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(temporary)
        os.replace(temporary, path)
    except OSError as error:
        raise BridgeError(f"{path}: cannot be written ({error.strerror or error})") from None
    finally:
        if temporary.is_dir():
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            temporary.unlink(missing_ok=True)
    return path


def save_keras(model, path) -> Path:
    """model.save to a .keras path, atomically (a temporary file beside it, then a rename)."""
    return _replace(_target(path, ".keras"), model.save)


def save_savedmodel(model, path) -> Path:
    """A TensorFlow SavedModel folder (tf.saved_model.load; its `serve` signature takes the
    channels-last images), written as a temporary folder beside `path`, then renamed."""
    from ..quiet import stderr_filtered
    with stderr_filtered():
        return _replace(_target(path, None),
                        lambda folder: model.export(folder, format="tf_saved_model", verbose=False))


def save_tflite(model, path) -> Path:
    """A TensorFlow Lite flat buffer (tf.lite.Interpreter), float32, written atomically."""
    import contextlib
    import io

    import tensorflow as tf
    from ..quiet import stderr_filtered
    with stderr_filtered(), contextlib.redirect_stdout(io.StringIO()):   # the converter's own report
        data = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    return _replace(_target(path, ".tflite"), lambda file: Path(file).write_bytes(data))
