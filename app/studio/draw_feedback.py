"""The GUI's half of the back-pressure: answers each frame the worker sends (records, then a
snapshot) with `drawn(seconds)`, which the window connects to the worker's `views_drawn` slot (a
queued call, like every command), once the views have drawn it.

The seconds are what the window's thread spent on the frame: the wall time from its arrival to the end
of the redraw it caused or, if more, the thread's CPU time since the frame before arrived (in the same
stretch of running: a pause starts anew), which counts pyqtgraph's painting after the redraw and whatever
else the window did. All of it holds the GIL the training needs, so the throttle (app/model/throttle.py)
spaces the frames by it. That CPU time is taken as at most PAINT_FACTOR times the redraw's: it grows with
the time between frames, and uncapped, a window busy with other things (a user typing, two training
threads taking the cores) spaced the frames ever wider, until the views stood still for a minute.

The window connects `frame_arrived` before the views subscribe and `frame_shown` after them, so
that queued deliveries, which run in connection order, put the views' work in between."""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal, Slot

PAINT_FACTOR = 3.0     # the painting and the rest counted for a frame: at most this many times its redraw


class DrawFeedback(QObject):
    drawn = Signal(float)       # seconds the window's thread spent on the last frame

    def __init__(self, parent=None):
        super().__init__(parent)
        self._started: float | None = None
        self._cpu_mark: float | None = None    # the thread's CPU time when the frame before arrived
        self._cpu_spent = 0.0

    @Slot(object)
    def frame_arrived(self, _payload=None) -> None:
        if self._started is None:
            self._started = time.perf_counter()
            cpu = time.thread_time()
            self._cpu_spent = cpu - self._cpu_mark if self._cpu_mark is not None else 0.0
            self._cpu_mark = cpu

    @Slot(object)
    def restart(self, _state=None) -> None:
        """A run started, paused, resumed or stopped: what the thread did before (while paused, say) is not
        the frames' cost."""
        self._cpu_mark = None

    @Slot(object)
    def frame_shown(self, _payload=None) -> None:
        QTimer.singleShot(0, self._done)  # runs after the paint events the views' updates posted

    def _done(self) -> None:
        started, self._started = self._started, None
        wall = time.perf_counter() - started if started is not None else 0.0
        self.drawn.emit(max(wall, min(self._cpu_spent, PAINT_FACTOR * wall)))
