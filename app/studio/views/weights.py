"""Weights view: the chosen layer's parameters. A convolution's kernels K_ij as a grid (row i: kernel,
column j: input channel) on one symmetric scale, its biases below; a Dense layer's weights as one
template per output unit in its input's shape, one unit at a time, large, or all of them (or as a
matrix); values on hover."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from app.model.layer_cells import input_maps_shape, parameter_cells, unit_cells
from app.studio.views.snapshot_view import SnapshotView
from app.widgets.grid_plot import GridPlot
from app.widgets.imaging import symmetric_levels

HINT = "Hover over a weight to read its value."
WHAT = {"kernels": "<b>Kernels</b> K<sub>ij</sub>", "weights": "<b>Weights</b> W",
        "gamma": "<b>γ</b> (the scale)"}


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
        layout.addWidget(self._unit_row())
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.readout)
        g = self.graphics
        self.main = GridPlot(g, 0, 0)
        self.bias = GridPlot(g, 1, 0)
        g.ci.layout.setRowStretchFactor(0, 4)
        g.ci.layout.setRowStretchFactor(1, 1)
        for plot in (self.main, self.bias):
            plot.image.on_hover = self._show
        self.main.image.on_click = self._clicked

    def _unit_row(self) -> QWidget:
        """A Dense layer's templates: which unit's is shown large, or all of them (a click picks one)."""
        self.unit = QSpinBox()
        self.unit.setToolTip("The output unit whose template is shown (also: click one under All units)")
        self.unit.valueChanged.connect(self.redraw)
        self.units_count = QLabel("")
        self.all_units = QPushButton("All units")
        self.all_units.setCheckable(True)
        self.all_units.setToolTip("Every unit's template at once; click one to show it large")
        self.all_units.toggled.connect(self.redraw)
        self.unit_row = QWidget()
        row = QHBoxLayout(self.unit_row)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (QLabel("Unit"), self.unit, self.units_count):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.all_units)
        self.unit_row.hide()
        return self.unit_row

    def _clicked(self, row: int, _col: int) -> None:
        if self.unit_row.isVisible() and self.all_units.isChecked():
            self.unit.setValue(row)
            self.all_units.setChecked(False)

    def redraw(self) -> None:
        s = self.snapshot
        if s is None or not 0 <= self.layer < len(s.layers):
            return
        state, infos = s.layers[self.layer], [layer.info for layer in s.layers]
        names = list(state.params)
        main_name = next((n for n in names if n in ("kernels", "weights")), names[0] if names else None)
        self.main.plot.setVisible(main_name is not None)
        self.bias.plot.setVisible(len(names) > (main_name is not None))
        templates = main_name == "weights" and input_maps_shape(infos, self.layer) is not None
        self.unit_row.setVisible(templates)
        if not names:
            self.title.setText(f"<b>{state.info.title}</b>: no parameters. Choose a convolutional or dense layer "
                               "to see its weights.")
            return
        if main_name is not None:
            cells = parameter_cells(infos, self.layer, main_name, state.params[main_name], s.classes)
            what = WHAT.get(main_name, f"<b>{main_name}</b>")
            if templates and not self.all_units.isChecked():
                self._show_unit(cells, state)
            else:
                if templates:
                    what += ", one row per output unit, each in its input's shape"
                below = "β (the shift) below" if main_name == "gamma" else "its biases below"
                self.title.setText(f"{what} of {state.info.title}; {below}")
                self.main.show(cells, aspect=self._aspect())
        for name in names:
            if name != main_name:
                bias = state.params[name]
                self.bias.plot.setMaximumHeight(85 if bias.ndim == 1 else 10_000)
                self.bias.show(parameter_cells(infos, self.layer, name, bias, s.classes), aspect=self._aspect())
                self.bias.set_title(f"{self.layer}.{name} {'×'.join(map(str, state.params[name].shape))}")

    def _show_unit(self, cells, state) -> None:
        """One unit's template, its input channels in a grid, on the scale of the whole layer's."""
        units = cells.cells.shape[0]
        self.unit.blockSignals(True)      # a new layer's count: no second redraw
        self.unit.setMaximum(units - 1)
        self.unit.blockSignals(False)
        self.units_count.setText(f"of {units}")
        unit = min(self.unit.value(), units - 1)
        shape = "×".join(map(str, cells.cells.shape[1:]))
        self.title.setText(f"<b>Weights</b> W of {cells.row_names[unit]} of {state.info.title}: its template in "
                           f"its input's shape ({shape}), one map per input channel; the biases below")
        self.main.show(unit_cells(cells, unit), levels=symmetric_levels(cells.cells), aspect=self._aspect())

    def _aspect(self) -> float:
        box = self.main.plot.vb
        return box.width() / box.height() if box.height() > 10 else 1.5

    def _show(self, text: str) -> None:
        self.readout.setText(text or HINT)
