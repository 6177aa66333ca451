"""Gradients for the chosen sample and layer: ∂E/∂θ of its weights (laid out as the weights view lays
out θ), ∂E/∂Y arriving at its output and ∂E/∂X it passes down, each on its own symmetric scale.
(Gradient norms over time are in the health view.)"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout

from app.model.layer_cells import map_cells, parameter_cells
from app.studio.views.snapshot_view import SnapshotView
from app.widgets.grid_plot import GridPlot

SYMBOLS = {"kernels": "∂E/∂K", "weights": "∂E/∂W", "gamma": "∂E/∂γ"}   # the one drawn: the first of these


class GradientsView(SnapshotView):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.readout = QLabel("")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.readout)
        g = self.graphics
        self.param_plot = GridPlot(g, 0, 0)
        self.input_plot = GridPlot(g, 0, 1)
        self.output_plot = GridPlot(g, 1, 0, colspan=2)
        for plot in (self.param_plot, self.input_plot, self.output_plot):
            plot.image.on_hover = self.readout.setText

    def redraw(self) -> None:
        s = self.snapshot
        if s is None or not 0 <= self.layer < len(s.layers):
            return
        state, infos = s.layers[self.layer], [layer.info for layer in s.layers]
        name = next((n for n in state.grads if n in SYMBOLS), None)
        self.param_plot.plot.setVisible(name is not None)
        if name is not None:
            gradient = state.grads[name]
            box = self.param_plot.plot.vb
            self.param_plot.show(parameter_cells(infos, self.layer, name, gradient, s.classes, SYMBOLS[name]),
                                 aspect=box.width() / box.height() if box.height() > 10 else 1.0)
            self.param_plot.set_title(f"{SYMBOLS[name]} (this sample)")
        dy, dx = state.output_gradient, s.layer_input_gradient(self.layer)
        self.output_plot.show(map_cells("∂E/∂Y", dy if dy.ndim == 3 else dy.reshape(-1), columns=8))
        self.output_plot.set_title(f"∂E/∂Y at the output ({'×'.join(map(str, dy.shape))})")
        self.input_plot.show(map_cells("∂E/∂X", dx if dx.ndim == 3 else dx.reshape(-1), columns=4))
        self.input_plot.set_title(f"∂E/∂X at the input ({'×'.join(map(str, dx.shape))})")
