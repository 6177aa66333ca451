"""Keras model or .keras file → Network (cnn-import, and File ▸ Open in the studio).

Reads a Sequential or a plain chain of Conv2D (square kernels and strides; padding 'valid', 'same',
or a ZeroPadding2D of N on every side right before a 'valid' one), MaxPooling2D and AveragePooling2D
(square, stride = size, valid), GlobalAveragePooling2D, Dropout, BatchNormalization (over the last
axis), Flatten, Dense and activations (sigmoid, tanh, relu, softmax, linear; inline or as Activation
/ ReLU / Softmax layers) on 28×28×1 channels-last images (or 28×28 ones, a Reshape to 28×28×1 first),
in float32 or float64; a bias per position after a Conv2D as cnn-export writes it (a bias branch
of Keras' own layers, added) or as older exports did (our registered PositionBias). One reader per
Keras layer class (READERS); a new kind is one entry. Anything else is refused naming the layer
and the reason; every layer of a kind not read is named in the one refusal.

A BatchNormalization's ε (Keras' default 1e−3) goes into the running variance: the engine's ε is
1e−5, and (x − μ)/√(σ² + ε) = (x − μ)/√((σ² + ε − 1e−5) + 1e−5), so inference computes the same;
training on takes the engine's ε and momentum (0.1, Keras' 0.9; Keras' default is 0.99).

A .keras file is never given to Keras before its config.json has been read as
plain JSON and found to name only Keras' own classes and ours (no Lambda, no other module) and
to declare no more than the engine's limits, members and sizes included (cnn.bridge.declared);
Keras then loads it in safe mode without compiling: no code from the file runs.
"""
from __future__ import annotations

import math
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..activations import ReLU, Sigmoid, Softmax, Tanh
from ..arch import IMAGE_SHAPE
from ..batchnorm import EPS, BatchNorm
from ..convolution import Convolutional
from ..dense import Dense
from ..dropout import Dropout
from ..files import open_regular
from ..network import Network
from ..pooling import AvgPool2D, GlobalAvgPool, MaxPool2D
from ..reshape import Reshape
from .. import jsonfile
from . import BridgeError, declared, keras_module, links
from .declared import READ

ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "softmax": Softmax}
CODE = ("Lambda", "TFOpLambda", "__lambda__", "__function__")   # class names that carry code


def load_keras(path):
    """The model in a .keras file, loaded only after its config passed check_config."""
    path = Path(path)
    check_config(path)          # before TensorFlow is imported: a file that is no model is refused in a moment
    keras = keras_module()
    from . import position_bias  # noqa: F401  (registers PositionBias for Keras' loader)
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many kinds; each is a file it cannot read
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise BridgeError(f"{path}: Keras cannot load it ({first[:200]})") from None


def check_config(path: Path) -> None:
    """Refuse a .keras file before Keras sees it: a config.json that names a class outside Keras
    and this package, or any Lambda, or declares more than the engine's limits (layer sizes, shapes,
    parameters), or a member larger than such a model can need, or a zip bomb. Read as plain JSON
    and zip records: nothing imported, built or inflated beyond config.json's 4 MB."""
    def fail(message: str) -> BridgeError:
        return BridgeError(f"{path}: {message}")
    try:
        with open_regular(path, fail) as file, zipfile.ZipFile(file) as archive:
            info = archive.getinfo("config.json")
            if info.file_size > declared.MAX_CONFIG_BYTES:
                raise fail(f"config.json is larger than {declared.MAX_CONFIG_BYTES >> 20} MB")
            config = jsonfile.parse(archive.read(info), f"{path}: config.json", BridgeError)
            _check_classes(config, fail)
            parameters, layers = declared.check_model(config, fail)
            declared.check_members(archive, parameters, layers, fail)
    except KeyError:
        raise fail("not a Keras model file (no config.json)") from None
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, OSError, EOFError) as error:
        raise fail(f"not a .keras archive ({error})") from None


