"""Feature maps for the chosen sample: the input, each kernel's output before and after the
activation, and the network's class outputs as bars."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.widgets.imaging import DIVERGING, GRAY, SEQUENTIAL, MosaicImage, image_plot, symmetric_levels


class FeatureMapsView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.caption = QLabel("")
        self.caption.setObjectName("caption")
        self.readout = QLabel("")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.readout)
        g = self.graphics
        self.input_view = image_plot("input X", g, 0, 0)
        self.input_image = MosaicImage(self._describe_input)
        self.input_view.addItem(self.input_image)
        self.pre_view = image_plot("convolution Y = B + Σ X ⋆ K", g, 0, 1)
        self.pre_image = MosaicImage(lambda m, r, c: self._describe_map("Y", self.pre, m, r, c))
        self.pre_view.addItem(self.pre_image)
        self.post_view = image_plot("after the activation", g, 2, 1)
        self.post_image = MosaicImage(lambda m, r, c: self._describe_map("σ(Y)", self.post, m, r, c))
        self.post_view.addItem(self.post_image)
        g.addLabel("outputs", row=2, col=0, size="9pt")
        self.bars_plot = g.addPlot(row=3, col=0)
        self.bars_plot.setMouseEnabled(x=False, y=False)
        self.bars_plot.setYRange(0, 1, padding=0.05)
        self.bars_plot.hideButtons()
        self.bars = pg.BarGraphItem(x=[0], height=[0], width=0.7)
        self.bars_plot.addItem(self.bars)
        g.ci.layout.setColumnStretchFactor(0, 1)
        g.ci.layout.setColumnStretchFactor(1, 3)
        for image in (self.input_image, self.pre_image, self.post_image):
            image.on_hover = lambda text: self.readout.setText(text)
        self.image = np.zeros((1, 1))
        self.pre = self.post = np.zeros((1, 1, 1))

    def subscribe(self, worker) -> None:
        worker.snapshot.connect(self.update_snapshot)

    def update_snapshot(self, s) -> None:
        self.image, self.pre, self.post = s.image, s.pre_activation, s.post_activation
        verdict = "✓" if s.predicted == s.label else "✗ misclassified"
        self.caption.setText(f"<b>{s.split} image #{s.index}</b> · label <b>{s.label}</b> · predicted "
                             f"<b>{s.predicted}</b> {verdict} · loss {s.loss:.6g}")
        self.input_image.set_maps(self.image[None], 1, (0.0, 1.0), GRAY)
        columns = min(len(self.pre), 8)
        self.pre_image.set_maps(self.pre, columns, symmetric_levels(self.pre), DIVERGING)
        bounded = s.activation in ("Sigmoid", "Softmax", "Tanh")
        high = 1.0 if bounded else max(float(np.max(self.post)), 1e-12)
        low = -1.0 if s.activation == "Tanh" else 0.0
        self.post_image.set_maps(self.post, columns, (low, high), SEQUENTIAL)
        positions = np.arange(len(s.classes))
        colours = [(44, 160, 44) if c == s.label else (214, 39, 40) if c == s.predicted else (150, 150, 150)
                   for c in s.classes]
        self.bars.setOpts(x=positions, height=s.probabilities, brushes=colours, width=0.7)
        axis = self.bars_plot.getAxis("bottom")
        axis.setTicks([[(i, str(c)) for i, c in enumerate(s.classes)]])
        self.bars_plot.setLabel("left", "probability" if s.outputs_are_probabilities else "sigmoid output")
        self.bars_plot.setXRange(-0.6, len(s.classes) - 0.4, padding=0)
        for view in (self.input_view, self.pre_view, self.post_view):
            view.autoRange(padding=0.02)

    def _describe_input(self, m, row, col) -> str:
        return f"X at row {row}, column {col}: {self.image[row, col]:.4f}"

    def _describe_map(self, name, maps, m, row, col) -> str:
        return f"{name} of kernel {m} at row {row}, column {col}: {maps[m, row, col]:+.6g}"
