"""One array of a step: its name and shape, its values as an image (or as numbers when it is
small), hover and click reporting the array index under the mouse, and highlighted regions."""
from __future__ import annotations


import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPen
from PySide6.QtWidgets import (QFrame, QGraphicsRectItem, QHBoxLayout, QLabel, QScrollArea, QSpinBox, QStackedWidget,
                               QVBoxLayout)

from app.widgets.imaging import DIVERGING, GRAY, SEQUENTIAL, cell_at, mosaic, symmetric_levels
from app.model.step_explain import number_text
from app.model.mosaic_layout import index_at, label_step, layout_of
from app.model.steps import Panel, shape_text

NUMBERS_UP_TO = 24        # arrays this small are printed, not drawn
SLICED_ABOVE = 40         # a (d, C, h, w) array with more maps than this is shown one i at a time
HIGHLIGHT = QColor(255, 140, 0)


def mosaic_of(array: np.ndarray) -> np.ndarray:
    (h, w), columns, count = layout_of(array.shape)
    if array.ndim == 1:
        padded = np.full(h * w, np.nan)
        padded[:array.size] = array
        return mosaic(padded.reshape(1, h, w), 1)
    return mosaic(np.asarray(array, dtype=np.float64).reshape(count, h, w), columns)


class _Image(pg.ImageItem):
    def __init__(self, panel: "ArrayPanel"):
        super().__init__()
        self.panel = panel
        self.setAcceptHoverEvents(True)

    def _index(self, pos):
        shape = self.panel.drawn.shape
        cell_shape, columns, count = layout_of(shape)
        cell = cell_at(pos.x(), pos.y(), cell_shape, columns, count)
        index = index_at(shape, *cell) if cell else None
        return (self.panel.row, *index) if index is not None and self.panel.sliced else index

    def hoverEvent(self, event):
        index = None if event.isExit() else self._index(event.pos())
        self.panel.hovered.emit(self.panel.key, index)

    def mouseClickEvent(self, event):
        index = self._index(event.pos())
        if index is not None and event.button() == Qt.LeftButton:
            event.accept()
            self.panel.clicked.emit(self.panel.key, index)


