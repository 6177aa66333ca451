"""One sample's full forward and backward pass and the optimizer's step, frozen: what the studio steps through."""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType, SimpleNamespace
from typing import Mapping

import numpy as np

from .losses import Loss
from .network import Network
from .optim import SGD, Adam, Optimizer, from_state


def read_only_copy(array, dtype=None) -> np.ndarray:
    """A copy nobody can change (in `dtype` if given): what the trace, the step-through and the
    worker's snapshots hand out."""
    copy = np.array(array, dtype=dtype, copy=True)
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
    learning_rate: float                 # η of this step (the schedule's current rate)
    momentum: float                      # μ (SGD's; 0 for Adam)
    weight_decay: float                  # λ
    updates: Mapping[str, np.ndarray]    # '<layer>.<param>' → the step: −η g, or with momentum μv − η g
    #                                      (g = ∂E/∂θ + λθ), or Adam's −η λ θ − η m̂/(√v̂ + ε)
    new_params: Mapping[str, np.ndarray]  # θ + step: what optimizer.step makes of θ, exactly
    adam: tuple[float, float, float, int] | None = None   # Adam's (β₁, β₂, ε, t of this step); None: SGD
    training: bool = False               # the pass in training mode (dropout's next mask, batch statistics)


def trace(network: Network, x: np.ndarray, y_true: np.ndarray, loss: Loss, optimizer: Optimizer,
          training: bool = False) -> Trace:
    """Forward and backward for one sample (x: (1, *input_shape)) and what `optimizer` would make
    of the weights; neither the weights, the buffers nor the optimizer are changed. With `training`
    the pass is in training mode as the next step's would be (dropout's next mask, the sample's own
    batch statistics), else in evaluation mode."""
    x, y_true = np.asarray(x), np.asarray(y_true, dtype=network.dtype)
    if x.shape[0] != 1:
        raise ValueError(f"trace takes one sample, shape (1, ...), not {x.shape}")
    with network.mode(training=training):
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
    new_params, updates = _step(network, optimizer)
    adam = ((optimizer.beta1, optimizer.beta2, optimizer.eps, optimizer.steps + 1) if isinstance(optimizer, Adam)
            else None)
    return Trace(read_only_copy(network.inputs[0]), read_only_copy(y_true), read_only_copy(output), loss.name, value,
                 read_only_copy(loss_gradient), tuple(layers), optimizer.current_learning_rate,
                 optimizer.momentum if isinstance(optimizer, SGD) else 0.0, optimizer.weight_decay,
                 MappingProxyType(updates), MappingProxyType(new_params), adam, training)


def _step(network: Network, optimizer: Optimizer) -> tuple[dict, dict]:
    """The optimizer's own step, taken by a copy of it on copies of the weights: (θ after, the step)."""
    copy = from_state(optimizer.state_dict())
    params = {name: value.copy() for name, value in network.params.items()}
    grads = network.grads
    if isinstance(copy, Adam):   # Adam.step adds exactly these changes
        updates = copy.changes(params, grads)
        new = {name: params[name] + updates[name] for name in params}
        return ({name: read_only_copy(value) for name, value in new.items()},
                {name: read_only_copy(value) for name, value in updates.items()})
    directions = {name: copy.direction(params[name], grads[name]) for name in params}   # g = ∂E/∂θ + λθ, before
    copy.step(SimpleNamespace(params=params, grads=grads))
    lr = copy.current_learning_rate
    # θ += v (momentum) or θ −= η g (plain): θ + the step below is θ after, exactly
    updates = {name: copy.velocity[name] if copy.momentum else -(lr * directions[name]) for name in params}
    return ({name: read_only_copy(value) for name, value in params.items()},
            {name: read_only_copy(value) for name, value in updates.items()})