def _check_classes(config, fail) -> None:
    """Every object the config names comes from Keras or is our PositionBias; no Lambda."""
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        if not isinstance(item, dict):
            continue
        stack.extend(item.values())
        if "class_name" not in item:
            continue
        name, module = item.get("class_name"), item.get("module")
        layer = (item.get("config") or {}).get("name") if isinstance(item.get("config"), dict) else None
        where = f"layer '{layer}' ({name})" if layer else str(name)
        if name in CODE:
            raise fail(f"{where}: layers that carry code are never loaded; {READ}")
        ours = item.get("registered_name") == declared.REGISTERED_NAME
        if not ours and not (module is None or module == "keras" or str(module).startswith("keras.")):
            raise fail(f"{where} comes from module '{module}', which is never imported; {READ}")


def load_network(path) -> Network:
    """The network of a .keras file, or BridgeError naming the file, the layer and the reason."""
    try:
        return from_keras(load_keras(path))[0]
    except BridgeError as error:
        message = str(error)
        raise BridgeError(message if message.startswith(str(path)) else f"{path}: {message}") from None


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


def _conv(layer, reading: Reading, refuse) -> None:
    k, stride = _checked_conv(layer, reading.shape, refuse)
    padding, reading.padding = reading.padding or layer.padding, 0
    following, index = reading.following(), len(reading.layers)
    per_position = not layer.use_bias and type(following).__name__ in ("PositionBias", "BiasBranch")
    try:
        conv = Convolutional(reading.shape, k, layer.filters, "position" if per_position else "kernel", "normal",
                             rng=0, dtype=reading.dtype, stride=stride, padding=padding)
    except ValueError as error:
        raise refuse(str(error)) from None
    reading.add(conv)
    reading.linked.append(links.conv_kernels(f"{index}.kernels", layer.kernel))
    if layer.use_bias:
        reading.linked.append(links.same(f"{index}.biases", layer.bias))
    elif isinstance(following, BiasBranch):
        if following.shape != _hwc(conv.output_shape()):
            raise refuse(f"its bias branch '{following.name}' is {following.shape}, not the output's "
                         f"{_hwc(conv.output_shape())}")
        reading.linked.append(links.flat_position_biases(f"{index}.biases", following.dense.bias, following.shape))
    elif per_position:
        reading.linked.append(links.position_biases(f"{index}.biases", following.bias))
    else:
        reading.values[f"{index}.biases"] = np.zeros(layer.filters, dtype=reading.dtype)
    reading.position += per_position
    _activation(layer.activation, reading, refuse)


def _bias_alone(layer, reading: Reading, refuse) -> None:
    kind = "a bias branch" if isinstance(layer, BiasBranch) else "a PositionBias"
    raise refuse(f"{kind} is read only right after a Conv2D without a bias of its own")


def _pool(layer, reading: Reading, refuse) -> None:
    reading.add(MaxPool2D(reading.shape, _checked_pool(layer, reading.shape, refuse), dtype=reading.dtype))


def _zero_padding(layer, reading: Reading, refuse) -> None:
    sides = {int(n) for pair in layer.padding for n in pair}
    following = reading.following()
    if len(sides) != 1 or type(following).__name__ != "Conv2D" or following.padding != "valid" \
            or layer.data_format != "channels_last":
        raise refuse(f"padding {tuple(map(tuple, layer.padding))}: only the same N on every side, right before a "
                     "Conv2D with padding 'valid', is read")
    n = sides.pop()
    if n >= following.kernel_size[0]:
        raise refuse(f"padding {n}: the engine pads a {following.kernel_size[0]}×{following.kernel_size[0]} kernel's "
                     f"input by at most {following.kernel_size[0] - 1}")
    reading.padding = n


def _avgpool(layer, reading: Reading, refuse) -> None:
    reading.add(AvgPool2D(reading.shape, _checked_pool(layer, reading.shape, refuse), dtype=reading.dtype))


def _global_avgpool(layer, reading: Reading, refuse) -> None:
    if len(reading.shape) != 3 or layer.keepdims or layer.data_format != "channels_last":
        raise refuse("only the average of each channel of a channels-last image, without keepdims, is read")
    reading.add(GlobalAvgPool(reading.shape, dtype=reading.dtype))


