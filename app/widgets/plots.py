"""Shared pieces of the studio's line plots: a log axis whose labels never overlap, and a read-out
of every curve's value at the mouse's x."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt


class LogAxis(pg.AxisItem):
    """On a log scale pyqtgraph labels every minor tick (0.1 0.09 0.08 … on top of each other). This
    labels powers of ten only, and 2 and 5 times them when the axis spans less than two decades.
    Its label takes no SI prefix: the ticks are the values themselves (a prefix read "loss (x0.001)"
    over losses of 0.05)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.enableAutoSIPrefix(False)

    def logTickStrings(self, values, scale, spacing):
        if not len(values):
            return []
        span = max(values) - min(values)
        keep = (1, 2, 5) if span < 2 else (1,)
        strings = []
        for value in values:
            mantissa = round(10 ** (value - math.floor(value + 1e-9)))
            strings.append(f"{10 ** value:.3g}" if mantissa in keep else "")
        return strings


def log_plot(layout: pg.GraphicsLayout, row: int, col: int, **kwargs) -> pg.PlotItem:
    """A plot with a log y axis that labels only what fits."""
    plot = layout.addPlot(row=row, col=col, axisItems={"left": LogAxis("left")}, **kwargs)
    plot.setLogMode(y=True)
    return plot


def fit_legend(legend: pg.LegendItem, width: float, most: int) -> None:
    """As many legend columns (up to `most`) as fit `width`: a wider legend widened the plots beyond their
    panel (cut off, or the whole scene drawn smaller with the legend over the axes)."""
    for columns in range(most, 0, -1):
        legend.setColumnCount(columns)
        if legend.layout.effectiveSizeHint(Qt.MinimumSize).width() <= width:
            break
    legend.updateGeometry()     # the enclosing layout caches the legend's old size hints


class CurveReadout:
    """Shows in `show(text)` the value of every series of `plot` at the mouse's x: `series()` returns
    [(name, x array, y array, format)] (format: a str.format pattern for the value)."""

    def __init__(self, plot: pg.PlotItem, series, show, x_name: str = "epoch"):
        self.plot, self.series, self.show, self.x_name = plot, series, show, x_name
        self._proxy = plot.scene().sigMouseMoved.connect(self._moved)

    def _moved(self, position) -> None:
        if not self.plot.sceneBoundingRect().contains(position) or not self.plot.isVisible():
            return
        x = self.plot.vb.mapSceneToView(position).x()
        self.show(self.text_at(x))

    def text_at(self, x: float) -> str:
        """The values at `x`, kept on the data: past either end of every series it reads the nearest
        end's point, named by that point's x (a plot zoomed out past the data read "epoch 3.78" out of
        the last values at 2)."""
        series = [(name, xs, ys, pattern) for name, xs, ys, pattern in self.series() if len(xs)]
        if not series:
            return ""
        x = min(max(x, min(xs[0] for _, xs, _, _ in series)), max(xs[-1] for _, xs, _, _ in series))
        parts = []
        for name, xs, ys, pattern in series:
            i = int(np.clip(np.searchsorted(xs, x), 1, len(xs) - 1)) if len(xs) > 1 else 0
            if len(xs) > 1 and abs(xs[i - 1] - x) < abs(xs[i] - x):
                i -= 1
            parts.append(f"{name} {pattern.format(ys[i])}")
        return f"{self.x_name} {x:.2f}: " + " · ".join(parts)
