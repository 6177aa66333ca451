"""What a .keras file declares, bounded before Keras builds or reads anything of it.

Keras builds every layer at the shape its config.json declares and reads model.weights.h5 whole
into memory: a 3 kB config with "units": 1e9, or a 4 MB archive whose weights member inflates to
4 GiB, would take gigabytes. Here the config's layers are walked as plain JSON: each number the
bridge reads must be a whole number within the engine's limits (cnn.arch.grammar.LIMITS), each
layer's output and the parameter total are computed from the declared shapes and refused past the
limits (cnn.arch.shapes.MAX_PARAMETERS); then every member of the archive must declare no more
bytes than the model it holds can need, and none may inflate like a zip bomb.
"""
from __future__ import annotations

import math
import zipfile
from typing import Callable

from ..arch.grammar import IMAGE_SHAPE, LIMITS
from ..arch.shapes import MAX_PARAMETERS

READ = "the bridge reads Conv2D, ZeroPadding2D, PositionBias, MaxPooling2D, AveragePooling2D, " \
       "GlobalAveragePooling2D, Dropout, BatchNormalization, Reshape (28×28 to 28×28×1), Flatten, Dense and " \
       "Activation (sigmoid, tanh, relu, softmax, linear) layers, and the bias branch cnn-export writes"
REGISTERED_NAME = "cnn_studio>PositionBias"      # our PositionBias layer (cnn.bridge.position_bias)
MODELS = ("Sequential", "Functional")
LAYERS = ("InputLayer", "Conv2D", "ZeroPadding2D", "PositionBias", "MaxPooling2D", "AveragePooling2D", "Flatten",
          "Dense", "Activation", "ReLU", "Softmax", "Dropout", "BatchNormalization",
          "Rescaling", "GlobalAveragePooling2D", "Reshape", "Add")   # Rescaling, Add: cnn-export's bias branch
MAX_VALUES = LIMITS["depth"] * IMAGE_SHAPE[1] * IMAGE_SHAPE[2]   # the largest output a layer of ours makes
MAX_BATCH = LIMITS["size"]
WINDOW = LIMITS["kernel size"]                                   # kernels, pooling windows, strides, dilation
MAX_CONFIG_BYTES = 4 << 20
MAX_METADATA_BYTES = 64 << 10
WEIGHTS = ("model.weights.h5", "model.weights.npz")
BOMB_RATIO, BOMB_FLOOR = 100, 1 << 20   # a member past 1 MB inflating 100× is a bomb (Keras stores, 1:1)


def check_model(config, fail: Callable[[str], Exception]) -> tuple[int, int]:
    """(parameters, layers) the model config declares; fail(message) raised for the first number
    that is not a sane whole number, a shape past MAX_VALUES or a parameter total past MAX_PARAMETERS."""
    if not isinstance(config, dict) or config.get("class_name") not in MODELS \
            or not isinstance(config.get("config"), dict) or not isinstance(config["config"].get("layers"), list):
        kind = config.get("class_name") if isinstance(config, dict) else None
        raise fail(f"config.json holds {'a ' + str(kind) if kind else 'no model'}; the bridge reads a Sequential or "
                   "functional model's config")
    body = config["config"]
    shape = None
    for declared in (config.get("build_config"), {"input_shape": body.get("build_input_shape")}):
        if isinstance(declared, dict) and declared.get("input_shape") is not None:
            shape = _shape(declared["input_shape"], "the model's input shape", fail)
    if not all(isinstance(layer, dict) and isinstance(layer.get("config"), dict) for layer in body["layers"]):
        raise fail("config.json: a layer that is not a Keras layer's config")
    unknown = [layer for layer in body["layers"] if layer.get("class_name") not in LAYERS]
    if unknown:
        named = ", ".join(_name(layer).removeprefix("layer ") for layer in unknown)
        raise fail(f"layer{'s' if len(unknown) > 1 else ''} {named}: not supported; {READ}")
    total, outputs = 0, {}
    for layer in body["layers"]:   # a functional model's layers are listed in no chain order: each from its input's
        shape, parameters = _layer(layer, outputs.get(_inbound(layer), shape), fail)
        outputs[layer["config"].get("name")] = shape
        total += parameters
        if total > MAX_PARAMETERS:
            raise fail(f"{_name(layer)}: the model would have {total:,} parameters, more than the "
                       f"{MAX_PARAMETERS:,} allowed")
    return total, len(body["layers"])