def _dropout(layer, reading: Reading, refuse) -> None:
    if layer.noise_shape is not None or not 0.0 <= float(layer.rate) < 1.0:
        raise refuse(f"rate {layer.rate}, noise_shape {layer.noise_shape}: only a rate below 1 and no noise_shape "
                     "are read")
    reading.add(Dropout(float(layer.rate), 0, len(reading.layers), dtype=reading.dtype))


def _batchnorm(layer, reading: Reading, refuse) -> None:
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


def _reshape(layer, reading: Reading, refuse) -> None:
    target = tuple(layer.target_shape)
    if target != _hwc(reading.shape):
        raise refuse(f"to {target}: only a Reshape to the shape the image has already (a 28×28 input to "
                     "28×28×1) is read")


def _flatten(layer, reading: Reading, refuse) -> None:
    if len(reading.shape) == 3:
        reading.flattened = reading.shape
        reading.add(Reshape(reading.shape, (math.prod(reading.shape),), dtype=reading.dtype))


def _dense(layer, reading: Reading, refuse) -> None:
    if len(reading.shape) != 1:
        raise refuse(f"gets a {'×'.join(map(str, _hwc(reading.shape)))} image: put a Flatten before it")
    index = reading.add(Dense(reading.shape[0], layer.units, rng=0, dtype=reading.dtype))
    reading.linked.append(links.dense_weights(f"{index}.weights", layer.kernel, reading.flattened))
    if layer.use_bias:
        reading.linked.append(links.same(f"{index}.bias", layer.bias))
    else:
        reading.values[f"{index}.bias"] = np.zeros(layer.units, dtype=reading.dtype)
    reading.flattened = None
    _activation(layer.activation, reading, refuse)


def _relu(layer, reading: Reading, refuse) -> None:
    if (layer.max_value, float(layer.negative_slope), float(layer.threshold)) != (None, 0.0, 0.0):
        raise refuse("only a plain ReLU (no max_value, negative_slope or threshold) is read")
    reading.add(ReLU(dtype=reading.dtype))


def _softmax(layer, reading: Reading, refuse) -> None:
    if layer.axis not in (-1, [-1]) or len(reading.shape) != 1:
        raise refuse("only a softmax over a vector (after a Dense) is read")
    reading.add(Softmax(dtype=reading.dtype))


READERS = {   # Keras layer class (exactly: no subclass) → reader(layer, reading, refuse); a new kind is one entry
    "Conv2D": _conv,
    "ZeroPadding2D": _zero_padding,
    "MaxPooling2D": _pool,
    "AveragePooling2D": _avgpool,
    "GlobalAveragePooling2D": _global_avgpool,
    "Dropout": _dropout,
    "BatchNormalization": _batchnorm,
    "Reshape": _reshape,
    "Flatten": _flatten,
    "Dense": _dense,
    "Activation": lambda layer, reading, refuse: _activation(layer.activation, reading, refuse),
    "ReLU": _relu,
    "Softmax": _softmax,
}


def from_keras(model) -> tuple[Network, list[links.Link]]:
    """Our network computing what `model` computes, and the links between their parameters."""
    keras = keras_module()
    from .position_bias import PositionBias
    readers = {getattr(keras.layers, name): reader for name, reader in READERS.items()}
    readers.update({PositionBias: _bias_alone, BiasBranch: _bias_alone})
    _refuse_unknown(model, keras, readers)
    reading = Reading(_chain(model, keras), _input(model), _dtype(model))
    while reading.position < len(reading.chain):
        layer = reading.chain[reading.position]
        reading.position += 1

        def refuse(reason, layer=layer):
            return BridgeError(f"layer '{layer.name}' ({type(layer).__name__}): {reason}")
        readers[type(layer)](layer, reading, refuse)
    layers, linked, values = reading.layers, reading.linked, reading.values
    if not layers:
        raise BridgeError("the model has no layers")
    network = Network(layers)
    values.update(links.keras_values(linked))
    network.set_params(values)
    network.set_buffers({**network.buffers, **reading.buffers})
    return network, linked


