"""Weights view: the chosen layer's parameters. A convolution's kernels K_ij as a grid (row i: kernel,
column j: input channel) on one symmetric scale, its biases below; a Dense layer's weights as one
template per output unit in its input's shape (or as a matrix); values on hover."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout

from app.studio.layer_cells import input_maps_shape, parameter_cells
from app.studio.views.snapshot_view import SnapshotView
from app.widgets.grid_plot import GridPlot

HINT = "Hover over a weight to read its value."


class WeightsView(SnapshotView):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel("")
        self.title.setObjectName("weights-title")
        self.title.setWordWrap(True)
        self.graphics = pg.GraphicsLayoutWidget()
        self.readout = QLabel(HINT)
        self.readout.setObjectName("readout")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.readout)
        g = self.graphics
        self.main = GridPlot(g, 0, 0)
        self.bias = GridPlot(g, 1, 0)
        g.ci.layout.setRowStretchFactor(0, 4)
        g.ci.layout.setRowStretchFactor(1, 1)
        for plot in (self.main, self.bias):
            plot.image.on_hover = self._show

    def redraw(self) -> None:
        s = self.snapshot
        if s is None or not 0 <= self.layer < len(s.layers):
            return
        state, infos = s.layers[self.layer], [layer.info for layer in s.layers]
        names = list(state.params)
        main_name = next((n for n in names if n in ("kernels", "weights")), None)
        self.main.plot.setVisible(main_name is not None)
        self.bias.plot.setVisible(len(names) > (main_name is not None))
        if not names:
            self.title.setText(f"<b>{state.info.title}</b>: no parameters. Choose a convolutional or dense layer "
                               "to see its weights.")
            return
        if main_name is not None:
            templates = input_maps_shape(infos, self.layer) is not None
            what = ("<b>Kernels</b> K<sub>ij</sub>" if main_name == "kernels" else
                    "<b>Weights</b> W, one row per output unit, each in its input's shape" if templates else
                    "<b>Weights</b> W")
            self.title.setText(f"{what} of {state.info.title}; its biases below")
            self.main.show(parameter_cells(infos, self.layer, main_name, state.params[main_name], s.classes),
                           aspect=self._aspect())
        for name in names:
            if name != main_name:
                bias = state.params[name]
                self.bias.plot.setMaximumHeight(85 if bias.ndim == 1 else 10_000)
                self.bias.show(parameter_cells(infos, self.layer, name, bias, s.classes), aspect=self._aspect())
                self.bias.set_title(f"{self.layer}.{name} {'×'.join(map(str, state.params[name].shape))}")

    def _aspect(self) -> float:
        box = self.main.plot.vb
        return box.width() / box.height() if box.height() > 10 else 1.5

    def _show(self, text: str) -> None:
        self.readout.setText(text or HINT)
