"""Gradients view: each parameter's gradient norm over time (log scale) and, for the chosen
sample, ∂E/∂K per kernel, ∂E/∂Y at the convolution's output and ∂E/∂X at the input."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from cnn.train import EpochRecord

from app.training.history import History
from app.widgets.imaging import DIVERGING, MosaicImage, image_plot, symmetric_levels

COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


class GradientsView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.readout = QLabel("")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.readout)
        g = self.graphics
        self.legend = pg.LegendItem(colCount=3, labelTextSize="8pt")
        g.addItem(self.legend, row=0, col=0, colspan=3)
        self.norms_plot = g.addPlot(row=1, col=0, colspan=3, title="Gradient norms ‖∂E/∂θ‖ per step")
        self.norms_plot.setLogMode(y=True)
        self.norms_plot.setLabel("bottom", "epoch")
        self.norms_plot.setDownsampling(auto=True, mode="mean")
        self.norms_plot.setClipToView(True)
        self.kernel_view = image_plot("∂E/∂K (this sample)", g, 2, 0)
        self.output_view = image_plot("∂E/∂Y at the convolution", g, 2, 1)
        self.input_view = image_plot("∂E/∂X at the input", g, 2, 2)
        self.kernel_image = MosaicImage(lambda m, r, c: self._describe("∂E/∂K", self.dk, m, r, c))
        self.output_image = MosaicImage(lambda m, r, c: self._describe("∂E/∂Y", self.dy, m, r, c))
        self.input_image = MosaicImage(lambda m, r, c: self._describe("∂E/∂X", self.dx[None], m, r, c))
        for view, image in ((self.kernel_view, self.kernel_image), (self.output_view, self.output_image),
                            (self.input_view, self.input_image)):
            view.addItem(image)
            image.on_hover = lambda text: self.readout.setText(text)
        g.ci.layout.setRowStretchFactor(1, 3)
        g.ci.layout.setRowStretchFactor(3, 4)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.histories: dict[str, History] = {}
        self.dk = self.dy = np.zeros((1, 1, 1))
        self.dx = np.zeros((1, 1))

    def subscribe(self, worker) -> None:
        worker.records.connect(self.add_records)
        worker.snapshot.connect(self.update_snapshot)
        worker.run_started.connect(self.show_run)
        worker.model_changed.connect(self.clear)
        worker.history.connect(self.show_history)

    def show_run(self, epochs_before: int, epochs_after: int) -> None:
        self.set_epochs(epochs_after)

    def clear(self, _info=None) -> None:
        """A new network: its parameters get their own curves and legend, the x axis starts again."""
        for curve in self.curves.values():
            self.norms_plot.removeItem(curve)
            self.legend.removeItem(curve)
        self.curves, self.histories = {}, {}
        self.set_epochs(1)

    def show_history(self, curves) -> None:
        """An opened run's gradient norms (RunCurves), read from its metrics; new steps go on from them."""
        self.clear()
        for name, history in curves.part(losses=False, norms=True).norms.items():
            self._add_curve(name)
            self.histories[name] = history
            self.curves[name].setData(*history.data())
        self.set_epochs(max(1, curves.epochs_done))

    def _add_curve(self, name: str) -> None:
        self.histories[name] = History()
        colour = COLOURS[len(self.curves) % len(COLOURS)]
        self.curves[name] = self.norms_plot.plot(pen=pg.mkPen(colour, width=1), antialias=False)
        self.legend.addItem(self.curves[name], name)

    def set_epochs(self, epochs: float) -> None:
        self.norms_plot.setXRange(0, epochs, padding=0.02)
        self.norms_plot.enableAutoRange(x=False)

    def add_records(self, records) -> None:
        for record in records:
            if isinstance(record, EpochRecord):
                continue
            x = record.epoch - 1 + record.step / record.steps_per_epoch
            for name, norm in record.grad_norms.items():
                if name not in self.curves:
                    self._add_curve(name)
                if norm > 0 and math.isfinite(norm):
                    self.histories[name].append(x, norm)
        for name, curve in self.curves.items():
            curve.setData(*self.histories[name].data())

    def update_snapshot(self, s) -> None:
        depth, channels, k, _ = s.kernel_gradient.shape
        self.dk = s.kernel_gradient[:, 0] if channels == 1 else s.kernel_gradient.reshape(depth * channels, k, k)
        self.dy, self.dx = s.output_gradient, s.input_gradient
        self.kernel_image.set_maps(self.dk, depth if channels == 1 else channels, symmetric_levels(self.dk), DIVERGING)
        self.output_image.set_maps(self.dy, min(len(self.dy), 8), symmetric_levels(self.dy), DIVERGING)
        self.input_image.set_maps(self.dx[None], 1, symmetric_levels(self.dx), DIVERGING)
        for view in (self.kernel_view, self.output_view, self.input_view):
            view.autoRange(padding=0.02)

    def _describe(self, name, maps, m, row, col) -> str:
        where = f"kernel {m}, " if len(maps) > 1 else ""
        return f"{name} at {where}row {row}, column {col}: {maps[m, row, col]:+.6g}"
