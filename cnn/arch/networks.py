"""LayerSpecs ↔ networks: build one (weights drawn in layer order from one seeded generator, as
the presets draw them), read the weights header's JSON layers (counted from 1 in messages), and
read `--arch SPEC` from a string or a JSON file."""
from __future__ import annotations

import math
from pathlib import Path

from .. import jsonfile
from ..activations import ReLU, Sigmoid, Softmax, Tanh
from ..batchnorm import BatchNorm
from ..convolution import PADDINGS, Convolutional
from ..dense import Dense
from ..dropout import Dropout
from ..init import as_generator
from ..network import Network
from ..pooling import AvgPool2D, GlobalAvgPool, MaxPool2D
from ..reshape import Reshape
from .grammar import CHOICES, IMAGE_SHAPE, LIMITS, ArchitectureError, LayerSpec, text
from .shapes import layer_shape, canonical, check, shape_text

ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "softmax": Softmax}
MAX_SPEC_FILE_BYTES = 1 << 20


def build(layers, classes: int | None = None, seed=0, dtype="float64", input_shape: tuple = IMAGE_SHAPE) -> Network:
    """The network of `layers`, weights drawn in layer order from one generator seeded with `seed`
    (so 'conv 5 3x3, sigmoid, dense 100, sigmoid, dense 2, sigmoid' gives the original preset's
    weights for the same seed). A dropout's masks come from (seed, its position, the step)."""
    rows = check(layers, input_shape, classes)
    rng = as_generator(seed)
    network = []
    for row in rows:
        spec, shape = row.spec, row.input_shape
        if spec.kind == "conv":
            network.append(Convolutional(shape, spec.kernel, spec.size, spec.bias, spec.init, rng=rng, dtype=dtype,
                                         stride=spec.stride, padding=spec.padding))
        elif spec.kind in ("maxpool", "avgpool"):
            network.append((MaxPool2D if spec.kind == "maxpool" else AvgPool2D)(shape, spec.size, dtype=dtype))
        elif spec.kind == "globalavgpool":
            network.append(GlobalAvgPool(shape, dtype=dtype))
        elif spec.kind == "batchnorm":
            network.append(BatchNorm(shape, dtype=dtype))
        elif spec.kind == "dropout":
            network.append(Dropout(spec.rate, seed if isinstance(seed, int) else 0, len(network), dtype=dtype))
        elif spec.kind == "dense":
            if len(shape) != 1:   # the implied flatten, channels first as our layers keep images
                network.append(Reshape(shape, (math.prod(shape),), dtype=dtype))
            network.append(Dense(math.prod(shape), spec.size, init=spec.init, rng=rng, dtype=dtype))
        else:
            network.append(ACTIVATIONS[spec.kind](dtype=dtype))
    return Network(network)


NAMES = {"Convolutional": "conv", "MaxPool2D": "maxpool", "AvgPool2D": "avgpool", "GlobalAvgPool": "globalavgpool",
         "Dropout": "dropout", "BatchNorm": "batchnorm", "Dense": "dense", "Reshape": "flatten",
         **{cls.__name__: name for name, cls in ACTIVATIONS.items()}}
# what each layer's "args" may hold (the layers' config()); conv's "bias": bias_mode's old name
ARGS = {"conv": ("input_shape", "kernel_size", "depth", "bias_mode", "init", "stride", "padding", "bias"),
        "maxpool": ("input_shape", "pool_size"), "avgpool": ("input_shape", "pool_size"),
        "globalavgpool": ("input_shape",), "batchnorm": ("input_shape",), "dropout": ("p",),
        "dense": ("input_size", "output_size", "init"),
        "flatten": ("input_shape", "output_shape")}
SHAPED = ("conv", "maxpool", "avgpool", "globalavgpool", "batchnorm", "flatten")   # args declare their input_shape


def from_json(architecture, input_shape: tuple = IMAGE_SHAPE, classes: int | None = None) -> list[LayerSpec]:
    """The layers of an architecture in the weights header's format ([{"type", "args"}, ...], as
    Network.architecture() writes it), every declared shape checked against the shape that reaches it."""
    if not isinstance(architecture, list) or not architecture:
        raise ArchitectureError("the architecture must be a non-empty list of layers")
    layers, names, shape, after = [], [], tuple(input_shape), "the input"
    for index, entry in enumerate(architecture, 1):
        kind = NAMES.get(entry.get("type")) if isinstance(entry, dict) else None
        args = entry.get("args", {}) if isinstance(entry, dict) else None
        if kind is None or not isinstance(args, dict):
            raise ArchitectureError(f"layer {index}: not a known layer: {str(entry)[:80]}")
        name = f"layer {index} {kind}"

        def fail(reason, name=name):   # "layer 8 dense expects …", "layer 8 dense: the last layer …"
            return ArchitectureError(f"{name}{' ' if reason.startswith('expects') else ': '}{reason}")
        _refuse_unknown_keys(kind, entry, args, fail)
        if kind in SHAPED:
            declared = _shape_arg(args.get("input_shape"), fail)
            if declared != shape:
                raise fail(f"expects {shape_text(declared)} but gets {shape_text(shape)} after {after}")
        if kind == "flatten":
            if _shape_arg(args.get("output_shape"), fail) != (math.prod(shape),):
                raise fail(f"only a flatten to a {math.prod(shape)}-vector can be written, not a reshape "
                           f"to {args.get('output_shape')}")
            following = architecture[index] if index < len(architecture) else None
            if not (isinstance(following, dict) and following.get("type") == "Dense"):
                raise fail("a flatten is only implied before a dense; nothing else can follow it")
            shape, after = (math.prod(shape),), kind
            continue
        if kind == "dense" and not (isinstance(args.get("input_size"), int) and args["input_size"] > 0):
            raise fail(f"input_size must be a positive whole number, not {str(args.get('input_size'))[:40]}")
        if kind == "dense" and args.get("input_size") != math.prod(shape):
            raise fail(f"expects a {args.get('input_size')}-vector but gets {shape_text(shape)} after {after}")
        spec = _spec_from_args(kind, args, fail)
        output, _, problem = layer_shape(spec, shape, after)
        if problem is not None:
            raise fail(problem)
        layers.append(spec)
        names.append(name)
        shape, after = output, kind
    check(layers, input_shape, classes, names)
    return layers


