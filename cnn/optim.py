"""Optimizers own the update; layers only compute gradients."""
from __future__ import annotations

import math

import numpy as np


class SGD:
    """params −= learning_rate × grads; with momentum μ: v = μ v − lr g, params += v."""

    def __init__(self, learning_rate: float, momentum: float = 0.0):
        self.learning_rate = learning_rate
        if not (isinstance(momentum, (int, float)) and 0.0 <= momentum < 1.0):
            raise ValueError(f"momentum must be in [0, 1), not {momentum!r}")
        self.momentum = float(momentum)
        self.velocity: dict[str, np.ndarray] = {}
        self._scratch: dict[str, np.ndarray] = {}  # lr·g is written here, not into a new array each step

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
                    key = f"{layer_index}.{name}"
                    scratch = self._scratch.get(key)
                    if scratch is None or scratch.shape != grad.shape or scratch.dtype != grad.dtype:
                        scratch = self._scratch[key] = np.empty_like(grad)
                    param -= np.multiply(grad, lr, out=scratch)

    def reset(self) -> None:
        self.velocity.clear()
