"""Optimizers own the update; layers only compute gradients."""
from __future__ import annotations

import math

import numpy as np

from .blas import add_outer, add_scaled
from .dense import outer_factors


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
                if self.momentum:
                    grad = layer.grads[name]
                    key = f"{layer_index}.{name}"
                    velocity = self.velocity.get(key)
                    if velocity is None or velocity.shape != param.shape or velocity.dtype != param.dtype:
                        velocity = self.velocity[key] = np.zeros_like(param)
                    velocity *= self.momentum
                    velocity -= lr * grad
                    param += velocity
                else:
                    self._plain_step(param, layer.grads, name)

    def _plain_step(self, param: np.ndarray, grads, name: str) -> None:
        """param −= lr · grads[name] in one pass (BLAS axpy); a Dense layer's weight gradient held
        as an outer product is applied as a rank-one update (BLAS ger), never written out."""
        factors = outer_factors(grads, name)
        if factors is not None:
            add_outer(param, -self.learning_rate, *factors)
        else:
            add_scaled(param, -self.learning_rate, grads[name])

    def updated(self, network) -> dict[str, np.ndarray]:
        """What plain SGD would make of every parameter, by exactly the arithmetic of `step`, without
        changing the network (the step-through's "after" values)."""
        if self.momentum:
            raise ValueError("updated() shows plain SGD steps; this optimizer has momentum")
        result = {}
        for layer_index, layer in enumerate(network.layers):
            for name, param in layer.params.items():
                result[f"{layer_index}.{name}"] = new = param.copy()
                self._plain_step(new, layer.grads, name)
        return result

    def reset(self) -> None:
        self.velocity.clear()