class ArrayPanel(QFrame):
    hovered = Signal(str, object)   # panel key, array index or None
    clicked = Signal(str, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.StyledPanel)
        self.key, self.array, self.name = "", np.zeros(1), ""
        self.drawn, self.sliced, self.row, self.scale = self.array, False, 0, "signed"
        self.title = QLabel()
        self.title.setTextFormat(Qt.RichText)
        self.title.setWordWrap(True)    # three panels a row beside the steps' column fit a 1024 px screen
        self.row_choice = QSpinBox()
        self.row_choice.setPrefix("i = ")
        self.row_choice.setToolTip("Which output map i to show: its kernels K_ij over every input channel j")
        self.row_choice.valueChanged.connect(self._row_chosen)
        self.range = QLabel()
        self.range.setObjectName("range")
        self.range.setWordWrap(True)
        self.numbers = QLabel()
        self.numbers.setTextFormat(Qt.RichText)
        self.numbers.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.numbers.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setMinimumSize(120, 90)
        self.view = self.graphics.addViewBox(invertY=True, enableMouse=False)
        self.view.setMenuEnabled(False)
        self.image = _Image(self)
        self.view.addItem(self.image)
        self.bars = pg.PlotWidget()
        self.bars.setMinimumSize(120, 90)
        self.bars.setMouseEnabled(x=False, y=False)
        self.bars.hideButtons()
        self.bars.setLabel("bottom", "index")
        self.bar_item = pg.BarGraphItem(x=[0], height=[0], width=0.9)
        self.bars.addItem(self.bar_item)
        self.bars.scene().sigMouseMoved.connect(self._bar_hovered)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.graphics)
        # Scrolled: a printed table (up to 24 rows, 300 px) held the panel, and the window, taller than a
        # 768 px screen; the stack is as tall as its tallest page, even one not shown.
        self.numbers_area = QScrollArea()
        self.numbers_area.setWidget(self.numbers)
        self.numbers_area.setWidgetResizable(True)
        self.numbers_area.setFrameShape(QFrame.NoFrame)
        self.stack.addWidget(self.numbers_area)
        self.stack.addWidget(self.bars)
        self._labels: list = []
        self._texts: tuple = ([], [], 0, 0)   # the labels above and left of the mosaic, its cell's (h, w)
        self.view.sigResized.connect(self._place_labels)
        heading = QHBoxLayout()
        heading.addWidget(self.title, 1)
        heading.addWidget(self.row_choice)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addLayout(heading)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.range)
        self._highlights: list[QGraphicsRectItem] = []

    def show_panel(self, panel: Panel) -> None:
        self.key, self.array, self.name, self.scale = panel.key, panel.array, panel.title, panel.scale
        self.clear_highlights()
        self._texts = ([], [], 0, 0)   # an earlier array's labels go (a mosaic draws its own)
        self._place_labels()
        shape = panel.array.shape
        self.sliced = panel.array.ndim == 4 and shape[0] * shape[1] > SLICED_ABOVE
        self.title.setText(f"<b>{panel.title}</b> &nbsp;<span style='color:#666'>{shape_text(shape)}"
                           f"{self._axes_text(shape)}</span>")
        finite = panel.array[np.isfinite(panel.array)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        self.range.setText(f"min {number_text(low, panel.array.dtype)} · max {number_text(high, panel.array.dtype)}")
        self.row_choice.setVisible(self.sliced)
        if panel.array.size <= NUMBERS_UP_TO:
            self._show_numbers(panel.array)
        elif panel.array.ndim == 1:
            self._show_bars(panel.array)
        else:
            if self.sliced:
                self.row_choice.blockSignals(True)
                self.row_choice.setRange(0, shape[0] - 1)
                self.row = min(self.row, shape[0] - 1)
                self.row_choice.setValue(self.row)
                self.row_choice.blockSignals(False)
            self._draw()

    @staticmethod
    def _axes_text(shape) -> str:
        """What the array's axes are, when the mosaic's rows and columns need saying."""
        if len(shape) == 4:
            return (f" · row i (output map, {shape[0]}), column j (input channel, {shape[1]})" if shape[1] > 1
                    else f" · one per output map i ({shape[0]})")
        if len(shape) == 3:
            return f" · {shape[0]} maps, 8 a row, numbered"
        if len(shape) == 1 and shape[0] > NUMBERS_UP_TO:
            return " · one bar per entry"
        return ""

    def _levels(self):
        if self.scale == "gray":
            return (0.0, 1.0), GRAY
        if self.scale == "positive":
            high = float(np.nanmax(self.array)) if self.array.size else 0.0
            return (0.0, high if high > 0 else 1.0), SEQUENTIAL
        return symmetric_levels(self.array), DIVERGING    # one scale for every slice

    def _draw(self) -> None:
        """The (sliced) array as a mosaic, each map labelled with its index."""
        self.stack.setCurrentWidget(self.graphics)
        self.drawn = self.array[self.row] if self.sliced else self.array
        levels, colormap = self._levels()
        self.image.setImage(mosaic_of(self.drawn), levels=levels, autoLevels=False)
        self.image.setColorMap(colormap)
        (h, w), columns, count = layout_of(self.drawn.shape)
        self._texts = (*self._axis_labels(count, columns), h, w)
        top, left = self._texts[:2]
        # Images keep square pixels; a matrix fills the panel instead.
        self.view.setAspectLocked(self.drawn.ndim >= 3)
        height, width = mosaic_of(self.drawn).shape if top or left else (0, 0)
        if top or left:   # room for the labels above and to the left
            margin = 0.12 * max(height, width)
            self.view.setRange(xRange=(-margin * bool(left), width), yRange=(-margin, height), padding=0.02)
        else:
            self.view.autoRange(padding=0.02)
        self._place_labels()

    def _place_labels(self) -> None:
        """The labels above the columns and left of the rows, every `step`-th where the maps are drawn
        narrower than their text: side by side at 1024 px they ran together ("i=0i=1i=2…")."""
        for label in self._labels:
            self.view.removeItem(label)
        self._labels = []
        top, left, h, w = self._texts
        if not (top or left):
            return
        unit_x, unit_y = self.view.viewPixelSize()   # one screen pixel, in the mosaic's units
        metrics = QFontMetrics(self.font())
        wide = max(metrics.horizontalAdvance(text) for text in top or left) + 12   # a TextItem's margins, a gap
        across = label_step(len(top), wide * unit_x, w + 1)
        down = label_step(len(left), (metrics.height() + 4) * unit_y, h + 1)
        for c in range(0, len(top), across):
            self._label(top[c], c * (w + 1) + w / 2, -0.2, (0.5, 1))
        for r in range(0, len(left), down):
            self._label(left[r], -0.2, r * (h + 1) + h / 2, (1, 0.5))

    def _axis_labels(self, count: int, columns: int) -> tuple[list[str], list[str]]:
        """Texts above the mosaic's columns and left of its rows: which i, j or map each is."""
        if self.drawn.ndim < 3 or count < 2:
            return [], []
        rows = -(-count // columns)
        if self.sliced or (self.drawn.ndim == 4 and self.drawn.shape[1] > 1):
            first = [f"i={self.row}"] if self.sliced else [f"i={i}" for i in range(rows)]
            return [f"j={j}" for j in range(columns)], first
        if self.drawn.ndim == 4:
            return [f"i={i}" for i in range(columns)], []
        if rows == 1:
            return [str(m) for m in range(columns)], []
        return [f"+{c}" for c in range(columns)], [str(r * columns) for r in range(rows)]

    def _label(self, text: str, x: float, y: float, anchor) -> None:
        label = pg.TextItem(text, color=(90, 90, 90), anchor=anchor)
        label.setPos(x, y)
        self.view.addItem(label)
        self._labels.append(label)

    def _row_chosen(self, row: int) -> None:
        self.row = row
        if self.sliced:
            self.clear_highlights()
            self._draw()

    def _show_bars(self, vector: np.ndarray) -> None:
        self.stack.setCurrentWidget(self.bars)
        colours = [(178, 24, 43) if v > 0 else (33, 102, 172) for v in vector]
        self.bar_item.setOpts(x=np.arange(vector.size), height=np.asarray(vector, dtype=np.float64), brushes=colours,
                              pens=[None] * vector.size, width=0.9)
        self.bars.setXRange(-1, vector.size, padding=0)
        self.bars.enableAutoRange(axis="y")

    def _bar_hovered(self, position) -> None:
        if self.stack.currentWidget() is not self.bars:
            return
        x = self.bars.getPlotItem().vb.mapSceneToView(position).x()
        index = int(round(x))
        self.hovered.emit(self.key, (index,) if 0 <= index < self.array.size else None)

    def _show_numbers(self, array: np.ndarray) -> None:
        flat = array.reshape(-1)
        rows = "".join(f"<tr><td style='color:#666; padding-right:10px'>"
                       f"[{', '.join(map(str, np.unravel_index(n, array.shape)))}]</td>"
                       f"<td align='right'><code>{number_text(value, array.dtype)}</code></td></tr>"
                       for n, value in enumerate(flat))
        self.numbers.setText(f"<table cellspacing='0' cellpadding='1'>{rows}</table>")
        self.stack.setCurrentWidget(self.numbers_area)

    # -- highlights ----------------------------------------------------------------------------
    def highlight(self, regions) -> None:
        """Outline regions given as (cell, row slice, col slice) of this panel's mosaic."""
        self.clear_highlights()
        if self.stack.currentWidget() is not self.graphics:
            return
        (h, w), columns, _ = layout_of(self.drawn.shape)
        pen = QPen(HIGHLIGHT, 2)
        pen.setCosmetic(True)
        for cell, rows, cols in regions:
            r, c = divmod(cell, columns)
            item = QGraphicsRectItem(c * (w + 1) + cols.start, r * (h + 1) + rows.start,
                                     cols.stop - cols.start, rows.stop - rows.start)
            item.setPen(pen)
            self.view.addItem(item)
            self._highlights.append(item)

    def clear_highlights(self) -> None:
        for item in self._highlights:
            self.view.removeItem(item)
        self._highlights = []

    def cell_of(self, map_index: tuple) -> int:
        """The mosaic cell of the map array[map_index] ((j,) of a 3-d array, (i, j) of a 4-d one); a
        sliced array turns to row i first."""
        if self.array.ndim == 4 and self.sliced:
            if map_index[0] != self.row:
                self.row_choice.setValue(map_index[0])
            return map_index[1]
        if self.array.ndim == 4:
            return map_index[0] * self.array.shape[1] + map_index[1]
        return map_index[0] if self.array.ndim == 3 else 0
