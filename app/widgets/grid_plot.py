"""A grid of cells (app/studio/layer_cells.Cells) drawn as one image, with labelled rows and
columns, one colour scale and its colour bar, and the value under the mouse in words."""
from __future__ import annotations

import math

import pyqtgraph as pg

from app.model.grid import Grid, fitted
from app.widgets.imaging import DIVERGING, symmetric_levels

MAX_LABELS = 40   # more row or column names than this: every n-th
TURN_MARGIN = 0.3  # a resized view turns a grid when the other way round fits its shape this much better (log ratio)
TICK_FONT = pg.QtGui.QFont()
TICK_FONT.setPointSize(7)


class GridImage(pg.ImageItem):
    def __init__(self):
        super().__init__()
        self.grid: Grid | None = None
        self.describe = None           # (row, col, pixel row, pixel col) → text
        self.on_hover = None           # callback(text)
        self.on_click = None           # callback(row, col) of the cell clicked
        self.setAcceptHoverEvents(True)

    def mouseClickEvent(self, event):
        cell = self.grid.cell_at(event.pos().x(), event.pos().y()) if self.grid is not None else None
        if self.on_click is None or cell is None:
            event.ignore()
            return
        event.accept()
        self.on_click(cell[0], cell[1])

    def hoverEvent(self, event):
        if self.on_hover is None or self.grid is None:
            return
        if event.isExit():
            self.on_hover("")
            return
        cell = self.grid.cell_at(event.pos().x(), event.pos().y())
        self.on_hover(self.describe(*cell) if cell else "")


