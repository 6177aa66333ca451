"""ONNX model → Network (cnn-import MODEL.onnx): what to_onnx writes, and what torch.onnx.export
writes for the same networks (either exporter; weights inside the file or in a data file beside it).

Read: one chain of nodes from one (N, 1, 28, 28) float32 or float64 input to one output, each node
fed by the one before and otherwise by constants, of these operators (READERS, one entry each):
Conv (square kernel and strides; pads N on every side, or those of 'same' (auto_pad SAME_UPPER);
no dilation, one group; an Add of a (D, H', W') constant after it is the engine's bias per
position, of a (D,) one its bias per kernel), MaxPool and AveragePool (square, strides = size, no
padding), GlobalAveragePool and ReduceMean over (2, 3), BatchNormalization (inference: its ε goes
into the running variance, the engine's ε being 1e−5), Dropout (inference; read as the engine's
Dropout of that ratio, the identity in evaluation), Flatten and Reshape that flatten an image,
Gemm and MatMul (+ Add), Sigmoid, Tanh, Relu, Softmax over a vector, Identity; Constant nodes give
values. Every node of
another operator is named in the one refusal.

A hostile file costs no more than its size: it is refused past MAX_FILE_BYTES before it is read,
each constant's declared size is checked against the bytes that hold it before numpy sees it, and
external data is read only from a regular file beside the model, named without any folder, within
its size.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..activations import ReLU, Sigmoid, Softmax, Tanh
from ..arch import IMAGE_SHAPE
from ..arch.shapes import MAX_PARAMETERS
from ..batchnorm import EPS, BatchNorm
from ..convolution import Convolutional, padding_sides
from ..dense import Dense
from ..dropout import Dropout
from ..files import open_regular
from ..network import Network
from ..pooling import AvgPool2D, GlobalAvgPool, MaxPool2D
from ..reshape import Reshape
from . import BridgeError
from .onnx_out import onnx_module

MAX_FILE_BYTES = 8 * MAX_PARAMETERS + (16 << 20)   # float64 weights at the engine's parameter limit, and the graph
MAX_VALUES = MAX_PARAMETERS                        # values one constant may declare
OPSETS = (7, 24)                                   # the default domain's versions read
MAX_NODES = 1000                                   # the engine's networks have a few dozen layers


@dataclass
class State:
    """The network read so far: its layers, parameter values, the current shape (per sample)."""
    onnx: object
    dtype: str
    shape: tuple
    opset: int
    constants: dict
    layers: list = field(default_factory=list)
    values: dict = field(default_factory=dict)
    buffers: dict = field(default_factory=dict)    # running statistics

    def add(self, layer, **params) -> None:
        index = len(self.layers)
        self.layers.append(layer)
        self.values.update({f"{index}.{name}": np.asarray(value, dtype=self.dtype) for name, value in params.items()})
        self.shape = tuple(layer.output_shape(self.shape))

    def constant(self, node, position: int, what: str) -> np.ndarray:
        names = list(node.input)
        if position >= len(names) or not names[position]:
            raise BridgeError(f"{where(node)}: has no {what}")
        if names[position] not in self.constants:
            raise BridgeError(f"{where(node)}: its {what} '{names[position][:60]}' is not a constant; "
                              "the importer reads one chain of layers with constant weights")
        return self.constants[names[position]]

    def last(self, kind):
        """The previous layer if it is a `kind`, and its index; (None, None) otherwise."""
        if self.layers and isinstance(self.layers[-1], kind):
            return self.layers[-1], len(self.layers) - 1
        return None, None


def where(node) -> str:
    return f"node '{node.name[:60]}' ({node.op_type})" if node.name else f"a {node.op_type} node"


def attributes(state: State, node) -> dict:
    return {a.name: state.onnx.helper.get_attribute_value(a) for a in node.attribute}


def _image(state: State, node) -> tuple:
    if len(state.shape) != 3:
        raise BridgeError(f"{where(node)}: needs an image but gets a {state.shape[0]}-vector")
    return state.shape


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


def _conv(state: State, node) -> None:
    given = attributes(state, node)
    weights = state.constant(node, 1, "weights")
    channels, height, width = _image(state, node)
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


def _add(state: State, node) -> None:
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


def _pool(state: State, node) -> None:
    given = attributes(state, node)
    channels, height, width = _image(state, node)
    p = _window(node, given, "kernel_shape", {"kernel_shape", "strides", "pads", "dilations", "auto_pad",
                                              "ceil_mode", "storage_order", "count_include_pad"})
    if list(given.get("strides", [1, 1])) != [p, p] or given.get("ceil_mode", 0) or len(node.output) > 1:
        raise BridgeError(f"{where(node)}: strides {given.get('strides', [1, 1])} with kernel {p}: only strides equal "
                          "to the window, ceil_mode 0 and one output are read")
    if p > min(height, width):
        raise BridgeError(f"{where(node)}: a {p}×{p} window does not fit the {height}×{width} input")
    state.add((AvgPool2D if node.op_type == "AveragePool" else MaxPool2D)(state.shape, p, dtype=state.dtype))


def _global_avgpool(state: State, node) -> None:
    _image(state, node)
    state.add(GlobalAvgPool(state.shape, dtype=state.dtype))


def _reduce_mean(state: State, node) -> None:
    """The mean over an image's height and width (torch's x.mean((2, 3)), AdaptiveAvgPool2d(1) via
    torch.export): the global average pooling. The axes are an attribute before opset 18, an input from it."""
    given = attributes(state, node)
    axes = given.get("axes")
    if len(node.input) > 1 and node.input[1]:
        axes = state.constant(node, 1, "axes").reshape(-1).tolist()
    _image(state, node)
    if sorted(a % 4 for a in (axes or [])) != [2, 3] or given.get("noop_with_empty_axes", 0):
        raise BridgeError(f"{where(node)}: axes {axes}: only the mean over height and width (2, 3) is read")
    state.add(GlobalAvgPool(state.shape, dtype=state.dtype))


def _batchnorm(state: State, node) -> None:
    """Inference batch normalization over the channels (after a Conv) or the units (after a Gemm)."""
    given = attributes(state, node)
    if given.get("training_mode", 0) or len([name for name in node.output if name]) > 1:
        raise BridgeError(f"{where(node)}: training_mode: only inference batch normalization (one output) is read")
    unknown = sorted(set(given) - {"epsilon", "momentum", "training_mode", "spatial"})
    if unknown or given.get("spatial", 1) != 1:
        raise BridgeError(f"{where(node)}: attribute {(unknown or ['spatial 0'])[0]} is not read")
    channels = state.shape[0]
    named = ("scale", "bias", "mean", "variance")
    gamma, beta, mean, variance = (state.constant(node, position, what) for position, what in enumerate(named, 1))
    if any(value.shape != (channels,) for value in (gamma, beta, mean, variance)):
        raise BridgeError(f"{where(node)}: scale, bias, mean and variance must be ({channels},)")
    epsilon = float(given.get("epsilon", 1e-5))
    if np.float32(epsilon) != np.float32(EPS):     # an attribute is a float32: 1e-5 is the engine's ε
        variance = variance.astype(np.float64) + epsilon - EPS
    if np.any(variance <= 0) or not np.all(np.isfinite(variance)):
        raise BridgeError(f"{where(node)}: epsilon {epsilon:g} with a variance of {float(np.min(variance)):.3g}: the "
                          "engine's ε is 1e-05")
    index = len(state.layers)
    state.add(BatchNorm(state.shape, dtype=state.dtype), gamma=gamma, beta=beta)
    state.buffers.update({f"{index}.running_mean": np.asarray(mean, dtype=state.dtype),
                          f"{index}.running_var": np.asarray(variance, dtype=state.dtype)})


def _dropout(state: State, node) -> None:
    """Dropout in an inference graph: the identity; read as the engine's Dropout of the same ratio."""
    given = attributes(state, node)
    ratio = given.get("ratio", 0.5)
    if len(node.input) > 1 and node.input[1]:
        ratio = state.constant(node, 1, "ratio")
    if len(node.input) > 2 and node.input[2] and bool(np.any(state.constant(node, 2, "training_mode"))):
        raise BridgeError(f"{where(node)}: training_mode true: only the inference graph's dropout is read")
    ratio = np.asarray(ratio).reshape(-1)
    ratio = float(str(ratio[0])) if ratio.size == 1 else -1.0    # a float32 0.3 is read as 0.3, its shortest decimal
    if not 0.0 <= ratio < 1.0:
        raise BridgeError(f"{where(node)}: a ratio of {ratio}: only one ratio from 0 to below 1 is read")
    state.add(Dropout(ratio, 0, len(state.layers), dtype=state.dtype))


