"""The Runs panel: every run in the studio's runs folder, as TensorBoard lists its runs.

Select a run to open it (its weights and curves); tick runs to overlay their curves. Rename,
delete (after a confirmation), continue for more epochs, export the metrics as CSV. A folder that
cannot be opened is listed greyed, with its reason. The panel reads the disk (cnn.runs.store);
the worker opens, continues and records runs; RunsWatch follows what others do in the folder.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QInputDialog, QLabel, QMessageBox, QPushButton, QSpinBox,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from cnn.files import naming
from cnn.runs.export import export_csv, steps_path
from cnn.runs.store import RunEntry, RunStore, delete, inspect, rename

from app.studio.run_rows import PATH_ROLE, RUN, fill_row, runs_tree
from app.studio.runs_watch import RunsWatch


class RunsPanel(QWidget):
    open_requested = Signal(str)            # a run folder to open (its last checkpoint and curves)
    continue_requested = Signal(str, int)   # a run folder and how many more epochs to train it
    overlay_changed = Signal(object)        # list of ticked run folders (Path), in list order
    message = Signal(str)                   # a status-bar note
    failed = Signal(str)                    # an error for the banner
    current_changed = Signal()              # the run the studio shows changed (set_current)

    def __init__(self, root, parent=None):
        super().__init__(parent)
        self.store = RunStore(root)
        self.current: Path | None = None    # the run the studio's network belongs to
        self.busy = False                   # training: another run cannot be opened
        self.paused = False                 # the current run's training is paused
        self.entries: dict[Path, RunEntry] = {}
        self.tree = runs_tree()
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.open_button = QPushButton("Open")
        self.continue_button = QPushButton("Continue")
        self.more_epochs = QSpinBox()
        self.more_epochs.setRange(1, 10000)
        self.more_epochs.setValue(5)
        self.more_epochs.setSuffix(" epochs")
        self.rename_button, self.delete_button = QPushButton("Rename…"), QPushButton("Delete…")
        self.export_button = QPushButton("Export CSV…")
        self.open_button.setToolTip("Load the run's last checkpoint and show its curves (or select the run)")
        self.continue_button.setToolTip("Train the selected run for more epochs, in its own folder, from its "
                                        "last checkpoint")
        self.open_button.clicked.connect(self.open_selected)
        self.continue_button.clicked.connect(self.continue_selected)
        self.rename_button.clicked.connect(lambda: self.rename_selected())
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        self.export_button.clicked.connect(lambda: self.export_selected())
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #666")
        buttons = QHBoxLayout()
        for widget in (self.open_button, self.continue_button, self.more_epochs):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        more = QHBoxLayout()
        for widget in (self.rename_button, self.delete_button, self.export_button):
            more.addWidget(widget)
        more.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        layout.addLayout(more)
        # Overridable in tests: a modal question, a file dialog.
        self.confirm = lambda text: QMessageBox.question(self, "Delete run", text) == QMessageBox.Yes
        self.ask_name = lambda old: QInputDialog.getText(self, "Rename run", "Name:", text=old)
        self.ask_csv_path = lambda name: QFileDialog.getSaveFileName(self, "Export metrics as CSV", name + ".csv",
                                                                     "CSV (*.csv)")[0]
        self.watch = RunsWatch(self)
        self.refresh()

    # -- the list -------------------------------------------------------------------------
    def showEvent(self, event) -> None:
        self.refresh()   # runs written meanwhile (by cnn-train, say) appear when the tab is shown
        super().showEvent(event)

    def refresh(self) -> None:
        """Read the runs folder again, keeping ticks and the selection."""
        ticked = set(self.ticked())
        selected = self.selected_path()
        self.tree.blockSignals(True)
        self.tree.clear()
        self.entries = {}
        for entry in self.store.list():
            self.entries[entry.path] = entry
            item = QTreeWidgetItem()
            item.setData(0, PATH_ROLE, str(entry.path))
            fill_row(item, entry, entry.path in ticked, self.current, self.paused)
            self.tree.addTopLevelItem(item)
            if entry.path == selected:
                item.setSelected(True)
        self.tree.blockSignals(False)
        self._update_buttons()
        if ticked != set(self.ticked()):
            self.overlay_changed.emit(self.ticked())

    @Slot(str)
    def run_changed(self, folder: str) -> None:
        """The worker recorded an epoch, started or ended a run: its row, unless the panel is hidden (it reads
        the whole folder when shown; at every frame of a run, the row cost the GIL training needs)."""
        if self.isVisible():
            self.update_run(folder)

    def update_run(self, folder: str) -> None:
        """One run changed: its row only."""
        path = Path(folder)
        item = self._item(path)
        if item is None:
            self.refresh()
            return
        self.entries[path] = entry = inspect(path)
        self.tree.blockSignals(True)
        fill_row(item, entry, item.checkState(RUN) == Qt.Checked, self.current, self.paused)
        self.tree.blockSignals(False)
        self._update_buttons()

    def _item(self, path: Path) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if Path(item.data(0, PATH_ROLE)) == path:
                return item
        return None

    def ticked(self) -> list[Path]:
        return [Path(self.tree.topLevelItem(i).data(0, PATH_ROLE)) for i in range(self.tree.topLevelItemCount())
                if self.tree.topLevelItem(i).checkState(RUN) == Qt.Checked]

    def set_ticked(self, path, ticked: bool = True) -> None:
        item = self._item(Path(path))
        if item is not None and item.flags() & Qt.ItemIsUserCheckable:
            item.setCheckState(RUN, Qt.Checked if ticked else Qt.Unchecked)

    def selected_path(self) -> Path | None:
        items = self.tree.selectedItems()
        return Path(items[0].data(0, PATH_ROLE)) if items else None

    def select(self, path) -> None:
        item = self._item(Path(path))
        if item is not None:
            self.tree.setCurrentItem(item)
            item.setSelected(True)

    @Slot(str)
    def set_current(self, folder: str | None) -> None:
        """The run the studio's network belongs to (shown in bold), or None."""
        previous, self.current = self.current, Path(folder) if folder else None
        for path in {previous, self.current} - {None}:
            item = self._item(path)
            if item is not None:
                self.update_run(str(path))
            elif path == self.current:
                self.refresh()
        self._select_current()
        self.current_changed.emit()

    def _select_current(self) -> None:
        """The run shown is the selected row, so that Open, Continue, Delete and the path under the list
        refer to it; a network that is no run (weights opened from a file, a reset) leaves no row
        selected (the last run's row stayed selected, as if it were still open). Between two runs while
        one opens the selection goes and comes back with the new run."""
        item = self._item(self.current) if self.current is not None else None
        self.tree.blockSignals(True)
        if item is None:
            self.tree.clearSelection()
            self.tree.setCurrentItem(None)
        else:
            self.tree.setCurrentItem(item)
            item.setSelected(True)
        self.tree.blockSignals(False)
        self._update_buttons()

    def set_busy(self, busy: bool, paused: bool = False) -> None:
        """Training (another run cannot be opened); `paused`: the run shown is paused, which its row says
        (its run.json says running: the studio still holds it)."""
        self.busy, was_paused, self.paused = busy, self.paused, paused
        if paused != was_paused and self.current is not None and self._item(self.current) is not None:
            self.update_run(str(self.current))
        self._update_buttons()

    # -- commands -------------------------------------------------------------------------
    def _item_changed(self, item, column) -> None:
        if column == RUN:
            self.overlay_changed.emit(self.ticked())

    def _selection_changed(self) -> None:
        self._update_buttons()
        path = self.selected_path()
        entry = self.entries.get(path)
        if entry is None:
            return
        if entry.reason is not None:
            self.note.setText(f"This folder cannot be opened: {entry.reason}.")
        elif self.busy and path != self.current:
            self.note.setText("Stop training to open another run.")
        elif path != self.current and entry.openable:
            self.open_requested.emit(str(path))   # selecting a run opens it

    def _update_buttons(self) -> None:
        entry = self.entries.get(self.selected_path())
        openable = entry is not None and entry.openable and not self.busy
        self.open_button.setEnabled(openable)
        current = entry is not None and entry.path == self.current
        self.continue_button.setEnabled(not self.busy and (openable or current))
        self.rename_button.setEnabled(entry is not None and entry.info is not None)
        self.delete_button.setEnabled(entry is not None and entry.status != "running")
        self.export_button.setEnabled(entry is not None and entry.info is not None)
        if entry is None:
            self.note.setText("Select a run to open it; tick runs to compare their curves.")
        elif entry.reason is None:
            self.note.setText(f"{entry.path}")

    def open_selected(self) -> None:
        path = self.selected_path()
        if path is not None:
            self.open_requested.emit(str(path))

    def continue_selected(self) -> None:
        path = self.selected_path()
        if path is not None:
            self.continue_requested.emit(str(path), self.more_epochs.value())

    def rename_selected(self, name: str | None = None) -> None:
        path = self.selected_path()
        entry = self.entries.get(path)
        if entry is None or entry.info is None:
            return
        if name is None:
            name, ok = self.ask_name(entry.info.name)
            if not ok:
                return
        try:
            rename(path, name)
        except (ValueError, OSError) as error:
            self.failed.emit(str(error))
            return
        self.update_run(str(path))
        if path in self.ticked():   # the overlay's legend names it too
            self.overlay_changed.emit(self.ticked())

    def delete_selected(self) -> None:
        path = self.selected_path()
        entry = self.entries.get(path)
        if entry is None:
            return
        what = f"the run “{entry.name}”" if entry.info else f"the run files in {path.name}"
        if not self.confirm(f"Delete {what}: its settings, metrics and checkpoints?\n{path}\n\nThis cannot be undone."):
            return
        try:
            left = delete(path)
        except (ValueError, OSError) as error:
            self.failed.emit(str(error))
            return
        self.message.emit(f"Deleted {entry.name}" + (f"; kept files that were not the run's: {', '.join(left)}"
                                                     if left else ""))
        self.refresh()

    def export_selected(self, target: str | None = None) -> None:
        path = self.selected_path()
        entry = self.entries.get(path)
        if entry is None or entry.info is None:
            return
        target = target or self.ask_csv_path(entry.info.name.replace("/", "-"))
        if not target:
            return
        try:
            epochs, steps = export_csv(path, target)
        except (ValueError, OSError) as error:
            self.failed.emit(f"The metrics could not be exported: {naming(error, path, target, steps_path(target))}")
            return
        self.message.emit(f"Exported {epochs} epochs to {target} and {steps} steps to {steps_path(target)}")
