"""Loss view: every step's loss (faint), its moving average, each epoch's train and test loss, and
below it, sharing the epoch axis, the test error rate: both on log scales, so that 97% → 99.5%
accuracy (3% → 0.5% error) is as visible as 50% → 90%. The wheel zooms either plot (both follow in
x); the values under the mouse are read out below."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.model.run_curves import AVERAGE_WINDOW, RunCurves
from app.widgets.plots import CurveReadout, DecadeRange, fit_legend, log_plot

HINT = "Hover over a plot to read its values; the wheel zooms, dragging pans."
LEGEND_COLUMNS = 3        # at most; fewer when the panel is narrower than the legend's row
WIDEST_TICK = "0.0001"    # the widest label of the log axes (LogAxis: 1e-05 and below are narrower)
ZERO_NOTE = "0% error (at a floor)"


def error_floored(error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(epochs,) test error % → (what to draw on a log axis, which epochs had none): 0% is drawn at a
    floor, half the smallest error above zero (0.01% when none is), so it sits visibly below the rest."""
    zero = error <= 0
    positive = error[~zero]
    floor = positive.min() / 2 if len(positive) else 0.01
    return np.where(zero, floor, error), zero


class LossView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        # Room for the legend and both plots (fit_legend): the splitter takes it from the neighbours; below
        # it the scene would be scaled down, and the legend's text, which does not scale, would run off.
        self.graphics.installEventFilter(self)
        self.readout = QLabel(HINT)
        self.readout.setObjectName("loss-readout")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.readout)
        # The legend sits above the plots, never over the curves.
        self.legend = pg.LegendItem(colCount=LEGEND_COLUMNS, labelTextSize="8pt")
        self.graphics.addItem(self.legend, row=0, col=0)
        plot = self.plot = log_plot(self.graphics, 1, 0)
        plot.setTitle(None)   # the axis says "loss": the title row is room the plot needs (a long run says more)
        plot.setLabel("left", "loss")
        plot.setMinimumHeight(110)
        plot.setDownsampling(auto=True, mode="mean")
        plot.setClipToView(True)
        self.step_curve = plot.plot(pen=pg.mkPen((120, 120, 120, 90), width=1), antialias=False)
        # A point per pixel (the plot's mean downsampling keeps five): the 50-step mean is smooth, and its 2-pixel
        # pen over every step took half of this view's paint at 4,000 steps
        self.average_curve = plot.plot(pen=pg.mkPen((31, 119, 180), width=2), autoDownsampleFactor=1.0)
        # Markers outlined in their own colour: pyqtgraph's grey outlines hid the fill of a long run's crowded
        # markers (800 epochs read as a grey band)
        self.train_curve = plot.plot(pen=None, symbol="o", symbolSize=7, symbolBrush=(31, 119, 180),
                                     symbolPen=(31, 119, 180))
        self.test_curve = plot.plot(pen=pg.mkPen((255, 127, 14), width=1.5), symbol="s", symbolSize=7,
                                    symbolBrush=(255, 127, 14), symbolPen=(255, 127, 14))
        for curve, name in ((self.step_curve, "step loss"), (self.average_curve, f"mean of {AVERAGE_WINDOW} steps"),
                            (self.train_curve, "epoch train"), (self.test_curve, "epoch test")):
            self.legend.addItem(curve, name)
        # Test error on its own log axis below, sharing x: accuracy near 100% is a flat line on 0–100.
        error = self.error_plot = log_plot(self.graphics, 2, 0)
        error.setLabel("left", "test error %", color=(44, 160, 44))
        error.setLabel("bottom", "epoch")
        error.setMinimumHeight(90)
        error.setXLink(plot)
        self.error_curve = error.plot(pen=pg.mkPen((44, 160, 44), width=1.5), symbol="t", symbolSize=7,
                                      symbolBrush=(44, 160, 44), symbolPen=(44, 160, 44))
        self.legend.addItem(self.error_curve, "test error (100% − acc.)")
        # A log axis has no 0: an epoch with no test error is drawn at a floor below the smallest error
        # shown, with its own marker, so the line goes on (a gap looked as if training had stopped).
        self.zero_error_curve = error.plot(pen=None, symbol="star", symbolSize=11, symbolBrush=(214, 39, 40),
                                           symbolPen=(214, 39, 40))
        self.legend.addItem(self.zero_error_curve, ZERO_NOTE)
        self.graphics.ci.layout.setRowStretchFactor(1, 3)
        self.graphics.ci.layout.setRowStretchFactor(2, 2)
        self.fit_legend(self.graphics.width())
        self.readouts = [CurveReadout(plot, self._loss_series, self._show),
                         CurveReadout(error, self._error_series, self._show)]
        self.ranges = DecadeRange(plot), DecadeRange(error, empty=(0, 2))   # 0.1–1 and 1–100% when empty
        for curve in (self.train_curve, self.test_curve, self.error_curve, self.zero_error_curve):
            marked(curve)
        for axis in (plot.getAxis("left"), error.getAxis("left")):
            steady(axis)
        self.clear()

    def subscribe(self, worker) -> None:
        worker.records.connect(self.add_records)
        worker.run_started.connect(self.show_run)
        worker.model_changed.connect(self.clear)
        worker.history.connect(self.show_history)

    def show_run(self, epochs_before: int, epochs_after: int) -> None:
        """A run starts: the x axis takes its length, and the y axes fit the curves again (a zoom kept in y
        alone cut a continued run's curves off)."""
        self.set_epochs(epochs_after)
        for decades in self.ranges:
            decades.reset()
        self.redraw()

    def clear(self, _info=None) -> None:
        """A new network: no curve of the last one stays, and the x axis starts again."""
        self.set_epochs(1)
        self.plot.setTitle(None)
        self.curves = RunCurves(norms=False)
        for decades in self.ranges:
            decades.reset()
        for curve in (self.step_curve, self.average_curve, self.train_curve, self.test_curve, self.error_curve,
                      self.zero_error_curve):
            curve.setData([], [])
        self.readout.setText(HINT)     # a read-out of the last network's curves would outlive them

    def show_history(self, curves: RunCurves) -> None:
        """An opened run's curves, read from its metrics; new records go on from them."""
        self.curves = curves.part(losses=True, norms=False)
        self.set_epochs(max(1, curves.epochs_done, math.ceil(curves.last_x)))   # an interrupted epoch's steps too
        self.redraw()

    # The series drawn, for readers (tests, the window).
    steps = property(lambda self: self.curves.steps)
    averages = property(lambda self: self.curves.averages)
    epochs = property(lambda self: self.curves.epochs)
    last_x = property(lambda self: self.curves.last_x)

    def set_epochs(self, epochs: float) -> None:
        """Fix the x axis to the run's length: an axis that does not move is not redrawn."""
        self.plot.setXRange(0, epochs, padding=0.02)
        self.plot.enableAutoRange(x=False)

    def add_records(self, records) -> None:
        self.curves.add(records)
        self.redraw()

    def epoch_columns(self):
        """(x, train loss, test loss, test error %) arrays of the epochs so far."""
        if not self.epochs:
            return (np.empty(0),) * 4
        x, train, test, accuracy = (np.array(column) for column in zip(*self.epochs, strict=True))
        return x, train, test, 100 - accuracy

    def redraw(self) -> None:
        steps, averages = self.steps.data(), self.averages.data()
        self.step_curve.setData(*steps)
        self.average_curve.setData(*averages)
        train = test = drawn = np.empty(0)
        if self.epochs:
            x, train, test, error = self.epoch_columns()
            positive = (train > 0) & (test > 0)
            self.train_curve.setData(x[positive], train[positive])
            self.test_curve.setData(x[positive], test[positive])
            drawn, zero = error_floored(error)
            self.error_curve.setData(x, drawn)
            self.zero_error_curve.setData(x[zero], drawn[zero])
        self.ranges[0].follow(steps[1], averages[1], train, test)
        self.ranges[1].follow(drawn)
        if self.steps.stride > 1:
            self.plot.setTitle(f"Loss (older steps averaged {self.steps.stride} to a point)", size="9pt")

    def eventFilter(self, watched, event) -> bool:
        if watched is self.graphics and event.type() == QEvent.Resize:   # before pyqtgraph lays out the new size
            self.fit_legend(event.size().width())
        return False

    def fit_legend(self, width: int) -> None:
        """As many legend columns as fit the panel's width: a wider legend widened the plots under the
        neighbouring panel (the x axis and the legend cut off at 1280 px)."""
        fit_legend(self.legend, width - 30, LEGEND_COLUMNS)   # 30: the layout's margins
        self.graphics.setMinimumHeight(math.ceil(self.graphics.ci.effectiveSizeHint(Qt.MinimumSize).height()))

    def _loss_series(self) -> list:
        x, train, test, _ = self.epoch_columns()
        return [("step loss", *self.steps.data(), "{:.4g}"), ("mean", *self.averages.data(), "{:.4g}"),
                ("epoch train", x, train, "{:.4g}"), ("epoch test", x, test, "{:.4g}")]

    def _error_series(self) -> list:
        x, _, _, error = self.epoch_columns()
        return [("test error", x, error, "{:.2f}%"), ("accuracy", x, 100 - error, "{:.2f}%")]

    def _show(self, text: str) -> None:
        self.readout.setText(text or HINT)


def steady(axis: pg.AxisItem) -> None:
    """Room for the axis's widest label from the start: it widened as the loss fell a decade (0.1, 0.01, 0.001,
    1e-05), and the plots moved sideways under the reader's eye, each time laid out anew."""
    metrics = QFontMetrics(axis.style["tickFont"] or axis.font())
    axis.setStyle(autoExpandTextSpace=False, tickTextWidth=metrics.horizontalAdvance(WIDEST_TICK) + 2)


def marked(curve: pg.PlotDataItem) -> None:
    """The curve's marker style given to its points' item now: the legend's sample draws what that item holds,
    which pyqtgraph sets with the first points (before, the legend showed its default grey-purple markers, and
    kept them after a run until something repainted it)."""
    scatter, opts = curve.scatter, curve.opts
    scatter.setSymbol(opts["symbol"])
    scatter.setSize(opts["symbolSize"])
    scatter.setPen(opts["symbolPen"])
    scatter.setBrush(opts["symbolBrush"])