def _flatten_to(state: State, node, target: list) -> None:
    """Reshape or Flatten to (batch, everything): a flatten of an image; to the same shape: nothing."""
    values = math.prod(state.shape)
    if len(target) == 2 and target[0] in (-1, 0, 1) and target[1] in (values, -1):
        if len(state.shape) == 3:
            state.add(Reshape(state.shape, (values,), dtype=state.dtype))
        return
    if len(target) == len(state.shape) + 1 and target[0] in (-1, 0, 1) and tuple(target[1:]) == state.shape:
        return
    raise BridgeError(f"{where(node)}: to {target} from (N, {', '.join(map(str, state.shape))}): only a flatten "
                      "to (N, values) is read")


def _flatten(state: State, node) -> None:
    axis = attributes(state, node).get("axis", 1)
    if axis != 1:
        raise BridgeError(f"{where(node)}: axis {axis}: only 1 (each sample flattened) is read")
    _flatten_to(state, node, [-1, math.prod(state.shape)])


def _reshape(state: State, node) -> None:
    if attributes(state, node).get("allowzero", 0) and 0 in state.constant(node, 1, "shape").tolist()[1:]:
        raise BridgeError(f"{where(node)}: allowzero with a 0 in the shape is not read")
    _flatten_to(state, node, state.constant(node, 1, "shape").astype(np.int64).tolist())