def _refuse_unknown(model, keras, readers) -> None:
    """Every layer of a kind no reader reads, named in one line (the bias branch's parts aside)."""
    branch = (keras.layers.Add, keras.layers.Rescaling, keras.layers.InputLayer)
    unknown = [layer for layer in getattr(model, "layers", []) if type(layer) not in readers
               and not isinstance(layer, branch)]
    if unknown:
        named = ", ".join(f"'{layer.name}' ({type(layer).__name__})" for layer in unknown)
        raise BridgeError(f"layer{'s' if len(unknown) > 1 else ''} {named}: not supported; {READ}")


def _chain(model, keras) -> list:
    """The model's layers in order, InputLayer aside (the bias branch cnn-export writes as one
    BiasBranch); refuses anything but a single chain."""
    if not isinstance(model, keras.Model):
        raise BridgeError(f"not a Keras model but a {type(model).__name__}")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise BridgeError(f"the model has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
                          "the bridge reads one chain of layers from one input to one output")
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if isinstance(model, keras.Sequential):
        return layers
    chain, seen, tensor, start = [], set(), model.outputs[0], model.inputs[0]
    while tensor is not start and len(chain) <= len(layers):
        layer = _producer(tensor)
        if type(layer) is keras.layers.Add:
            tensor, branch = _bias_branch(layer, start, keras)
            seen.update(id(part) for part in branch.layers)
            chain.append(branch)
        else:
            inputs = _inputs(layer)
            if len(inputs) != 1:
                raise BridgeError(f"layer '{layer.name}' ({type(layer).__name__}): fed by {len(inputs)} layers; "
                                  "the bridge reads one chain of layers")
            chain.append(layer)
            tensor = inputs[0]
        seen.add(id(layer))
    aside = [layer for layer in layers if id(layer) not in seen]
    if aside or tensor is not start:
        where = f"layer '{aside[0].name}' ({type(aside[0]).__name__})" if aside else "the model"
        raise BridgeError(f"{where}: not on the one chain of layers from the input to the output; "
                          "the bridge reads one chain of layers")
    return chain[::-1]


@dataclass(frozen=True)
class BiasBranch:
    """The position biases cnn-export writes with standard layers: Add(convolution, Reshape(Dense(
    GlobalAveragePooling2D(Rescaling(0)(input))))), which adds the Dense's bias, (H', W', D) flattened."""
    name: str
    dense: object
    shape: tuple                  # (H', W', D)
    layers: tuple


def _producer(tensor):
    try:
        return tensor._keras_history.operation
    except AttributeError:
        raise BridgeError("a tensor of the model comes from no layer; the bridge reads one chain of layers") from None


def _inputs(layer) -> list:
    try:
        inputs = layer.input
    except (AttributeError, ValueError):   # a layer called more than once has no single input
        raise BridgeError(f"layer '{layer.name}' ({type(layer).__name__}): called more than once; the bridge reads "
                          "one chain of layers") from None
    return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]


def _bias_branch(add, start, keras) -> tuple:
    """(the Add's other input, BiasBranch) when one of its two inputs is the bias branch."""
    inputs = _inputs(add)
    expected = (keras.layers.Reshape, keras.layers.Dense, keras.layers.GlobalAveragePooling2D, keras.layers.Rescaling)
    for main, side in ((inputs[0], inputs[-1]), (inputs[-1], inputs[0])):
        parts, tensor = [], side
        for kind in expected:
            layer = _producer(tensor)
            if type(layer) is not kind or len(_inputs(layer)) != 1:
                break
            parts.append(layer)
            tensor = _inputs(layer)[0]
        if len(inputs) != 2 or len(parts) != 4 or tensor is not start:
            continue
        reshape, dense, pool, zero = parts
        shape = tuple(reshape.target_shape)
        if float(np.max(np.abs(zero.scale))) == 0.0 and float(np.max(np.abs(zero.offset))) == 0.0 \
                and dense.use_bias and getattr(dense.activation, "__name__", None) == "linear" \
                and dense.units == math.prod(shape) and len(shape) == 3 and not pool.keepdims:
            return main, BiasBranch(add.name, dense, shape, (add, *parts))
    raise BridgeError(f"layer '{add.name}' (Add): only the bias branch cnn-export writes (Rescaling(0) → "
                      "GlobalAveragePooling2D → Dense → Reshape, added to a Conv2D without a bias) is read")


