"""Shapes through a list of LayerSpecs: each layer's input and output, parameter count and
problem, as the architecture editor shows them, and the check that --arch and RunConfig make."""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..convolution import output_size
from .grammar import IMAGE_SHAPE, ArchitectureError, LayerSpec, parse, text

MAX_PARAMETERS = 50_000_000         # as many as a weights file may declare (cnn.weights_file)


@dataclass(frozen=True)
class Row:
    """A layer with the shapes around it."""
    spec: LayerSpec
    input_shape: tuple | None       # None: unknown, an earlier layer is invalid
    output_shape: tuple | None      # None: unknown (no input shape, or the layer cannot take it)
    parameters: int
    problem: str | None             # why this layer cannot be built here, or None


def shape_text(shape: tuple) -> str:
    """'a 3380-vector' or '16×5×5'."""
    return f"a {shape[0]}-vector" if len(shape) == 1 else "×".join(map(str, shape))


def plan(layers, input_shape: tuple = IMAGE_SHAPE, classes: int | None = None) -> list[Row]:
    """Every layer with its input and output shape, parameter count and problem (if any), in order.
    After a layer with a problem the shapes are unknown and not checked."""
    rows, shape, after, total = [], tuple(input_shape), "the input", 0
    for position, spec in enumerate(layers):
        output, parameters, problem = None, 0, None
        if shape is not None:
            output, parameters, problem = layer_shape(spec, shape, after)
            total += parameters
            if problem is None and total > MAX_PARAMETERS:
                problem = f"the network would have {total:,} parameters, more than the {MAX_PARAMETERS:,} allowed"
            if problem is None and position == len(layers) - 1 and classes is not None:
                problem = _ends_with(spec, output, classes)
        rows.append(Row(spec, shape, output, parameters, problem))   # a wrong end still has its shape
        shape = output if problem is None else None
        after = spec.kind
    return rows


def layer_shape(spec: LayerSpec, shape: tuple, after: str) -> tuple[tuple | None, int, str | None]:
    """(output shape, parameters, problem) of one layer given its input shape."""
    where = "" if after == "the input" else f" after {after}"
    if spec.kind in ("conv", "maxpool", "avgpool", "globalavgpool"):
        if len(shape) != 3:
            return None, 0, f"{spec.kind} needs an image (channels×height×width) but gets {shape_text(shape)} " \
                            f"after {after}"
        channels, height, width = shape
        if spec.kind == "globalavgpool":
            return (channels,), 0, None
        if spec.kind == "conv":
            return _conv_shape(spec, shape, where)
        if spec.size > min(height, width):
            return None, 0, f"a {spec.size}×{spec.size} window does not fit the {shape_text(shape)} input{where}"
        return (channels, height // spec.size, width // spec.size), 0, None
    if spec.kind == "batchnorm":
        if len(shape) not in (1, 3):
            return None, 0, f"batchnorm needs an image or a vector but gets {shape_text(shape)} after {after}"
        return shape, 2 * shape[0], None
    if spec.kind == "dense":
        inputs = math.prod(shape)
        return (spec.size,), (inputs + 1) * spec.size, None
    if spec.kind == "softmax" and len(shape) != 1:
        return None, 0, f"softmax needs a vector but gets {shape_text(shape)} after {after}; put it after a dense"
    return shape, 0, None


def _conv_shape(spec: LayerSpec, shape: tuple, where: str) -> tuple[tuple | None, int, str | None]:
    channels, height, width = shape
    k, s, padding = spec.kernel, spec.stride, spec.padding
    if isinstance(padding, int) and padding >= k:
        return None, 0, f"pad={padding} must be less than the kernel size {k} (more adds outputs that see only zeros)"
    if s > min(height, width):
        return None, 0, f"stride {s} is larger than the {shape_text(shape)} input{where}"
    out = (spec.size, output_size(height, k, s, padding), output_size(width, k, s, padding))
    if min(out[1:]) < 1:
        padded = "" if padding == "valid" else f" padded by {padding}"
        return None, 0, f"a {k}×{k} kernel does not fit the {shape_text(shape)} input{padded}{where}"
    biases = spec.size * out[1] * out[2] if spec.bias == "position" else spec.size
    return out, spec.size * channels * k * k + biases, None


def _ends_with(spec: LayerSpec, output: tuple, classes: int) -> str | None:
    if len(output) != 1:
        return f"the network ends with {shape_text(output)}; end with a dense {classes} (one output per class)"
    if output[0] != classes:
        return f"the last layer gives {output[0]} outputs, but {classes} classes are chosen"
    return None


def check(layers, input_shape: tuple = IMAGE_SHAPE, classes: int | None = None, names=None) -> list[Row]:
    """plan(), raising ArchitectureError for the first layer with a problem. `names`: how each layer
    is named in the message (default: "token i 'text'")."""
    if not layers:
        raise ArchitectureError("the architecture has no layers")
    rows = plan(layers, input_shape, classes)
    for index, row in enumerate(rows):
        if row.problem is not None:
            name = names[index] if names else f"token {index + 1} '{row.spec}'"
            raise ArchitectureError(f"{name}: {row.problem}")
    return rows


def canonical(spec: str, classes: int | None = None) -> str:
    """The compact string, checked (shapes, and the last layer against `classes` when given) and
    written the one canonical way."""
    layers = parse(spec)
    check(layers, classes=classes)
    return text(layers)


