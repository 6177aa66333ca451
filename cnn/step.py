"""One training step, the textbook way: forward, loss, backward, gradient norms, the optimizer's
update. cnn/fast/step.py takes the same step with the speed tricks; tests hold the two equal."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .losses import Loss
from .network import Network
from .optim import Optimizer


class NonFinite(ArithmeticError):
    """A step found a non-finite loss, gradient or new weight; it changed nothing. The message says which."""


class StepResult(NamedTuple):
    loss: float
    grad_norms: dict[str, float]   # parameter name ('0.kernels') → ‖∂E/∂θ‖₂


def check_loss(value: float) -> None:
    if not math.isfinite(value):
        raise NonFinite(f"the loss is {value}")


def check_norms(norms: dict[str, float]) -> None:
    bad = [name for name, norm in norms.items() if not math.isfinite(norm)]
    if bad:
        raise NonFinite(f"the gradient of {', '.join(bad)} is not finite")


class PlainStep:
    """step(x, y): one update of the network on the batch (x, y), or NonFinite and no change at all."""

    def __init__(self, network: Network, loss: Loss, optimizer: Optimizer):
        self.network, self.loss, self.optimizer = network, loss, optimizer

    def __call__(self, x: np.ndarray, y: np.ndarray) -> StepResult:
        network, loss = self.network, self.loss
        # Overflow inside a diverging step is expected; the explicit checks find it.
        with np.errstate(over="ignore", invalid="ignore"):
            output = network.forward(x)
            value = loss.value(y, output)
            check_loss(value)
            network.backward(loss.prime(y, output))
            norms = {name: float(np.linalg.norm(grad)) for name, grad in network.grads.items()}
        check_norms(norms)
        weights = {name: p.copy() for name, p in network.params.items()}
        state = self.optimizer.state_dict()   # copies: velocity, or Adam's moments and step count
        with np.errstate(over="ignore", invalid="ignore"):
            self.optimizer.step(network)
        if not all(np.isfinite(p).all() for p in network.params.values()):
            network.set_params(weights)
            self.optimizer.load_state_dict(state)
            raise NonFinite("the update would make a weight non-finite")
        return StepResult(value, norms)
