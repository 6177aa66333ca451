"""The Runs panel's list (runs_tree) and a run's row in it: name, start and settings (or why it
cannot be opened) in three lines (a fourth for a run stopped inside an epoch: where), epochs, best
test accuracy, status; greyed when it cannot be opened, blue when shown."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem

from cnn.evaluation import accuracy_text
from cnn.runs.store import RunEntry

from app.model.run_labels import ARCHITECTURE_ROOM, summary

# The Run column holds three lines: the name, the start, the settings (or why the folder cannot be opened).
COLUMNS = ("Run", "Epochs", "Best", "Status")
RUN, EPOCHS, BEST, STATUS = range(len(COLUMNS))
PATH_ROLE = Qt.UserRole
GREY = QColor(140, 140, 140)
CURRENT = QColor(20, 80, 170)


def runs_tree() -> QTreeWidget:
    """The empty list: one row per run, selected one at a time, the Run column taking the width left
    and wrapping its lines."""
    tree = QTreeWidget()
    tree.setColumnCount(len(COLUMNS))
    tree.setHeaderLabels(COLUMNS)
    tree.setRootIsDecorated(False)
    tree.setSelectionMode(QAbstractItemView.SingleSelection)
    tree.setAlternatingRowColors(True)
    tree.setWordWrap(True)
    tree.setUniformRowHeights(False)
    tree.setTextElideMode(Qt.ElideRight)
    header = tree.header()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeToContents)
    header.setSectionResizeMode(RUN, QHeaderView.Stretch)
    return tree


def fill_row(item: QTreeWidgetItem, entry: RunEntry, ticked: bool, current: Path | None, paused: bool = False) -> None:
    """One run's row: texts, tooltip (its folder and any reason), tick box, colour; `paused`: the current
    run's training is paused (its run.json says running)."""
    info = entry.info
    if info is None:
        texts = (f"{entry.path.name}\n{entry.reason}", "", "", "damaged")
    else:
        best = "" if info.best_test_accuracy is None else accuracy_text(info.best_test_accuracy)
        # One line of settings, an architecture's text elided (wrapped, it pushed lines out of view); where an
        # interrupted run stopped stands under its status, where the eye looks for it.
        detail = entry.reason if entry.reason is not None else summary(info.settings, ARCHITECTURE_ROOM)
        texts = (f"{info.name}\n{local_time(info.created)}\n{detail}", f"{info.epochs_done}/{info.epochs_planned}",
                 best, "damaged" if entry.reason is not None else "paused" if paused and entry.path == current
                 and entry.status == "running" else entry.status + stopped_at(entry))
    for column, text in enumerate(texts):
        item.setText(column, text)
    tip = f"{entry.path}" + (f"\n{entry.reason}" if entry.reason else "")
    if info is not None and info.settings.architecture is not None:
        tip += f"\narchitecture: {info.settings.architecture}"
    for column in range(len(COLUMNS)):
        item.setToolTip(column, tip)
    flags = Qt.ItemIsEnabled | Qt.ItemIsSelectable
    if info is not None and entry.reason is None:
        flags |= Qt.ItemIsUserCheckable
        item.setCheckState(RUN, Qt.Checked if ticked else Qt.Unchecked)
    item.setFlags(flags)
    # Greyed: cannot be opened. Blue: the run the studio shows (bold would not fit a narrow column).
    brush = QBrush(GREY) if entry.reason is not None else QBrush(CURRENT) if entry.path == current \
        else QBrush()
    for column in range(len(COLUMNS)):
        item.setForeground(column, brush)


def stopped_at(entry: RunEntry) -> str:
    """'\nat epoch 2,\nstep 7 of 20' for an interrupted run whose checkpoint is inside an epoch."""
    info = entry.info
    if entry.status != "interrupted" or not info.step or not info.steps_per_epoch:
        return ""
    return f"\nat epoch {info.epochs_done + 1},\nstep {info.step} of {info.steps_per_epoch}"


def local_time(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp
