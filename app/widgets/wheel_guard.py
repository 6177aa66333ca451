"""Spin boxes, combo boxes and sliders in a scrolled panel take the mouse wheel only when focused:
wheeling down the panel over an unfocused field scrolls the panel, never changes the field's value
silently (the Your digit panel's brush slider moved as the panel scrolled past it)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QSlider, QWidget


class _WheelGuard(QObject):
    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Wheel and not watched.hasFocus():
            # Handled here but not accepted: Qt passes an ignored wheel event on to the parent (the scroll area).
            event.ignore()
            return True
        return False


def guard_wheel(panel: QWidget) -> None:
    """Every spin box, combo box and slider under `panel`: the wheel only when focused, and the wheel does
    not focus it."""
    guard = _WheelGuard(panel)
    for field in (*panel.findChildren(QAbstractSpinBox), *panel.findChildren(QComboBox), *panel.findChildren(QSlider)):
        field.setFocusPolicy(Qt.StrongFocus)
        field.installEventFilter(guard)
