"""Image helpers shared by the views: mosaics of small maps, colour maps, hover read-outs."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True, background="w", foreground="k")

DIVERGING = pg.colormap.get("CET-D1")   # blue – white – red, centred on zero
SEQUENTIAL = pg.colormap.get("viridis")
GRAY = pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)])


def mosaic(maps: np.ndarray, columns: int, gap: int = 1) -> np.ndarray:
    """(M, h, w) maps → one (rows·(h+gap)−gap, columns·(w+gap)−gap) image, NaN between cells."""
    count, h, w = maps.shape
    rows = -(-count // columns)
    image = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan)
    for m in range(count):
        r, c = divmod(m, columns)
        image[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = maps[m]
    image.flags.writeable = False
    return image


def cell_at(x: float, y: float, shape: tuple[int, int], columns: int, count: int, gap: int = 1):
    """Which map and pixel of a mosaic the point (x, y) falls on: (map, row, col) or None."""
    h, w = shape
    col, row = int(np.floor(x)), int(np.floor(y))
    if col < 0 or row < 0:
        return None
    c, px = divmod(col, w + gap)
    r, py = divmod(row, h + gap)
    m = r * columns + c
    if px >= w or py >= h or c >= columns or m >= count:
        return None
    return m, py, px


def symmetric_levels(*arrays: np.ndarray) -> tuple[float, float]:
    """One symmetric scale (−m, m) over all the finite values of the arrays, so white is exactly zero ((−1, 1)
    when none is finite: a diverged network's gradients)."""
    finite = [np.abs(a[np.isfinite(a)]) for a in arrays]
    m = max((float(a.max()) for a in finite if a.size), default=0.0)
    m = m if m > 0 else 1.0
    return (-m, m)


class MosaicImage(pg.ImageItem):
    """An ImageItem showing a mosaic, reporting which cell the mouse is over through `describe`."""

    def __init__(self, describe, **kwargs):
        super().__init__(**kwargs)
        self.describe = describe      # describe(map, row, col) -> str, or None off the maps
        self.layout = ((1, 1), 1, 0)  # (map shape, columns, count)
        self.on_hover = None          # callback(text)
        self.setAcceptHoverEvents(True)

    def set_maps(self, maps: np.ndarray, columns: int, levels, colormap) -> None:
        self.layout = (maps.shape[1:], columns, maps.shape[0])
        self.setImage(mosaic(maps, columns), levels=levels, autoLevels=False)
        self.setColorMap(colormap)

    def hoverEvent(self, event):
        if self.on_hover is None:
            return
        if event.isExit():
            self.on_hover("")
            return
        shape, columns, count = self.layout
        cell = cell_at(event.pos().x(), event.pos().y(), shape, columns, count)
        self.on_hover(self.describe(*cell) if cell else "")


def image_plot(title: str, parent_layout: pg.GraphicsLayout, row: int, col: int) -> pg.ViewBox:
    """A locked-aspect view box with a title, no axes, y pointing down as in an image."""
    parent_layout.addLabel(title, row=row, col=col, size="9pt")
    view = parent_layout.addViewBox(row=row + 1, col=col, lockAspect=True, invertY=True, enableMouse=False)
    view.setMenuEnabled(False)
    return view
