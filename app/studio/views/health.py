"""Layer health over time: per parameter tensor the gradient norm ‖∂E/∂θ‖ at every step and the
update ratio ‖ΔW‖/‖W‖, and per activation layer the share of saturated sigmoids and dead ReLUs.
A new network brings its own curves and legend (nothing of the last one stays)."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from cnn.health import ZeroRun
from cnn.train import StepRecord

from app.model.health import HealthRecord
from app.model.history import History
from app.model.run_curves import norm_column, on_log_axis
from app.widgets.plots import CurveReadout, DecadeRange, fit_legend, log_plot

COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
HINT = "Hover over a plot to read its values."
NOT_RECORDED = "A run keeps its gradient norms only: the two plots below fill as this network trains."
NORM_COLUMNS, ACTIVATION_COLUMNS = 6, 4     # legend columns, at most
NORMS_TITLE = "Gradient norm ‖∂E/∂θ‖ per step"
# Short titles in 9 pt (what dead means is the plot's tooltip): one line of 676 px ("\n" is no line break in
# a plot title) kept the plots that wide in a 230 px panel, drawn smaller with the legends over the axes.
ACTIVATIONS_TITLE = "Saturated sigmoids, dead ReLUs (%)"
TITLE_SIZE = "9pt"
WAITING_MOST = 5_000    # records kept for a hidden view before it takes them anyway (a few MB at most)


class Series:
    """A curve and its bounded history."""

    def __init__(self, plot: pg.PlotItem, colour, legend: pg.LegendItem | None, name: str):
        self.name, self.history = name, History()
        self.curve = plot.plot(pen=pg.mkPen(colour, width=1.5), antialias=False)
        if legend is not None:
            legend.addItem(self.curve, name)

    def redraw(self) -> np.ndarray:
        """The curve drawn again; returns its values."""
        x, y = self.history.data()
        self.curve.setData(x, y)
        return y


class HealthView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.readout = QLabel(HINT)
        self.readout.setWordWrap(True)   # (the hint and a run's note are longer than a narrow panel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.readout)
        g = self.graphics
        self.legend = pg.LegendItem(colCount=NORM_COLUMNS, labelTextSize="8pt")
        g.addItem(self.legend, row=0, col=0)
        self.norms_plot = log_plot(g, 1, 0, title=NORMS_TITLE)
        self.ratio_plot = log_plot(g, 2, 0, title="Update ratio ‖ΔW‖/‖W‖ of a step")
        self.activations_legend = pg.LegendItem(colCount=ACTIVATION_COLUMNS, labelTextSize="8pt")
        g.addItem(self.activations_legend, row=3, col=0)
        self.activations_plot = g.addPlot(row=4, col=0, title=ACTIVATIONS_TITLE)
        self.activations_plot.setToolTip("Saturated: a sigmoid output within 0.01 of 0 or 1 (its slope is under 4% "
                                         "of its peak). Dead: a ReLU unit (for a convolution, a whole channel) that "
                                         "outputs zero for every image of the batch at every position; a few "
                                         "percent is normal, most of a layer means it has stopped learning.")
        self.activations_plot.setYRange(0, 100, padding=0.02)
        for plot in (self.norms_plot, self.ratio_plot, self.activations_plot):
            plot.setTitle(plot.titleLabel.text, size=TITLE_SIZE)
            plot.setDownsampling(auto=True, mode="mean")
            plot.setClipToView(True)
            plot.setLabel("bottom", "epoch")
            plot.setMouseEnabled(y=False)
            if plot is not self.norms_plot:
                plot.setXLink(self.norms_plot)
        self.readouts = [CurveReadout(plot, lambda p=plot: self._series_of(p), self._show)
                         for plot in (self.norms_plot, self.ratio_plot, self.activations_plot)]
        self.ranges = DecadeRange(self.norms_plot), DecadeRange(self.ratio_plot)
        self.norms: dict[str, Series] = {}
        self.ratios: dict[str, Series] = {}
        self.activations: dict[str, Series] = {}
        self.zeros = ZeroRun()     # the norms a log axis cannot draw, named in the title
        self.waiting: list = []    # records that came while the view was hidden (add_records)
        self.dirty = False
        self.graphics.installEventFilter(self)   # the legends fit the width before pyqtgraph lays it out

    def eventFilter(self, watched, event) -> bool:
        if watched is self.graphics and event.type() == QEvent.Resize:
            self.fit_legends(event.size().width())
        return False

    def fit_legends(self, width: int) -> None:
        """As many legend columns as fit: six across widened the plots past a narrow panel, which was then
        drawn smaller, its legends over the axes. The panel asks for the height its layout then needs."""
        fit_legend(self.legend, width - 30, NORM_COLUMNS)
        fit_legend(self.activations_legend, width - 30, ACTIVATION_COLUMNS)
        self.graphics.setMinimumHeight(math.ceil(self.graphics.ci.effectiveSizeHint(Qt.MinimumSize).height()))

    def subscribe(self, worker) -> None:
        worker.records.connect(self.add_records)
        worker.health.connect(self.add_records)
        worker.model_changed.connect(self.set_model)
        worker.run_started.connect(self.show_run)
        worker.history.connect(self.show_history)

    def show_run(self, epochs_before: int, epochs_after: int) -> None:
        self.set_epochs(epochs_after)

    def set_model(self, info) -> None:
        """A new network: its parameter tensors and activation layers, and nothing of the last one."""
        for plot, legend in ((self.norms_plot, self.legend), (self.ratio_plot, None),
                             (self.activations_plot, self.activations_legend)):
            for item in list(plot.listDataItems()):
                plot.removeItem(item)
            if legend is not None:
                legend.clear()
        self.norms, self.ratios, self.activations = {}, {}, {}
        self.zeros, self.waiting = ZeroRun(), []
        for decades in self.ranges:
            decades.reset()
        for i, name in enumerate(info.parameter_names):
            colour = COLOURS[i % len(COLOURS)]
            self.norms[name] = Series(self.norms_plot, colour, self.legend, name)
            self.ratios[name] = Series(self.ratio_plot, colour, None, name)
        for i, layer in enumerate(layer for layer in info.layers if layer.kind in ("Sigmoid", "ReLU")):
            what = "saturated" if layer.kind == "Sigmoid" else "dead"
            self.activations[layer.index] = Series(self.activations_plot, COLOURS[(i + 3) % len(COLOURS)],
                                                   self.activations_legend, f"{what}: layer {layer.index} {layer.kind}")
        self.fit_legends(self.graphics.width())
        self.set_epochs(1)
        self.redraw()      # the title too: no word of the last network's zero norms stays

    def show_history(self, curves) -> None:
        """An opened run's gradient norms (RunCurves, after its model_changed), or the run's curves as on
        disk when Start goes on with it (a stopped epoch's steps cut); new steps go on from them. Update
        ratios and activations are not recorded with runs: they are cut at the same place (an opened
        run has none; after Stop then Start the stopped epoch's go, as its norms do)."""
        self._take_waiting()     # the records before it, then the cut
        norms, end = curves.part(losses=False, norms=True).norms, max(curves.last_x, curves.epochs_done)
        for name, series in self.norms.items():
            if name in norms:
                series.history = norms[name]
            else:
                series.history.cut(end)
        for series in (*self.ratios.values(), *self.activations.values()):
            series.history.cut(end)
        self.set_epochs(max(1, curves.epochs_done))
        self.dirty = True
        if self.isVisible():
            self.redraw()

    def set_epochs(self, epochs: float) -> None:
        self.norms_plot.setXRange(0, epochs, padding=0.02)
        self.norms_plot.enableAutoRange(x=False)

    def add_records(self, records) -> None:
        """A frame's records (steps, epochs, HealthRecords). While the view is hidden they wait, up to
        WAITING_MOST, and are taken together when it is shown: each frame's cost the window's thread, and
        training the GIL, for curves no one saw."""
        self.waiting.extend(record for record in records if isinstance(record, (StepRecord, HealthRecord)))
        self.dirty = True
        if self.isVisible() or len(self.waiting) > WAITING_MOST:
            self._take_waiting()
        if self.isVisible():
            self.redraw()

    def _take_waiting(self) -> None:
        records, self.waiting = self.waiting, []
        steps = [record for record in records if isinstance(record, StepRecord)]
        for record in steps:
            self.zeros.see(record)
        if steps:   # a frame's steps as columns: one copy per series
            x = np.array([record.position for record in steps])
            for name, series in self.norms.items():
                series.history.extend(*on_log_axis(x, norm_column(steps, name)))
        for record in records:
            if isinstance(record, HealthRecord):
                for name, ratio in record.update_ratios.items():
                    if name in self.ratios and ratio > 0 and math.isfinite(ratio):
                        self.ratios[name].history.append(record.x, ratio)
                for index, share in (*record.saturated.items(), *record.dead.items()):
                    if index in self.activations:
                        self.activations[index].history.append(record.x, 100 * share)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._take_waiting()
        if self.dirty:
            self.redraw()

    def redraw(self) -> None:
        for decades, group in zip(self.ranges, (self.norms, self.ratios), strict=True):
            decades.follow(*(series.redraw() for series in group.values()))
        for series in self.activations.values():
            series.redraw()
        first = self.zeros.first
        title = NORMS_TITLE if first is None else \
            f"{NORMS_TITLE}:<br>exactly 0 since epoch {first.position:.2f}, which a log axis cannot draw"
        if self.norms_plot.titleLabel.text != title:   # a new title re-lays out the plot: only on a change
            self.norms_plot.setTitle(title, size=TITLE_SIZE)
        if self.readout.text().startswith(HINT):   # (a value read under the pointer stays)
            self._show("")
        self.dirty = False

    def _series_of(self, plot) -> list:
        table = {id(self.norms_plot): (self.norms, "{:.3g}"), id(self.ratio_plot): (self.ratios, "{:.2e}"),
                 id(self.activations_plot): (self.activations, "{:.1f}%")}[id(plot)]
        group, pattern = table
        return [(series.name, *series.history.data(), pattern) for series in group.values()]

    def _show(self, text: str) -> None:
        """A readout, or the hint (and why two plots are empty beside a run's norms)."""
        self.readout.setText(text or self._hint())

    def _hint(self) -> str:
        measured = (series.history.count for series in (*self.ratios.values(), *self.activations.values()))
        norms_only = any(series.history.count for series in self.norms.values()) and not any(measured)
        return f"{HINT} {NOT_RECORDED}" if norms_only else HINT
