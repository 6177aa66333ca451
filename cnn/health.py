"""Whether an epoch's training steps show a dead network: one that looks trained (a finite loss,
no error) but has stopped learning because its units are saturated (sigmoids stuck at 0 or 1,
ReLUs that never fire), so every gradient is exactly 0 and the clipped loss never moves. Used by
the CLI, per epoch; the studio (its warning, app/model/health_watch.py, and its Health tab)
follows the current run of such steps instead (`ZeroRun`), by the same test of a step."""
from __future__ import annotations

from typing import Iterable

from .train import StepRecord


def gradients_all_zero(step: StepRecord) -> bool:
    """Every parameter's gradient norm in the step was exactly 0 (a step without parameters: no)."""
    return bool(step.grad_norms) and not any(step.grad_norms.values())


class ZeroRun:
    """The current run of consecutive steps whose gradients are all exactly zero: how many, and the first."""

    def __init__(self):
        self.steps, self.first = 0, None

    def see(self, step: StepRecord) -> None:
        if gradients_all_zero(step):
            self.first = self.first or step
            self.steps += 1
        else:
            self.steps, self.first = 0, None


class EpochHealth:
    """Watches one epoch's steps as they come, keeping two facts instead of the records."""

    def __init__(self):
        self.epoch, self.steps, self.first_loss = None, 0, None
        self.all_zero = True      # every gradient norm of every step was exactly 0
        self.flat = True          # every step's loss equalled the first one's

    def see(self, step: StepRecord) -> None:
        if self.steps == 0:
            self.epoch, self.first_loss = step.epoch, step.loss
        self.steps += 1
        self.all_zero = self.all_zero and gradients_all_zero(step)
        self.flat = self.flat and step.loss == self.first_loss

    def warning(self) -> str | None:
        """The warning, or None when the epoch shows learning (or had no steps). A flat loss needs
        two steps to be seen."""
        if self.steps == 0 or not (self.all_zero or (self.flat and self.steps > 1)):
            return None
        symptom = "" if self.all_zero else f"the loss was exactly {self.first_loss:.6f} at every step: "
        return (f"epoch {self.epoch}: {symptom}the gradients are all zero (the units are saturated), so the "
                "network no longer learns; try a learning rate 10× smaller, from fresh weights")


def dead_network_warning(steps: Iterable[StepRecord]) -> str | None:
    """EpochHealth's warning for one epoch's step records."""
    health = EpochHealth()
    for step in steps:
        health.see(step)
    return health.warning()
