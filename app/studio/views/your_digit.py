"""Your own digit: the drawing pad or an opened picture, MNIST's preprocessing step by step, the
network's answer, the true digit you pick, and the session's list of your samples. The image becomes
the chosen sample (`sample_chosen`): every view follows it as an MNIST image, and the step-through."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QListView, QListWidget,
                               QListWidgetItem, QPushButton, QSlider, QVBoxLayout, QWidget)

from cnn.files import shown
from cnn.pictures import PictureError, load_digit
from cnn.preprocess import EmptyImage, Preprocessed, preprocess

from app.model import digit_answer
from app.studio.sample_picker import thumbnail
from app.studio.views.digit_stages import DigitStages
from app.studio.views.draw_pad import DEFAULT_WIDTH, DrawPad
from app.model.my_samples import ImageSample
from app.widgets.image_files import FILE_FILTER
from app.widgets.wheel_guard import guard_wheel


class YourDigitPanel(QWidget):
    sample_chosen = Signal(object)     # ImageSample: show this image everywhere
    drawing_withdrawn = Signal(object, object)   # the pad's drawing is gone (undo, clear): it, and the sample
    #                                              chosen before it (an ImageSample, or None: the picker's)
    step_through_requested = Signal()
    failed = Signal(str)               # a picture that cannot be read, or a blank page
    opened = Signal(str)               # a picture was read (its path)

    def __init__(self, parent=None):
        super().__init__(parent)
        # Two columns, the pad and its tools | what the network makes of it: in one column the answer
        # was below the fold at 1280×720 (and at 1600×1000 beside the views).
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._drawing_column(), 1)
        layout.addLayout(self._reading_column(), 1)
        self.kept: list[ImageSample] = []
        self.current: ImageSample | None = None
        self.preprocessed: Preprocessed | None = None
        self.source = "drawing"
        self.before_drawing = (None, None, "drawing")   # (sample, preprocessed, source) chosen before the pad's drawing
        self.classes, self.untrained = (), False      # what the network reads, and whether it has learnt anything
        guard_wheel(self)   # in its scrolled workspace, the wheel scrolls the panel past the brush and the true digit
        self.pad.changed.connect(self._drawn)
        self.pad.cleared.connect(self._pad_cleared)
        self._set_buttons()

    def _drawing_column(self) -> QVBoxLayout:
        """The pad, its brush and tools, and your kept samples."""
        self.pad = DrawPad()
        self.brush = QSlider(Qt.Horizontal)
        self.brush.setRange(6, 40)
        self.brush.setValue(DEFAULT_WIDTH)
        self.brush.setToolTip("Brush width")
        self.brush.valueChanged.connect(self.pad.set_brush_width)
        self.undo_button, self.clear_button = QPushButton("Undo"), QPushButton("Clear")
        self.undo_button.setShortcut("Ctrl+Z")
        self.open_button = QPushButton("Open image…")
        self.open_button.setToolTip("A PNG, JPEG, BMP… of a digit: dark ink on paper or white on black")
        self.undo_button.clicked.connect(self.pad.undo)
        self.clear_button.clicked.connect(self.pad.clear)
        self.open_button.clicked.connect(self.open_dialog)
        brush = QHBoxLayout()
        brush.addWidget(QLabel("Brush"))
        brush.addWidget(self.brush, 1)
        tools = QGridLayout()
        tools.addWidget(self.undo_button, 0, 0)
        tools.addWidget(self.clear_button, 0, 1)
        tools.addWidget(self.open_button, 1, 0, 1, 2)
        self.samples = QListWidget()
        self.samples.setViewMode(QListView.IconMode)
        self.samples.setIconSize(QSize(36, 36))
        self.samples.setMovement(QListView.Static)
        self.samples.setResizeMode(QListView.Adjust)
        self.samples.setMaximumHeight(60)
        self.samples.itemClicked.connect(lambda item: self.choose_kept(item.data(Qt.UserRole)))
        drawing = QVBoxLayout()
        drawing.addWidget(self.pad, 1)
        drawing.addLayout(brush)
        drawing.addLayout(tools)
        drawing.addWidget(QLabel("My samples (this session)"))
        drawing.addWidget(self.samples)
        return drawing

    def _reading_column(self) -> QVBoxLayout:
        """What the network makes of the picture: the preprocessing's stages, the answer, the class bars,
        the true digit you pick."""
        self.stages = DigitStages()
        self.stage_images = self.stages.images
        self.answer = QLabel(digit_answer.PROMPT)
        self.answer.setObjectName("answer")
        self.answer.setTextFormat(Qt.RichText)
        self.answer.setWordWrap(True)
        # Room for the longest answer (a large digit and three lines), so that a new answer, or Clear,
        # never re-lays out the panel: that resized the plots below and cost a redraw of each.
        lines = self.answer.fontMetrics().lineSpacing()
        self.answer.setMinimumHeight(7 * lines)   # the digit in 20 pt takes about two lines, the note one or two
        self.answer.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.bars_widget = pg.PlotWidget()
        self.bars_widget.setMinimumHeight(70)
        self.bars_widget.setMouseEnabled(x=False, y=False)
        self.bars_widget.hideButtons()
        self.bars_widget.setYRange(0, 1, padding=0.05)
        self.bars = pg.BarGraphItem(x=[0], height=[0], width=0.7)
        self.bars_widget.addItem(self.bars)
        self.label = QComboBox()
        self.label.addItem("as predicted", None)
        for digit in range(10):
            self.label.addItem(str(digit), digit)
        self.label.setToolTip("The true digit: it sets the loss and the gradients, and the step-through's target")
        self.label.currentIndexChanged.connect(self._label_changed)
        self.keep_button = QPushButton("Keep in my samples")
        self.keep_button.clicked.connect(self.keep)
        self.step_button = QPushButton("Step through")
        self.step_button.setToolTip("Open the step-through on this image (Ctrl+T)")
        self.step_button.clicked.connect(self.step_through_requested)
        grid = QGridLayout()
        grid.addWidget(QLabel("True digit"), 0, 0)
        grid.addWidget(self.label, 0, 1)
        grid.addWidget(self.step_button, 1, 0, 1, 2)
        grid.addWidget(self.keep_button, 2, 0, 1, 2)
        reading = QVBoxLayout()
        reading.addWidget(self.stages, 1)
        reading.addWidget(self.answer)
        reading.addWidget(self.bars_widget, 1)
        reading.addLayout(grid)
        return reading

    # -- inputs ------------------------------------------------------------------------------------
    def _drawn(self, pixels: np.ndarray, drawing: bool) -> None:
        try:
            result = preprocess(pixels)
        except EmptyImage:
            return  # a dot too faint to read: wait for more ink
        if not self._drawing_shown():     # the pad's first stroke: what was chosen comes back when it is undone
            self.before_drawing = (self.current, self.preprocessed, self.source)
        if self.source != "drawing":      # a drawing after an opened picture: a new sample, no true digit yet
            self._forget_label()
        self.source = "drawing"
        self.show_image(result, "drawing", drawing)

    def _forget_label(self) -> None:
        """A new picture: the true digit picked for the last one does not carry over."""
        self.label.blockSignals(True)
        self.label.setCurrentIndex(0)
        self.label.blockSignals(False)

    def _drawing_shown(self) -> bool:
        return self.current is not None and self.current.number < 0 and self.source == "drawing"

    def _pad_cleared(self) -> None:
        """Undo to an empty pad, or Clear: the sample chosen before the drawing is chosen again."""
        if self.source != "drawing":
            return
        drawing = self.current if self._drawing_shown() else None
        if drawing is not None:
            self.current, self.preprocessed, self.source = self.before_drawing
            self.before_drawing = (None, None, "drawing")
        else:
            self.preprocessed = None
        self.label.blockSignals(True)
        self.label.setCurrentIndex(self.label.findData(self.current.label) if self.current is not None else 0)
        self.label.blockSignals(False)
        self.stages.clear_stages()
        if self.preprocessed is not None:
            self.stages.show_stages(self.preprocessed)
        else:
            self._clear_bars()             # no picture of yours left: no bar of the drawing's answer
        self.answer.setText(digit_answer.prompt(self.classes, self.untrained))
        self._set_buttons()
        if drawing is not None:
            self.drawing_withdrawn.emit(drawing, self.current)

    def show_other(self, description: str) -> None:
        """The views show `description` ('test image #0'), not an image of yours: the answer says so."""
        if self.current is None:
            self._clear_bars()
            self.answer.setText(digit_answer.prompt(self.classes, self.untrained, description))

    def _clear_bars(self) -> None:
        self.bars.setOpts(x=[0], height=[0], brushes=None, width=0.7)
        self.bars_widget.getAxis("bottom").setTicks(None)

    def open_image(self, path) -> bool:
        """Preprocess the picture in `path` as cnn-predict does (cnn.pictures) and choose it; a bad file is
        reported in cnn.pictures' one line naming it, and nothing changes."""
        try:
            result = load_digit(path)
        except PictureError as error:
            self.failed.emit(str(error))
            return False
        self.source = shown(Path(path).name)   # a name that is not UTF-8 shown with its bytes escaped
        self.pad.clear()                  # the pad shows no drawing that is not the sample (source: not drawing)
        self._forget_label()
        self.show_image(result, self.source, False)
        self.opened.emit(shown(path))
        return True

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a picture of a digit", "", FILE_FILTER)
        if path:
            self.open_image(path)

    def show_image(self, result: Preprocessed, name: str, drawing: bool) -> None:
        """Shows the stages and chooses the 28×28 image as the sample."""
        self.preprocessed = result
        self.stages.show_stages(result)
        self.current = ImageSample(name, -1, result.image, self.label.currentData(), drawing)
        self._set_buttons()
        self.sample_chosen.emit(self.current)

    def keep(self) -> None:
        """Adds the image shown to the session's list of your samples."""
        if self.current is None:
            return
        sample = ImageSample(self.current.name, len(self.kept), self.current.image, self.label.currentData())
        self.kept.append(sample)
        item = QListWidgetItem(thumbnail(sample.image, None), "")
        item.setData(Qt.UserRole, sample.number)
        item.setToolTip(f"#{sample.number}: {sample.name}" + (f", true digit {sample.label}"
                                                                if sample.label is not None else ""))
        self.samples.addItem(item)
        self.current = sample
        self.sample_chosen.emit(sample)

    def choose_kept(self, number: int) -> None:
        sample = self.kept[number]
        self.current = sample
        self.label.blockSignals(True)
        self.label.setCurrentIndex(self.label.findData(sample.label))
        self.label.blockSignals(False)
        self.sample_chosen.emit(sample)

    def _label_changed(self) -> None:
        if self.current is None:
            return
        self.current = ImageSample(self.current.name, self.current.number, self.current.image,
                                   self.label.currentData())
        if self.current.number >= 0:
            self.kept[self.current.number] = self.current
        self.sample_chosen.emit(self.current)

    def _set_buttons(self) -> None:
        for button in (self.keep_button, self.step_button):
            button.setEnabled(self.current is not None)

    # -- the network's answer -----------------------------------------------------------------------
    def subscribe(self, worker) -> None:
        worker.image_snapshot.connect(self.update_snapshot)   # also while an MNIST image is the chosen sample
        worker.model_changed.connect(self.set_model)
        worker.records.connect(self._trained)
        worker.update_applied.connect(self._trained)

    def set_model(self, info) -> None:
        """A new network: which digits it reads, and whether it is a new one (untrained)."""
        self.classes, self.untrained = tuple(info.classes), info.source.startswith("new network")
        if self.current is None:
            self.answer.setText(digit_answer.prompt(self.classes, self.untrained))

    def _trained(self, *_) -> None:
        if self.untrained:
            self.untrained = False
            if self.current is None:
                self.answer.setText(digit_answer.prompt(self.classes, self.untrained))

    def update_snapshot(self, s) -> None:
        """The snapshot of your image: the prediction and the probabilities."""
        if self.current is None or s.split != self.current.name or s.split in ("train", "test"):
            return
        picked = self.current.label
        self.answer.setText(digit_answer.answer(s, picked, self.untrained))
        right = picked is None or picked == s.predicted
        colours = [((44, 160, 44) if right else (214, 39, 40)) if c == s.predicted else (150, 150, 150)
                   for c in s.classes]
        self.bars.setOpts(x=np.arange(len(s.classes)), height=s.probabilities, brushes=colours, width=0.7)
        self.bars_widget.getAxis("bottom").setTicks([[(i, str(c)) for i, c in enumerate(s.classes)]])
        self.bars_widget.setXRange(-0.6, len(s.classes) - 0.4, padding=0)
