"""Loss view: every step's loss (faint), its moving average, each epoch's train and test loss,
and test accuracy on a second axis."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.training.run_curves import AVERAGE_WINDOW, RunCurves


class LossView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        # The legend sits above the plot, never over the curves.
        self.legend = pg.LegendItem(colCount=3, labelTextSize="8pt")
        self.graphics.addItem(self.legend, row=0, col=0)
        plot = self.plot = self.graphics.addPlot(row=1, col=0)
        plot.setTitle("Loss")
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", "loss (log scale)")
        plot.setLogMode(y=True)
        plot.setDownsampling(auto=True, mode="mean")
        plot.setClipToView(True)
        self.step_curve = plot.plot(pen=pg.mkPen((120, 120, 120, 90), width=1), antialias=False)
        self.average_curve = plot.plot(pen=pg.mkPen((31, 119, 180), width=2))
        self.train_curve = plot.plot(pen=None, symbol="o", symbolSize=7, symbolBrush=(31, 119, 180))
        self.test_curve = plot.plot(pen=pg.mkPen((255, 127, 14), width=1.5), symbol="s", symbolSize=7,
                                    symbolBrush=(255, 127, 14))
        for curve, name in ((self.step_curve, "step loss"), (self.average_curve, f"mean of {AVERAGE_WINDOW} steps"),
                            (self.train_curve, "epoch train loss"), (self.test_curve, "epoch test loss")):
            self.legend.addItem(curve, name)
        # Accuracy on a second, linear axis, sharing x.
        self.accuracy_box = pg.ViewBox()
        plot.showAxis("right")
        plot.scene().addItem(self.accuracy_box)
        plot.getAxis("right").linkToView(self.accuracy_box)
        plot.getAxis("right").setLogMode(False)  # setLogMode(y=True) above made every y axis logarithmic
        plot.getAxis("right").setLabel("test accuracy (%)", color=(44, 160, 44))
        self.accuracy_box.setXLink(plot)
        self.accuracy_box.setYRange(0, 100)
        self.accuracy_box.setMouseEnabled(x=False, y=False)
        self.accuracy_curve = pg.PlotDataItem(pen=pg.mkPen((44, 160, 44), width=1.5), symbol="t",
                                              symbolSize=7, symbolBrush=(44, 160, 44))
        self.accuracy_box.addItem(self.accuracy_curve)
        self.legend.addItem(self.accuracy_curve, "test accuracy")
        plot.vb.sigResized.connect(lambda: self.accuracy_box.setGeometry(plot.vb.sceneBoundingRect()))
        self.clear()

    def subscribe(self, worker) -> None:
        worker.records.connect(self.add_records)
        worker.run_started.connect(self.show_run)
        worker.model_changed.connect(self.clear)
        worker.history.connect(self.show_history)

    def show_run(self, epochs_before: int, epochs_after: int) -> None:
        self.set_epochs(epochs_after)

    def clear(self, _info=None) -> None:
        """A new network: no curve of the last one stays, and the x axis starts again."""
        self.set_epochs(1)
        self.plot.setTitle("Loss")
        self.curves = RunCurves(norms=False)
        for curve in (self.step_curve, self.average_curve, self.train_curve, self.test_curve, self.accuracy_curve):
            curve.setData([], [])

    def show_history(self, curves: RunCurves) -> None:
        """An opened run's curves, read from its metrics; new records go on from them."""
        self.curves = curves.part(losses=True, norms=False)
        self.set_epochs(max(1, curves.epochs_done))
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

    def redraw(self) -> None:
        self.step_curve.setData(*self.steps.data())
        self.average_curve.setData(*self.averages.data())
        if self.epochs:
            x, train, test, accuracy = (np.array(column) for column in zip(*self.epochs, strict=True))
            positive = (train > 0) & (test > 0)
            self.train_curve.setData(x[positive], train[positive])
            self.test_curve.setData(x[positive], test[positive])
            self.accuracy_curve.setData(x, accuracy)
        if self.steps.stride > 1:
            self.plot.setTitle(f"Loss (older steps averaged {self.steps.stride} to a point)")
