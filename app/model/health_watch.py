"""Plain-language warnings when a network saturates or dies, from the training records and the
health measurements. Qt-free: the window shows `warnings` as they change."""
from __future__ import annotations

from cnn.health import ZeroRun
from cnn.train import StepRecord

from app.model.health import HealthRecord

ZERO_STEPS = 10       # all-zero gradients this many steps in a row: a single zero step can be a perfect fit
STUCK_SHARE = 0.5     # sigmoid outputs exactly 0 or 1 (the original network's hidden layer reaches 22% when healthy)
DEAD_SHARE = 0.75     # ReLU units (conv: whole channels) zero for a whole batch (a healthy digits network: 0%)
ADVICE = "Lower the learning rate and press Reset to start again."


class HealthWatch:
    """Feed it every record in order; `warnings` is what holds after the latest ones."""

    def __init__(self, kinds: dict[int, str] | None = None):
        self.kinds = kinds or {}      # layer index → class name, for the texts
        self.reset()

    def reset(self) -> None:
        self.zeros = ZeroRun()
        self.health: HealthRecord | None = None
        self.warnings: tuple[str, ...] = ()

    def add(self, records) -> bool:
        """True when the warnings changed."""
        for record in records:
            if isinstance(record, StepRecord):
                self.zeros.see(record)
            elif isinstance(record, HealthRecord):
                self.health = record
        warnings = self._current()
        changed = warnings != self.warnings
        self.warnings = warnings
        return changed

    def _name(self, index: int) -> str:
        return f"layer {index} ({self.kinds.get(index, 'activation')})"

    def _current(self) -> tuple[str, ...]:
        found = []
        if self.zeros.steps >= ZERO_STEPS:
            first = self.zeros.first
            found.append(f"Every gradient has been exactly zero since step {first.step} of epoch {first.epoch} "
                         f"({self.zeros.steps:,} steps): the network has stopped learning.")
        if self.health is not None:
            for index, share in self.health.stuck.items():
                if share >= STUCK_SHARE:
                    found.append(f"The sigmoids of {self._name(index)} are saturated: {100 * share:.0f}% of their "
                                 "outputs are exactly 0 or 1, where the slope σ′ = σ(1−σ) is zero, so no gradient "
                                 "passes through them.")
            for index, share in self.health.dead.items():
                if share >= DEAD_SHARE:
                    found.append(f"The ReLUs of {self._name(index)} have died: {100 * share:.0f}% of its units (for a "
                                 "convolution: whole channels) output zero for every image of the batch; they pass "
                                 "no gradient and cannot recover.")
        if found:
            found.append(ADVICE)
        return tuple(found)
