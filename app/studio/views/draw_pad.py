"""A drawing pad: dark ink on white paper, drawn with the mouse or a pen, undo and clear.

Strokes are kept as lists of points in the pad's own 280×280 pixels (ten per MNIST pixel), so
undo redraws the others and the picture does not depend on the widget's size on screen. While a
stroke goes on, `changed` is emitted at most every THROTTLE_MS (the network and the views follow
without holding the pen back); when the pen lifts, at once.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.widgets.image_files import grey_of

SIDE = 280                 # the pad's pixels
THROTTLE_MS = 30           # at most this often while drawing
DEFAULT_WIDTH = 22         # brush width in pad pixels (MNIST strokes are 2–3 of its 28 pixels)


class DrawPad(QWidget):
    changed = Signal(object, bool)   # (H, W) uint8 grey levels, and whether a stroke is still in progress
    cleared = Signal()               # nothing is drawn any more

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setCursor(Qt.CrossCursor)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.brush_width = DEFAULT_WIDTH
        self.strokes: list[tuple[int, list[QPointF]]] = []
        self.cleared_strokes: list = []  # what Clear took away, until the next stroke: Undo brings it back
        self.canvas = QImage(SIDE, SIDE, QImage.Format_Grayscale8)
        self.canvas.fill(Qt.white)
        self._drawing = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(THROTTLE_MS)
        self._timer.timeout.connect(lambda: self._emit(True))

    # -- what the others ask ---------------------------------------------------------------
    @property
    def is_empty(self) -> bool:
        return not self.strokes

    def pixels(self) -> np.ndarray:
        """The picture as (SIDE, SIDE) uint8 grey levels (255 white paper, 0 black ink)."""
        return grey_of(self.canvas)

    def set_brush_width(self, width: int) -> None:
        self.brush_width = int(width)

    def clear(self) -> None:
        if self.strokes:
            self.cleared_strokes = self.strokes
        self.strokes = []
        self._redraw()
        self.cleared.emit()

    def undo(self) -> None:
        """The last stroke goes; on a pad just cleared, the drawing Clear took comes back."""
        if self.strokes:
            self.strokes.pop()
            self._redraw()
            self._emit(False) if self.strokes else self.cleared.emit()
        elif self.cleared_strokes:
            self.strokes, self.cleared_strokes = self.cleared_strokes, []
            self._redraw()
            self._emit(False)

    def draw_stroke(self, points, width: int | None = None, lift: bool = True) -> None:
        """A whole stroke through `points` (pad pixels), as if drawn: for scripts and tests. lift=False:
        the pen stays down (the picture is sent as one taken while drawing)."""
        points = [QPointF(*p) for p in points]
        self.strokes.append((int(width or self.brush_width), [points[0]]))
        self.cleared_strokes = []
        self._paint_segment(points[0], points[0])
        for point in points[1:]:
            self._add_point(point)
        self._emit(not lift)

    # -- drawing ----------------------------------------------------------------------------------
    def _to_pad(self, position) -> QPointF:
        square = self._square()
        return QPointF((position.x() - square.x()) * SIDE / square.width(),
                       (position.y() - square.y()) * SIDE / square.height())

    def _square(self) -> QRectF:
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def _pen(self, width: int) -> QPen:
        return QPen(QColor(0, 0, 0), width, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)

    def _paint_segment(self, start: QPointF, end: QPointF, width: int | None = None) -> None:
        painter = QPainter(self.canvas)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(self._pen(width or self.strokes[-1][0]))
        painter.drawLine(start, end)
        painter.end()

    def _add_point(self, point: QPointF) -> None:
        points = self.strokes[-1][1]
        self._paint_segment(points[-1], point)
        points.append(point)
        self.update()

    def _redraw(self) -> None:
        self.canvas.fill(Qt.white)
        painter = QPainter(self.canvas)
        painter.setRenderHint(QPainter.Antialiasing)
        for width, points in self.strokes:
            painter.setPen(self._pen(width))
            if len(points) == 1:
                painter.drawPoint(points[0])
            else:
                painter.drawPolyline(points)
        painter.end()
        self.update()

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.LeftButton:
            return
        point = self._to_pad(event.position())
        self.strokes.append((self.brush_width, [point]))
        self.cleared_strokes = []
        self._paint_segment(point, point)
        self._drawing = True
        self.update()
        self._timer.start()

    def mouseMoveEvent(self, event) -> None:
        if self._drawing:
            self._add_point(self._to_pad(event.position()))
            if not self._timer.isActive():
                self._timer.start()

    def mouseReleaseEvent(self, event) -> None:
        if self._drawing and event.button() == Qt.LeftButton:
            self._drawing = False
            self._timer.stop()
            if len(self.strokes[-1][1]) == 1:   # a click without a move: a dot, as undo's redraw has it
                self._redraw()
            self._emit(False)

    def _emit(self, drawing: bool) -> None:
        if self.strokes:
            self.changed.emit(self.pixels(), drawing)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        square = self._square()
        painter.setRenderHint(QPainter.SmoothPixmapTransform)
        painter.drawImage(square, self.canvas)
        painter.setPen(QColor(160, 160, 160))
        painter.drawRect(square.adjusted(0, 0, -1, -1))
        if self.is_empty:
            painter.drawText(square, Qt.AlignCenter, "Draw a digit here")
        painter.end()
