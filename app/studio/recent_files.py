"""The File ▸ Open recent list, kept in QSettings."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Slot
from PySide6.QtWidgets import QMenu

MAX_RECENT = 8


class RecentFiles(QObject):
    """A QObject living on the GUI thread, so that the worker's loaded and saved signals reach `add`
    queued there: the menu's actions must not be made on the worker's thread."""

    def __init__(self, settings: QSettings, menu: QMenu, open_file):
        super().__init__(menu)
        self.settings, self.menu, self.open_file = settings, menu, open_file
        self._update_menu()

    def paths(self) -> list[str]:
        value = self.settings.value("recent", [])
        paths = [value] if isinstance(value, str) else value if isinstance(value, (list, tuple)) else []
        return [path for path in paths if isinstance(path, str) and path]  # a hand-edited file may hold anything

    @Slot(str)
    def add(self, path: str) -> None:
        self.settings.setValue("recent", ([path] + [p for p in self.paths() if p != path])[:MAX_RECENT])
        self._update_menu()

    def last_folder(self) -> str:
        recent = self.paths()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def _update_menu(self) -> None:
        self.menu.clear()
        for path in self.paths():
            action = self.menu.addAction(path)
            action.triggered.connect(lambda checked=False, p=path: self.open_file(p))
        self.menu.setEnabled(bool(self.paths()))
