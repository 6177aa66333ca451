"""Weights over time: one parameter tensor's distribution at every moment of the run, as TensorBoard's
distributions draw it (bands between the percentiles of ±1.5σ, ±σ, ±σ/2 of a normal distribution, the
median a line, the minimum and maximum the faintest band), and the chosen sample's predicted probability
of each digit across the moments: when did the network learn this one? The moment shown is marked."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.studio.timeline_bar import moment_marker
from app.studio.views.health import COLOURS

BAND_ALPHAS = (40, 70, 100, 130)     # outer band (min–max) to inner band (±σ/2)


class OverTimeView(QWidget):
    wanted = Signal()     # shown, and what it draws may have changed: the model is asked again
    drawn = Signal()      # the moments' distributions and probabilities are drawn

    def __init__(self, parent=None):
        super().__init__(parent)
        self.data = None
        self.parameter = QComboBox()
        self.parameter.setToolTip("The parameter tensor whose distribution is drawn")
        self.title = QLabel("Weights over time: the moments of a recorded run")
        self.graphics = pg.GraphicsLayoutWidget()
        top = QHBoxLayout()
        top.addWidget(QLabel("Parameter:"))
        top.addWidget(self.parameter, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.title)
        layout.addWidget(self.graphics, 1)
        self.bands_plot = self.graphics.addPlot(row=0, col=0, title="Distribution of the parameter at each moment")
        self.probabilities_plot = self.graphics.addPlot(row=1, col=0, title="The sample's predicted probabilities")
        for plot in (self.bands_plot, self.probabilities_plot):
            plot.setLabel("bottom", "epoch")
            plot.showGrid(x=True, y=True, alpha=0.2)
        self.probabilities_plot.setYRange(0, 1)
        self.legend = self.probabilities_plot.addLegend(offset=(5, 5), labelTextSize="8pt", colCount=5)
        self.markers = [moment_marker(self.bands_plot), moment_marker(self.probabilities_plot)]
        self.parameter.currentTextChanged.connect(lambda _: self.redraw())

    def subscribe(self, worker) -> None:
        worker.over_time.connect(self.show_over_time)
        worker.moment_chosen.connect(self.mark)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.wanted.emit()

    def moments_arrived(self, *_) -> None:
        """New moments, or another sample: drawn again if shown."""
        if self.isVisible():
            self.wanted.emit()

    def mark(self, step, position) -> None:
        for marker in self.markers:
            marker.setVisible(position is not None)
            if position is not None:
                marker.setValue(position)

    def show_over_time(self, data) -> None:
        self.data = data
        names = list(data.bands)
        if [self.parameter.itemText(i) for i in range(self.parameter.count())] != names:
            chosen = self.parameter.currentText()
            self.parameter.blockSignals(True)
            self.parameter.clear()
            self.parameter.addItems(names)
            self.parameter.setCurrentIndex(names.index(chosen) if chosen in names else 0)
            self.parameter.blockSignals(False)
        label = f", digit {data.label}" if data.label is not None else ""
        self.title.setText(f"{len(data.steps)} moments; sample {data.sample}{label}")
        self.redraw()
        self.drawn.emit()

    def redraw(self) -> None:
        data = self.data
        for item in [item for item in self.bands_plot.items if item not in self.markers]:
            self.bands_plot.removeItem(item)
        self.probabilities_plot.clear()
        self.legend.clear()
        for marker in self.markers[1:]:
            self.probabilities_plot.addItem(marker, ignoreBounds=True)
        name = self.parameter.currentText()
        if data is None or name not in data.bands:
            return
        x, bands = np.asarray(data.positions, dtype=float), data.bands[name]
        columns = bands.shape[1]
        for depth, alpha in enumerate(BAND_ALPHAS):
            low = pg.PlotDataItem(x, bands[:, depth])
            high = pg.PlotDataItem(x, bands[:, columns - 1 - depth])
            self.bands_plot.addItem(pg.FillBetweenItem(low, high, brush=pg.mkBrush(255, 127, 14, alpha)))
        self.bands_plot.plot(x, bands[:, columns // 2], pen=pg.mkPen((160, 60, 0), width=1.5), symbol="o",
                             symbolSize=4)
        for i, digit in enumerate(data.classes):
            pen = pg.mkPen(COLOURS[i % len(COLOURS)], width=2.5 if digit == data.label else 1.2)
            self.probabilities_plot.plot(x, data.probabilities[:, i], pen=pen, name=str(digit))
