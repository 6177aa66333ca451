"""A new network in place of the one shown (another preset, other classes, images per class, seed or
type; an edited architecture, a file or run opened, a lesson's Show me), as a careful desktop program does
it: training kept nowhere (app/model/keeping.py) is not discarded without asking, and the answer that loses
nothing is the default; training kept in a run is replaced at once, the status bar saying where it stays."""
from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from app.model.keeping import SETTINGS
from app.model.state import RunState

TITLE = "Replace the trained network?"
ADVICE = "Keep it to go on training it, or to save its weights first (File ▸ Save weights, Ctrl+S)"
SETTINGS_BACK = "; the settings then go back to the network's."       # (when changed settings make the new one)
KEEP, DISCARD = "Keep the trained network", "Discard its training"
KEPT = "Kept the trained network"


def may_replace(window, replacement: str = SETTINGS) -> bool:
    """Whether `replacement` (the question's words for it) may replace the network shown; the user is asked
    when that would lose training, and the status bar says what Keep did.
    When it may, the note saying where the training stays waits in `window.replaced_note` for the new network."""
    kept, settings = window.kept, replacement == SETTINGS
    if kept.at_risk:
        running = window.state is RunState.RUNNING
        box = QMessageBox(QMessageBox.Warning, TITLE, kept.question(replacement, running), QMessageBox.NoButton, window)
        box.setObjectName("replace-network")
        box.setInformativeText(ADVICE + (SETTINGS_BACK if settings else "."))
        keep = box.addButton(KEEP, QMessageBox.RejectRole)
        discard = box.addButton(DISCARD, QMessageBox.DestructiveRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)     # Esc, or closing the box, keeps the network
        box.exec()
        if box.clickedButton() is not discard:
            window.statusBar().showMessage(KEPT + ("; the settings are the network's again." if settings else "."),
                                           8000)
            return False
    window.replaced_note = kept.note(replacement)
    return True
