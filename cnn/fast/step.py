"""FastStep: PlainStep's step (cnn.step) by cheaper arithmetic; see cnn/fast/__init__.py for the list."""
from __future__ import annotations

import math

import numpy as np

from ..activations import Sigmoid
from ..dense import Dense
from ..losses import Loss
from ..network import Network
from ..optim import SGD, Optimizer
from ..memory import training_samples
from ..step import NonFinite, StepResult, check_loss, check_norms, in_chunks
from . import conv, kernels, pool, relu, sigmoid
from .blas import add_outer, add_scaled
from .guard import FiniteGuard
from .shards import Halves, worth_splitting


class FastStep:
    """step(x, y): one update of the network on the batch (x, y), or NonFinite and no change at all.

    After a step on one sample a Dense layer's grads["weights"] is not written (its two factors
    are used instead); the norms returned hold its size.
    """

    def __init__(self, network: Network, loss: Loss, optimizer: Optimizer):
        self.network, self.loss, self.optimizer = network, loss, optimizer
        self.guard = FiniteGuard(network, optimizer)
        self._buffers: dict[str, np.ndarray] = {}   # '3.weights' → a Dense layer's ∂E/∂W, reused every step
        self._halves: Halves | None = None          # made for the first batch worth splitting
        self._chunk = training_samples(network)     # a larger batch goes in chunks of this many (cnn.step.in_chunks)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> StepResult:
        buffers = {name: b.copy() for name, b in self.network.buffers.items()}   # a failed step changes nothing
        try:
            with self.network.mode(training=True, stepping=True):
                return self._step(x, y)
        except NonFinite:
            self.network.set_buffers(buffers)
            raise

    def _step(self, x: np.ndarray, y: np.ndarray) -> StepResult:
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging step: the explicit checks find it
            self._split = None
            if len(x) <= self._chunk or self.network.whole_batches:
                value, factors = self._pass(x, y)
            else:
                value, factors = in_chunks(self.network, x, y, self._chunk, self._chunk_pass), {}
                self._split = None   # the chunks' gradients were summed by in_chunks: their norms are not known
                check_loss(value)
            norms = self._split.norms if self._split is not None else self._norms(factors)
        check_norms(norms)
        self.guard.update(norms, lambda: self._update(factors))
        return StepResult(value, norms)

    def _pass(self, x: np.ndarray, y: np.ndarray, share: float = 1.0) -> tuple[float, dict]:
        """Forward and backward on (x, y) (in halves when worth it), the loss's derivative times `share`:
        the loss, and the factors of one sample's Dense ∂E/∂W."""
        halves = self._split = self._halves_for(len(x))
        if halves is not None:
            value = halves.passes(self.network.as_input(x), y, self.loss, share)
            check_loss(value)
            return value, {}   # no one-sample factors: each half has at least MIN_HALF samples
        output = forward(self.network, x)
        value = self.loss.value(y, output)
        check_loss(value)
        gradient = self.loss.prime(y, output)
        if share != 1.0:
            gradient = gradient * share
        return value, backward(self.network, gradient, self._buffers, input_gradient=False)

    def _chunk_pass(self, x: np.ndarray, y: np.ndarray, share: float) -> float:
        """_pass on a chunk, a one-sample chunk's Dense ∂E/∂W written out to be summed."""
        value, factors = self._pass(x, y, share)
        for key, (u, v) in factors.items():
            self.network.layers[int(key.split(".")[0])].grads["weights"] = np.outer(u, v)
        return value

    def _halves_for(self, batch: int) -> Halves | None:
        if not worth_splitting(batch) or self.network.whole_batches:
            return None
        if self._halves is None:
            self._halves = Halves(self.network, forward, backward)
        return self._halves

    def _buffer(self, name: str, layer: Dense) -> np.ndarray:
        return _buffer(self._buffers, name, layer)

    def _norms(self, factors: dict) -> dict[str, float]:
        """‖∂E/∂θ‖₂ of every parameter; of u vᵀ, ‖u‖·‖v‖."""
        norms = {}
        for index, layer in enumerate(self.network.layers):
            for name in layer.params:
                key = f"{index}.{name}"
                norms[key] = _norm(factors[key][0]) * _norm(factors[key][1]) if key in factors \
                    else _norm(layer.grads[name])
        return norms

    def _update(self, factors: dict) -> None:
        """The optimizer's step. SGD's without weight decay here, in one pass per parameter: plain, BLAS
        ger for u vᵀ and axpy otherwise; with momentum, v = μ v − η g and θ += v in one compiled pass
        (numpy's SGD.step makes a parameter-sized η g first). Large parameters on both threads."""
        network, optimizer = self.network, self.optimizer
        momentum = getattr(optimizer, "momentum", 0.0)
        if not isinstance(optimizer, SGD) or optimizer.weight_decay or (momentum and not kernels.AVAILABLE):
            for key, (u, v) in factors.items():    # ∂E/∂W written out for the optimizer's own step
                layer = network.layers[int(key.split(".")[0])]
                layer.grads["weights"] = np.multiply(u[:, None], v[None, :], out=self._buffer(key, layer))
            optimizer.step(network)
            return
        lr = optimizer.current_learning_rate
        split = self._split.in_parts if self._split is not None and kernels.AVAILABLE else _whole
        for index, layer in enumerate(network.layers):
            for name, param in layer.params.items():
                key = f"{index}.{name}"
                if momentum:
                    velocity = _velocity(optimizer, key, param)
                    if key in factors:
                        velocity *= momentum
                        add_outer(velocity, -lr, *factors[key])
                        add_scaled(param, 1.0, velocity)
                    else:
                        mu, rate = param.dtype.type(momentum), param.dtype.type(lr)   # as numpy rounds them
                        split(lambda p, v, g, mu=mu, rate=rate: kernels.momentum_step(p, v, g, mu, rate), param,
                              velocity, layer.grads[name])
                elif key in factors:
                    add_outer(param, -lr, *factors[key])
                elif split is not _whole:
                    split(lambda p, g: kernels.add_scaled(p, -lr, g), param, layer.grads[name])
                else:
                    add_scaled(param, -lr, layer.grads[name])


