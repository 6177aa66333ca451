"""What every optimizer (cnn.optim's SGD, cnn.adam's Adam) is: a rule that updates the parameters
from their gradients, on a learning-rate schedule (cnn.schedule), with weight decay λ, and a state
that a checkpoint saves (state_dict) and a continued run restores (load_state_dict)."""
from __future__ import annotations

import numpy as np

from .ranges import check_range
from .schedule import Schedule


class Optimizer:
    """Base class. `kind`: the name RunConfig.optimizer and a saved state give it; ARRAYS: the
    state_dict entries that map parameter names to arrays (a checkpoint stores them as arrays)."""

    kind = ""
    ARRAYS: tuple[str, ...] = ()

    def __init__(self, learning_rate: float, lr_decay: float = 1.0, weight_decay: float = 0.0):
        self.schedule = Schedule(learning_rate, lr_decay)
        self.weight_decay = check_range("weight_decay", weight_decay)

    @property
    def learning_rate(self) -> float:
        """The schedule's base rate (the first epoch's); setting it takes effect at the next step."""
        return self.schedule.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self.schedule.learning_rate = value

    @property
    def lr_decay(self) -> float:
        return self.schedule.lr_decay

    @property
    def epoch(self) -> int:
        return self.schedule.epoch

    @property
    def current_learning_rate(self) -> float:
        """η_e of the schedule's current epoch."""
        return self.schedule.current_learning_rate

    def start_epoch(self, epoch: int) -> None:
        self.schedule.start_epoch(epoch)

    def step(self, network) -> None:
        """One update of every parameter from the gradients the last backward left in network.grads
        (anything with `params` and `grads` dicts under the same names will do)."""
        raise NotImplementedError

    def state_dict(self) -> dict:
        raise NotImplementedError

    def load_state_dict(self, state: dict) -> None:
        raise NotImplementedError

    def take_moments(self, other: "Optimizer") -> None:
        """Go on with `other`'s running state (the studio's Stop, then Start with new rates)."""
        raise NotImplementedError

    def _schedule_state(self) -> dict:
        return {"optimizer": self.kind, "learning_rate": self.learning_rate,
                "current_learning_rate": self.current_learning_rate, "lr_decay": self.lr_decay, "epoch": self.epoch,
                "weight_decay": self.weight_decay}

    def _restore_schedule(self, restored: "Optimizer") -> None:
        """Take a checked copy's schedule and weight decay (load_state_dict makes the copy first)."""
        self.schedule, self.weight_decay = restored.schedule, restored.weight_decay


def arrays_of(state: dict, key: str) -> dict[str, np.ndarray]:
    arrays = state[key]
    if not isinstance(arrays, dict) or not all(isinstance(v, np.ndarray) for v in arrays.values()):
        raise ValueError(f"{key} must map parameter names to arrays")
    return {name: np.array(v, order="C") for name, v in arrays.items()}
