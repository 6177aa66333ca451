"""Feature maps for the chosen sample and layer: the input image, the network's class outputs as
bars, and the chosen layer's maps: a layer with weights before and after the activation that follows
it, any other layer its input and output."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout

from app.model.layer_cells import map_cells
from app.studio.views.snapshot_view import SnapshotView
from app.widgets.grid_plot import GridPlot
from app.widgets.imaging import DIVERGING, GRAY, SEQUENTIAL, MosaicImage, image_plot, symmetric_levels

ACTIVATIONS = ("Sigmoid", "ReLU", "Tanh", "Softmax")
FORMULAS = {"Convolutional": "Y = B + Σ X ⋆ K", "Dense": "Y = W X + B", "Sigmoid": "σ(X)", "ReLU": "max(X, 0)",
            "Tanh": "tanh(X)", "Softmax": "softmax(X)", "MaxPool2D": "max over windows", "Reshape": "reshaped",
            "AvgPool2D": "mean over windows", "GlobalAvgPool": "mean of each map",
            "BatchNorm": "γ (X − μ_run)/√(σ²_run + ε) + β", "Dropout": "Y = X (evaluation: no dropout)"}


def levels_for(kind: str, array: np.ndarray):
    """(levels, colour map) for a layer's output: fixed ranges where the activation has one."""
    if kind in ("Sigmoid", "Softmax"):
        return (0.0, 1.0), SEQUENTIAL
    if kind == "Tanh":
        return (-1.0, 1.0), DIVERGING
    if array.size and float(np.nanmin(array)) >= 0:     # ReLU and pooling of non-negative maps
        return (0.0, max(float(np.nanmax(array)), 1e-12)), SEQUENTIAL
    return symmetric_levels(array), DIVERGING


def map_pair(s, index: int) -> list[tuple[str, str, np.ndarray, str]]:
    """What to draw for layer `index`: [(title, symbol, array, kind that made it)], one or two entries; a
    title is two short lines (what, then how), which leave the maps the panel's width."""
    layers = s.layers
    info = layers[index].info
    formula = f"layer {index} {info.kind}<br>{FORMULAS.get(info.kind, 'Y')}"
    if info.params:
        pair = [(formula, "Y", layers[index].output, info.kind)]
        if index + 1 < len(layers) and layers[index + 1].info.kind in ACTIVATIONS:
            after = layers[index + 1].info.kind
            pair.append((f"after the {after}<br>layer {index + 1}", f"{after}(Y)", layers[index + 1].output, after))
        return pair
    before = s.layer_input(index)
    before_kind = layers[index - 1].info.kind if index > 0 else "input"
    return [(f"input X<br>of layer {index}", "X", before, before_kind),
            (formula, "Y", layers[index].output, info.kind)]


PIXELS_PER_CLASS = 14   # a bar and its class's label ("10" in the plot's font)
BAR_AXIS_WIDTH = 60     # the probability axis and its title


class FeatureMapsView(SnapshotView):
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
        # The input and the outputs side by side above the maps, which take the panel's width: side by side
        # with them the maps' titles and colour bars made the scene too wide, drawn at half size at 1024×768.
        g.addLabel("outputs", row=0, col=1, size="9pt")
        self.bars_plot = g.addPlot(row=1, col=1)
        self.maps = [GridPlot(g, 2, 0, colspan=2), GridPlot(g, 3, 0, colspan=2)]
        self.bars_plot.setMouseEnabled(x=False, y=False)
        self.bars_plot.setYRange(0, 1, padding=0.05)
        self.bars_plot.hideButtons()
        self.bars_plot.setMinimumHeight(100)
        self.bars = pg.BarGraphItem(x=[0], height=[0], width=0.7)
        self.bars_plot.addItem(self.bars)
        for index, stretch in enumerate((1, 2)):
            g.ci.layout.setColumnStretchFactor(index, stretch)
        for index, stretch in enumerate((0, 2, 3, 3)):
            g.ci.layout.setRowStretchFactor(index, stretch)
        for item in (self.input_image, *(plot.image for plot in self.maps)):
            item.on_hover = self.readout.setText
        self.image = np.zeros((1, 1))
        self.shown: list = []   # what the map panels show: (title, symbol, array, kind)

    def redraw_layer(self) -> None:
        self.redraw_maps()

    def redraw(self) -> None:
        s = self.snapshot
        if s is None:
            return
        self.image = s.image
        if s.label_picked:
            verdict = "✓" if s.predicted == s.label else "✗ misclassified"
            self.caption.setText(f"<b>{s.split} image #{s.index}</b> · label <b>{s.label}</b> · predicted "
                                 f"<b>{s.predicted}</b> {verdict} · loss {s.loss:.6g}")
        else:  # your image, no true digit picked: nothing to be right or wrong about
            self.caption.setText(f"<b>{s.split} image #{s.index}</b> · no true digit picked · predicted "
                                 f"<b>{s.predicted}</b> · loss against the predicted class {s.loss:.6g}")
        self.input_image.set_maps(self.image[None], 1, (0.0, 1.0), GRAY)
        self.input_view.autoRange(padding=0.02)
        self.show_outputs(s)
        self.redraw_maps()

    def show_outputs(self, s) -> None:
        """The class outputs as bars, each class wide enough for its label (ten classes in the narrow
        column were ~15 px together, their labels run into one "0123456789")."""
        positions = np.arange(len(s.classes))
        colours = [(44, 160, 44) if c == s.label else (214, 39, 40) if c == s.predicted else (150, 150, 150)
                   for c in s.classes]
        self.bars.setOpts(x=positions, height=s.probabilities, brushes=colours, width=0.7)
        self.bars_plot.getAxis("bottom").setTicks([[(i, str(c)) for i, c in enumerate(s.classes)]])
        self.bars_plot.setLabel("left", "probability" if s.outputs_are_probabilities else "sigmoid output")
        self.bars_plot.setXRange(-0.6, len(s.classes) - 0.4, padding=0)
        self.bars_plot.setMinimumWidth(BAR_AXIS_WIDTH + PIXELS_PER_CLASS * len(s.classes))

    def redraw_maps(self) -> None:
        s = self.snapshot
        if s is None or not 0 <= self.layer < len(s.layers):
            return
        self.shown = map_pair(s, self.layer)
        for plot, entry in zip(self.maps, self.shown + [None], strict=False):
            plot.plot.setVisible(entry is not None)
            if entry is None:
                continue
            title, symbol, array, kind = entry
            levels, colormap = levels_for(kind, array)
            maps = array if array.ndim == 3 else array.reshape(-1)
            plot.show(map_cells(symbol, maps, columns=8), levels, colormap)
            plot.set_title(f"{title} · {'×'.join(map(str, array.shape))}")

    def _describe_input(self, m, row, col) -> str:
        return f"X at row {row}, column {col}: {self.image[row, col]:.4f}"