def _dense(state: State, node, weights: np.ndarray, bias) -> None:
    """Y = X W + b with W (in, out)."""
    if len(state.shape) != 1:
        raise BridgeError(f"{where(node)}: gets a {'×'.join(map(str, state.shape))} image: flatten it first")
    if weights.ndim != 2 or weights.shape[0] != state.shape[0]:
        raise BridgeError(f"{where(node)}: weights of shape {weights.shape} for a {state.shape[0]}-vector")
    units = weights.shape[1]
    if bias is not None and bias.reshape(-1).shape != (units,):
        raise BridgeError(f"{where(node)}: bias of shape {bias.shape}, not ({units},)")
    bias = np.zeros(units) if bias is None else bias.reshape(-1)
    state.add(Dense(state.shape[0], units, rng=0, dtype=state.dtype), weights=weights.T, bias=bias)


def _gemm(state: State, node) -> None:
    given = attributes(state, node)
    if given.get("transA", 0) or given.get("alpha", 1.0) != 1.0 or given.get("beta", 1.0) != 1.0:
        raise BridgeError(f"{where(node)}: transA, alpha and beta other than 0, 1 and 1 are not read")
    weights = state.constant(node, 1, "weights")
    bias = state.constant(node, 2, "bias") if len(node.input) > 2 and node.input[2] else None
    _dense(state, node, weights.T if given.get("transB", 0) and weights.ndim == 2 else weights, bias)


def _matmul(state: State, node) -> None:
    _dense(state, node, state.constant(node, 1, "weights"), None)


def _softmax(state: State, node) -> None:
    axis = attributes(state, node).get("axis", -1 if state.opset >= 13 else 1)
    if len(state.shape) != 1 or axis not in (-1, 1):
        raise BridgeError(f"{where(node)}: only a softmax over a vector (axis 1 or −1, after a Gemm) is read")
    state.add(Softmax(dtype=state.dtype))


def _activation(kind):
    def read(state: State, node) -> None:
        state.add(kind(dtype=state.dtype))
    return read


READERS = {   # ONNX operator → reader(state, node): adds the layer (or changes the one before)
    "Conv": _conv,
    "Add": _add,
    "MaxPool": _pool,
    "AveragePool": _pool,
    "GlobalAveragePool": _global_avgpool,
    "ReduceMean": _reduce_mean,
    "BatchNormalization": _batchnorm,
    "Dropout": _dropout,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Sigmoid": _activation(Sigmoid),
    "Tanh": _activation(Tanh),
    "Relu": _activation(ReLU),
    "Softmax": _softmax,
    "Identity": lambda state, node: None,
}


