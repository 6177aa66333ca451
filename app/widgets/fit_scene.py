"""pyqtgraph lays a GraphicsLayoutWidget's items out at their minimum size even when the widget is
smaller, and the rest is cut off (the right half of the views at 1024×768). Scale the whole scene
down instead: the layout gets the room it needs, drawn smaller, and all of it shows."""
from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer


def needed_scale(available_width: float, available_height: float, minimum_width: float,
                 minimum_height: float) -> float:
    """The factor (≤ 1) that fits a layout of the given minimum size into the available size."""
    factors = [1.0]
    if minimum_width > 0 and available_width > 0:
        factors.append(available_width / minimum_width)
    if minimum_height > 0 and available_height > 0:
        factors.append(available_height / minimum_height)
    return min(factors)


class SceneFitter(QObject):
    def __init__(self, graphics):
        super().__init__(graphics)
        self.graphics = graphics
        self.scale = 1.0
        graphics.installEventFilter(self)
        # New content (eight maps where there were five) grows the layout without resizing the view
        graphics.ci.geometryChanged.connect(self._later)

    def _later(self) -> None:
        QTimer.singleShot(0, self, self.fit)

    def eventFilter(self, watched, event) -> bool:
        if event.type() in (QEvent.Resize, QEvent.LayoutRequest):
            self._later()  # after pyqtgraph's own resize handling
        return False

    def fit(self) -> None:
        graphics = self.graphics
        if not shiboken6.isValid(graphics.ci):   # the scene went first (a window closing)
            return
        width, height = graphics.viewport().width(), graphics.viewport().height()
        minimum = graphics.ci.effectiveSizeHint(Qt.MinimumSize)
        self.scale = needed_scale(width, height, minimum.width(), minimum.height())
        if self.scale < 1:
            graphics.setRange(QRectF(0, 0, width / self.scale, height / self.scale), padding=0)
        elif not graphics.autoPixelRange:
            graphics.autoPixelRange = True
            graphics.setRange(QRectF(0, 0, width, height), padding=0, disableAutoPixel=False)


def fit_scenes(widget) -> list[SceneFitter]:
    """A fitter for every GraphicsLayoutWidget inside `widget`."""
    import pyqtgraph as pg
    return [SceneFitter(graphics) for graphics in widget.findChildren(pg.GraphicsLayoutWidget)]
