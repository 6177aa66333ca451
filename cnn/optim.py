"""Optimizers own the update; layers only compute gradients."""
from __future__ import annotations

import numpy as np

from .ranges import MIN_LEARNING_RATE, check_range


class SGD:
    """θ −= η_e ∂E/∂θ; with momentum μ: v = μ v − η_e ∂E/∂θ, θ += v.

    η_e, the rate of epoch e (1-based), is max(learning_rate × lr_decay^(e−1), the smallest
    learning rate a run accepts): computed from the epoch, never multiplied step by step, so it
    depends on nothing but e. `learning_rate` is the schedule's base (the first epoch's rate);
    changing it (the studio does, while training) takes effect at the next step. `start_epoch(e)`
    moves the schedule to epoch e.
    """

    def __init__(self, learning_rate: float, momentum: float = 0.0, lr_decay: float = 1.0):
        self.learning_rate = learning_rate
        self.momentum = check_range("momentum", momentum)
        self.lr_decay = check_range("lr_decay", lr_decay)
        self.epoch = 1
        self.velocity: dict[str, np.ndarray] = {}  # '3.weights' → v, same shape and dtype as the parameter

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        # Checked here so a change made while training (the studio's) is checked too.
        self._learning_rate = check_range("learning_rate", value)

    @property
    def current_learning_rate(self) -> float:
        """η of the schedule's current epoch: base × decay^(epoch−1), never below the smallest rate."""
        return max(self._learning_rate * self.lr_decay ** (self.epoch - 1), MIN_LEARNING_RATE)

    def start_epoch(self, epoch: int) -> None:
        """Move the schedule to `epoch` (1-based): its rate applies from the next step."""
        if not (isinstance(epoch, int) and not isinstance(epoch, bool) and epoch >= 1):
            raise ValueError(f"epoch must be a positive integer, not {epoch!r}")
        self.epoch = epoch

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
        self._learning_rate, self.momentum, self.lr_decay = (restored._learning_rate, restored.momentum,
                                                             restored.lr_decay)
        self.epoch = restored.epoch
        self.velocity = {name: np.array(v, order="C") for name, v in velocity.items()}

    def reset(self) -> None:
        self.velocity.clear()