def load_onnx_network(path) -> Network:
    """The network of an .onnx file, or BridgeError naming the file and every problem in one line."""
    path = Path(path)
    try:
        return from_onnx(_parse(path), path.parent)
    except BridgeError as error:
        raise BridgeError(f"{path}: {error}") from None


def _parse(path: Path):
    """The ModelProto in `path`, read only when the file is a regular file of at most MAX_FILE_BYTES."""
    onnx = onnx_module()
    with open_regular(path, BridgeError) as file:
        size = os.fstat(file.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise BridgeError(f"is {size:,} bytes, more than the {MAX_FILE_BYTES:,} an ONNX model of the engine's "
                              f"at most {MAX_PARAMETERS:,} parameters can need; refused unread")
        data = file.read(MAX_FILE_BYTES + 1)
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as error:   # protobuf's DecodeError, and RuntimeError from its C++ parser
        raise BridgeError(f"not an ONNX model ({type(error).__name__}: {str(error)[:120] or 'unreadable'})") from None
    if model.ir_version < 3 or not model.HasField("graph") or not model.graph.node:
        raise BridgeError("not an ONNX model (no graph of nodes, or no IR version)")
    return model


def from_onnx(model, folder: Path) -> Network:
    """The network `model` describes; external data is read from `folder`."""
    onnx = onnx_module()
    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    if opset is None or not OPSETS[0] <= opset <= OPSETS[1]:
        raise BridgeError(f"opset {opset}: the importer reads ONNX opsets {OPSETS[0]} to {OPSETS[1]}")
    unsupported = [where(node) for node in graph.node
                   if node.domain not in ("", "ai.onnx") or node.op_type not in (*READERS, "Constant")]
    if unsupported:
        raise BridgeError(f"{len(unsupported)} node{'s' if len(unsupported) > 1 else ''} the importer does not read: "
                          f"{', '.join(unsupported)}; it reads {', '.join(READERS)} and Constant")
    _bounded(onnx, graph)
    constants = {tensor.name: _array(onnx, tensor, folder) for tensor in graph.initializer}
    name, dtype = _input(onnx, graph, constants)
    state = State(onnx, dtype, IMAGE_SHAPE, opset, constants)
    for node in graph.node:
        if node.op_type == "Constant":
            state.constants[node.output[0]] = _constant_node(onnx, node, folder)
            continue
        if not node.input or node.input[0] != name or len(node.output) < 1:
            raise BridgeError(f"{where(node)}: not fed by the node before it; the importer reads one chain of layers")
        READERS[node.op_type](state, node)
        name = node.output[0]
    if len(graph.output) != 1 or graph.output[0].name != name:
        raise BridgeError("the model's output is not its last node's; the importer reads one chain of layers")
    if not state.layers:
        raise BridgeError("the model has no layers the engine computes")
    network = Network(state.layers)
    network.set_params(state.values)
    network.set_buffers({**network.buffers, **state.buffers})
    return network


def _bounded(onnx, graph) -> None:
    """Refuse a graph of more nodes than MAX_NODES, or constants declaring more values in all than
    MAX_VALUES, before any is read (an external data file can be named by many constants)."""
    if len(graph.node) > MAX_NODES:
        raise BridgeError(f"the graph has {len(graph.node):,} nodes, more than the {MAX_NODES:,} the importer reads")
    tensors = [*graph.initializer, *(a.t for node in graph.node if node.op_type == "Constant" for a in node.attribute
                                     if a.type == onnx.AttributeProto.TENSOR)]
    total = 0
    for tensor in tensors:
        values = math.prod(max(d, 0) for d in tensor.dims)
        if values > MAX_VALUES:
            raise BridgeError(f"constant '{tensor.name[:60]}' declares {list(tensor.dims)[:8]}: more than the "
                              f"{MAX_VALUES:,} values a constant may hold")
        total += values
        if total > MAX_VALUES:
            raise BridgeError(f"the constants declare more than the {MAX_VALUES:,} values in all that the engine's "
                              "networks can hold; refused unread")


def _input(onnx, graph, constants) -> tuple[str, str]:
    """The one input's name and dtype; it must be (N, 1, 28, 28) float32 or float64."""
    inputs = [i for i in graph.input if i.name not in constants]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise BridgeError(f"the model has {len(inputs)} inputs and {len(graph.output)} outputs; the importer reads "
                          "one chain from one input to one output")
    tensor = inputs[0].type.tensor_type
    kinds = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.DOUBLE: "float64"}
    if tensor.elem_type not in kinds:
        raise BridgeError(f"the input is {onnx.TensorProto.DataType.Name(tensor.elem_type)}; the engine computes "
                          "in float32 or float64")
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
    if len(dims) != 4 or tuple(dims[1:]) != IMAGE_SHAPE:
        shown = "×".join("N" if d is None else str(d) for d in dims)
        raise BridgeError(f"the input is {shown or 'of no declared shape'}: the importer reads "
                          f"N×{'×'.join(map(str, IMAGE_SHAPE))} images (batch, channels, height, width)")
    dtype = kinds[tensor.elem_type]
    floats = {a.dtype.name for a in constants.values() if a.dtype.kind == "f"}
    if floats - {dtype}:
        raise BridgeError(f"the weights are {', '.join(sorted(floats))} and the input {dtype}; the engine computes "
                          "in one of float32 and float64")
    return inputs[0].name, dtype


