"""Network → ONNX model (cnn-export MODEL.onnx): the `onnx` package only, no TensorFlow.

The graph keeps the engine's layout (N, C, H, W), so every parameter goes across as it is:

    Convolutional   Conv (kernels (D, C, k, k); bias_mode kernel: its B input (D,)), strides, pads
                    (pad=same: auto_pad SAME_UPPER)
                    bias_mode position: Conv without B, then Add of the (D, H', W') biases
    MaxPool2D       MaxPool, kernel and strides the pool size;  AvgPool2D  AveragePool, the same
    GlobalAvgPool   GlobalAveragePool, then Flatten ((N, C, 1, 1) → (N, C), as ours)
    BatchNorm       BatchNormalization (γ, β, running mean and variance; ε = 1e−5, momentum 0.9 in ONNX's
                    sense: running ← 0.9 running + 0.1 batch, ours)
    Dropout         Dropout with its ratio and no training_mode: the identity in inference
    Reshape         Flatten (to a vector) or Reshape [-1, …]
    Dense           Gemm(X, W, b) with transB = 1: W stays (out, in)
    activations     Sigmoid, Tanh, Relu, Softmax (axis −1)

One writer per layer kind (WRITERS); a new kind is one entry. The input is named "image", the
output "logits" when the last layer is a Dense (a logits output), else "output"; the batch size is
free ("N"). The model is checked (onnx.checker, full) before it is written, atomically.
"""
from __future__ import annotations

from ..activations import ReLU, Sigmoid, Softmax, Tanh
from ..batchnorm import EPS, MOMENTUM, BatchNorm
from ..convolution import Convolutional
from ..dense import Dense
from ..dropout import Dropout
from ..network import Network
from ..pooling import AvgPool2D, GlobalAvgPool, MaxPool2D
from ..reshape import Reshape
from . import BridgeError

OPSET = 17          # opset 17 (IR version 8): read by onnxruntime ≥ 1.13, Netron and torch's importers
IR_VERSION = 8
INPUT = "image"
INSTALL_HINT = 'ONNX export and import need the onnx package: pip install "cnn-studio[onnx]" (or pip install onnx)'


def onnx_module():
    """The onnx package; BridgeUnavailable with the install hint when it is missing."""
    from . import BridgeUnavailable
    try:
        import onnx
    except ImportError:
        raise BridgeUnavailable(INSTALL_HINT) from None
    return onnx


class Graph:
    """The nodes and initializers written so far, every name prefixed by its layer's index."""

    def __init__(self, onnx, dtype):
        self.onnx, self.dtype, self.nodes, self.initializers = onnx, dtype, [], []

    def constant(self, name: str, array) -> str:
        import numpy as np
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attributes) -> str:
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [output], name=output, **attributes))
        return output


def _conv(layer: Convolutional, graph: Graph, x: str, out: str, index: int) -> str:
    k, s = layer.kernel_size, layer.stride
    (top, bottom), (left, right) = layer.pads
    inputs = [x, graph.constant(f"{index}.kernels", layer.params["kernels"])]
    attributes = dict(kernel_shape=[k, k], strides=[s, s], dilations=[1, 1], group=1)
    if layer.padding == "same":      # ONNX's SAME_UPPER: the odd zero after, as ours (and read back as 'same')
        attributes["auto_pad"] = "SAME_UPPER"
    else:
        attributes["pads"] = [top, left, bottom, right]
    if layer.bias_mode == "kernel":
        return graph.node("Conv", [*inputs, graph.constant(f"{index}.biases", layer.params["biases"])], out,
                          **attributes)
    convolved = graph.node("Conv", inputs, f"{index}.convolved", **attributes)
    return graph.node("Add", [convolved, graph.constant(f"{index}.biases", layer.params["biases"])], out)


def _pool(op: str):
    def write(layer, graph: Graph, x: str, out: str, index: int) -> str:
        p = layer.pool_size
        return graph.node(op, [x], out, kernel_shape=[p, p], strides=[p, p], pads=[0, 0, 0, 0])
    return write


