"""Shared pieces of the studio's line plots: a log axis whose labels never overlap, and a read-out
of every curve's value at the mouse's x."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt


LABEL_PITCH = 22     # pixels a tick label needs along the axis


class LogAxis(pg.AxisItem):
    """On a log scale pyqtgraph labels every minor tick (0.1 0.09 0.08 … on top of each other). This
    labels powers of ten only, and 2 and 5 times them when the axis spans less than two decades.
    Its label takes no SI prefix: the ticks are the values themselves (a prefix read "loss (x0.001)"
    over losses of 0.05)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.enableAutoSIPrefix(False)
        self.decimals = None    # the ticks are evenly spaced values, every one labelled with these decimals

    def tickValues(self, minVal, maxVal, size):
        """pyqtgraph's ticks, unless fewer than two of them would be labelled (errors between 1.2% and 1.9%
        had none): then three to six evenly spaced values, every one labelled."""
        levels = super().tickValues(minVal, maxVal, size)
        self.decimals = None
        if not self.logMode or not maxVal > minVal:
            return levels
        labelled = sum(text != "" for _, values in levels for text in self.logTickStrings(values, 1, 1))
        if labelled >= 2:
            return levels
        values, self.decimals = even_values(10 ** minVal, 10 ** maxVal)
        values = values[::math.ceil(len(values) / max(2, size // LABEL_PITCH))]   # as many as fit, two at least
        return [(maxVal - minVal, [math.log10(value) for value in values])]

    def logTickStrings(self, values, scale, spacing):
        if not len(values):
            return []
        if self.decimals is not None:
            return [f"{10 ** value:.{self.decimals}f}" for value in values]
        span = max(values) - min(values)
        keep = (1, 2, 5) if span < 2 else (1,)
        strings = []
        for value in values:
            mantissa = round(10 ** (value - math.floor(value + 1e-9)))
            strings.append(f"{10 ** value:.3g}" if mantissa in keep else "")
        return strings


def even_values(low: float, high: float) -> tuple[list[float], int]:
    """Three to six round values between `low` and `high` (> low > 0), 1, 2 or 5 times a power of ten
    apart, and the decimals that tell them apart."""
    exponent = math.floor(math.log10(high - low))
    for step_exponent, factor in ((exponent, 5), (exponent, 2), (exponent, 1), (exponent - 1, 5), (exponent - 1, 2),
                                  (exponent - 1, 1)):
        step = factor * 10.0 ** step_exponent
        first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
        if last - first + 1 >= 3:
            break
    values = [index * step for index in range(first, last + 1) if index * step > 0]
    return values, max(0, -step_exponent)


def log_plot(layout: pg.GraphicsLayout, row: int, col: int, **kwargs) -> pg.PlotItem:
    """A plot with a log y axis that labels only what fits."""
    plot = layout.addPlot(row=row, col=col, axisItems={"left": LogAxis("left")}, **kwargs)
    plot.setLogMode(y=True)
    return plot


class DecadeRange:
    """A log plot's y range on whole decades about its data, while the user has not zoomed or dragged it
    (then it is theirs, until the plot's auto-range button gives it back). pyqtgraph's auto range moved with
    every frame of a run, while painting: the axis was laid out and drawn anew each time and the plot painted
    twice, a third of what a frame cost the window's thread (and training the GIL). A decade moves rarely."""

    def __init__(self, plot: pg.PlotItem, empty: tuple[int, int] = (-1, 0)):
        """`empty`: the decades shown while there is nothing to show."""
        self.plot, self.following, self.decades, self.empty = plot, True, None, empty
        plot.enableAutoRange(y=False)
        plot.vb.sigRangeChangedManually.connect(self._moved_by_hand)
        self._show(empty)

    def _moved_by_hand(self, axes) -> None:
        if axes[1]:
            self.following = False

    def reset(self) -> None:
        """A new network or a new run: the range follows the curves again (a zoom by hand is let go, as the
        x axis is by the run's length)."""
        self.following, self.decades = True, None
        self._show(self.empty)

    def follow(self, *columns: np.ndarray) -> None:
        """The range for these values (those a log axis shows: finite, above 0), unless the user has it."""
        if self.plot.vb.state["autoRange"][1] is not False:   # the auto-range button: the range is ours again
            self.plot.enableAutoRange(y=False)
            self.following, self.decades = True, None
        shown = [column[np.isfinite(column) & (column > 0)] for column in map(np.asarray, columns)]
        shown = [column for column in shown if len(column)]
        if not self.following or not shown:
            return
        low = math.floor(math.log10(min(column.min() for column in shown)))
        high = math.ceil(math.log10(max(column.max() for column in shown)))
        self._show((low, max(high, low + 1)))

    def _show(self, decades: tuple[int, int]) -> None:
        if decades != self.decades:
            self.decades = decades
            self.plot.setYRange(*decades, padding=0.02)


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
