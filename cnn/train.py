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
from .evaluation import evaluate
from .fast import FastStep
from .losses import Loss
from . import memory
from .network import Network
from .optim import SGD
from .ranges import check_batch_size, check_range
from .step import NonFinite, PlainStep


@dataclass(frozen=True)
class StepRecord:
    epoch: int                     # 1-based
    step: int                      # 1-based within the epoch
    steps_per_epoch: int
    global_step: int               # 1-based over the whole run
    batch_size: int
    loss: float
    grad_norms: Mapping[str, float]  # parameter name ('0.kernels') → ‖∂E/∂θ‖₂

    @property
    def position(self) -> float:
        """Where the step falls on an axis of epochs: epoch e's last step at e."""
        return self.epoch - 1 + self.step / self.steps_per_epoch


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    epochs: int
    train_loss: float              # mean over the epoch's samples
    test_loss: float
    test_accuracy: float           # fraction in [0, 1]
    seconds: float                 # wall time of the epoch's training steps
    test_predictions: np.ndarray   # read-only: index into the classes, per test image
    test_outputs: np.ndarray | None = None   # read-only (N, K): the network's outputs for the test set


@dataclass
class EpochProgress:
    """How far the epoch in progress has come. train() starts from it (step > 0: that epoch goes on
    after its first `step` steps) and keeps it up to date after every step, so that whoever stops the
    loop between two steps knows what a checkpoint taken there needs to go on exactly."""
    step: int = 0           # steps of the epoch taken (0: it has not begun)
    loss_sum: float = 0.0   # Σ loss × batch size over those steps: the epoch's mean train loss needs it
    seconds: float = 0.0    # the training time they took
    settled: bool = True    # False while a step is being taken: the weights may be half-updated

    def check(self, steps_per_epoch: int) -> None:
        if not (isinstance(self.step, int) and 0 <= self.step <= steps_per_epoch):
            raise ValueError(f"the step within the epoch must be from 0 to its {steps_per_epoch} steps, "
                             f"not {self.step!r}")


class TrainingDiverged(ArithmeticError):
    """A non-finite loss or gradient; the weights are left at the last finite state."""

    def __init__(self, epoch: int, step: int, global_step: int, what: str):
        self.epoch, self.step, self.global_step = epoch, step, global_step
        super().__init__(f"training diverged at epoch {epoch}, step {step}: {what}; "
                         "the weights are those before that step (try a smaller learning rate)")


def train(network: Network, dataset: Dataset, loss: Loss, optimizer: SGD, epochs: int,
          batch_size: int = 1, *, seed: int = 0, reshuffle: bool = False, shift: int = 0,
          first_epoch: int = 1, fast: bool = True,
          progress: EpochProgress | None = None) -> Iterator[StepRecord | EpochRecord]:
    """Yields a StepRecord after every update and an EpochRecord after every epoch, for epochs
    first_epoch … first_epoch + epochs − 1. With `progress` at step s > 0, first_epoch goes on after
    its first s steps: their batches are drawn again (the same draws) but not trained on. `progress`
    is updated before every record is yielded (back to step 0 at an epoch's end).

    Epoch e depends only on the weights and optimizer state it starts from and on (seed, e): its
    learning rate is the optimizer's schedule at e, and its random draws (batches()) come from a
    generator seeded with (seed, e). So a run continued at epoch k from epoch k−1's weights and
    optimizer state repeats the uninterrupted run bit for bit. Raises TrainingDiverged before an
    update that would start from a non-finite loss or gradient or make a weight non-finite. So too
    a run continued inside an epoch from the weights, optimizer state and progress at its step s.
    Steps are taken by cnn.fast's FastStep, or with fast=False by the textbook PlainStep.
    """
    x = dataset.train.x
    check_batch_size(batch_size, len(x))   # the run settings' rules: cnn.ranges
    check_one_pass(network, batch_size)
    check_range("epochs", epochs)
    check_range("shift", shift)
    if not (isinstance(first_epoch, int) and first_epoch >= 1):
        raise ValueError(f"first_epoch must be a positive integer, not {first_epoch!r}")
    step = (FastStep if fast else PlainStep)(network, loss, optimizer)
    steps_per_epoch = math.ceil(len(x) / batch_size)
    progress = progress if progress is not None else EpochProgress()
    progress.check(steps_per_epoch)
    global_step = (first_epoch - 1) * steps_per_epoch
    for epoch in range(first_epoch, first_epoch + epochs):
        optimizer.start_epoch(epoch)
        started, loss_sum, skip = time.perf_counter() - progress.seconds, progress.loss_sum, progress.step
        rng = np.random.default_rng([seed, epoch])
        for number, (xb, yb) in enumerate(batches(dataset.train, batch_size, rng, reshuffle, shift), start=1):
            global_step += 1
            if number <= skip:   # taken before the run was stopped: drawn, so that the rng goes on as it did
                continue
            progress.settled = False
            try:
                result = step(xb, yb)
            except NonFinite as problem:
                progress.settled = True   # the step changed nothing
                raise TrainingDiverged(epoch, number, global_step, str(problem)) from None
            loss_sum += result.loss * len(xb)
            progress.step, progress.loss_sum, progress.seconds = number, loss_sum, time.perf_counter() - started
            progress.settled = True
            yield StepRecord(epoch, number, steps_per_epoch, global_step, len(xb), result.loss,
                             MappingProxyType(result.grad_norms))
        seconds = time.perf_counter() - started
        test = evaluate(network, dataset.test, loss)
        test.predictions.flags.writeable = False
        test.outputs.flags.writeable = False
        progress.step, progress.loss_sum, progress.seconds = 0, 0.0, 0.0
        yield EpochRecord(epoch, first_epoch + epochs - 1, loss_sum / len(x), test.loss, test.accuracy, seconds,
                          test.predictions, test.outputs)


def check_one_pass(network: Network, batch_size: int) -> None:
    """A network whose batch goes in one pass (batch normalization, dropout: Network.whole_batches) cannot
    take a batch in chunks to stay under cnn.memory.TRAINING_BYTES: a larger batch is refused up front."""
    most = memory.training_samples(network)
    if network.whole_batches and batch_size > most:
        raise ValueError(f"a batch of {batch_size} is more than this network can take in one pass ({most} samples "
                         f"fit in {memory.size_text(memory.TRAINING_BYTES)}; batch normalization and dropout take a "
                         "batch whole); choose a smaller batch size")


def batches(split: Split, batch_size: int, rng: np.random.Generator, reshuffle: bool = False,
            shift: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """An epoch's (x, y) batches: in the stored order (the original) or, with reshuffle, in an order
    drawn from rng; with shift > 0 each image moved by its own whole number of pixels in
    [−shift, shift] down and across (zero fill), drawn from rng as the batches are taken."""
    x, y = split.x, split.y
    order = rng.permutation(len(x)) if reshuffle else None
    for start in range(0, len(x), batch_size):
        batch = slice(start, start + batch_size)
        xb, yb = (x[batch], y[batch]) if order is None else (x[order[batch]], y[order[batch]])
        yield (shifted(xb, shift, rng) if shift else xb), yb


def shifted(images: np.ndarray, shift: int, rng: np.random.Generator) -> np.ndarray:
    """(N, C, H, W) images, each moved by its own random (dy, dx) in [−shift, shift]², zero fill."""
    n, c, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (shift, shift), (shift, shift)))
    windows = sliding_window_view(padded, (h, w), axis=(2, 3))     # (N, C, 2s+1, 2s+1, H, W)
    dy, dx = rng.integers(0, 2 * shift + 1, size=(2, n))
    return windows[np.arange(n), :, dy, dx]