def _constant_node(onnx, node, folder: Path) -> np.ndarray:
    value = [a for a in node.attribute if a.name == "value"]
    if not value or value[0].type != onnx.AttributeProto.TENSOR:
        raise BridgeError(f"{where(node)}: only a Constant holding a tensor ('value') is read")
    return _array(onnx, value[0].t, folder)


def _array(onnx, tensor, folder: Path) -> np.ndarray:
    """A TensorProto's values, its declared size checked against the bytes that hold it first."""
    named = f"constant '{tensor.name[:60]}'"
    kinds = {onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.DOUBLE: np.float64, onnx.TensorProto.INT64: np.int64,
             onnx.TensorProto.BOOL: np.bool_}       # a bool: a Dropout's training_mode
    if tensor.data_type not in kinds:
        raise BridgeError(f"{named} is {onnx.TensorProto.DataType.Name(tensor.data_type)}; the importer reads "
                          "float32, float64, int64 and bool constants")
    dims = list(tensor.dims)
    if any(d < 0 for d in dims) or math.prod(dims) > MAX_VALUES:
        raise BridgeError(f"{named} declares {dims[:8]}: more than the {MAX_VALUES:,} values a constant may hold")
    kind = np.dtype(kinds[tensor.data_type])
    count = math.prod(dims)
    if tensor.data_location == onnx.TensorProto.EXTERNAL:
        data = _external(tensor, folder, count * kind.itemsize, named)
    elif tensor.HasField("raw_data"):
        data = tensor.raw_data
    else:
        typed = {np.float32: tensor.float_data, np.float64: tensor.double_data, np.int64: tensor.int64_data,
                 np.bool_: tensor.int32_data}
        values = typed[kinds[tensor.data_type]]
        if len(values) != count:
            raise BridgeError(f"{named} declares {count:,} values but holds {len(values):,}")
        return np.array(values, dtype=kind).reshape(dims)
    if len(data) != count * kind.itemsize:
        raise BridgeError(f"{named} declares {count:,} values but holds {len(data):,} bytes")
    return np.frombuffer(data, dtype=kind.newbyteorder("<")).astype(kind).reshape(dims)


def _external(tensor, folder: Path, size: int, named: str) -> bytes:
    """`size` bytes of a data file beside the model (named without any folder), at the offset given."""
    fields = {entry.key: entry.value for entry in tensor.external_data}
    location = fields.get("location", "")
    if not location or location != os.path.basename(location) or location in (".", "..") or "\\" in location:
        raise BridgeError(f"{named}: its data file {location[:80]!r} is not a file name beside the model; "
                          "external data is read only from the model's own folder")
    try:
        offset, length = int(fields.get("offset", 0)), int(fields.get("length", size))
    except ValueError:
        raise BridgeError(f"{named}: its data's offset or length is not a whole number") from None
    if offset < 0 or length != size:
        raise BridgeError(f"{named}: its data is {length:,} bytes at offset {offset:,}; its shape needs {size:,}")
    data_path = folder / location
    with open_regular(data_path, lambda problem: BridgeError(f"{named}: its data file {location}: {problem}")) as file:
        if offset + size > os.fstat(file.fileno()).st_size:
            raise BridgeError(f"{named}: its data file {location} ends before byte {offset + size:,}")
        file.seek(offset)
        return file.read(size)
