"""The Help menu's tour (app/model/help.py's text) in a window that scrolls and fits the screen: a
message box as tall as the text ran off a 768 px screen."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from app.model.help import TOUR


def show_tour(parent) -> QDialog:
    dialog = QDialog(parent)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    dialog.setWindowTitle("How to read the workspaces")
    text = QTextBrowser()
    text.setHtml(TOUR)
    buttons = QDialogButtonBox(QDialogButtonBox.Close)
    buttons.rejected.connect(dialog.close)
    layout = QVBoxLayout(dialog)
    layout.addWidget(text, 1)
    layout.addWidget(buttons)
    screen = dialog.screen().availableGeometry()
    dialog.resize(min(760, screen.width() - 40), min(640, screen.height() - 80))
    dialog.show()
    return dialog
