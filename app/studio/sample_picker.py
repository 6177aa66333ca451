"""Choose the sample whose maps and gradients are drawn: split, index, previous/next, a strip of
thumbnails, and a jump to the next misclassified image."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (QComboBox, QGridLayout, QGroupBox, QListView, QListWidget, QListWidgetItem,
                               QPushButton, QSpinBox)

PAGE = 48          # thumbnails in the strip at a time
THUMB = 36


def thumbnail(image: np.ndarray, mark: QColor | None) -> QIcon:
    """A 28×28 image in [0, 1] as an icon, white digit on black, with a coloured frame if marked."""
    pixels = np.ascontiguousarray((np.clip(image, 0, 1) * 255).astype(np.uint8))
    qimage = QImage(pixels.data, pixels.shape[1], pixels.shape[0], pixels.strides[0], QImage.Format_Grayscale8)
    pixmap = QPixmap.fromImage(qimage.copy()).scaled(THUMB, THUMB)
    if mark is not None:
        painter = QPainter(pixmap)
        painter.setPen(mark)
        painter.drawRect(0, 0, THUMB - 1, THUMB - 1)
        painter.drawRect(1, 1, THUMB - 3, THUMB - 3)
        painter.end()
    return QIcon(pixmap)


class SamplePicker(QGroupBox):
    sample_changed = Signal(str, int)

    def __init__(self, parent=None):
        super().__init__("Sample", parent)
        grid = QGridLayout(self)
        self.split = QComboBox()
        self.split.addItem("test set", "test")
        self.split.addItem("training set", "train")
        self.index = QSpinBox()
        self.index.setRange(0, 0)
        self.index.setKeyboardTracking(False)
        self.previous = QPushButton("◀")
        self.previous.setToolTip("Previous image (Alt+Left)")
        self.previous.setShortcut("Alt+Left")
        self.next = QPushButton("▶")
        self.next.setToolTip("Next image (Alt+Right)")
        self.next.setShortcut("Alt+Right")
        self.next_wrong = QPushButton("Next misclassified")
        self.next_wrong.setToolTip("Jump to the next test image the network gets wrong")
        self.strip = QListWidget()
        self.strip.setViewMode(QListView.IconMode)
        self.strip.setFlow(QListView.LeftToRight)
        self.strip.setWrapping(True)
        self.strip.setIconSize(QSize(THUMB, THUMB))
        self.strip.setMovement(QListView.Static)
        self.strip.setResizeMode(QListView.Adjust)
        self.strip.setSpacing(1)
        self.strip.setGridSize(QSize(THUMB + 6, THUMB + 6))
        self.strip.setUniformItemSizes(True)
        self.strip.setMinimumHeight(2 * THUMB + 16)
        grid.addWidget(self.split, 0, 0, 1, 2)
        grid.addWidget(self.index, 0, 2, 1, 2)
        grid.addWidget(self.previous, 1, 0)
        grid.addWidget(self.next, 1, 1)
        grid.addWidget(self.next_wrong, 1, 2, 1, 2)
        grid.addWidget(self.strip, 2, 0, 1, 4)
        self.images = {"train": np.zeros((1, 28, 28)), "test": np.zeros((1, 28, 28))}
        self.labels = {"train": np.zeros(1, int), "test": np.zeros(1, int)}
        self.predicted_labels: dict[str, np.ndarray] = {}
        self.page_start = -1
        self.split.currentIndexChanged.connect(self._split_changed)
        self.index.valueChanged.connect(self._index_changed)
        self.previous.clicked.connect(lambda: self.index.setValue(self.index.value() - 1))
        self.next.clicked.connect(lambda: self.index.setValue(self.index.value() + 1))
        self.next_wrong.clicked.connect(self.jump_to_next_misclassified)
        self.strip.itemClicked.connect(lambda item: self.index.setValue(item.data(Qt.UserRole)))

    @property
    def current(self) -> tuple[str, int]:
        return self.split.currentData(), self.index.value()

    def set_data(self, images: dict, labels: dict) -> None:
        self.images, self.labels, self.predicted_labels = images, labels, {}
        self.index.setMaximum(len(images[self.split.currentData()]) - 1)
        self._refresh_strip(force=True)

    def set_predictions(self, split: str, predicted: np.ndarray) -> None:
        """Digits the network predicts for a split; misclassified thumbnails get a red frame."""
        self.predicted_labels[split] = predicted
        self.next_wrong.setEnabled(True)
        self._refresh_strip(force=True)

    def select(self, split: str, index: int) -> None:
        self.split.setCurrentIndex(self.split.findData(split))
        self.index.setValue(index)

    def jump_to_next_misclassified(self) -> bool:
        split, index = self.current
        predicted = self.predicted_labels.get(split)
        if predicted is None:
            return False
        wrong = np.flatnonzero(predicted != self.labels[split])
        if wrong.size == 0:
            self.next_wrong.setText("None misclassified")
            return False
        self.next_wrong.setText(f"Next misclassified ({wrong.size})")
        later = wrong[wrong > index]
        self.index.setValue(int(later[0] if later.size else wrong[0]))
        return True

    def _split_changed(self) -> None:
        split = self.split.currentData()
        self.index.blockSignals(True)
        self.index.setMaximum(len(self.images[split]) - 1)
        self.index.blockSignals(False)
        self._refresh_strip(force=True)
        self.sample_changed.emit(*self.current)

    def _index_changed(self) -> None:
        self._refresh_strip()
        self.sample_changed.emit(*self.current)

    def _refresh_strip(self, force: bool = False) -> None:
        split, index = self.current
        start = (index // PAGE) * PAGE
        if force or start != self.page_start:
            self.page_start = start
            self.strip.clear()
            images, labels = self.images[split], self.labels[split]
            predicted = self.predicted_labels.get(split)
            for i in range(start, min(start + PAGE, len(images))):
                wrong = predicted is not None and predicted[i] != labels[i]
                item = QListWidgetItem(thumbnail(images[i], QColor(214, 39, 40) if wrong else None), "")
                item.setData(Qt.UserRole, i)
                item.setToolTip(f"#{i}: label {labels[i]}" + (f", predicted {predicted[i]}" if predicted is not None else ""))
                self.strip.addItem(item)
        row = index - self.page_start
        if 0 <= row < self.strip.count():
            self.strip.setCurrentRow(row)
