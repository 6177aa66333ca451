"""One array of a step: its name and shape, its values as an image (or as numbers when it is
small), hover and click reporting the array index under the mouse, and highlighted regions."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPen, QColor
from PySide6.QtWidgets import QFrame, QGraphicsRectItem, QLabel, QStackedWidget, QVBoxLayout

from app.widgets.imaging import DIVERGING, GRAY, SEQUENTIAL, cell_at, mosaic, symmetric_levels
from app.stepthrough.steps import Panel, shape_text

NUMBERS_UP_TO = 24        # arrays this small are printed, not drawn
VECTOR_WIDTH = 64         # longer vectors are drawn wrapped in rows of this many
HIGHLIGHT = QColor(255, 140, 0)


def layout_of(shape: tuple) -> tuple[tuple[int, int], int, int]:
    """How an array is laid out as a mosaic: (cell shape, columns, cells).

    (d, C, h, w): one row per i, one column per j (one row of d cells when C is 1);
    (C, h, w): up to 8 maps a row; (rows, cols): one cell; (n,): rows of VECTOR_WIDTH."""
    if len(shape) == 4:
        d, c, h, w = shape
        return (h, w), (c if c > 1 else d), d * c
    if len(shape) == 3:
        return shape[1:], min(shape[0], 8), shape[0]
    if len(shape) == 2:
        return shape, 1, 1
    n = shape[0]
    width = min(n, VECTOR_WIDTH)
    return (math.ceil(n / width), width), 1, 1


def index_at(shape: tuple, cell: int, row: int, col: int) -> tuple | None:
    """The array index shown at (cell, row, col) of the mosaic, or None on a vector's padding."""
    if len(shape) == 4:
        return divmod(cell, shape[1]) + (row, col)
    if len(shape) == 3:
        return cell, row, col
    if len(shape) == 2:
        return row, col
    flat = row * min(shape[0], VECTOR_WIDTH) + col
    return (flat,) if flat < shape[0] else None


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
        shape = self.panel.array.shape
        cell_shape, columns, count = layout_of(shape)
        cell = cell_at(pos.x(), pos.y(), cell_shape, columns, count)
        return index_at(shape, *cell) if cell else None

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
        self.title = QLabel()
        self.title.setTextFormat(Qt.RichText)
        self.range = QLabel()
        self.range.setObjectName("range")
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
        self.stack = QStackedWidget()
        self.stack.addWidget(self.graphics)
        self.stack.addWidget(self.numbers)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.range)
        self._highlights: list[QGraphicsRectItem] = []

    def show_panel(self, panel: Panel) -> None:
        self.key, self.array, self.name = panel.key, panel.array, panel.title
        self.clear_highlights()
        shape = shape_text(panel.array.shape)
        self.title.setText(f"<b>{panel.title}</b> &nbsp;<span style='color:#666'>{shape}</span>")
        finite = panel.array[np.isfinite(panel.array)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        self.range.setText(f"min {low:+.4g} · max {high:+.4g}")
        if panel.array.size <= NUMBERS_UP_TO:
            self._show_numbers(panel.array)
            return
        self.stack.setCurrentWidget(self.graphics)
        if panel.scale == "gray":
            levels, colormap = (0.0, 1.0), GRAY
        elif panel.scale == "positive":
            levels, colormap = (0.0, high if high > 0 else 1.0), SEQUENTIAL
        else:
            levels, colormap = symmetric_levels(panel.array), DIVERGING
        self.image.setImage(mosaic_of(panel.array), levels=levels, autoLevels=False)
        self.image.setColorMap(colormap)
        # Images keep square pixels; a matrix or a long vector fills the panel instead.
        self.view.setAspectLocked(panel.array.ndim >= 3)
        self.view.autoRange(padding=0.02)

    def _show_numbers(self, array: np.ndarray) -> None:
        flat = array.reshape(-1)
        rows = "".join(f"<tr><td style='color:#666'>{list(np.unravel_index(n, array.shape)) if array.ndim > 1 else n}"
                       f"</td><td align='right'><code>{value:+.10g}</code></td></tr>" for n, value in enumerate(flat))
        self.numbers.setText(f"<table cellspacing='2'>{rows}</table>")
        self.stack.setCurrentWidget(self.numbers)

    # -- highlights ----------------------------------------------------------------------------
    def highlight(self, regions) -> None:
        """Outline regions given as (cell, row slice, col slice) of this panel's mosaic."""
        self.clear_highlights()
        if self.stack.currentWidget() is not self.graphics:
            return
        (h, w), columns, _ = layout_of(self.array.shape)
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
        """The mosaic cell of the map array[map_index] ((j,) of a 3-d array, (i, j) of a 4-d one)."""
        if self.array.ndim == 4:
            return map_index[0] * self.array.shape[1] + map_index[1]
        return map_index[0] if self.array.ndim == 3 else 0