class GridPlot:
    """A plot in `layout` at (row, col): the image, axes naming rows (left) and columns (top), a colour bar."""

    def __init__(self, layout: pg.GraphicsLayout, row: int, col: int, title: str = "", colour_bar: bool = True,
                 rowspan: int = 1, colspan: int = 1):
        self.plot = layout.addPlot(row=row, col=col, rowspan=rowspan, colspan=colspan, title=title)
        plot = self.plot
        plot.invertY(True)
        plot.setAspectLocked(True)
        plot.setMouseEnabled(x=False, y=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.hideAxis("bottom")
        plot.showAxis("top")
        for name in ("left", "top"):
            axis = plot.getAxis(name)
            axis.setStyle(tickLength=0, tickFont=TICK_FONT)
            axis.setTextPen((60, 60, 60))
        self.image = GridImage()
        plot.addItem(self.image)
        self.bar = None
        if colour_bar:
            self.bar = pg.ColorBarItem(colorMap=DIVERGING, interactive=False, width=10)
            self.bar.setImageItem(self.image, insert_in=plot)
            self.bar.axis.setStyle(tickFont=TICK_FONT)
        self._bar_ticks = None
        self._bar_width = 0
        self.cells = None
        self._given = None       # (cells, levels, colour map) of a grid drawn either way round, as given
        plot.vb.sigResized.connect(self._relabel)
        self._layout = None      # what the axes, colour map and range were last set for
        self._title = None

    def set_title(self, title: str) -> None:
        if title != self._title:   # a title change re-lays out the plot: only when it changes
            self._title = title
            self.plot.setTitle(title, size="9pt")

    def show(self, cells, levels=None, colormap=DIVERGING, aspect: float | None = None) -> None:
        """Draws `cells`; levels default to one symmetric scale (white is exactly zero)."""
        self._given = (cells, levels, colormap) if cells.transposable and aspect else None
        if self._given is not None:
            cells = min((cells, cells.transposed()), key=lambda c: misfit(c.cells.shape, aspect))
        self.cells = cells
        rows, cols, h, w = cells.cells.shape
        if cells.wrap and aspect:
            grid = fitted(rows, cols, h, w, aspect)
        else:
            grid = Grid(rows, cols, h, w)
        self.image.grid, self.image.describe = grid, cells.describe
        levels = levels or symmetric_levels(cells.cells)
        self.image.setImage(grid.image(cells.cells), levels=levels, autoLevels=False)
        if self.bar is not None:
            self.bar.setLevels(levels)
            self._label_bar(levels)
        # While training only the values change: axes, colour map and range are set again (each costs
        # a re-layout of the plot) only when the grid, its names or the colour map change.
        layout = (grid, cells.row_names, cells.col_names, cells.row_title, cells.col_title, id(colormap))
        if layout == self._layout:
            return
        self._layout = layout
        self.image.setColorMap(colormap)
        if self.bar is not None:
            self.bar.setColorMap(colormap)
        self._label(grid, cells)
        height, width = grid.shape
        self.plot.setRange(xRange=(0, width), yRange=(0, height), padding=0.01)

    def _label_bar(self, levels) -> None:
        """The colour bar's ends (and 0 or the middle) in short numbers, on an axis as wide as they are:
        pyqtgraph's own ticks on its fixed 45 px axis came out cut ("0.8" as "0", "-10" as "-1")."""
        ticks = bar_ticks(*levels)
        if ticks == self._bar_ticks:
            return
        self._bar_ticks = ticks
        axis = self.bar.axis
        axis.setTicks([ticks])
        metrics = pg.QtGui.QFontMetricsF(TICK_FONT)
        text = max(metrics.horizontalAdvance(label) for _, label in ticks)
        width = math.ceil(text + max(0, axis.style["tickLength"]) + axis.style["tickTextOffset"][0] + 4)
        if width > self._bar_width:   # it only grows: a new width re-lays out the plot and costs a repaint
            self._bar_width = width
            axis.setWidth(width)

    def _relabel(self, *_args) -> None:
        """A new size: the grid's better way round for it (the first drawing can come before the view has its
        size: eight kernels stood in a column 4 pixels wide), and as many row and column names as fit."""
        box = self.plot.vb
        if self._given is not None and box.height() > 10 and box.width() > 10:
            cells, aspect = self._given[0], box.width() / box.height()
            other = cells.transposed() if self.cells.cells.shape == cells.cells.shape else cells
            if misfit(other.cells.shape, aspect) < misfit(self.cells.cells.shape, aspect) - TURN_MARGIN:
                self.show(*self._given, aspect=aspect)
                return
        if self.cells is not None and self.image.grid is not None:
            self._label(self.image.grid, self.cells)

    def _label(self, grid: Grid, cells) -> None:
        left, top = self.plot.getAxis("left"), self.plot.getAxis("top")
        rows = list(zip(grid.row_centres(), cells.row_names, strict=False)) if grid.blocks == 1 else []
        cols = list(zip(grid.col_centres(), cells.col_names * grid.blocks, strict=False))
        height, width = grid.shape
        box = self.plot.vb
        scale = min(box.width() / width, box.height() / height) if box.width() > 10 and box.height() > 10 else 4.0
        left.setTicks([thinned(rows, (grid.h + grid.gap) * scale, 11)])
        label_width = 6 * max((len(name) for name in cells.col_names), default=1)
        top.setTicks([thinned(cols, (grid.w + grid.gap) * scale, label_width)])
        left.setLabel(cells.row_title if rows else "", **{"font-size": "8pt"})
        top.setLabel(cells.col_title if cols and height > 1 else "", **{"font-size": "8pt"})
        self.plot.showAxis("left", bool(rows))
        self.plot.showAxis("top", bool(cols))


def bar_ticks(low: float, high: float) -> list[tuple[float, str]]:
    """Three ticks of a colour scale: its ends and 0 when it crosses zero, else its middle; each in at
    most three significant digits (0.8, -10, -5e-05), never cut to a different number."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [(low, f"{low:.3g}")]
    middle = 0.0 if low < 0 < high else (low + high) / 2
    return [(value, f"{value:.3g}") for value in (low, middle, high)]


def misfit(shape, aspect: float) -> float:
    """How far a (rows, cols, h, w) grid's width/height is from a view's, as a log ratio."""
    rows, cols, h, w = shape
    return abs(math.log(cols * (w + 1) / (rows * (h + 1)) / aspect))


def thinned(ticks: list, pixels_apart: float, pixels_needed: float) -> list:
    """Every n-th tick, so that labels `pixels_needed` wide do not overlap."""
    step = max(1, math.ceil(pixels_needed / max(pixels_apart, 1e-9)), -(-len(ticks) // MAX_LABELS))
    return ticks[::step]
