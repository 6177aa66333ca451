"""The ONNX importer's readers of the nodes that slide a window over an image, each reader(state,
node): Conv (square kernel and strides; pads N on every side, or those of 'same'; no dilation, one
group), the Add after it (a (D, H', W') constant: the engine's bias per position, a (D,) one: its
bias per kernel; after a Gemm or MatMul: the Dense's bias), MaxPool and AveragePool (square, strides
= size, no padding), GlobalAveragePool and ReduceMean over (2, 3). The reading state and the other
readers: cnn.bridge.onnx_layers."""
from __future__ import annotations

import numpy as np

from ..convolution import Convolutional, padding_sides
from ..dense import Dense
from ..pooling import AvgPool2D, GlobalAvgPool, MaxPool2D
from . import BridgeError
from .onnx_layers import State, attributes, image_shape, where


def _window(node, given: dict, size_name: str, allowed: set, padded: bool = False) -> int:
    """The square window of a Conv or a pooling; refuses padding (unless `padded`: the Conv reads it),
    dilation and attributes not in `allowed`."""
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise BridgeError(f"{where(node)}: attribute {unknown[0]} is not read")
    size = list(given.get(size_name) or [])
    if len(size) != 2 or size[0] != size[1]:
        raise BridgeError(f"{where(node)}: {size_name} {size}: only square 2-D windows are read")
    unpadded = not any(given.get("pads", [0]) or [0]) and given.get("auto_pad", b"NOTSET") in (b"NOTSET", b"VALID")
    if not padded and not unpadded:
        raise BridgeError(f"{where(node)}: padding {given.get('pads') or given.get('auto_pad')!r}: only none is read")
    if any(d != 1 for d in given.get("dilations", [1, 1])):
        raise BridgeError(f"{where(node)}: dilations {given['dilations']}: only 1 is read")
    return int(size[0])


