"""Python's cyclic garbage collector, run on the GUI thread only.

A collection runs on whichever thread allocates when a threshold is reached. If that is the
training thread and the garbage holds a Qt object (a widget of a closed window, a removed graphics
item), Qt destroys it off its own thread: a deadlock or a crash (the studio's tests hung this way).
So while a window is open, automatic collection is off and a timer collects on the GUI thread,
as pyqtgraph's GarbageCollector does.
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer

_open = 0  # collectors running: automatic collection comes back when the last one stops


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject, interval_ms: int = 500):
        global _open
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        _open += 1
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(interval_ms)

    def collect(self) -> None:
        """The generations whose thresholds automatic collection would have acted on. Objects already
        handed to Qt for deletion (deleteLater: a closed window) are deleted first, by Qt: collected
        while still alive, a window would be torn down in whatever order the collector takes."""
        QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
        counts = gc.get_count()
        for generation in range(3):
            if counts[generation] <= self._thresholds[generation]:
                break
            gc.collect(generation)

    def stop(self) -> None:
        """No collection here: stop() runs while a window closes, and a collection then would
        destroy whatever Qt objects other windows left to the collector, in any order."""
        global _open
        if not self._timer.isActive():
            return
        self._timer.stop()
        _open -= 1
        if _open == 0:
            gc.enable()
