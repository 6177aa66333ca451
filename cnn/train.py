"""The one training loop: a generator of immutable records, driven by the CLI, the tests
and the studio's worker. Closing the generator stops it between two steps."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from types import MappingProxyType
from typing import Iterator, Mapping

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .data import Dataset, Split
from .dense import outer_factors
from .losses import Loss
from .network import Network
from .optim import SGD


@dataclass(frozen=True)
class StepRecord:
    epoch: int                     # 1-based
    step: int                      # 1-based within the epoch
    steps_per_epoch: int
    global_step: int               # 1-based over the whole run
    batch_size: int
    loss: float
    grad_norms: Mapping[str, float]  # parameter name ('0.kernels') → ‖∂E/∂θ‖₂


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    epochs: int
    train_loss: float              # mean over the epoch's samples
    test_loss: float
    test_accuracy: float           # fraction in [0, 1]
    seconds: float                 # wall time of the epoch's training steps
    test_predictions: np.ndarray   # read-only: index into the classes, per test image


class TrainingDiverged(ArithmeticError):
    """A non-finite loss or gradient; the weights are left at the last finite state."""

    def __init__(self, epoch: int, step: int, global_step: int, what: str):
        self.epoch, self.step, self.global_step = epoch, step, global_step
        super().__init__(f"training diverged at epoch {epoch}, step {step}: {what}; "
                         "the weights are those before that step (try a smaller learning rate)")


@dataclass(frozen=True)
class Evaluation:
    loss: float
    accuracy: float
    predictions: np.ndarray        # index into the dataset's classes, per sample


def evaluate(network: Network, split: Split, loss: Loss) -> Evaluation:
    outputs = network.predict(split.x)
    predictions = outputs.argmax(axis=1)
    accuracy = float(np.mean(predictions == split.y.argmax(axis=1))) if len(split.y) else float("nan")
    return Evaluation(loss.value(split.y, outputs), accuracy, predictions)


def train(network: Network, dataset: Dataset, loss: Loss, optimizer: SGD, epochs: int,
          batch_size: int = 1, *, seed: int = 0, reshuffle: bool = False, shift: int = 0,
          first_epoch: int = 1) -> Iterator[StepRecord | EpochRecord]:
    """Yields a StepRecord after every update and an EpochRecord after every epoch, for epochs
    first_epoch … first_epoch + epochs − 1.

    Epoch e depends only on the weights and optimizer state it starts from and on (seed, e): its
    learning rate is the optimizer's schedule at e, and its random draws (the order of the
    training set when reshuffle is on, otherwise the stored order as in the original; and with
    shift > 0 each image's move by a whole number of pixels in [−shift, shift] down and across,
    zero fill) come from a generator seeded with (seed, e). So a run continued at epoch k from
    epoch k−1's weights and optimizer state repeats the uninterrupted run bit for bit.
    Raises TrainingDiverged before an update that would start from a non-finite loss or gradient
    or make a weight non-finite.
    """
    x, y = dataset.train.x, dataset.train.y
    if not (isinstance(batch_size, int) and 1 <= batch_size <= len(x)):
        raise ValueError(f"batch size must be between 1 and the {len(x)} training images, not {batch_size!r}")
    if not (isinstance(epochs, int) and epochs >= 1):
        raise ValueError(f"epochs must be a positive integer, not {epochs!r}")
    if not (isinstance(first_epoch, int) and first_epoch >= 1):
        raise ValueError(f"first_epoch must be a positive integer, not {first_epoch!r}")
    if not (isinstance(shift, int) and 0 <= shift <= 4):
        raise ValueError(f"shift must be a whole number of pixels from 0 to 4, not {shift!r}")
    steps_per_epoch = math.ceil(len(x) / batch_size)
    guard = _FiniteGuard(network, optimizer)
    global_step = (first_epoch - 1) * steps_per_epoch
    for epoch in range(first_epoch, first_epoch + epochs):
        optimizer.start_epoch(epoch)
        rng = np.random.default_rng([seed, epoch])
        order = rng.permutation(len(x)) if reshuffle else None
        started, loss_sum = time.perf_counter(), 0.0
        for step in range(1, steps_per_epoch + 1):
            global_step += 1
            batch = slice((step - 1) * batch_size, step * batch_size)
            xb, yb = (x[batch], y[batch]) if order is None else (x[order[batch]], y[order[batch]])
            if shift:
                xb = shifted(xb, shift, rng)
            # Overflow inside a diverging step is expected; it is caught below by explicit checks.
            with np.errstate(over="ignore", invalid="ignore"):
                output = network.forward(xb)
                value = loss.value(yb, output)
                if not math.isfinite(value):
                    raise TrainingDiverged(epoch, step, global_step, f"the loss is {value}")
                network.backward(loss.prime(yb, output), input_gradient=False)
                norms = gradient_norms(network)
            bad = [name for name, norm in norms.items() if not math.isfinite(norm)]
            if bad:
                raise TrainingDiverged(epoch, step, global_step, f"the gradient of {', '.join(bad)} is not finite")
            guard.step(norms, lambda: TrainingDiverged(
                epoch, step, global_step, "the update would make a weight non-finite"))
            loss_sum += value * len(xb)
            yield StepRecord(epoch, step, steps_per_epoch, global_step, len(xb), value, MappingProxyType(norms))
        seconds = time.perf_counter() - started
        test = evaluate(network, dataset.test, loss)
        test.predictions.flags.writeable = False
        yield EpochRecord(epoch, first_epoch + epochs - 1, loss_sum / len(x), test.loss, test.accuracy, seconds,
                          test.predictions)


def shifted(images: np.ndarray, shift: int, rng: np.random.Generator) -> np.ndarray:
    """(N, C, H, W) images, each moved by its own random (dy, dx) in [−shift, shift]², zero fill."""
    n, c, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (shift, shift), (shift, shift)))
    windows = sliding_window_view(padded, (h, w), axis=(2, 3))     # (N, C, 2s+1, 2s+1, H, W)
    dy, dx = rng.integers(0, 2 * shift + 1, size=(2, n))
    return windows[np.arange(n), :, dy, dx]


def gradient_norms(network: Network) -> dict[str, float]:
    """‖∂E/∂θ‖₂ for every parameter; a gradient held as an outer product u vᵀ (a Dense layer's,
    after one sample) has norm ‖u‖·‖v‖."""
    norms = {}
    for index, layer in enumerate(network.layers):
        for name in layer.params:
            factors = outer_factors(layer.grads, name)
            norms[f"{index}.{name}"] = _norm(factors[0]) * _norm(factors[1]) if factors is not None \
                else _norm(layer.grads[name])
    return norms


def _norm(array: np.ndarray) -> float:
    """‖array‖₂ with numpy's own loops: BLAS dot (np.linalg.norm) wakes OpenBLAS threads, which
    costs more than the sum itself between two training steps."""
    flat = array.reshape(-1)
    return math.sqrt(float(np.einsum("i,i->", flat, flat)))


class _FiniteGuard:
    """Applies optimizer steps and keeps the weights finite without a pass over them per step.

    Per parameter it tracks upper bounds on max|θ| and on max|v| (the velocity; plain SGD's is
    −η g) by the triangle inequality, from the gradient norms the loop has anyway:
        max|v_t| ≤ μ max|v_t−1| + η ‖g_t‖₂,    max|θ_t| ≤ max|θ_t−1| + max|v_t|.
    Only when a bound nears the dtype's range does it copy the weights and velocities before the
    step and check them after, restoring the copies if any became non-finite; then the bounds
    start again from the actual values.
    """

    def __init__(self, network: Network, optimizer: SGD):
        self.network, self.optimizer = network, optimizer
        self.limit = math.sqrt(float(np.finfo(network.dtype).max))
        self._measure()

    def _measure(self) -> None:
        def largest(array):
            return float(np.max(np.abs(array))) if array is not None and array.size else 0.0
        self.weight_bound = {name: largest(p) for name, p in self.network.params.items()}
        self.velocity_bound = {name: largest(self.optimizer.velocity.get(name)) for name in self.weight_bound}

    def step(self, norms: dict[str, float], error) -> None:
        lr, momentum = self.optimizer.current_learning_rate, self.optimizer.momentum
        for name, norm in norms.items():
            self.velocity_bound[name] = momentum * self.velocity_bound[name] + lr * norm
            self.weight_bound[name] += self.velocity_bound[name]
        if max(self.weight_bound.values(), default=0.0) < self.limit:
            self.optimizer.step(self.network)
            return
        saved_params = {name: p.copy() for name, p in self.network.params.items()}
        saved_velocity = {name: v.copy() for name, v in self.optimizer.velocity.items()}
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow here is what the check below finds
            self.optimizer.step(self.network)
        if not all(np.isfinite(p).all() for p in self.network.params.values()):
            self.network.set_params(saved_params)
            self.optimizer.velocity = saved_velocity
            raise error()
        self._measure()
