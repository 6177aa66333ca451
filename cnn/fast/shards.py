"""A batch's forward and backward pass in two halves at once, one on a second thread.

numpy releases the GIL inside its loops and BLAS calls (and the compiled loops of kernels.py run
without it), so two halves of a batch run on two cores at the same time. Each half goes through its
own shallow copy of the layers: the copies share the parameters (the same `params` dict) and keep
their own activations and gradients. Each half takes its forward pass, its loss and its backward
pass in one hand-over to the second thread: the batch's mean loss is the halves' means weighted by
their sizes, so each half's ∂E/∂output is its own times its share (exact for an even batch: a
halving is exact in binary). Each parameter's gradient is the first half's plus the second's, a sum
in another order than one pass's, so equal to it within rounding (tests/test_fast.py). The split does not depend on
the machine: two halves on one core give the same numbers, one after the other.

When another program keeps a core busy, the two threads wait for each other at every step and one
after the other on this thread is faster; `Chooser` times both ways (TRIES times each at first) and
takes the faster, trying the other way every PROBE_EVERY steps to notice when the core is free again.
Either way the numbers are the same.
"""
from __future__ import annotations

import copy
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..network import Network
from . import kernels

MIN_HALF = 16        # smaller halves: the thread hand-over costs more than the second core gives
SPLIT_AT = 1 << 16   # a parameter of this many values or more is summed and updated by both threads (in_parts)
PROBE_EVERY = 50     # steps between two tries of the way not taken
TRIES = 3            # steps each way is tried at first
_pool: ThreadPoolExecutor | None = None


def worth_splitting(batch: int) -> bool:
    return batch >= 2 * MIN_HALF


def second_thread() -> ThreadPoolExecutor | None:
    """One worker thread for every step of the process, made when first needed; None on one core."""
    global _pool
    if _pool is None and (os.cpu_count() or 1) > 1:
        _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cnn-half")
    return _pool


def replica(network: Network) -> Network:
    """A network whose layers share `network`'s parameters but keep their own state and gradients."""
    twin = copy.copy(network)
    twin.layers = [copy.copy(layer) for layer in network.layers]
    for layer in twin.layers:
        layer.grads = {}
    twin.inputs, twin.outputs, twin.input_gradients = ([None] * len(network.layers) for _ in range(3))
    twin.halves = ()
    return twin


class Chooser:
    """Two threads or one for the next step: the way whose steps took less time lately (a moving
    average). At first each way is tried TRIES times, alternately, and its fastest try is its time (one
    try can land on a moment another program took the core); then every PROBE_EVERY-th step goes the
    other way, whose time replaces its old average (a lucky try is corrected by the steps after it)."""

    def __init__(self):
        self.seconds: dict[bool, float | None] = {True: None, False: None}   # two threads? → step time
        self.steps = 0
        self._probe = False

    def next(self) -> bool:
        self.steps += 1
        if self.steps <= 2 * TRIES:
            return self.steps % 2 == 1
        best = self.seconds[True] <= self.seconds[False]
        self._probe = self.steps % PROBE_EVERY == 0
        return not best if self._probe else best

    def took(self, two_threads: bool, seconds: float) -> None:
        before = self.seconds[two_threads]
        if self.steps <= 2 * TRIES:
            self.seconds[two_threads] = seconds if before is None else min(before, seconds)
        else:
            self.seconds[two_threads] = seconds if self._probe else 0.8 * before + 0.2 * seconds


class Halves:
    """A training pass of `network` on a batch (forward, loss, backward: `passes`), split in two halves
    run at once (or one after the other, when that is faster: Chooser)."""

    def __init__(self, network: Network, forward, backward):
        self.network, self._forward, self._backward = network, forward, backward
        self.twin = replica(network)
        self._buffers: tuple[dict, dict] = ({}, {})
        self.chooser = Chooser()
        self._two_threads = True

    def passes(self, x: np.ndarray, y: np.ndarray, loss, share: float = 1.0) -> float:
        """Forward, loss and backward of each half at once, one hand-over between the threads a step;
        the batch's mean loss. A mean over the batch is its halves' means weighted by their sizes, so
        each half's ∂E/∂output is its own loss's derivative times its share of the batch (× `share`)."""
        self._sync()
        self._two_threads, started = self.chooser.next(), time.perf_counter()
        h = len(x) // 2

        def half(network, xs, ys, buffers) -> float:
            output = self._forward(network, xs)
            weight = len(xs) / len(x)
            self._backward(network, loss.prime(ys, output) * (weight * share), buffers, False)
            return loss.value(ys, output) * weight
        first, second = self._both(lambda: half(self.network, x[:h], y[:h], self._buffers[0]),
                                   lambda: half(self.twin, x[h:], y[h:], self._buffers[1]))
        self.network.halves = (self.twin,)    # network.outputs hold the first half's; batch_output joins them
        self.norms = {}   # ‖∂E/∂θ‖₂ of each summed gradient, taken in the same pass as the sum
        for index, (layer, twin) in enumerate(zip(self.network.layers, self.twin.layers, strict=True)):
            for name, grad in layer.grads.items():
                squares = self.in_parts(_add_and_square, grad, twin.grads[name])
                self.norms[f"{index}.{name}"] = math.sqrt(float(sum(squares)))
        self.chooser.took(self._two_threads, time.perf_counter() - started)
        return first + second

    def in_parts(self, work, *arrays: np.ndarray) -> tuple:
        """work(*parts) on the flattened arrays: a large one's two halves at once (both threads, when the
        step took both), else whole; the results."""
        flat = [array.reshape(-1) for array in arrays]
        size = flat[0].size
        if not (self._two_threads and kernels.AVAILABLE and size >= SPLIT_AT):
            return (work(*flat),)
        h = size // 2
        return self._both(lambda: work(*(part[:h] for part in flat)), lambda: work(*(part[h:] for part in flat)))

    def _sync(self) -> None:
        """The twin sees parameters replaced since (set_params, a restore) and any new layer."""
        for layer, twin in zip(self.network.layers, self.twin.layers, strict=True):
            twin.params = layer.params

    def _both(self, first, second):
        pool = second_thread() if self._two_threads else None
        if pool is None:
            return _quietly(first), _quietly(second)
        later = pool.submit(_quietly, second)
        try:
            done = _quietly(first)
        finally:
            other = later.result()   # never leave the second half running into the next step
        return done, other


def _add_and_square(a: np.ndarray, b: np.ndarray) -> float:
    """a += b; Σ a² (1-D): one compiled pass, or numpy's two."""
    if kernels.AVAILABLE:
        return kernels.add_and_square(a, b)
    np.add(a, b, out=a)
    return float(np.einsum("i,i->", a, a))


def _quietly(work):
    """Overflow in a diverging step is expected (the step's explicit checks find it); np.errstate is
    per thread, so each half sets it."""
    with np.errstate(over="ignore", invalid="ignore"):
        return work()
