"""One sample's full forward and backward pass, frozen: what the studio steps through."""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np

from .losses import Loss
from .network import Network
from .optim import SGD


def read_only_copy(array) -> np.ndarray:
    """A copy nobody can change (the trace, the step-through and the worker's weight copies hand these out)."""
    copy = np.array(array, copy=True)
    copy.flags.writeable = False
    return copy


@dataclass(frozen=True)
class LayerTrace:
    index: int
    kind: str                            # the layer's class name
    input: np.ndarray                    # X, (1, *in_shape)
    output: np.ndarray                   # Y, (1, *out_shape)
    output_gradient: np.ndarray          # ∂E/∂Y, arriving from above
    input_gradient: np.ndarray           # ∂E/∂X, passed down
    params: Mapping[str, np.ndarray]     # the weights used
    grads: Mapping[str, np.ndarray]      # ∂E/∂θ


@dataclass(frozen=True)
class Trace:
    x: np.ndarray
    y_true: np.ndarray
    output: np.ndarray
    loss_name: str
    loss: float                          # E
    loss_gradient: np.ndarray            # ∂E/∂output
    layers: tuple[LayerTrace, ...]
    learning_rate: float
    updates: Mapping[str, np.ndarray]    # '<layer>.<param>' → −lr · ∂E/∂θ (plain SGD)
    new_params: Mapping[str, np.ndarray]  # θ after that step, by the engine's own SGD arithmetic


def trace(network: Network, x: np.ndarray, y_true: np.ndarray, loss: Loss, learning_rate: float = 0.1) -> Trace:
    """Forward and backward for one sample (x: (1, *input_shape)); the weights are not changed."""
    x, y_true = np.asarray(x), np.asarray(y_true, dtype=network.dtype)
    if x.shape[0] != 1:
        raise ValueError(f"trace takes one sample, shape (1, ...), not {x.shape}")
    output = network.forward(x)
    value = loss.value(y_true, output)
    loss_gradient = loss.prime(y_true, output)
    network.backward(loss_gradient)
    layers = []
    for index, layer in enumerate(network.layers):
        above = network.input_gradients[index + 1] if index + 1 < len(network.layers) else loss_gradient
        layers.append(LayerTrace(
            index, type(layer).__name__, read_only_copy(network.inputs[index]), read_only_copy(network.outputs[index]),
            read_only_copy(above), read_only_copy(network.input_gradients[index]),
            MappingProxyType({k: read_only_copy(v) for k, v in layer.params.items()}),
            MappingProxyType({k: read_only_copy(v) for k, v in layer.grads.items()})))
    updates = {f"{layer.index}.{name}": read_only_copy(-learning_rate * grad)
               for layer in layers for name, grad in layer.grads.items()}
    new_params = {name: read_only_copy(value) for name, value in SGD(learning_rate).updated(network).items()}
    return Trace(read_only_copy(network.inputs[0]), read_only_copy(y_true), read_only_copy(output), loss.name, value,
                 read_only_copy(loss_gradient), tuple(layers), learning_rate, MappingProxyType(updates),
                 MappingProxyType(new_params))
