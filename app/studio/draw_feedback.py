"""The GUI's half of the back-pressure: times each frame the worker sends (records, then a
snapshot) from its arrival to the end of the paint it caused, and answers with `drawn(seconds)`,
which the window connects to the worker's `views_drawn` slot (a queued call, like every command).

The window connects `frame_arrived` before the views subscribe and `frame_shown` after them, so
that queued deliveries, which run in connection order, put the views' work in between."""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal, Slot


class DrawFeedback(QObject):
    drawn = Signal(float)       # seconds the views took to draw the last frame

    def __init__(self, parent=None):
        super().__init__(parent)
        self._started: float | None = None

    @Slot(object)
    def frame_arrived(self, _payload=None) -> None:
        if self._started is None:
            self._started = time.perf_counter()

    @Slot(object)
    def frame_shown(self, _payload=None) -> None:
        QTimer.singleShot(0, self._done)  # runs after the paint events the views' updates posted

    def _done(self) -> None:
        started, self._started = self._started, None
        self.drawn.emit(time.perf_counter() - started if started is not None else 0.0)
