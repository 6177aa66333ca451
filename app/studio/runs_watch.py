"""The Runs panel kept in step with what others do in the runs folder (cnn-train in a terminal, a
second studio): runs made or removed appear without asking, and rows that may still change on their
own (a run being recorded elsewhere, a folder half made) are read again while the list is visible."""
from __future__ import annotations

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer

from cnn.runs.store import inspect

BURST_MS = 300      # a burst of changes in the folder gives one refresh, this long after the last
POLL_MS = 3000      # how often rows that may still change are read again


class RunsWatch(QObject):
    """Watches `panel`'s runs folder (RunsPanel: store, entries, current, refresh, update_run)."""

    def __init__(self, panel):
        super().__init__(panel)
        self.panel = panel
        self.watcher = QFileSystemWatcher(self)
        try:
            panel.store.root.mkdir(parents=True, exist_ok=True)
            self.watcher.addPath(str(panel.store.root))
        except OSError:
            pass  # no runs folder: the list is empty, and recording will say why it cannot write
        self.pending = QTimer(self)
        self.pending.setSingleShot(True)
        self.pending.setInterval(BURST_MS)
        self.pending.timeout.connect(panel.refresh)
        self.watcher.directoryChanged.connect(lambda _path: self.pending.start())
        self.poll = QTimer(self)
        self.poll.setInterval(POLL_MS)
        self.poll.timeout.connect(self._poll)
        self.poll.start()

    def _poll(self) -> None:
        """Reads again the rows of runs recording elsewhere or not yet openable (never the one shown)."""
        panel = self.panel
        if not panel.isVisible():
            return
        for path, entry in list(panel.entries.items()):
            if (entry.status == "running" or entry.reason is not None) and path != panel.current:
                if inspect(path) != entry:
                    panel.update_run(str(path))
