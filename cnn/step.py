"""One training step, the textbook way: forward, loss, backward, gradient norms, the optimizer's
update. cnn/fast/step.py takes the same step with the speed tricks; tests hold the two equal.

A batch whose pass would hold more than cnn.memory.TRAINING_BYTES goes in chunks that fit (in_chunks),
its gradients summed over them: the same update, within rounding, in bounded memory."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .losses import Loss
from .memory import training_samples
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


def in_chunks(network: Network, x: np.ndarray, y: np.ndarray, size: int, one_pass) -> float:
    """The batch's loss and, in every layer's grads, its gradients, from chunks of `size` samples:
    one_pass(x, y, share) runs a chunk forward and backward with the loss's derivative times share
    (its part of the batch: the derivative then carries 1/N of the whole batch) and returns the chunk's
    loss. The gradients are summed over the chunks as the halves' are (cnn/fast/shards.py)."""
    value, sums = 0.0, {}
    for start in range(0, len(x), size):
        share = len(x[start:start + size]) / len(x)
        value += one_pass(x[start:start + size], y[start:start + size], share) * share
        for index, layer in enumerate(network.layers):
            for name, grad in layer.grads.items():
                total = sums.get((index, name))
                if total is None:
                    sums[index, name] = grad.copy()   # a copy: a Dense layer's buffer is written again
                else:
                    np.add(total, grad, out=total)
        for each in (network, *network.halves):   # this chunk's ∂E/∂X: not held while the next one runs
            each.input_gradients[:] = [None] * len(each.layers)
    for (index, name), total in sums.items():
        network.layers[index].grads[name] = total
    return value


class PlainStep:
    """step(x, y): one update of the network on the batch (x, y), or NonFinite and no change at all."""

    def __init__(self, network: Network, loss: Loss, optimizer: Optimizer):
        self.network, self.loss, self.optimizer = network, loss, optimizer
        self._chunk = training_samples(network)     # a larger batch goes in chunks of this many (in_chunks)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> StepResult:
        network, size = self.network, self._chunk
        buffers = {name: b.copy() for name, b in network.buffers.items()}   # a step that fails changes nothing
        try:
            with network.mode(training=True, stepping=True):
                return self._step(x, y, size)
        except NonFinite:
            network.set_buffers(buffers)
            raise

    def _step(self, x: np.ndarray, y: np.ndarray, size: int) -> StepResult:
        network = self.network
        # Overflow inside a diverging step is expected; the explicit checks find it.
        with np.errstate(over="ignore", invalid="ignore"):
            whole = len(x) <= size or network.whole_batches
            value = self._pass(x, y) if whole else in_chunks(network, x, y, size, self._pass)
            check_loss(value)
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

    def _pass(self, x: np.ndarray, y: np.ndarray, share: float = 1.0) -> float:
        """Forward and backward on (x, y), the loss's derivative times `share`; the loss."""
        output = self.network.forward(x)
        value = self.loss.value(y, output)
        check_loss(value)
        gradient = self.loss.prime(y, output)
        self.network.backward(gradient if share == 1.0 else gradient * share)
        return value
