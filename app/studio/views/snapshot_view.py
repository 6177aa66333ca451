"""What every view of the chosen sample's snapshot shares: it subscribes to the worker's snapshots,
follows the chosen layer, and draws only when on screen (a view in a hidden tab draws when shown)."""
from __future__ import annotations

from PySide6.QtWidgets import QWidget


class SnapshotView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.layer = 0
        self.snapshot = None
        self.stale = False

    def subscribe(self, worker) -> None:
        worker.snapshot.connect(self.update_snapshot)

    def show_layer(self, index: int) -> None:
        self.layer = index
        self.redraw_layer()

    def update_snapshot(self, snapshot) -> None:
        self.snapshot = snapshot
        self.stale = not self.isVisible()
        if not self.stale:
            self.redraw()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.stale:
            self.stale = False
            self.redraw()

    def redraw(self) -> None:
        raise NotImplementedError

    def redraw_layer(self) -> None:
        """What a change of the chosen layer redraws: everything, unless a view knows better."""
        self.redraw()
