"""Optimizers own the update; layers only compute gradients."""
from __future__ import annotations

import math

import numpy as np

from .blas import add_outer, add_scaled
from .dense import outer_factors


# The learning rates a run may use. The decayed rate never goes below the smallest, so a
# schedule accepted at the start cannot end a long run (RunConfig checks against the same pair).
MIN_LEARNING_RATE = 1e-6
MAX_LEARNING_RATE = 100.0


class SGD:
    """params −= η_e × grads; with momentum μ: v = μ v − η_e g, params += v.

    η_e, the rate of epoch e (1-based), is max(learning_rate × lr_decay^(e−1), MIN_LEARNING_RATE):
    computed from the epoch, never multiplied step by step, so it depends on nothing but e.
    `learning_rate` is the schedule's base (the first epoch's rate); changing it (the studio does,
    while training) takes effect at the next step. `start_epoch(e)` moves the schedule to epoch e.
    """

    def __init__(self, learning_rate: float, momentum: float = 0.0, lr_decay: float = 1.0):
        self.learning_rate = learning_rate
        if not (isinstance(momentum, (int, float)) and 0.0 <= momentum < 1.0):
            raise ValueError(f"momentum must be in [0, 1), not {momentum!r}")
        if not (isinstance(lr_decay, (int, float)) and 0.0 < lr_decay <= 1.0):
            raise ValueError(f"lr_decay must be in (0, 1], not {lr_decay!r}")
        self.momentum = float(momentum)
        self.lr_decay = float(lr_decay)
        self.epoch = 1
        self.velocity: dict[str, np.ndarray] = {}  # '3.weights' → v, same shape and dtype as the parameter

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        # Checked here so a change made while training (the studio's) is checked too.
        if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                and MIN_LEARNING_RATE <= value <= MAX_LEARNING_RATE):
            raise ValueError(f"learning rate must be from {MIN_LEARNING_RATE:g} to {MAX_LEARNING_RATE:g}, "
                             f"not {value!r}")
        self._learning_rate = float(value)

    @property
    def current_learning_rate(self) -> float:
        """η of the schedule's current epoch: base × decay^(epoch−1), at least MIN_LEARNING_RATE."""
        return max(self._learning_rate * self.lr_decay ** (self.epoch - 1), MIN_LEARNING_RATE)

    def start_epoch(self, epoch: int) -> None:
        """Move the schedule to `epoch` (1-based): its rate applies from the next step."""
        if not (isinstance(epoch, int) and epoch >= 1):
            raise ValueError(f"epoch must be a positive integer, not {epoch!r}")
        self.epoch = epoch

    def state_dict(self) -> dict:
        """Everything a continued run needs: rates, momentum, schedule position and copies of the
        velocities by parameter name. Plain floats and ints, and numpy arrays."""
        return {"learning_rate": self._learning_rate, "current_learning_rate": self.current_learning_rate,
                "momentum": self.momentum, "lr_decay": self.lr_decay, "epoch": self.epoch,
                "velocity": {name: v.copy() for name, v in self.velocity.items()}}

    def load_state_dict(self, state: dict) -> None:
        """Restore what state_dict returned (checked first: a bad state changes nothing)."""
        restored = SGD(state["learning_rate"], state["momentum"], state["lr_decay"])
        restored.start_epoch(state["epoch"])
        velocity = state["velocity"]
        if not isinstance(velocity, dict) or not all(isinstance(v, np.ndarray) for v in velocity.values()):
            raise ValueError("velocity must map parameter names to arrays")
        self._learning_rate, self.momentum, self.lr_decay = restored._learning_rate, restored.momentum, \
            restored.lr_decay
        self.epoch = restored.epoch
        self.velocity = {name: np.array(v, order="C") for name, v in velocity.items()}

    def step(self, network) -> None:
        lr = self.current_learning_rate
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
        lr = self.current_learning_rate
        factors = outer_factors(grads, name)
        if factors is not None:
            add_outer(param, -lr, *factors)
        else:
            add_scaled(param, -lr, grads[name])

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
