"""Choose the sample whose maps and gradients are drawn: split, index, previous/next, a strip of
thumbnails, and a jump to the next misclassified image."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (QComboBox, QGridLayout, QGroupBox, QLabel, QListView, QListWidget,
                               QListWidgetItem, QPushButton, QSpinBox)

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
    predictions_wanted = Signal(str)    # a split whose predictions "Next misclassified" needs

    def __init__(self, parent=None):
        super().__init__("Sample", parent)
        self.unmarked = False     # predictions came while hidden: the strip's frames follow when shown
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
        for arrow in (self.previous, self.next):   # an arrow needs no button style's 80 px: the layer views take them
            arrow.setMinimumWidth(3 * arrow.fontMetrics().horizontalAdvance("◀"))
        self.next_wrong = QPushButton("Next misclassified")
        self.next_wrong.setToolTip("Jump to the next image of this set the network gets wrong (Ctrl+M)")
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
        self.caption = QLabel("")      # while your drawing or picture is the sample, says so
        self.caption.setObjectName("caption")
        self.caption.setWordWrap(True)
        self.caption.setVisible(False)
        grid.addWidget(self.caption, 3, 0, 1, 4)
        self.image_shown: str | None = None   # what of yours the views show instead of this picker's image
        self.images = {"train": np.zeros((1, 28, 28)), "test": np.zeros((1, 28, 28))}
        self.labels = {"train": np.zeros(1, int), "test": np.zeros(1, int)}
        self.predicted_labels: dict[str, np.ndarray] = {}
        self.pending_jump: str | None = None   # a split whose predictions were asked for a jump
        self.page_start = -1
        self._marks: list[bool] = []     # which of the strip's thumbnails are framed red
        self.split.currentIndexChanged.connect(self._split_changed)
        self.index.valueChanged.connect(self._index_changed)
        self.previous.clicked.connect(lambda: self.index.setValue(self.index.value() - 1))
        self.next.clicked.connect(lambda: self.index.setValue(self.index.value() + 1))
        self.next_wrong.clicked.connect(self.jump_to_next_misclassified)
        self.strip.itemClicked.connect(lambda item: self._pick(item.data(Qt.UserRole)))

    @property
    def current(self) -> tuple[str, int]:
        return self.split.currentData(), self.index.value()

    def set_data(self, images: dict, labels: dict) -> None:
        self.images, self.labels, self.predicted_labels = images, labels, {}
        self.pending_jump = None
        self.index.setMaximum(len(images[self.split.currentData()]) - 1)
        self._refresh_strip(force=True)
        self._count_wrong()

    def set_predictions(self, split: str, predicted: np.ndarray | None) -> None:
        """Digits the network predicts for a split (None: not known for the weights shown, a moment of the
        timeline); misclassified thumbnails get a red frame. New test predictions mean new weights: older
        ones of the training set are dropped (asked again when needed)."""
        if split == "test":
            self.predicted_labels.pop("train", None)
        self.predicted_labels[split] = predicted
        self.unmarked = not self.isVisible()   # a hidden strip (Inspect not shown) is marked when shown: each
        if not self.unmarked:                  # epoch's predictions cost the GIL training needs for nothing
            self._mark_strip()
        self._count_wrong()
        if self.pending_jump == split and predicted is not None:
            self.pending_jump = None
            if self.current[0] == split:
                self.jump_to_next_misclassified()

    def wrong(self, split: str) -> np.ndarray | None:
        """Indices of the split's misclassified images, or None before its predictions are known."""
        predicted = self.predicted_labels.get(split)
        if predicted is None or len(predicted) != len(self.labels[split]):
            return None
        return np.flatnonzero(predicted != self.labels[split])

    def _count_wrong(self) -> None:
        """The button says how many of the shown set's images are misclassified, now."""
        wrong = self.wrong(self.current[0])
        if wrong is None:
            self.next_wrong.setText("Find misclassified")
        elif wrong.size == 0:
            self.next_wrong.setText("None misclassified")
        else:
            self.next_wrong.setText(f"Next misclassified ({wrong.size})")

    def show_image(self, sample) -> None:
        """Your drawing or picture (an ImageSample) is the sample the views show: the caption says so and
        no thumbnail is highlighted as if chosen; None: this picker's image is the sample again."""
        self.image_shown = None if sample is None else (
            "your drawing" if sample.name == "drawing" and sample.number < 0 else
            f"your sample #{sample.number}" if sample.number >= 0 else f"your picture {sample.name}")
        self.caption.setText(f"Showing {self.image_shown} — pick an image to go back" if self.image_shown else "")
        self.caption.setVisible(self.image_shown is not None)
        self._refresh_strip()

    def _pick(self, index: int) -> None:
        """A thumbnail clicked: its image is the sample, also when it is the one under your image."""
        if index == self.index.value() and self.image_shown is not None:
            self.sample_changed.emit(*self.current)
        else:
            self.index.setValue(index)

    def select(self, split: str, index: int) -> None:
        self.split.setCurrentIndex(self.split.findData(split))
        self.index.setValue(index)

    def jump_to_next_misclassified(self) -> bool:
        """Selects the next misclassified image of the shown set; without its predictions, asks for
        them (predictions_wanted) and jumps when they arrive."""
        split, index = self.current
        wrong = self.wrong(split)
        if wrong is None:
            self.pending_jump = split
            self.next_wrong.setText("Finding misclassified…")
            self.predictions_wanted.emit(split)
            return False
        if wrong.size == 0:
            return False
        later = wrong[wrong > index]
        self.index.setValue(int(later[0] if later.size else wrong[0]))
        return True

    def _split_changed(self) -> None:
        split = self.split.currentData()
        self.index.blockSignals(True)
        self.index.setMaximum(len(self.images[split]) - 1)
        self.index.blockSignals(False)
        self._refresh_strip(force=True)
        self._count_wrong()
        self.sample_changed.emit(*self.current)

    def _index_changed(self) -> None:
        self._refresh_strip()
        self.sample_changed.emit(*self.current)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.unmarked:
            self._mark_strip()

    def _mark_strip(self) -> None:
        """New predictions: the thumbnails are drawn again only if their red frames change (each epoch's
        predictions come while training; drawing 48 icons each time held the GIL training needs)."""
        self.unmarked = False
        split, index = self.current
        labels, predicted = self.labels[split], self.predicted_labels.get(split)
        start = (index // PAGE) * PAGE
        shown = range(start, min(start + PAGE, len(labels)))
        marks = [predicted is not None and predicted[i] != labels[i] for i in shown]
        if start != self.page_start or self.strip.count() != len(shown) or marks != self._marks:
            self._refresh_strip(force=True)
            return
        for row, i in enumerate(shown):
            self.strip.item(row).setToolTip(_tip(i, labels, predicted))

    def _refresh_strip(self, force: bool = False) -> None:
        split, index = self.current
        start = (index // PAGE) * PAGE
        if force or start != self.page_start:
            self.page_start = start
            self.strip.clear()
            images, labels = self.images[split], self.labels[split]
            predicted = self.predicted_labels.get(split)
            self._marks = []
            for i in range(start, min(start + PAGE, len(images))):
                wrong = predicted is not None and predicted[i] != labels[i]
                self._marks.append(wrong)
                item = QListWidgetItem(thumbnail(images[i], QColor(214, 39, 40) if wrong else None), "")
                item.setData(Qt.UserRole, i)
                item.setToolTip(_tip(i, labels, predicted))
                self.strip.addItem(item)
        row = index - self.page_start
        if self.image_shown is not None:   # no MNIST image is the sample: none highlighted
            self.strip.setCurrentRow(-1)
            self.strip.clearSelection()
        elif 0 <= row < self.strip.count():
            self.strip.setCurrentRow(row)


def _tip(i: int, labels: np.ndarray, predicted: np.ndarray | None) -> str:
    return f"#{i}: label {labels[i]}" + (f", predicted {predicted[i]}" if predicted is not None else "")
