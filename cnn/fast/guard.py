"""Keeping the weights finite without a pass over them every step (the plain step copies and checks
them every time: cnn.step.PlainStep)."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..network import Network
from ..optim import SGD, Optimizer
from ..step import NonFinite


class FiniteGuard:
    """Runs updates, and keeps the weights finite.

    Per parameter it tracks upper bounds on max|θ| and on max|v| (the velocity; plain SGD's is
    −η g) by the triangle inequality, from the gradient norms the step has anyway:
        max|v_t| ≤ μ max|v_t−1| + η ‖g_t‖₂,    max|θ_t| ≤ max|θ_t−1| + max|v_t|.
    Adam's change is bounded whatever the gradient (Adam.largest_change), so max|θ| grows by that.
    Weight decay λ adds η λ max|θ| to SGD's max|v| and scales Adam's max|θ| by at most |1 − η λ|.
    Only when a bound nears the dtype's range does it copy the weights and velocities before the
    update and check them after, restoring the copies (and raising NonFinite) if any became
    non-finite; then the bounds start again from the actual values.
    """

    def __init__(self, network: Network, optimizer: Optimizer):
        self.network, self.optimizer = network, optimizer
        self.limit = math.sqrt(float(np.finfo(network.dtype).max))
        self._measure()

    def _measure(self) -> None:
        def largest(array):
            return float(np.max(np.abs(array))) if array is not None and array.size else 0.0
        self.weight_bound = {name: largest(p) for name, p in self.network.params.items()}
        velocity = getattr(self.optimizer, "velocity", {})
        self.velocity_bound = {name: largest(velocity.get(name)) for name in self.weight_bound}

    def update(self, norms: dict[str, float], update: Callable[[], None]) -> None:
        """Runs update(), the optimizer's step for gradients with these norms."""
        optimizer = self.optimizer
        lr, decay = optimizer.current_learning_rate, optimizer.weight_decay
        sgd = isinstance(optimizer, SGD)
        adam = None if sgd else optimizer.largest_change()
        for name, norm in norms.items():
            if sgd:
                self.velocity_bound[name] = (optimizer.momentum * self.velocity_bound[name] + lr * norm
                                             + lr * decay * self.weight_bound[name])
            else:
                self.velocity_bound[name] = adam
                self.weight_bound[name] *= max(1.0, abs(1.0 - lr * decay))
            self.weight_bound[name] += self.velocity_bound[name]
        if max(self.weight_bound.values(), default=0.0) < self.limit:
            update()
            return
        saved_params = {name: p.copy() for name, p in self.network.params.items()}
        saved_state = self.optimizer.state_dict()   # copies
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow here is what the check below finds
            update()
        if not all(np.isfinite(p).all() for p in self.network.params.values()):
            self.network.set_params(saved_params)
            self.optimizer.load_state_dict(saved_state)
            raise NonFinite("the update would make a weight non-finite")
        self._measure()