def _inbound(layer: dict):
    """The name of the layer whose output a functional model's layer takes first (Keras 3's
    inbound_nodes: args holding a __keras_tensor__ with its keras_history), or None."""
    nodes = layer.get("inbound_nodes")
    try:
        argument = nodes[0]["args"][0]
        argument = argument[0] if isinstance(argument, list) else argument
        name = argument["config"]["keras_history"][0]
    except (LookupError, TypeError):
        return None
    return name if isinstance(name, str) else None


def _name(layer: dict) -> str:
    name = layer["config"].get("name")
    kind = layer.get("class_name")
    return f"layer '{name}' ({kind})" if isinstance(name, str) else f"layer {kind}"


def _layer(layer: dict, shape, fail) -> tuple[tuple | None, int]:
    """(output shape, parameters) of one layer from its declared config; shapes without the batch."""
    kind, config, where = layer.get("class_name"), layer["config"], _name(layer)

    def refuse(reason):
        return fail(f"{where}: {reason}")
    if kind not in LAYERS:
        raise refuse(f"not supported; {READ}")
    if kind == "InputLayer":
        key = "batch_shape" if "batch_shape" in config else "batch_input_shape"
        return _shape(config.get(key), key, refuse), 0
    built = layer.get("build_config")
    if isinstance(built, dict) and built.get("input_shape") is not None:
        declared = built["input_shape"]
        if kind == "Add" and isinstance(declared, list) and declared and all(isinstance(d, list) for d in declared):
            declared = declared[0]      # an Add's inputs have one shape
        shape = _shape(declared, "build_config's input_shape", refuse)
    if shape is None:           # nothing declares its input: Keras cannot build it before it is called
        return None, 0
    if kind == "Dense":
        units = whole(config.get("units"), "units", LIMITS["size"], refuse)
        output, parameters = (*shape[:-1], units), (shape[-1] + 1) * units
    elif kind == "Conv2D":
        output, parameters = _conv(config, shape, refuse)
    elif kind in ("MaxPooling2D", "AveragePooling2D"):
        output, parameters = _pool(config, shape, refuse), 0
    elif kind == "ZeroPadding2D":
        output, parameters = _zero_padding(config, shape, refuse), 0
    elif kind == "BatchNormalization":
        output, parameters = shape, 4 * shape[-1]
    elif kind == "PositionBias":
        output, parameters = shape, math.prod(shape)
    elif kind == "Flatten":
        output, parameters = (math.prod(shape),), 0
    elif kind == "GlobalAveragePooling2D":
        output, parameters = (_image(shape, refuse)[2],), 0
    elif kind == "Reshape":
        target = config.get("target_shape")
        if not isinstance(target, list) or not 1 <= len(target) <= 3:
            raise refuse(f"target_shape must be a list of 1 to 3 sizes, not {str(target)[:60]}")
        output, parameters = tuple(whole(size, "target_shape's sizes", MAX_VALUES, refuse) for size in target), 0
    else:
        output, parameters = shape, 0
    _bounded(output, "its output", refuse)
    return output, parameters


def whole(value, name: str, largest: int, refuse, smallest: int = 1) -> int:
    """`value` if it is a whole number from smallest to largest (not a bool, not 8.0), else refuse."""
    if type(value) is not int or not smallest <= value <= largest:
        shown = "true" if value is True else "false" if value is False else "null" if value is None else \
            f"{value:.6g}" if isinstance(value, float) else repr(value)[:40]
        raise refuse(f"{name} must be a whole number from {smallest} to {largest:,}, not {shown}")
    return value


def _pair(value, name: str, refuse) -> tuple[int, int]:
    """A Keras size given as N or [N, M]."""
    if isinstance(value, list) and len(value) == 2:
        return whole(value[0], name, WINDOW, refuse), whole(value[1], name, WINDOW, refuse)
    if isinstance(value, list):
        raise refuse(f"{name} must be two whole numbers, not {len(value)}")
    return (whole(value, name, WINDOW, refuse),) * 2


def _image(shape: tuple, refuse) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise refuse(f"needs an image (height × width × channels) but gets a shape of {len(shape)} dimensions")
    return shape


