"""A batch's forward and backward pass in two halves at once, one on a second thread.

numpy releases the GIL inside its loops and BLAS calls, so two halves of a batch run on two cores
at the same time. Each half goes through its own shallow copy of the layers: the copies share the
parameters (the same `params` dict) and keep their own activations and gradients. The loss and
its gradient are taken over the whole batch, exactly as for one pass; each parameter's gradient is
the first half's plus the second's, a sum in another order than one pass's, so equal to it within
rounding (tests/test_fast.py). The split does not depend on the machine: two halves on one core give
the same numbers, one after the other.
"""
from __future__ import annotations

import copy
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..network import Network

MIN_HALF = 16        # smaller halves: the thread hand-over costs more than the second core gives
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


class Halves:
    """forward(x) and backward(∂E/∂output) of `network` on a batch, split in two halves run at once."""

    def __init__(self, network: Network, forward, backward):
        self.network, self._forward, self._backward = network, forward, backward
        self.twin = replica(network)
        self._buffers: tuple[dict, dict] = ({}, {})
        self._half = 0

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._sync()
        self._half = len(x) // 2
        first, second = x[:self._half], x[self._half:]
        outputs = self._both(lambda: self._forward(self.network, first), lambda: self._forward(self.twin, second))
        self.network.halves = (self.twin,)    # network.outputs hold the first half's; batch_output joins them
        return np.concatenate(outputs)

    def backward(self, gradient: np.ndarray, input_gradient: bool) -> dict:
        h = self._half
        first, _ = self._both(
            lambda: self._backward(self.network, gradient[:h], self._buffers[0], input_gradient),
            lambda: self._backward(self.twin, gradient[h:], self._buffers[1], input_gradient))
        for layer, twin in zip(self.network.layers, self.twin.layers, strict=True):
            for name, grad in layer.grads.items():
                np.add(grad, twin.grads[name], out=grad)
        return first  # factors of one sample's Dense ∂E/∂W: none for halves of ≥ MIN_HALF samples

    def _sync(self) -> None:
        """The twin sees parameters replaced since (set_params, a restore) and any new layer."""
        for layer, twin in zip(self.network.layers, self.twin.layers, strict=True):
            twin.params = layer.params

    def _both(self, first, second):
        pool = second_thread()
        if pool is None:
            return _quietly(first), _quietly(second)
        later = pool.submit(_quietly, second)
        try:
            done = _quietly(first)
        finally:
            other = later.result()   # never leave the second half running into the next step
        return done, other


def _quietly(work):
    """Overflow in a diverging step is expected (the step's explicit checks find it); np.errstate is
    per thread, so each half sets it."""
    with np.errstate(over="ignore", invalid="ignore"):
        return work()
