"""What the worker sends the views: immutable records holding copies of arrays nobody changes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn.convolution import Convolutional
from cnn.session import Session
from cnn.trace import read_only_copy


def frozen(array) -> np.ndarray:
    copy = np.array(array, dtype=np.float64 if np.issubdtype(np.asarray(array).dtype, np.floating) else None)
    copy.flags.writeable = False
    return copy


@dataclass(frozen=True)
class ModelInfo:
    """A session's shape, sent when a network is built or loaded."""
    classes: tuple[int, ...]
    config: object                 # the RunConfig the session runs with
    summary: str                   # one line per layer
    parameter_count: int
    loss_name: str
    images: dict                   # split → read-only (N, 28, 28) array
    labels: dict                   # split → read-only (N,) digits
    source: str                    # where the weights came from: 'new (seed 0)' or a file


@dataclass(frozen=True)
class Snapshot:
    """The first convolutional layer's weights and one sample's pass through the network."""
    kernels: np.ndarray            # (D, C, k, k)
    biases: np.ndarray             # (D, Ho, Wo) or (D,)
    split: str
    index: int
    label: int                     # the sample's digit
    image: np.ndarray              # (28, 28)
    pre_activation: np.ndarray     # (D, Ho, Wo): the convolution's output Y
    post_activation: np.ndarray    # (D, Ho, Wo): after the activation that follows
    activation: str
    probabilities: np.ndarray      # (K,)
    outputs_are_probabilities: bool  # False: sigmoid outputs, each in [0, 1], not summing to 1
    classes: tuple[int, ...]
    predicted: int                 # digit
    loss: float
    kernel_gradient: np.ndarray    # ∂E/∂K for this sample (D, C, k, k)
    output_gradient: np.ndarray    # ∂E/∂Y at the convolution's output (D, Ho, Wo)
    input_gradient: np.ndarray     # ∂E/∂X at the input (28, 28)


def first_convolution(session: Session) -> int:
    for index, layer in enumerate(session.network.layers):
        if isinstance(layer, Convolutional):
            return index
    raise ValueError("the network has no convolutional layer to show")


def take_snapshot(session: Session, split: str, index: int) -> Snapshot:
    """index is clamped to the split's size (a request may predate a smaller data set)."""
    data = session.dataset.train if split == "train" else session.dataset.test
    index = min(max(index, 0), len(data.x) - 1)
    network, loss = session.network, session.loss
    x, y = data.x[index:index + 1], data.y[index:index + 1]
    output = network.forward(x)
    network.backward(loss.prime(y, output))
    conv = first_convolution(session)
    layer = network.layers[conv]
    after = conv + 1 if conv + 1 < len(network.layers) else conv
    probabilities = session.probabilities(output)[0]
    return Snapshot(
        kernels=frozen(layer.params["kernels"]), biases=frozen(layer.params["biases"]),
        split=split, index=index, label=int(data.labels[index]), image=frozen(x[0, 0]),
        pre_activation=frozen(network.outputs[conv][0]), post_activation=frozen(network.outputs[after][0]),
        activation=type(network.layers[after]).__name__, probabilities=frozen(probabilities),
        outputs_are_probabilities=loss.on_logits or loss.name == "categorical_cross_entropy",
        classes=session.dataset.classes, predicted=int(session.dataset.classes[int(np.argmax(output[0]))]),
        loss=loss.value(y, output), kernel_gradient=frozen(layer.grads["kernels"]),
        output_gradient=frozen(network.input_gradients[conv + 1][0] if conv + 1 < len(network.layers)
                               else loss.prime(y, output)[0]),
        input_gradient=frozen(network.input_gradients[0][0, 0]))


def model_info(session: Session, source: str) -> ModelInfo:
    network, dataset = session.network, session.dataset
    def shape(s):
        return "×".join(map(str, s))
    summary = "\n".join(f"{i}: {type(layer).__name__} {shape(network.shapes[i])} → {shape(network.shapes[i + 1])}"
                        for i, layer in enumerate(network.layers))
    images = {}
    for split, data in (("train", dataset.train), ("test", dataset.test)):
        images[split] = data.x[:, 0]  # read-only views of the prepared data, which nobody changes
    return ModelInfo(
        classes=dataset.classes, config=session.config, summary=summary,
        parameter_count=sum(p.size for p in network.params.values()),
        loss_name=session.loss.name, images=images, labels={"train": dataset.train.labels, "test": dataset.test.labels}, source=source)


@dataclass(frozen=True)
class Weights:
    """A copy of the network's weights for the step-through, and what it needs to rebuild it."""
    architecture: tuple            # Network.architecture(), one dict per layer
    dtype: str
    params: dict                   # name → read-only copy
    learning_rate: float
    momentum: float
    version: int                   # the worker's count of weight changes: an update applies to this version only


def weights_of(session: Session, version: int) -> Weights:
    network = session.network
    params = {name: read_only_copy(value) for name, value in network.params.items()}
    return Weights(tuple(network.architecture()), network.dtype.name, params,
                   session.optimizer.learning_rate, session.optimizer.momentum, version)
