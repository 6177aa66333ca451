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
values. Every node of another operator is named in the one refusal.

A hostile file costs no more than its size: it is refused past MAX_FILE_BYTES before it is read,
each constant's declared size is checked against the bytes that hold it before numpy sees it, and
external data is read only from a regular file beside the model, named without any folder, within
its size (cnn.bridge.onnx_file). The readers, by group of operators: cnn.bridge.onnx_convolutions
(the windows over an image) and cnn.bridge.onnx_layers (the others, and the reading state).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..activations import ReLU, Sigmoid, Tanh
from ..arch import IMAGE_SHAPE
from ..network import Network
from . import BridgeError, onnx_convolutions, onnx_layers
from .onnx_file import check_bounds, graph_input, parse_model, tensor_values
from .onnx_layers import State, where
from .onnx_out import onnx_module

OPSETS = (7, 24)                                   # the default domain's versions read
READERS = {   # ONNX operator → reader(state, node): adds the layer (or changes the one before)
    "Conv": onnx_convolutions.conv,
    "Add": onnx_convolutions.add,
    "MaxPool": onnx_convolutions.pool,
    "AveragePool": onnx_convolutions.pool,
    "GlobalAveragePool": onnx_convolutions.global_avgpool,
    "ReduceMean": onnx_convolutions.reduce_mean,
    "BatchNormalization": onnx_layers.batchnorm,
    "Dropout": onnx_layers.dropout,
    "Flatten": onnx_layers.flatten,
    "Reshape": onnx_layers.reshape,
    "Gemm": onnx_layers.gemm,
    "MatMul": onnx_layers.matmul,
    "Sigmoid": onnx_layers.activation(Sigmoid),
    "Tanh": onnx_layers.activation(Tanh),
    "Relu": onnx_layers.activation(ReLU),
    "Softmax": onnx_layers.softmax,
    "Identity": lambda state, node: None,
}


def load_onnx_network(path) -> Network:
    """The network of an .onnx file, or BridgeError naming the file and every problem in one line."""
    path = Path(path)
    try:
        return from_onnx(parse_model(path), path.parent)
    except BridgeError as error:
        raise BridgeError(f"{path}: {error}") from None


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
    check_bounds(onnx, graph)
    constants = {tensor.name: tensor_values(onnx, tensor, folder) for tensor in graph.initializer}
    name, dtype = graph_input(onnx, graph, constants)
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


def _constant_node(onnx, node, folder: Path) -> np.ndarray:
    value = [a for a in node.attribute if a.name == "value"]
    if not value or value[0].type != onnx.AttributeProto.TENSOR:
        raise BridgeError(f"{where(node)}: only a Constant holding a tensor ('value') is read")
    return tensor_values(onnx, value[0].t, folder)
