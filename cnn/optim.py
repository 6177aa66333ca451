"""Optimizers own the update; layers only compute gradients."""
from __future__ import annotations

import math

import numpy as np
from scipy.linalg import blas


def _axpy(y: np.ndarray, x: np.ndarray, a: float) -> None:
    """y += a·x in place, in one pass (BLAS axpy) where the arrays allow it."""
    if y.flags.c_contiguous and x.flags.c_contiguous and y.dtype == x.dtype and y.dtype.char in "fd":
        axpy = blas.daxpy if y.dtype.char == "d" else blas.saxpy
        result = axpy(x.reshape(-1), y.reshape(-1), a=a)
        if not np.shares_memory(result, y):  # BLAS wrote a copy: keep the values all the same
            y.reshape(-1)[...] = result
    else:
        y += a * x


class SGD:
    """params −= learning_rate × grads; with momentum μ: v = μ v − lr g, params += v."""

    def __init__(self, learning_rate: float, momentum: float = 0.0):
        self.learning_rate = learning_rate
        if not (isinstance(momentum, (int, float)) and 0.0 <= momentum < 1.0):
            raise ValueError(f"momentum must be in [0, 1), not {momentum!r}")
        self.momentum = float(momentum)
        self.velocity: dict[str, np.ndarray] = {}

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        # Checked here so a change made while training (the studio's) is checked too.
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"learning rate must be a positive finite number, not {value!r}")
        self._learning_rate = float(value)

    def step(self, network) -> None:
        lr = self.learning_rate
        for layer_index, layer in enumerate(network.layers):
            for name, param in layer.params.items():
                grad = layer.grads[name]
                if self.momentum:
                    key = f"{layer_index}.{name}"
                    velocity = self.velocity.get(key)
                    if velocity is None or velocity.shape != param.shape or velocity.dtype != param.dtype:
                        velocity = self.velocity[key] = np.zeros_like(param)
                    velocity *= self.momentum
                    velocity -= lr * grad
                    param += velocity
                else:
                    _axpy(param, grad, -lr)

    def reset(self) -> None:
        self.velocity.clear()