def _conv(config: dict, shape: tuple, refuse) -> tuple[tuple, int]:
    filters = whole(config.get("filters"), "filters", LIMITS["depth"], refuse)
    k = _pair(config.get("kernel_size"), "kernel_size", refuse)
    strides = _pair(config.get("strides", 1), "strides", refuse)
    dilation = _pair(config.get("dilation_rate", 1), "dilation_rate", refuse)
    height, width, channels = _image(shape, refuse)
    if config.get("data_format") == "channels_first":
        channels, height, width = shape
    spans = [(k[i] - 1) * dilation[i] + 1 for i in (0, 1)]
    sizes = [math.ceil(n / s) if config.get("padding") == "same" else (n - span) // s + 1
             for n, span, s in zip((height, width), spans, strides, strict=True)]
    if min(sizes) < 1:
        raise refuse(f"a {k[0]}×{k[1]} kernel does not fit the {height}×{width} input")
    bias = filters if config.get("use_bias", True) else 0
    return (*sizes, filters), k[0] * k[1] * channels * filters + bias


def _zero_padding(config: dict, shape: tuple, refuse) -> tuple:
    """(top, bottom) and (left, right) given as N, [N, M] (each on both sides) or [[t, b], [l, r]]."""
    padding = config.get("padding", 1)
    if isinstance(padding, list) and len(padding) == 2 and all(isinstance(side, list) for side in padding):
        pairs = [_pair(side, "padding", refuse) for side in padding]
    else:
        pairs = [(n, n) for n in _pair(padding, "padding", refuse)]
    height, width, channels = _image(shape, refuse)
    return height + sum(pairs[0]), width + sum(pairs[1]), channels


def _pool(config: dict, shape: tuple, refuse) -> tuple:
    size = _pair(config.get("pool_size", 2), "pool_size", refuse)
    strides = size if config.get("strides") is None else _pair(config["strides"], "strides", refuse)
    height, width, channels = _image(shape, refuse)
    sizes = [math.ceil(n / s) if config.get("padding") == "same" else (n - p) // s + 1
             for n, p, s in zip((height, width), size, strides, strict=True)]
    if min(sizes) < 1:
        raise refuse(f"a {size[0]}×{size[1]} window does not fit the {height}×{width} input")
    return (*sizes, channels)


def _shape(declared, name: str, refuse) -> tuple:
    """A declared shape [batch, d1, d2, …] (batch null or a whole number) as (d1, d2, …), bounded."""
    if not isinstance(declared, list) or not 2 <= len(declared) <= 4:
        raise refuse(f"{name} must be a list [batch, …] of 2 to 4 sizes, not {str(declared)[:60]}")
    if declared[0] is not None:
        whole(declared[0], f"{name}'s batch size", MAX_BATCH, refuse)
    shape = tuple(whole(size, f"{name}'s sizes", MAX_VALUES, refuse) for size in declared[1:])
    _bounded(shape, name, refuse)
    return shape


def _bounded(shape: tuple, name: str, refuse) -> None:
    values = math.prod(shape)
    if values > MAX_VALUES:
        raise refuse(f"{name} is {'×'.join(map(str, shape))}: {values:,} values per image, more than the "
                     f"{MAX_VALUES:,} a layer may make")


def check_members(archive: zipfile.ZipFile, parameters: int, layers: int, fail: Callable[[str], Exception]) -> None:
    """Every member of the archive declares no more bytes than a model of `parameters` can need
    (float64 weights with two optimizer slots each, and room for HDF5's own records), and none is a zip bomb."""
    weights = 32 * parameters + (1 << 20) + (64 << 10) * layers
    largest = {"config.json": MAX_CONFIG_BYTES, "metadata.json": MAX_METADATA_BYTES} | dict.fromkeys(WEIGHTS, weights)
    for info in archive.infolist():
        name = info.filename
        if name not in largest:
            raise fail(f"member '{name[:100]}' is none of a Keras model's ({', '.join(largest)}); refused unread")
        if info.file_size > BOMB_FLOOR and info.file_size > BOMB_RATIO * info.compress_size:
            raise fail(f"member '{name}' would inflate {info.file_size:,} bytes from {info.compress_size:,} "
                       f"stored: a zip bomb; refused unread")
        if info.file_size > largest[name]:
            need = f"what the model's {parameters:,} parameters can need" if name in WEIGHTS else "a model's"
            raise fail(f"member '{name}' declares {info.file_size:,} bytes, more than {largest[name]:,} "
                       f"({need}); refused unread")
