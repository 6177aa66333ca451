"""The ONNX importer's reading state and the readers of the nodes that are no window over an image.

State is the network read so far (layers, parameter values, running statistics, the shape per
sample) and the node's constants; where() names a node in a refusal. Readers here, each
reader(state, node): BatchNormalization (inference: its ε goes into the running variance), Dropout
(inference: the engine's Dropout of that ratio), Flatten and Reshape that flatten an image, Gemm and
MatMul, Softmax over a vector, and the activations. The windows (Conv and its bias, pooling):
cnn.bridge.onnx_convolutions; the table of readers: cnn.bridge.onnx_in.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..activations import Softmax
from ..batchnorm import EPS, BatchNorm
from ..dense import Dense
from ..dropout import Dropout
from ..reshape import Reshape
from . import BridgeError


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


def image_shape(state: State, node) -> tuple:
    if len(state.shape) != 3:
        raise BridgeError(f"{where(node)}: needs an image but gets a {state.shape[0]}-vector")
    return state.shape


def batchnorm(state: State, node) -> None:
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


def dropout(state: State, node) -> None:
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


def flatten(state: State, node) -> None:
    axis = attributes(state, node).get("axis", 1)
    if axis != 1:
        raise BridgeError(f"{where(node)}: axis {axis}: only 1 (each sample flattened) is read")
    _flatten_to(state, node, [-1, math.prod(state.shape)])


def reshape(state: State, node) -> None:
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


def gemm(state: State, node) -> None:
    given = attributes(state, node)
    if given.get("transA", 0) or given.get("alpha", 1.0) != 1.0 or given.get("beta", 1.0) != 1.0:
        raise BridgeError(f"{where(node)}: transA, alpha and beta other than 0, 1 and 1 are not read")
    weights = state.constant(node, 1, "weights")
    bias = state.constant(node, 2, "bias") if len(node.input) > 2 and node.input[2] else None
    _dense(state, node, weights.T if given.get("transB", 0) and weights.ndim == 2 else weights, bias)


def matmul(state: State, node) -> None:
    _dense(state, node, state.constant(node, 1, "weights"), None)


def softmax(state: State, node) -> None:
    axis = attributes(state, node).get("axis", -1 if state.opset >= 13 else 1)
    if len(state.shape) != 1 or axis not in (-1, 1):
        raise BridgeError(f"{where(node)}: only a softmax over a vector (axis 1 or −1, after a Gemm) is read")
    state.add(Softmax(dtype=state.dtype))


def activation(kind):
    def read(state: State, node) -> None:
        state.add(kind(dtype=state.dtype))
    return read
