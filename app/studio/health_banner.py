"""An amber banner over the views with the health watch's plain-language warnings: the network has
saturated or died. It follows the records as they come and clears for a new network."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton

from app.model.health_watch import HealthWatch


class HealthBanner(QFrame):
    warned = Signal(str)      # the warnings' text, when new ones appear

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("health-banner")
        self.setStyleSheet("#health-banner { background: #fff3cd; border: 1px solid #e0a800; border-radius: 4px; }")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        dismiss = QToolButton()
        dismiss.setText("✕")
        dismiss.setToolTip("Dismiss (it comes back if the network gets worse)")
        dismiss.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.text, 1)
        layout.addWidget(dismiss)
        self.watch = HealthWatch()
        self.hide()

    def subscribe(self, worker) -> None:
        worker.records.connect(self.add)
        worker.health.connect(self.add)
        worker.model_changed.connect(self.set_model)

    def set_model(self, info) -> None:
        self.watch = HealthWatch({layer.index: layer.kind for layer in info.layers})
        self.text.setText("")
        self.hide()

    def add(self, records) -> None:
        if not self.watch.add(records):
            return
        warnings = self.watch.warnings
        if not warnings:
            self.hide()
            return
        text = " ".join(warnings)
        self.text.setText(f"<b>⚠ The network is in trouble.</b> {text}")
        self.show()
        self.warned.emit(text)
