"""The worker's states. A str-valued Enum: it names itself in messages and settings."""
from __future__ import annotations

from enum import Enum


class RunState(str, Enum):
    IDLE = "idle"          # no run: a network is shown (or none yet); settings can change
    RUNNING = "running"    # the training loop advances between Qt events
    PAUSED = "paused"      # a run is held between two steps; Resume continues it exactly

    @property
    def label(self) -> str:
        """The status bar's word for it."""
        return {"idle": "Ready", "running": "Training", "paused": "Paused"}[self.value]