def _global_avgpool(layer: GlobalAvgPool, graph: Graph, x: str, out: str, index: int) -> str:
    return graph.node("Flatten", [graph.node("GlobalAveragePool", [x], f"{index}.pooled")], out, axis=1)


def _batchnorm(layer: BatchNorm, graph: Graph, x: str, out: str, index: int) -> str:
    inputs = [x, *(graph.constant(f"{index}.{name}", values) for name, values in (
        ("gamma", layer.params["gamma"]), ("beta", layer.params["beta"]),
        ("running_mean", layer.buffers["running_mean"]), ("running_var", layer.buffers["running_var"])))]
    return graph.node("BatchNormalization", inputs, out, epsilon=EPS, momentum=1 - MOMENTUM)


def _dropout(layer: Dropout, graph: Graph, x: str, out: str, index: int) -> str:
    import numpy as np
    ratio = graph.onnx.numpy_helper.from_array(np.array(layer.p, dtype=layer.dtype), f"{index}.ratio")   # a scalar
    graph.initializers.append(ratio)
    return graph.node("Dropout", [x, ratio.name], out)


def _reshape(layer: Reshape, graph: Graph, x: str, out: str, index: int) -> str:
    if len(layer.out_shape) == 1:
        return graph.node("Flatten", [x], out, axis=1)
    import numpy as np
    shape = graph.constant(f"{index}.shape", np.array([-1, *layer.out_shape], dtype=np.int64))
    return graph.node("Reshape", [x, shape], out)


def _dense(layer: Dense, graph: Graph, x: str, out: str, index: int) -> str:
    weights = graph.constant(f"{index}.weights", layer.params["weights"])
    return graph.node("Gemm", [x, weights, graph.constant(f"{index}.bias", layer.params["bias"])], out, transB=1)


def _activation(op: str, **attributes):
    return lambda layer, graph, x, out, index: graph.node(op, [x], out, **attributes)


WRITERS = {   # layer kind → writer(layer, graph, input name, output name, layer index) → output name
    Convolutional: _conv,
    MaxPool2D: _pool("MaxPool"),
    AvgPool2D: _pool("AveragePool"),
    GlobalAvgPool: _global_avgpool,
    BatchNorm: _batchnorm,
    Dropout: _dropout,
    Reshape: _reshape,
    Dense: _dense,
    Sigmoid: _activation("Sigmoid"),
    Tanh: _activation("Tanh"),
    ReLU: _activation("Relu"),
    Softmax: _activation("Softmax", axis=-1),
}


def to_onnx(network: Network):
    """The ONNX ModelProto computing what `network` computes, checked by onnx.checker."""
    onnx = onnx_module()
    helper, types = onnx.helper, onnx.helper.np_dtype_to_tensor_dtype
    graph = Graph(onnx, network.dtype)
    x, last = INPUT, len(network.layers) - 1
    output = "logits" if isinstance(network.layers[-1], Dense) else "output"
    for index, layer in enumerate(network.layers):
        writer = WRITERS.get(type(layer))
        if writer is None:
            raise BridgeError(f"layer {index} ({type(layer).__name__}) has no ONNX equivalent")
        x = writer(layer, graph, x, output if index == last else f"{index}.{type(layer).__name__.lower()}", index)
    element = types(network.dtype)
    inputs = [helper.make_tensor_value_info(INPUT, element, ["N", *network.input_shape])]
    outputs = [helper.make_tensor_value_info(output, element, ["N", *network.output_shape])]
    body = helper.make_graph(graph.nodes, "cnn_studio", inputs, outputs, graph.initializers)
    model = helper.make_model(body, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION,
                              producer_name="cnn-studio", doc_string=f"{network!r}"[:2000])
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
        raise BridgeError(f"the ONNX model made is not valid: {str(error).strip().splitlines()[0][:200]}") from None
    return model


def save_onnx(network: Network, path) -> None:
    """to_onnx(network) written to `path` (ending in .onnx), atomically."""
    from pathlib import Path

    from ..atomic import write_atomically
    path = Path(path)
    if path.suffix.lower() != ".onnx":
        raise BridgeError(f"{path}: an ONNX model file must end in .onnx")
    data = to_onnx(network).SerializeToString()
    write_atomically(path, lambda file: file.write(data))