def conv(state: State, node) -> None:
    given = attributes(state, node)
    weights = state.constant(node, 1, "weights")
    channels, height, width = image_shape(state, node)
    if weights.ndim != 4 or weights.shape[1] != channels:
        raise BridgeError(f"{where(node)}: weights of shape {weights.shape} for a {channels}-channel input")
    given.setdefault("kernel_shape", list(weights.shape[2:]))
    k = _window(node, given, "kernel_shape", {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"},
                padded=True)
    if list(weights.shape[2:]) != [k, k] or given.get("group", 1) != 1:
        raise BridgeError(f"{where(node)}: groups {given.get('group')} or weights {weights.shape}: only one group of "
                          f"{k}×{k} kernels is read")
    strides = list(given.get("strides", [1, 1]))
    if len(strides) != 2 or strides[0] != strides[1] or strides[0] < 1:
        raise BridgeError(f"{where(node)}: strides {strides}: only the same stride down and across is read")
    padding = _conv_padding(node, given, k, strides[0], (height, width))
    if k > min(height, width) and padding == "valid":
        raise BridgeError(f"{where(node)}: a {k}×{k} kernel does not fit the {height}×{width} input")
    biases = state.constant(node, 2, "bias") if len(node.input) > 2 and node.input[2] else None
    depth = weights.shape[0]
    if biases is not None and biases.shape != (depth,):
        raise BridgeError(f"{where(node)}: bias of shape {biases.shape}, not ({depth},)")
    try:
        conv = Convolutional(state.shape, k, depth, "kernel", rng=0, dtype=state.dtype, stride=strides[0],
                             padding=padding)
    except ValueError as error:
        raise BridgeError(f"{where(node)}: {error}") from None
    state.add(conv, kernels=weights, biases=np.zeros(depth) if biases is None else biases)


def _conv_padding(node, given: dict, k: int, stride: int, size: tuple):
    """The engine's padding for a Conv's pads [top, left, bottom, right] or auto_pad: 'valid', N or 'same'."""
    auto = given.get("auto_pad", b"NOTSET")
    height, width = size
    same = [*(padding_sides("same", n, k, stride)[0] for n in size), *(padding_sides("same", n, k, stride)[1]
                                                                         for n in size)]
    if auto == b"SAME_UPPER" or (auto == b"SAME_LOWER" and same[:2] == same[2:]):
        return "same"
    if auto not in (b"NOTSET", b"VALID"):
        raise BridgeError(f"{where(node)}: auto_pad {auto.decode(errors='replace')}: only NOTSET, VALID and SAME_UPPER "
                          "are read")
    pads = list(given.get("pads") or [0, 0, 0, 0]) if auto == b"NOTSET" else [0, 0, 0, 0]
    if len(set(pads)) == 1 and len(pads) == 4 and 0 <= pads[0] < k:
        return "valid" if pads[0] == 0 else int(pads[0])
    if pads == same:
        return "same"
    raise BridgeError(f"{where(node)}: pads {pads}: only N on every side (below the kernel size {k}) or those of "
                      f"'same' ({same}) are read")


def add(state: State, node) -> None:
    """A constant added after a Conv (per position or per kernel) or a Dense (its bias)."""
    value = state.constant(node, 1, "second operand")
    index = len(state.layers) - 1
    conv, _ = state.last(Convolutional)
    dense, _ = state.last(Dense)
    if conv is not None and conv.bias_mode == "kernel":
        depth, height, width = conv.output_shape()
        squeezed = value.reshape(value.shape[1:]) if value.ndim == 4 and value.shape[0] == 1 else value
        kernel = state.values[f"{index}.biases"]
        if squeezed.shape in ((depth, 1, 1), (depth,)):
            state.values[f"{index}.biases"] = kernel + squeezed.reshape(depth)
            return
        if squeezed.shape == (depth, height, width):
            position = Convolutional(conv.input_shape, conv.kernel_size, depth, "position", rng=0, dtype=state.dtype,
                                     stride=conv.stride, padding=conv.padding)
            state.layers[index] = position
            state.values[f"{index}.biases"] = np.asarray(kernel[:, None, None] + squeezed, dtype=state.dtype)
            return
    elif dense is not None and value.reshape(-1).shape == (dense.output_size,) and value.ndim <= 2:
        state.values[f"{index}.bias"] = state.values[f"{index}.bias"] + value.reshape(-1)
        return
    raise BridgeError(f"{where(node)}: adds a constant of shape {value.shape}; only a bias after a Conv "
                      "((D,), (D, H', W')) or after a Gemm or MatMul ((out,)) is read")


def pool(state: State, node) -> None:
    given = attributes(state, node)
    channels, height, width = image_shape(state, node)
    p = _window(node, given, "kernel_shape", {"kernel_shape", "strides", "pads", "dilations", "auto_pad",
                                              "ceil_mode", "storage_order", "count_include_pad"})
    if list(given.get("strides", [1, 1])) != [p, p] or given.get("ceil_mode", 0) or len(node.output) > 1:
        raise BridgeError(f"{where(node)}: strides {given.get('strides', [1, 1])} with kernel {p}: only strides equal "
                          "to the window, ceil_mode 0 and one output are read")
    if p > min(height, width):
        raise BridgeError(f"{where(node)}: a {p}×{p} window does not fit the {height}×{width} input")
    state.add((AvgPool2D if node.op_type == "AveragePool" else MaxPool2D)(state.shape, p, dtype=state.dtype))


def global_avgpool(state: State, node) -> None:
    image_shape(state, node)
    state.add(GlobalAvgPool(state.shape, dtype=state.dtype))


def reduce_mean(state: State, node) -> None:
    """The mean over an image's height and width (torch's x.mean((2, 3)), AdaptiveAvgPool2d(1) via
    torch.export): the global average pooling. The axes are an attribute before opset 18, an input from it."""
    given = attributes(state, node)
    axes = given.get("axes")
    if len(node.input) > 1 and node.input[1]:
        axes = state.constant(node, 1, "axes").reshape(-1).tolist()
    image_shape(state, node)
    if sorted(a % 4 for a in (axes or [])) != [2, 3] or given.get("noop_with_empty_axes", 0):
        raise BridgeError(f"{where(node)}: axes {axes}: only the mean over height and width (2, 3) is read")
    state.add(GlobalAvgPool(state.shape, dtype=state.dtype))
