"""Kernels view: every kernel of the first convolutional layer, one symmetric diverging scale,
values on hover; the biases beside them."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.widgets.imaging import DIVERGING, MosaicImage, image_plot, symmetric_levels


class KernelsView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.readout = QLabel("Hover over a kernel or bias to read its value.")
        self.readout.setObjectName("readout")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.readout)
        g = self.graphics
        g.addLabel("<b>Kernels</b> K<sub>ij</sub> of the first convolution and its biases B<sub>i</sub>",
                   row=0, col=0, colspan=2)
        self.kernels_view = image_plot("kernels", g, 1, 0)
        self.kernels_image = MosaicImage(self._describe_kernel)
        self.kernels_view.addItem(self.kernels_image)
        self.kernels_bar = pg.ColorBarItem(colorMap=DIVERGING, interactive=False, width=12)
        self.kernels_bar.setImageItem(self.kernels_image)
        g.addItem(self.kernels_bar, row=2, col=1)
        self.biases_view = image_plot("biases B<sub>i</sub>", g, 3, 0)
        self.biases_image = MosaicImage(self._describe_bias)
        self.biases_view.addItem(self.biases_image)
        self.biases_bar = pg.ColorBarItem(colorMap=DIVERGING, interactive=False, width=12)
        self.biases_bar.setImageItem(self.biases_image)
        g.addItem(self.biases_bar, row=4, col=1)
        for image in (self.kernels_image, self.biases_image):
            image.on_hover = self._show
        self.kernels = np.zeros((1, 1, 3, 3))
        self.biases = np.zeros((1, 1, 1))

    def subscribe(self, worker) -> None:
        worker.snapshot.connect(self.update_snapshot)

    def update_snapshot(self, snapshot) -> None:
        self.kernels, biases = snapshot.kernels, snapshot.biases
        self.biases = biases if biases.ndim == 3 else biases[:, None, None]
        depth, channels, k, _ = self.kernels.shape
        # One row per kernel when there are several channels, else the kernels side by side.
        if channels == 1:
            maps, columns = self.kernels[:, 0], depth
        else:
            maps, columns = self.kernels.reshape(depth * channels, k, k), channels
        levels = symmetric_levels(self.kernels)
        self.kernels_image.set_maps(maps, columns, levels, DIVERGING)
        self.kernels_bar.setLevels(levels)
        bias_levels = symmetric_levels(self.biases)
        self.biases_image.set_maps(self.biases, min(depth, 8) if self.biases.shape[1] > 1 else depth,
                                   bias_levels, DIVERGING)
        self.biases_bar.setLevels(bias_levels)
        self.kernels_view.autoRange(padding=0.02)
        self.biases_view.autoRange(padding=0.02)

    def _describe_kernel(self, m, row, col) -> str:
        depth, channels = self.kernels.shape[:2]
        i, j = (m, 0) if channels == 1 else divmod(m, channels)
        return f"K[{i},{j}] (kernel {i}, channel {j}) at row {row}, column {col}: {self.kernels[i, j, row, col]:+.6g}"

    def _describe_bias(self, m, row, col) -> str:
        if self.biases.shape[1:] == (1, 1):
            return f"B[{m}] (kernel {m}'s bias): {self.biases[m, 0, 0]:+.6g}"
        return f"B[{m}] at row {row}, column {col}: {self.biases[m, row, col]:+.6g}"

    def _show(self, text: str) -> None:
        self.readout.setText(text or "Hover over a kernel or bias to read its value.")
