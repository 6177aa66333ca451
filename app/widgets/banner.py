"""A dismissable red banner over the views: errors in plain words, never a modal dialog."""
from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget


class ErrorBanner(QFrame):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("banner")
        self.setStyleSheet("#banner { background: #fde2e1; border: 1px solid #d62728; border-radius: 4px; }")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        dismiss = QToolButton()
        dismiss.setText("✕")
        dismiss.setToolTip("Dismiss")
        dismiss.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(dismiss)
        self.hide()

    def show_text(self, text: str) -> None:
        self.text.setText(text)
        self.show()


class BannerStack(QWidget):
    """The banners over the bottom right of the views, just above `below` (the timeline bar): shown, they cover
    the views rather than move them (in the layout, a banner moved the settings and the lesson's buttons by its
    height under the pointer). It shows itself while one of them is shown, and follows their text's height."""

    def __init__(self, parent: QWidget, banners, below: QWidget):
        super().__init__(parent)
        self.banners, self.below = list(banners), below
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        for banner in self.banners:
            layout.addWidget(banner)
            banner.installEventFilter(self)
        parent.installEventFilter(self)
        self.hide()

    def eventFilter(self, watched, event) -> bool:
        if event.type() in (QEvent.ShowToParent, QEvent.HideToParent) or (
                watched is self.parent() and event.type() == QEvent.Resize):
            self.place()
        return False

    def event(self, event) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.LayoutRequest:   # a banner's text changed: its height too
            self.place()
        return handled

    def place(self) -> None:
        shown = any(not banner.isHidden() for banner in self.banners)
        self.setVisible(shown)
        if not shown:
            return
        room = self.parent().width()
        width = min(room - 8, max(420, room * 11 // 20))
        height = self.heightForWidth(width) if self.hasHeightForWidth() else self.sizeHint().height()
        self.setGeometry(room - width - 4, self.below.y() - height - 4, width, height)
        self.raise_()
