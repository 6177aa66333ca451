"""Optimizers own the update; layers only compute gradients. SGD (with momentum) here, Adam in
cnn.adam; both on cnn.schedule's learning-rate schedule, saved through state_dict()."""
from __future__ import annotations

import numpy as np

from .adam import Adam
from .ranges import MIN_LEARNING_RATE, check_range
from .schedule import Schedule, arrays_of

__all__ = ["Adam", "MIN_LEARNING_RATE", "OPTIMIZERS", "Optimizer", "SGD", "Schedule", "from_state", "make_optimizer"]


class SGD(Schedule):
    """θ −= η_e ∂E/∂θ; with momentum μ: v = μ v − η_e ∂E/∂θ, θ += v (η_e: Schedule's)."""

    kind = "sgd"
    ARRAYS = ("velocity",)

    def __init__(self, learning_rate: float, momentum: float = 0.0, lr_decay: float = 1.0):
        super().__init__(learning_rate, lr_decay)
        self.momentum = check_range("momentum", momentum)
        self.velocity: dict[str, np.ndarray] = {}  # '3.weights' → v, same shape and dtype as the parameter

    def step(self, network) -> None:
        """One update of every parameter from the gradients the last backward left in network.grads
        (anything with `params` and `grads` dicts under the same names will do)."""
        lr = self.current_learning_rate
        for name, grad in network.grads.items():
            param = network.params[name]
            if self.momentum:
                velocity = self.velocity.get(name)
                if velocity is None or velocity.shape != param.shape or velocity.dtype != param.dtype:
                    velocity = self.velocity[name] = np.zeros_like(param)
                velocity *= self.momentum
                velocity -= lr * grad
                param += velocity
            else:
                param -= lr * grad

    def state_dict(self) -> dict:
        """Everything a continued run needs: rates, momentum, schedule position and copies of the
        velocities by parameter name. Plain floats and ints, and numpy arrays."""
        return {**self._schedule_state(), "momentum": self.momentum,
                "velocity": {name: v.copy() for name, v in self.velocity.items()}}

    def load_state_dict(self, state: dict) -> None:
        """Restore what state_dict returned (checked first: a bad state changes nothing)."""
        restored = SGD(state["learning_rate"], state["momentum"], state["lr_decay"])
        restored.start_epoch(state["epoch"])
        velocity = arrays_of(state, "velocity")
        self._learning_rate, self.momentum, self.lr_decay = (restored._learning_rate, restored.momentum,
                                                             restored.lr_decay)
        self.epoch, self.velocity = restored.epoch, velocity

    def take_moments(self, other: "SGD") -> None:
        """Go on with `other`'s velocity (the studio's Stop, then Start with new rates)."""
        self.velocity = other.velocity

    def reset(self) -> None:
        self.velocity.clear()


OPTIMIZERS = {SGD.kind: SGD, Adam.kind: Adam}   # the names: cnn.ranges.CHOICES
Optimizer = SGD | Adam


def make_optimizer(kind: str, learning_rate: float, momentum: float = 0.0, lr_decay: float = 1.0) -> Optimizer:
    """The optimizer a run's settings name (RunConfig.optimizer); Adam with its usual β₁, β₂, ε
    (a run's momentum is SGD's alone)."""
    if kind == Adam.kind:
        return Adam(learning_rate, lr_decay=lr_decay)
    if kind == SGD.kind:
        return SGD(learning_rate, momentum, lr_decay)
    raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, not {kind!r}")


def from_state(state: dict) -> Optimizer:
    """A new optimizer restored from state_dict()'s result (a state without a kind is SGD's: older files)."""
    kind = state.get("optimizer", SGD.kind)
    if kind not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, not {kind!r}")
    optimizer = OPTIMIZERS[kind](1.0)
    optimizer.load_state_dict(state)
    return optimizer