def _hwc(shape: tuple) -> tuple:
    return (*shape[1:], shape[0]) if len(shape) == 3 else shape


def _input(model) -> tuple:
    """Ours (1, 28, 28) for a 28×28×1 input, or a 28×28 one: with one channel the values are the same."""
    shape = tuple(model.inputs[0].shape)
    c, h, w = IMAGE_SHAPE
    if shape[1:] not in ((h, w, c), (h, w)):
        raise BridgeError(f"the input is {'×'.join(str(d) for d in shape[1:])}: the bridge reads {h}×{w}×{c} images "
                          "(height × width × channels, channels last)")
    return IMAGE_SHAPE


def _dtype(model) -> str:
    kinds = {np.dtype(variable.dtype).name for variable in model.weights
             if np.dtype(variable.dtype).kind == "f"} or {"float32"}   # a Dropout's seed state is an integer
    if len(kinds) > 1:
        raise BridgeError(f"the model mixes {sorted(kinds)}; the engine computes in one of float32 and float64")
    kind = kinds.pop()
    if kind not in ("float32", "float64"):
        raise BridgeError(f"the model's weights are {kind}; the engine computes in float32 or float64")
    return kind


def _checked_conv(layer, shape, refuse) -> int:
    if len(shape) != 3:
        raise refuse(f"needs an image but gets a {shape[0]}-vector")
    if layer.padding not in ("valid", "same"):
        raise refuse(f"padding '{layer.padding}': only 'valid' and 'same' are read")
    strides = tuple(layer.strides)
    if strides[0] != strides[1]:
        raise refuse(f"strides {strides}: only the same stride down and across is read")
    if tuple(layer.dilation_rate) != (1, 1):
        raise refuse(f"dilation {tuple(layer.dilation_rate)}: only 1 is read")
    if layer.data_format != "channels_last":
        raise refuse(f"data_format '{layer.data_format}': only channels_last is read")
    if getattr(layer, "groups", 1) != 1:
        raise refuse(f"groups {layer.groups}: only 1 is read")
    k = tuple(layer.kernel_size)
    if k[0] != k[1]:
        raise refuse(f"kernel {k[0]}×{k[1]}: only square kernels are read")
    if k[0] > min(shape[1:]) and layer.padding == "valid":
        raise refuse(f"a {k[0]}×{k[0]} kernel does not fit the {shape[1]}×{shape[2]} input")
    return k[0], strides[0]


def _checked_pool(layer, shape, refuse) -> int:
    if len(shape) != 3:
        raise refuse(f"needs an image but gets a {shape[0]}-vector")
    size, strides = tuple(layer.pool_size), tuple(layer.strides or layer.pool_size)
    if size[0] != size[1]:
        raise refuse(f"pool size {size[0]}×{size[1]}: only square windows are read")
    if strides != size:
        raise refuse(f"strides {strides} with pool size {size}: only strides equal to the pool size are read")
    if size[0] > min(shape[1:]):
        raise refuse(f"a {size[0]}×{size[0]} window does not fit the {shape[1]}×{shape[2]} input")
    if layer.padding != "valid":
        raise refuse(f"padding '{layer.padding}': only 'valid' is read")
    if layer.data_format != "channels_last":
        raise refuse(f"data_format '{layer.data_format}': only channels_last is read")
    return size[0]


def _activation(function, reading: Reading, refuse) -> None:
    name = getattr(function, "__name__", None)
    if name == "linear":
        return
    if name not in ACTIVATIONS:
        raise refuse(f"activation '{name}' is not read; only sigmoid, tanh, relu, softmax and linear are")
    if name == "softmax" and len(reading.shape) != 1:
        raise refuse("softmax over an image's channels has no counterpart here; only after a Dense")
    reading.add(ACTIVATIONS[name](dtype=reading.dtype))
