"""MNIST's preprocessing of your digit, stage by stage, side by side: your picture, its crop to the ink, and
the 28×28 image the network reads. Each stage draws its picture's edge: a crop that is all ink is white, and
on the white panel it could not be told from it."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsRectItem

from cnn.preprocess import Preprocessed

from app.widgets.imaging import GRAY, image_plot

STAGES = (("grey", "your picture"), ("cropped", "cropped"), ("image", "28×28 seen"))


class DigitStages(pg.GraphicsLayoutWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(200, 90)
        self.images = {}      # stage → (its plot, its image, its edge)
        for column, (key, title) in enumerate(STAGES):
            view = image_plot(title, self.ci, 0, column)
            item = pg.ImageItem()
            view.addItem(item)
            edge = QGraphicsRectItem()
            edge.setPen(pg.mkPen((128, 128, 128), width=1, cosmetic=True))
            edge.setZValue(1)
            view.addItem(edge)
            self.images[key] = (view, item, edge)

    def show_stages(self, result: Preprocessed) -> None:
        for key, (view, item, edge) in self.images.items():
            item.setImage(getattr(result, key), levels=(0, 1))   # the picture as it looks; then ink white on black
            item.setColorMap(GRAY)
            edge.setRect(item.boundingRect())
            view.autoRange(padding=0.02, items=[item])

    def clear_stages(self) -> None:
        for _, item, edge in self.images.values():
            item.clear()
            edge.setRect(QRectF())
