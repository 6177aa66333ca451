"""The network strip, as ConvNetJS draws it: for the chosen sample, every layer's output Y (maps for
3-D tensors, a strip for vectors) with ∂E/∂Y beside it, each with its colour bar. Redrawn live while
training, but only while it is on screen (a hidden strip keeps the newest snapshot for later)."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from app.model.layer_cells import map_cells
from app.studio.views.features import levels_for
from app.widgets.grid_plot import GridPlot

ROW_HEIGHT = 118      # pixels per layer
COLUMNS = 8           # maps per row of a layer's panel: 16 maps of 28×28 in one row were 14 px each


class StripView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.graphics)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.NoFrame)
        self.readout = QLabel("Every layer's output Y for this sample (left) and ∂E/∂Y (right). Hover to read values.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.readout)
        self.rows: list[tuple[pg.LabelItem, GridPlot, GridPlot]] = []
        self.architecture = None
        self.snapshot = None
        self.drawn = None          # the snapshot the panels show

    def subscribe(self, worker) -> None:
        worker.snapshot.connect(self.update_snapshot)

    def update_snapshot(self, snapshot) -> None:
        self.snapshot = snapshot
        if self.isVisible():
            self.redraw()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.snapshot is not None and self.drawn is not self.snapshot:
            self.redraw()

    def _build(self, infos) -> None:
        g = self.graphics
        g.clear()
        self.rows = []
        g.addLabel("<b>layer</b>", row=0, col=0, size="9pt")
        g.addLabel("<b>output Y</b>", row=0, col=1, size="9pt")
        g.addLabel("<b>∂E/∂Y</b>", row=0, col=2, size="9pt")
        for row, info in enumerate([None, *infos], start=1):
            text = "input X<br>" + "×".join(map(str, infos[0].input_shape)) if info is None else \
                f"{info.index} · {info.kind}<br>{'×'.join(map(str, info.output_shape))}"
            label = g.addLabel(text, row=row, col=0, size="8pt")
            y_plot, dy_plot = GridPlot(g, row, 1), GridPlot(g, row, 2)
            for plot in (y_plot, dy_plot):
                plot.image.on_hover = self._hover
            self.rows.append((label, y_plot, dy_plot))
        g.ci.layout.setColumnStretchFactor(1, 1)
        g.ci.layout.setColumnStretchFactor(2, 1)
        self.graphics.setMinimumHeight(ROW_HEIGHT * len(self.rows) + 24)
        self.architecture = infos

    def redraw(self) -> None:
        s = self.snapshot
        infos = tuple(layer.info for layer in s.layers)
        if infos != self.architecture:
            self._build(infos)
        entries = [("X", "", s.input, s.input_gradient, "input")] + \
                  [("Y", f" of layer {layer.info.index}", layer.output, layer.output_gradient, layer.info.kind)
                   for layer in s.layers]
        for (_label, y_plot, dy_plot), (symbol, where, y, dy, kind) in zip(self.rows, entries, strict=True):
            levels, colormap = levels_for(kind, y)
            y_plot.show(map_cells(symbol + where, y if y.ndim == 3 else y.reshape(-1), columns=COLUMNS),
                        levels, colormap)
            dy_plot.show(map_cells(f"∂E/∂{symbol}{where}", dy if dy.ndim == 3 else dy.reshape(-1), columns=COLUMNS))
        self.drawn = s

    def _hover(self, text: str) -> None:
        if text:
            self.readout.setText(text)
