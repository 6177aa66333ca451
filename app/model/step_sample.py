"""The step-through's arithmetic without Qt: the network, loss and optimizer rebuilt from the copy of
the studio's weights it was sent (app/model/snapshot.py's Weights), and the chosen sample as the
(x, y) one step is traced on. The step-through window shows what these compute."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn.losses import Loss
from cnn.network import Network
from cnn.optim import Optimizer, from_state
from cnn.session import loss_for


@dataclass(frozen=True)
class StepSample:
    title: str              # 'test image #49', or your picture's name
    label: int              # the true digit, or the predicted one when none was picked
    x: np.ndarray           # (1, 1, 28, 28) in the network's dtype
    y: np.ndarray           # (1, K) one-hot
    label_picked: bool      # False: your image with no true digit picked (E is against the prediction)


@dataclass(frozen=True)
class Rebuilt:
    network: Network
    loss: Loss
    optimizer: Optimizer    # the session's: rate, momentum, velocities or moments


def rebuild(weights) -> Rebuilt:
    """The network the weights describe, with its loss and the session's optimizer state."""
    network = Network.from_architecture(list(weights.architecture), weights.dtype)
    network.set_params(weights.params)
    network.set_buffers(weights.buffers)   # batch normalization's running statistics: evaluation mode uses them
    return Rebuilt(network, loss_for(network), from_state(weights.optimizer_state))


def step_sample(network: Network, model, sample) -> StepSample:
    """`sample`: (split, index) of the model's images (ModelInfo), or an ImageSample (your own image).
    The true digit of your own image is the one picked, else the network's prediction."""
    classes = model.classes
    if isinstance(sample, tuple):
        split, index = sample
        images, labels = model.images[split], model.labels[split]
        index = min(max(index, 0), len(images) - 1)
        title, image, label = f"{split} image #{index}", images[index], int(labels[index])
    else:
        title, image, label = sample.title, sample.image, sample.label
    x = np.asarray(image, dtype=network.dtype)[None, None]
    picked = label in classes
    if not picked:
        label = classes[int(np.argmax(network.forward(x)[0]))]
    y = np.zeros((1, len(classes)), dtype=network.dtype)
    y[0, classes.index(label)] = 1
    return StepSample(title, label, x, y, picked)


def edited(network: Network, weights) -> bool:
    """Whether the network's parameters differ from the weights it was rebuilt from."""
    return any(not np.array_equal(value, weights.params[name]) for name, value in network.params.items())
