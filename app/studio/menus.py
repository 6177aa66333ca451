"""The studio's menu bar: File, Training, Sample, View, Help, built on the window's commands."""
from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence

from app.studio.recent_files import RecentFiles
from app.model.workspace_names import TIPS, WORKSPACES


def build_menus(window) -> None:
    """The menus of `window` (a MainWindow); the actions others use are kept on it (open_action, …)."""

    def add(menu, text, slot, shortcut=None, tip=None) -> QAction:
        action = QAction(text, window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip or "")
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    file = window.menuBar().addMenu("&File")
    window.open_action = add(file, "&Open weights…", window.open_weights_dialog, QKeySequence.Open,
        "Load a saved network and show it")
    window.recent = RecentFiles(window.settings, file.addMenu("Open &recent"), window.open_weights)
    add(file, "Open &image of a digit…", window.your_digit.open_dialog, "Ctrl+Shift+O",
        "A PNG, JPEG or BMP of a digit: the network reads it as MNIST's preprocessing makes it")
    window.save_action = add(file, "&Save weights…", window.save_weights_dialog, QKeySequence.Save,
        "Save the network's weights to an .npz file")
    window.export_action = add(file, "&Export view as PNG…", window.export_dialog, "Ctrl+E",
        "Save a picture of the open workspace")
    file.addSeparator()
    add(file, "&Quit", window.close, QKeySequence.Quit)
    training = window.menuBar().addMenu("&Training")
    for action in window.controls.actions()[:4]:
        training.addAction(action)
    training.addSeparator()
    window.evaluate_action = add(training, "&Evaluate", window.results_view.evaluate, "Ctrl+Shift+E",
        "The confusion matrix and galleries with the current weights")
    sample = window.menuBar().addMenu("&Sample")
    add(sample, "Next &misclassified", window.sample_picker.jump_to_next_misclassified, "Ctrl+M")
    sample.addAction(window.controls.step)
    add(training, "Edit &architecture…", window.edit_architecture, "Ctrl+Shift+A",
        "Change the network's layers; Apply starts a new run with them")
    view = window.menuBar().addMenu("&View")
    for number, (name, title) in enumerate(WORKSPACES, start=1):
        add(view, f"&{number} {title}", lambda _=False, name=name: window.show_workspace(name), f"Ctrl+{number}",
            TIPS[name])
    help_menu = window.menuBar().addMenu("&Help")
    add(help_menu, "&Lesson", lambda: window.lesson.reopen(), "Ctrl+L",
        "The guided lesson beside the workspaces, at the section you were at")
    add(help_menu, "&How to read the workspaces", window.show_tour, QKeySequence.HelpContents)
    add(help_menu, "&About CNN Studio", window.show_about)
