"""Results you can click into: the confusion matrix of the test (or training) set with each class's
accuracy, and a gallery: the images of a clicked cell (highest loss first), the hardest examples
(highest loss) or the confident mistakes (wrong with the highest probability). A click on an image
chooses it as the sample; a double-click opens the step-through on it."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QListView, QListWidget, QListWidgetItem,
                               QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from cnn.evaluation import accuracy_text, per_class_accuracy

from app.studio.sample_picker import thumbnail
from app.widgets.wheel_guard import guard_wheel

GALLERY = 96            # images shown at once
MODES = (("cell", "the clicked cell"), ("hardest", "hardest examples (highest loss)"),
         ("mistakes", "confident mistakes"))


class ResultsView(QWidget):
    evaluate_requested = Signal(str)     # split
    sample_clicked = Signal(str, int)    # split, index
    sample_opened = Signal(str, int)     # double-click: step through it

    def __init__(self, parent=None):
        super().__init__(parent)
        self.split = QComboBox()
        self.split.addItem("test set", "test")
        self.split.addItem("training set", "train")
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setToolTip("Every image of the split with the current weights (Ctrl+Shift+E)")
        self.mode = QComboBox()
        for key, text in MODES:
            self.mode.addItem(text, key)
        top = QHBoxLayout()
        top.addWidget(self.split)
        top.addWidget(self.evaluate_button)
        gallery_choice = QHBoxLayout()
        gallery_choice.addWidget(QLabel("Gallery:"))
        gallery_choice.addWidget(self.mode, 1)
        self.caption = QLabel("No evaluation yet: press Evaluate.")
        self.caption.setObjectName("caption")
        self.caption.setTextFormat(Qt.RichText)
        self.caption.setWordWrap(True)
        self.matrix = confusion_table()
        self.gallery_caption = QLabel("")
        self.gallery_caption.setWordWrap(True)
        self.gallery = gallery_list()
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(gallery_choice)
        column.addWidget(self.gallery_caption)
        column.addWidget(self.gallery, 1)
        splitter = self.splitter = QSplitter(Qt.Vertical)   # the matrix above its gallery (beside it where wide)
        splitter.addWidget(self.matrix)
        splitter.addWidget(right)
        splitter.setSizes([300, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.caption)
        layout.addWidget(splitter, 1)
        self.results: dict = {}          # split → SampleResults
        self.stale = False               # results arrived while hidden: the matrix shows them when shown
        self.when: dict = {}             # split → when its weights are from ("after epoch 3", …)
        self.moment = "with the current weights"   # what the timeline shows: results from now on are of it
        self.images, self.labels = {}, {}
        self.chosen_cell: tuple[int, int] | None = None
        self.shown: list[int] = []       # sample indices in the gallery, in order
        self.evaluate_button.clicked.connect(self.evaluate)
        self.split.currentIndexChanged.connect(self._split_changed)
        self.mode.currentIndexChanged.connect(self._fill_gallery)
        self.matrix.cellClicked.connect(self.click_cell)
        self.gallery.itemClicked.connect(lambda item: self.sample_clicked.emit(self.current_split,
                                                                               item.data(Qt.UserRole)))
        self.gallery.itemDoubleClicked.connect(lambda item: self.sample_opened.emit(self.current_split,
                                                                                    item.data(Qt.UserRole)))
        guard_wheel(self)   # in its scrolled workspace, the wheel scrolls the panel past the split and gallery choices

    @property
    def current_split(self) -> str:
        return self.split.currentData()

    def set_model(self, info) -> None:
        self.images, self.labels, self.results, self.when = info.images, info.labels, {}, {}
        self.chosen_cell = None
        self._show()

    def evaluate(self) -> None:
        self.caption.setText(f"Evaluating the {self.split.currentText()}…")
        self.evaluate_requested.emit(self.current_split)

    def show_results(self, results, epoch: int | None = None) -> None:
        if epoch is not None:   # the weights moved on: the training set's evaluation is for older ones
            self.results.pop("train", None)
        self.results[results.split] = results
        self.when[results.split] = f"after epoch {epoch}" if epoch else self.moment
        if results.split == self.current_split:
            self.stale = not self.isVisible()   # a hidden matrix is filled when shown: each epoch's would cost
            if not self.stale:                  # the window's thread (and training the GIL) for nothing
                self._show()

    def moment_chosen(self, step: int | None, position: float | None) -> None:
        """The timeline shows the moment at `step` (`position` epochs in), or None: the weights now."""
        self.moment = "with the current weights" if step is None else "at the moment shown, " + (
            "the run's start" if step == 0 else f"after epoch {position:g}" if position == int(position)
            else f"step {step:,} (epoch {position:.2f})")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.stale:
            self._show()

    # -- the matrix ----------------------------------------------------------------------------------
    def _split_changed(self) -> None:
        self.chosen_cell = None
        if self.current_split not in self.results:
            self.evaluate()
        self._show()

    def _show(self) -> None:
        self.stale = False
        results = self.results.get(self.current_split)
        if results is None:
            self.matrix.setRowCount(0)
            self.matrix.setColumnCount(0)
            self.gallery.clear()
            return
        matrix = results.confusion()
        accuracy = per_class_accuracy(matrix)
        k = len(results.classes)
        self.matrix.setRowCount(k)
        self.matrix.setColumnCount(k + 1)
        self.matrix.setHorizontalHeaderLabels([f"→{c}" for c in results.classes] + ["% right"])
        header = self.matrix.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.Stretch)
        header.setSectionResizeMode(k, QHeaderView.ResizeToContents)   # its title whole ("% righ" with ten digits)
        self.matrix.setVerticalHeaderLabels([str(c) for c in results.classes])
        largest_wrong = max(int((matrix - np.diag(np.diag(matrix))).max(initial=0)), 1)
        for t in range(k):
            for p in range(k):
                count = int(matrix[t, p])
                item = QTableWidgetItem(str(count))
                item.setTextAlignment(Qt.AlignCenter)
                if t == p:
                    item.setBackground(QBrush(QColor(199, 233, 192)))
                elif count:
                    share = count / largest_wrong
                    item.setBackground(QBrush(QColor(255, int(235 - 130 * share), int(225 - 140 * share))))
                item.setToolTip(f"{image_count(count)} of {results.classes[t]} predicted as {results.classes[p]}")
                self.matrix.setItem(t, p, item)
            right = accuracy[t]
            item = QTableWidgetItem("—" if np.isnan(right) else f"{100 * right:.1f}")
            item.setToolTip(f"accuracy on the true {results.classes[t]}s")
            item.setTextAlignment(Qt.AlignCenter)
            item.setFlags(item.flags() & ~Qt.ItemIsSelectable)
            self.matrix.setItem(t, k, item)
        when = self.when.get(self.current_split, "with the current weights")
        self.caption.setText(f"<b>{self.split.currentText().capitalize()}</b> {when}: accuracy "
                             f"<b>{accuracy_text(results.accuracy)}</b> ({int(np.trace(matrix)):,} of "
                             f"{int(matrix.sum()):,}). Rows: the true digit, columns (→): the prediction, and "
                             "each digit's % right; click a cell.")
        if self.chosen_cell is not None:
            self.matrix.setCurrentCell(*self.chosen_cell)
        self._fill_gallery()

    def click_cell(self, row: int, column: int) -> None:
        results = self.results.get(self.current_split)
        if results is None or column >= len(results.classes):
            return
        self.chosen_cell = (row, column)
        self.matrix.setCurrentCell(row, column)
        self.mode.blockSignals(True)
        self.mode.setCurrentIndex(self.mode.findData("cell"))
        self.mode.blockSignals(False)
        self._fill_gallery()

    # -- the gallery ---------------------------------------------------------------------------------
    def _fill_gallery(self) -> None:
        results = self.results.get(self.current_split)
        self.gallery.clear()
        self.shown = []
        if results is None:
            return
        mode, classes = self.mode.currentData(), results.classes
        if mode == "cell":
            if self.chosen_cell is None:
                self.gallery_caption.setText("Click a cell of the matrix to see its images.")
                return
            t, p = self.chosen_cell
            chosen = results.cell(t, p)
            title = (f"{image_count(len(chosen))} of {classes[t]} predicted as {classes[p]}, highest loss first")
        elif mode == "hardest":
            chosen = results.hardest(GALLERY)
            title = "The highest losses"
        else:
            chosen = results.confident_mistakes()
            title = f"{len(chosen):,} mistakes, the most confident first"
        shown = chosen[:GALLERY]
        more = f" (the first {GALLERY})" if len(chosen) > GALLERY else ""
        # Each image is labelled with what it is sorted by: the loss E (it read "p 0.98, 0.99, 0.85…", unsorted)
        by_loss = mode != "mistakes"
        what = "the predicted digit and the loss E" if by_loss else "the predicted digit and its probability p"
        self.gallery_caption.setText(f"{title}{more}; under each: {what}. Click: show it; double-click: step "
                                     "through it.")
        images = self.images.get(self.current_split)
        for index in shown:
            index = int(index)
            wrong = results.true[index] != results.predicted[index]
            item = QListWidgetItem(thumbnail(images[index], QColor(214, 39, 40) if wrong else None),
                                   f"{classes[results.predicted[index]]} "
                                   + (f"E {results.losses[index]:.2g}" if by_loss else
                                      f"p {results.confidence[index]:.2f}"))
            item.setData(Qt.UserRole, index)
            item.setToolTip(f"#{index}: label {classes[results.true[index]]}, predicted "
                            f"{classes[results.predicted[index]]} (p = {results.confidence[index]:.3f}), "
                            f"loss {results.losses[index]:.4g}")
            self.gallery.addItem(item)
            self.shown.append(index)


def image_count(count: int) -> str:
    """'1 image', '2,417 images'."""
    return f"{count:,} image{'s' * (count != 1)}"


def confusion_table() -> QTableWidget:
    """The confusion matrix's table: read-only cells that stretch, counts in a smaller font."""
    matrix = QTableWidget(0, 0)
    matrix.setEditTriggers(QTableWidget.NoEditTriggers)
    matrix.setSelectionMode(QTableWidget.SingleSelection)
    matrix.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
    matrix.verticalHeader().setSectionResizeMode(QHeaderView.Stretch)
    font = matrix.font()
    font.setPointSizeF(font.pointSizeF() * 0.85)   # four-digit counts fit a narrow column without eliding
    matrix.setFont(font)
    matrix.setTextElideMode(Qt.ElideNone)
    matrix.horizontalHeader().setMinimumSectionSize(24)
    matrix.setToolTip("Rows: the true digit; columns: the predicted one. Click a cell to see its images.")
    return matrix


def gallery_list() -> QListWidget:
    """The gallery: thumbnails in a grid that reflows with the width."""
    gallery = QListWidget()
    gallery.setViewMode(QListView.IconMode)
    gallery.setIconSize(QSize(40, 40))
    gallery.setGridSize(QSize(48, 60))
    gallery.setMovement(QListView.Static)
    gallery.setResizeMode(QListView.Adjust)
    gallery.setUniformItemSizes(True)
    return gallery
