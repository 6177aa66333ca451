"""The learning-rate schedule every optimizer has (cnn.optimizer)."""
from __future__ import annotations

from .ranges import MIN_LEARNING_RATE, check_range


class Schedule:
    """The rate of epoch e (1-based), η_e = max(learning_rate × lr_decay^(e−1), the smallest learning
    rate a run accepts): computed from the epoch, never multiplied step by step, so it depends on
    nothing but e. `learning_rate` is the schedule's base (the first epoch's rate); changing it (the
    studio does, while training) takes effect at the next step. `start_epoch(e)` moves it to epoch e.
    """

    def __init__(self, learning_rate: float, lr_decay: float = 1.0):
        self.learning_rate = learning_rate
        self.lr_decay = check_range("lr_decay", lr_decay)
        self.epoch = 1

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
