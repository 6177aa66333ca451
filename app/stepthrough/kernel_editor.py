"""The step-through's kernel editor: pick a convolution, kernel i and channel j, type values.

It edits the step-through's own copy of the network in place and says so through `changed`;
the window then recomputes the sample's pass. Nonsense (text, NaN, infinity) is refused with a
message and changes nothing.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHeaderView, QPushButton, QSpinBox, QTableWidget,
                               QTableWidgetItem)

from cnn.convolution import Convolutional

EDITED = QColor("#fdd49e")


class KernelEditor(QGroupBox):
    changed = Signal(str)   # a value was set (or the edits reset): what happened, for the status line
    refused = Signal(str)   # a typed value was not a finite number

    def __init__(self, parent=None):
        super().__init__("Edit a kernel", parent)
        self.network, self.original = None, {}
        self.layer, self.kernel, self.channel = QComboBox(), QSpinBox(), QSpinBox()
        self.table = QTableWidget(3, 3)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.setToolTip("Type a number: the maps, prediction and loss are recomputed at once")
        self.reset_button = QPushButton("Reset edits")
        self.reset_button.setToolTip("Back to the model's weights")
        form = QFormLayout(self)
        form.addRow("Layer", self.layer)
        form.addRow("Kernel i", self.kernel)
        form.addRow("Channel j", self.channel)
        form.addRow(self.table)
        form.addRow(self.reset_button)
        self.layer.currentIndexChanged.connect(self.refresh)
        self.kernel.valueChanged.connect(self.refresh)
        self.channel.valueChanged.connect(self.refresh)
        self.table.itemChanged.connect(self._value_typed)
        self.reset_button.clicked.connect(self.reset)

    def set_network(self, network, original: dict) -> None:
        """The copy to edit, and the model's values (edited cells are marked against them)."""
        self.network, self.original = network, original
        self.layer.blockSignals(True)
        self.layer.clear()
        for index, layer in enumerate(network.layers):
            if isinstance(layer, Convolutional):
                self.layer.addItem(f"{index} · Convolutional", index)
        self.layer.blockSignals(False)
        self.refresh()

    def select(self, layer: int, i: int, j: int, a: int, b: int) -> None:
        """Show kernel (i, j) of `layer` and open cell (a, b) for typing."""
        self.layer.setCurrentIndex(self.layer.findData(layer))
        self.kernel.setValue(i)
        self.channel.setValue(j)
        item = self.table.item(a, b)
        self.table.setCurrentItem(item)
        self.table.setFocus()
        self.table.editItem(item)

    def refresh(self) -> None:
        index = self.layer.currentData()
        if index is None:
            return
        kernels = self.network.layers[index].params["kernels"]
        self.kernel.setMaximum(kernels.shape[0] - 1)
        self.channel.setMaximum(kernels.shape[1] - 1)
        i, j, k = self.kernel.value(), self.channel.value(), kernels.shape[-1]
        original = self.original[f"{index}.kernels"][i, j]
        self.table.blockSignals(True)
        self.table.setRowCount(k)
        self.table.setColumnCount(k)
        self.table.setHorizontalHeaderLabels([f"b={b}" for b in range(k)])
        self.table.setVerticalHeaderLabels([f"a={a}" for a in range(k)])
        for a in range(k):
            for b in range(k):
                item = QTableWidgetItem(f"{kernels[i, j, a, b]:.6g}")
                item.setTextAlignment(Qt.AlignCenter)
                if kernels[i, j, a, b] != original[a, b]:
                    item.setBackground(EDITED)
                    item.setToolTip(f"edited; the model has {original[a, b]:.10g}")
                self.table.setItem(a, b, item)
        self.table.blockSignals(False)
        self.table.resizeRowsToContents()
        self.table.setFixedHeight(self.table.horizontalHeader().sizeHint().height()
                                  + sum(self.table.rowHeight(a) for a in range(k)) + 2 * self.table.frameWidth())

    def reset(self) -> None:
        self.network.set_params(self.original)
        self.refresh()
        self.changed.emit("Back to the model's weights.")

    def _value_typed(self, item: QTableWidgetItem) -> None:
        index, i, j = self.layer.currentData(), self.kernel.value(), self.channel.value()
        a, b, text = item.row(), item.column(), item.text()  # (refresh() below replaces the items)
        try:
            value = float(text.replace("−", "-"))
        except ValueError:
            value = float("nan")
        if not np.isfinite(value):
            self.refresh()
            self.refused.emit(f"K[{i}, {j}, {a}, {b}]: “{text}” is not a finite number; the value is unchanged.")
            return
        self.network.layers[index].params["kernels"][i, j, a, b] = value
        self.refresh()
        self.changed.emit(f"K[{i}, {j}, {a}, {b}] of layer {index} set to {value:g}.")