def _refuse_unknown_keys(kind: str, entry: dict, args: dict, fail) -> None:
    """A key this program does not read would be dropped without a word: it is named instead."""
    for key in entry:
        if key not in ("type", "args"):
            raise fail(f"unknown key {str(key)[:40]!r}; a layer holds only type and args")
    for key in args:
        if kind in ARGS and key not in ARGS[kind]:   # an activation's arguments: "takes no arguments"
            raise fail(f"unknown argument {str(key)[:40]!r} in args; {kind} takes {', '.join(ARGS[kind])}")


def _shape_arg(value, fail) -> tuple:
    if not (isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                                                      for v in value)):
        raise fail(f"the shape must be a list of positive whole numbers, not {str(value)[:60]}")
    return tuple(value)


def _spec_from_args(kind: str, args: dict, fail) -> LayerSpec:
    def number(key, name):
        value = args.get(key)
        if not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= LIMITS[name]):
            raise fail(f"{key} must be a whole number from 1 to {LIMITS[name]:,}, not {str(value)[:40]}")
        return value

    def choice(key, default):
        value = args.get(key, default)
        if value not in CHOICES["bias" if key == "bias_mode" else key]:
            raise fail(f"{key} must be one of {CHOICES['bias' if key == 'bias_mode' else key]}, not {value!r}")
        return value
    if kind == "conv":
        bias = choice("bias_mode", "position") if "bias_mode" in args else choice("bias", "position")
        stride = number("stride", "stride") if "stride" in args else 1
        return LayerSpec("conv", number("depth", "depth"), number("kernel_size", "kernel size"), bias,
                         choice("init", "normal"), stride, _padding_arg(args.get("padding", "valid"), fail))
    if kind in ("maxpool", "avgpool"):
        return LayerSpec(kind, number("pool_size", "size"))
    if kind == "dropout":
        p = args.get("p")
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            raise fail(f"p must be a number from 0 to below 1, not {str(p)[:40]}")
        return LayerSpec(kind, rate=float(p))
    if kind in ("globalavgpool", "batchnorm"):
        return LayerSpec(kind)
    if kind == "dense":
        return LayerSpec("dense", number("output_size", "size"), init=choice("init", "normal"))
    if args:
        raise fail(f"takes no arguments, not {sorted(args)}")
    return LayerSpec(kind)


def _padding_arg(value, fail):
    if value in PADDINGS:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= LIMITS["pad"]:
        return "valid" if value == 0 else value
    raise fail(f"padding must be 'valid', 'same' or a whole number from 0 to {LIMITS['pad']}, not {str(value)[:40]}")


def describe(network: Network) -> str | None:
    """The compact string of a network, or None when its layers cannot be written in the grammar."""
    try:
        return text(from_json(network.architecture(), network.input_shape))
    except ArchitectureError:
        return None


def read_spec(spec: str, classes: int | None = None) -> str:
    """`--arch SPEC`: a JSON file (the weights header's architecture list, or any JSON object with an
    "architecture" list: a run.json, a header) or a compact string; returns the canonical string."""
    if spec.strip().lower().endswith(".json") or _is_file(spec):
        return text(_read_json_file(spec, classes))
    return canonical(spec, classes)


def _is_file(spec: str) -> bool:
    try:   # a spec of many layers is no file name: a part longer than 255 bytes is ENAMETOOLONG
        return len(spec) < 4096 and Path(spec).is_file()
    except (OSError, ValueError):
        return False


def _read_json_file(path: str, classes: int | None) -> list[LayerSpec]:
    value = jsonfile.read(path, ArchitectureError, MAX_SPEC_FILE_BYTES)
    if isinstance(value, dict):
        value = value.get("architecture")
    try:
        return from_json(value, classes=classes)
    except ArchitectureError as error:
        raise ArchitectureError(f"{path}: {error}") from None

