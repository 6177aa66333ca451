"""The chosen layer, shown by the picker above the views and the network summary's rows: the
weights, maps and gradient views follow it. The studio model owns the choice (app/model/studio.py:
a new network keeps it when its layers are the same, and otherwise starts at the first
convolution); a click asks the model (`requested`), and what it chose comes back (`show`)."""
from __future__ import annotations

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtWidgets import QComboBox, QListWidget, QListWidgetItem, QStyle, QStyleOptionComboBox, QStylePainter


FEW_ROWS = 4    # a network summary short of room shows this many layers and scrolls, rather than its column


class LayerChoice(QObject):
    changed = Signal(int)     # layer index: the model chose it (the views follow)
    requested = Signal(int)   # layer index: the user asked for it (the window sends it to the model)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layers: tuple = ()
        self.index = 0

    def set_layers(self, layers) -> None:
        """A new network's layers; the model's choice among them follows (show)."""
        self.layers = tuple(layers)

    def choose(self, index: int) -> None:
        if 0 <= index < len(self.layers):
            self.requested.emit(index)

    def show(self, index: int) -> None:
        if 0 <= index < len(self.layers):
            self.index = index
            self.changed.emit(index)


class LayerCombo(QComboBox):
    """A drop-down of the layers. Narrower than its title (ComboRoom in app/studio/workspaces.py keeps the
    tab names their room) it shows the title's start and an ellipsis; the list shows each whole."""

    def __init__(self, choice: LayerChoice, parent=None):
        super().__init__(parent)
        self.choice = choice
        self.setToolTip("The layer whose weights, maps and gradients the views show (also: click a row of the "
                        "network summary)")
        self.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        choice.changed.connect(self._show)
        self.activated.connect(lambda row: choice.choose(row))

    def shown_text(self) -> str:
        """The current title as drawn: cut to the field's width, with an ellipsis."""
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        field = self.style().subControlRect(QStyle.CC_ComboBox, option, QStyle.SC_ComboBoxEditField, self)
        return self.fontMetrics().elidedText(option.currentText, Qt.ElideRight, field.width())

    def paintEvent(self, _event) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.CC_ComboBox, option)
        option.currentText = self.shown_text()
        painter.drawControl(QStyle.CE_ComboBoxLabel, option)

    def _show(self, index: int) -> None:
        titles = [layer.title for layer in self.choice.layers]
        if [self.itemText(i) for i in range(self.count())] != titles:
            self.blockSignals(True)
            self.clear()
            self.addItems(titles)
            self.blockSignals(False)
        self.setCurrentIndex(index)


class NetworkSummary(QListWidget):
    """One clickable row per layer."""

    def __init__(self, choice: LayerChoice, parent=None):
        super().__init__(parent)
        self.choice = choice
        self.setObjectName("network-summary")
        self.setToolTip("Click a layer to show its weights, maps and gradients")
        self.setStyleSheet("#network-summary { font-size: 8pt; }")
        choice.changed.connect(self._show)
        self.itemClicked.connect(lambda item: choice.choose(item.data(Qt.UserRole)))

    def _show(self, index: int) -> None:
        titles = [layer.title for layer in self.choice.layers]
        if [self.item(i).text() for i in range(self.count())] != titles:
            self.clear()
            for layer in self.choice.layers:
                item = QListWidgetItem(layer.title)
                item.setData(Qt.UserRole, layer.index)
                self.addItem(item)
            # every layer when there is room; in a short window (1280×720 with the timeline bar, a long network)
            # FEW_ROWS and a scroll bar of its own, so that the settings above it need none
            row, frame = self.sizeHintForRow(0), 2 * self.frameWidth() + 2
            self.setMinimumHeight(row * min(self.count(), FEW_ROWS) + frame)
            self.setMaximumHeight(row * self.count() + frame)
            self.updateGeometry()
        self.setCurrentRow(index)

    def sizeHint(self) -> QSize:
        """FEW_ROWS: the column (a scroll area with word-wrapped text, which asks every widget its hint for
        its least height) needs no scroll bar for the rest; the room left then lets the summary grow to all."""
        return QSize(super().sizeHint().width(), self.minimumHeight())
