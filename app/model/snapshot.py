"""What the worker sends the views: immutable records holding copies of arrays nobody changes.

A Snapshot holds one sample's pass through every layer (output Y and ∂E/∂Y) and every parameter
tensor with that sample's gradient; the views pick the layer they draw.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import numpy as np

from cnn import fast
from cnn.session import Session
from cnn.trace import read_only_copy

from app.model.model_info import LayerInfo, layer_infos


@dataclass(frozen=True)
class LayerState:
    """One layer for one sample: read-only copies, per-sample shapes (no batch axis)."""
    info: LayerInfo
    output: np.ndarray             # Y, info.output_shape
    output_gradient: np.ndarray    # ∂E/∂Y, info.output_shape
    params: Mapping[str, np.ndarray]   # θ
    grads: Mapping[str, np.ndarray]    # ∂E/∂θ for this sample


@dataclass(frozen=True)
class Snapshot:
    """One sample's forward and backward pass through every layer, with the weights it used."""
    split: str
    index: int
    label: int                     # the sample's digit
    input: np.ndarray              # X, the network's input_shape, (1, 28, 28)
    input_gradient: np.ndarray     # ∂E/∂X at the network's input, same shape
    layers: tuple[LayerState, ...]
    probabilities: np.ndarray      # (K,)
    outputs_are_probabilities: bool  # False: sigmoid outputs, each in [0, 1], not summing to 1
    classes: tuple[int, ...]
    predicted: int                 # digit
    loss: float
    label_picked: bool = True      # False: your image with no true digit picked; label is the prediction

    @property
    def image(self) -> np.ndarray:
        """The input as one (28, 28) picture."""
        return self.input[0]

    def layer_input(self, index: int) -> np.ndarray:
        """X of layer `index`: the previous layer's output, or the network's input."""
        return self.input if index == 0 else self.layers[index - 1].output

    def layer_input_gradient(self, index: int) -> np.ndarray:
        """∂E/∂X of layer `index`: what the layer below receives as its ∂E/∂Y."""
        return self.input_gradient if index == 0 else self.layers[index - 1].output_gradient


class SampleGradients(Mapping):
    """A layer's ∂E/∂θ for one sample, read-only. A Dense layer's ∂E/∂W = ∂E/∂Y · Xᵀ comes as its
    two vectors (cnn.fast.backward) and is written out only when a view reads it: for the original
    network that is 2.7 MB the worker would write and copy at every snapshot."""

    def __init__(self, grads, factors: dict):
        """factors: parameter name ('weights') → (∂E/∂Y, X) for the gradients held that way."""
        self._names, self._arrays, self._factors = tuple(grads), {}, {}
        for name in self._names:
            if name in factors:
                self._factors[name] = tuple(read_only_copy(f) for f in factors[name])
            else:
                self._arrays[name] = read_only_copy(grads[name])

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._arrays and name in self._factors:  # (on the GUI thread: only it reads)
            u, v = self._factors[name]
            product = np.multiply(u[:, None], v[None, :])
            product.flags.writeable = False
            self._arrays[name] = product
        return self._arrays[name]

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def take_snapshot(session: Session, split: str, index: int, layers: tuple[LayerInfo, ...] | None = None) -> Snapshot:
    """index is clamped to the split's size (a request may predate a smaller data set). `layers`
    (from layer_infos) saves rebuilding the descriptions at every snapshot.

    Runs one forward and backward pass, which overwrites the layers' grads: take it between two
    training steps, never between a step's backward and its update."""
    data = session.dataset.train if split == "train" else session.dataset.test
    index = min(max(index, 0), len(data.x) - 1)
    network, loss = session.network, session.loss
    layers = layers or layer_infos(session)
    x, y = data.x[index:index + 1], data.y[index:index + 1]
    output = network.forward(x)
    loss_gradient = loss.prime(y, output)
    factors = fast.backward(network, loss_gradient)
    states = []
    for i, layer in enumerate(network.layers):
        above = network.input_gradients[i + 1] if i + 1 < len(network.layers) else loss_gradient
        states.append(LayerState(
            layers[i], read_only_copy(network.outputs[i][0]), read_only_copy(above[0]),
            MappingProxyType({name: read_only_copy(value) for name, value in layer.params.items()}),
            SampleGradients(layer.grads, {name.split(".", 1)[1]: f for name, f in factors.items()
                                          if name.startswith(f"{i}.")})))
    return Snapshot(
        split=split, index=index, label=int(data.labels[index]), input=read_only_copy(x[0]),
        input_gradient=read_only_copy(network.input_gradients[0][0]), layers=tuple(states),
        probabilities=read_only_copy(session.probabilities(output)[0]),
        outputs_are_probabilities=loss.on_logits or loss.name == "categorical_cross_entropy",
        classes=session.dataset.classes, predicted=int(session.dataset.classes[int(np.argmax(output[0]))]),
        loss=loss.value(y, output))


@dataclass(frozen=True)
class Weights:
    """A copy of the network's weights for the step-through, and what it needs to rebuild it."""
    architecture: tuple            # Network.architecture(), one dict per layer
    dtype: str
    params: dict                   # name → read-only copy
    optimizer_state: dict          # the optimizer's state_dict(): rate, momentum and velocities or Adam's moments
    #                                (read-only copies; cnn.optim.from_state rebuilds it)
    version: int                   # the worker's count of weight changes: an update applies to this version only
    buffers: dict = field(default_factory=dict)   # name → read-only copy: running statistics, dropout's generator

    @property
    def learning_rate(self) -> float:
        """η of the next step (the schedule's current rate)."""
        return self.optimizer_state["current_learning_rate"]

    @property
    def momentum(self) -> float:
        """SGD's μ; Adam has none (0)."""
        return self.optimizer_state.get("momentum", 0.0)


def weights_of(session: Session, version: int) -> Weights:
    network = session.network
    params = {name: read_only_copy(value) for name, value in network.params.items()}
    state = session.optimizer.state_dict()
    for key in session.optimizer.ARRAYS:
        state[key] = {name: read_only_copy(v) for name, v in state[key].items()}
    buffers = {name: read_only_copy(value) for name, value in network.buffers.items()}
    return Weights(tuple(network.architecture()), network.dtype.name, params, state, version, buffers)


@dataclass(frozen=True)
class StepRequest:
    """The step-through's Apply: one engine step on the sample (x, y) from `params` (its weights,
    edits included)."""
    params: dict                   # name → value
    x: np.ndarray                  # (1, *input_shape)
    y: np.ndarray                  # (1, K) one-hot
