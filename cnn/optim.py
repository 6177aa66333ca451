"""Optimizers own the update; layers only compute gradients. SGD (with momentum) here, Adam in
cnn.adam; both are cnn.optimizer's Optimizer: a learning-rate schedule, weight decay and a state
saved through state_dict()."""
from __future__ import annotations

import numpy as np

from .adam import Adam
from .optimizer import Optimizer, arrays_of
from .ranges import MIN_LEARNING_RATE, check_range

__all__ = ["Adam", "MIN_LEARNING_RATE", "OPTIMIZERS", "Optimizer", "SGD", "from_state", "make_optimizer"]


class SGD(Optimizer):
    """With weight decay λ the gradient is g = ∂E/∂θ + λθ (torch.optim.SGD's weight_decay), then
    θ −= η_e g; with momentum μ: v = μ v − η_e g, θ += v (η_e: the schedule's)."""

    kind = "sgd"
    ARRAYS = ("velocity",)

    def __init__(self, learning_rate: float, momentum: float = 0.0, lr_decay: float = 1.0, weight_decay: float = 0.0):
        super().__init__(learning_rate, lr_decay, weight_decay)
        self.momentum = check_range("momentum", momentum)
        self.velocity: dict[str, np.ndarray] = {}  # '3.weights' → v, same shape and dtype as the parameter

    def direction(self, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """g = ∂E/∂θ + λθ (∂E/∂θ itself without weight decay)."""
        return grad + self.weight_decay * param if self.weight_decay else grad

    def step(self, network) -> None:
        lr = self.current_learning_rate
        for name, grad in network.grads.items():
            param = network.params[name]
            grad = self.direction(param, grad)
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
        """Everything a continued run needs: rates, momentum, weight decay, schedule position and copies
        of the velocities by parameter name. Plain floats and ints, and numpy arrays."""
        return {**self._schedule_state(), "momentum": self.momentum,
                "velocity": {name: v.copy() for name, v in self.velocity.items()}}

    def load_state_dict(self, state: dict) -> None:
        """Restore what state_dict returned (checked first: a bad state changes nothing; a state without
        weight decay is from before it, 0)."""
        restored = SGD(state["learning_rate"], state["momentum"], state["lr_decay"], state.get("weight_decay", 0.0))
        restored.start_epoch(state["epoch"])
        velocity = arrays_of(state, "velocity")
        self._restore_schedule(restored)
        self.momentum, self.velocity = restored.momentum, velocity

    def take_moments(self, other: "SGD") -> None:
        """Go on with `other`'s velocity (the studio's Stop, then Start with new rates)."""
        self.velocity = other.velocity


OPTIMIZERS = {SGD.kind: SGD, Adam.kind: Adam}   # the names: cnn.ranges.CHOICES


def make_optimizer(kind: str, learning_rate: float, momentum: float = 0.0, lr_decay: float = 1.0,
                   weight_decay: float = 0.0) -> Optimizer:
    """The optimizer a run's settings name (RunConfig.optimizer); Adam with its usual β₁, β₂, ε
    (a run's momentum is SGD's alone) and its weight decay decoupled (AdamW)."""
    if kind == Adam.kind:
        return Adam(learning_rate, lr_decay=lr_decay, weight_decay=weight_decay)
    if kind == SGD.kind:
        return SGD(learning_rate, momentum, lr_decay, weight_decay)
    raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, not {kind!r}")


def from_state(state: dict) -> Optimizer:
    """A new optimizer restored from state_dict()'s result (a state without a kind is SGD's: older files)."""
    kind = state.get("optimizer", SGD.kind)
    if kind not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, not {kind!r}")
    optimizer = OPTIMIZERS[kind](1.0)
    optimizer.load_state_dict(state)
    return optimizer