def _whole(work, *arrays: np.ndarray) -> tuple:
    """in_parts' contract on one thread: work on the flattened arrays."""
    return (work(*(array.reshape(-1) for array in arrays)),)


def _velocity(optimizer: SGD, key: str, param: np.ndarray) -> np.ndarray:
    """The optimizer's velocity of a parameter (made as SGD.step makes it): its state, for checkpoints."""
    velocity = optimizer.velocity.get(key)
    if velocity is None or velocity.shape != param.shape or velocity.dtype != param.dtype:
        velocity = optimizer.velocity[key] = np.zeros_like(param)
    return velocity


def _norm(array: np.ndarray) -> float:
    """‖array‖₂ with numpy's own loops: BLAS dot (np.linalg.norm) wakes OpenBLAS threads, which
    costs more than the sum itself between two training steps."""
    flat = array.reshape(-1)
    return math.sqrt(float(np.einsum("i,i->", flat, flat)))


def forward(network: Network, x: np.ndarray) -> np.ndarray:
    """Network.forward with the fast sigmoid (the layers keep what backward needs, as there)."""
    x = network.as_input(x)
    network.halves = ()
    for index, layer in enumerate(network.layers):
        network.inputs[index] = x
        kind = type(layer)
        x = sigmoid.forward(layer, x) if kind is Sigmoid else conv.forward(layer, x) if conv.takes(layer) \
            else relu.forward(layer, x) if relu.takes(layer) else pool.forward(layer, x) if pool.takes(layer) \
            else layer.forward(x)
        network.outputs[index] = x
    return x


def backward(network: Network, gradient: np.ndarray, buffers: dict | None = None, input_gradient: bool = True
             ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Network.backward's parameter gradients, and ∂E/∂X in network.input_gradients (of the input
    itself only with input_gradient: a first convolution skips it otherwise). A Dense layer's ∂E/∂W
    for one sample is not written: it is returned as its factors (∂E/∂Y, X) under its parameter
    name ('3.weights'); for a batch it is written into `buffers` (reused across calls)."""
    factors, buffers = {}, ({} if buffers is None else buffers)
    gradient = np.asarray(gradient, dtype=network.dtype)
    for index in reversed(range(len(network.layers))):
        layer = network.layers[index]
        if conv.takes(layer):   # ∂E/∂X of the input only if asked: nobody reads it while training
            gradient = conv.backward(layer, gradient, input_gradient=index > 0 or input_gradient)
        elif type(layer) is Dense:
            gradient = _dense_backward(f"{index}.weights", layer, gradient, factors, buffers)
        elif type(layer) is Sigmoid:
            gradient = sigmoid.backward(layer, gradient)
        elif relu.takes(layer):
            gradient = relu.backward(layer, gradient)
        elif pool.takes(layer):
            gradient = pool.backward(layer, gradient)
        else:
            gradient = layer.backward(gradient)
        network.input_gradients[index] = gradient
    return factors


def _dense_backward(name: str, layer: Dense, gradient: np.ndarray, factors: dict, buffers: dict) -> np.ndarray:
    if len(gradient) == 1:
        factors[name] = (gradient[0], layer.input[0])   # ∂E/∂W = u vᵀ, never written out
    else:  # into the same buffer every step (a fresh array per step costs page faults)
        layer.grads["weights"] = np.matmul(gradient.T, layer.input, out=_buffer(buffers, name, layer))
    layer.grads["bias"] = gradient.sum(axis=0)
    return gradient @ layer.params["weights"]


def _buffer(buffers: dict, name: str, layer: Dense) -> np.ndarray:
    buffer = buffers.get(name)
    if buffer is None or buffer.shape != layer.params["weights"].shape or buffer.dtype != layer.dtype:
        buffer = buffers[name] = np.empty_like(layer.params["weights"])
    return buffer
