"""A vertical-only scroll area cuts off whatever is wider than it: keep it as wide as its content
asks, also when the content grows later (a button's text lengthens, a label changes)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


class WidthFittingScrollArea(QScrollArea):
    def __init__(self, content: QWidget, parent=None):
        super().__init__(parent)
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        # Focusing a field calls ensureWidgetVisible, which scrolls sideways even with the bar off and
        # cuts the labels' first letters: this area never scrolls sideways.
        bar = self.horizontalScrollBar()
        bar.valueChanged.connect(lambda value: value and bar.setValue(0))
        self._watcher = _LayoutWatcher(self)
        # A child's changed size reaches the widget whose layout holds it first, as a LayoutRequest: only
        # widgets with a layout are watched (the rest, labels and buttons, had every paint and enabling filtered
        # in Python, a hundred events each time a run starts or stops, on the thread whose GIL training needs).
        for widget in (content, *content.findChildren(QWidget)):
            if widget.layout() is not None:
                widget.installEventFilter(self._watcher)
        content.layout().activate()
        self.fit()

    def needed_width(self) -> int:
        return self.widget().minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 4

    def fit(self) -> None:
        width = self.needed_width()
        if width > self.minimumWidth() or width < self.minimumWidth() - 40:  # grow at once; shrink only by a lot
            self.setMinimumWidth(width)


class _LayoutWatcher(QObject):
    def __init__(self, area: WidthFittingScrollArea):
        super().__init__(area)
        self.area = area
        self._pending = False

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.LayoutRequest and not self._pending:
            self._pending = True
            QTimer.singleShot(0, self, self._fit)  # with a context: not after the area is gone
        return False

    def _fit(self) -> None:
        self._pending = False
        self.area.fit()
