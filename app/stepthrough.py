"""The step-through window: one sample's forward and backward pass, step by step, with the formula
beside the arrays; kernel values to edit, a gradient check, and one SGD step to apply.

It works on its own copy of the model's weights (sent by the worker while training is paused or
stopped); closing it without "Apply update" changes nothing.
"""
from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QDialog, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QHeaderView,
                               QLabel, QListWidget, QListWidgetItem, QPushButton, QSpinBox, QSplitter,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from cnn.convolution import Convolutional
from cnn.gradcheck import check_network_gradients
from cnn.network import Network
from cnn.session import loss_for
from cnn.trace import trace

from .steps import (D, build_steps, input_window, kernel_gradient_region, shape_text, window_products)
from .views.array_panel import ArrayPanel

PANELS = 6                  # the most arrays a step shows
CHECK_ENTRIES = 2000        # entries per tensor the gradient check compares (all, for smaller tensors)
PHASE_COLOURS = {"forward": "#1f4e9c", "loss": "#6a3d9a", "loss gradient": "#6a3d9a", "backward": "#b2182b",
                 "update": "#1b7837"}
ERROR_COLOURS = ((1e-6, "#c7e9c0"), (1e-3, "#fdd49e"), (np.inf, "#fcbba1"))  # green, amber, red


def error_colour(relative_error: float) -> str:
    for limit, colour in ERROR_COLOURS:
        if relative_error < limit:
            return colour
    return ERROR_COLOURS[-1][1]  # NaN


class StepThroughWindow(QDialog):
    apply_requested = Signal(int, object)   # the weights' version, {name: new value}
    check_finished = Signal(int, object)    # from the checking thread: token, results or an exception

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Step through one sample")
        self.setMinimumSize(1100, 720)
        self.weights = self.model = self.network = self.trace = None
        self.steps, self.current, self.sample = [], 0, None
        self.model_loss = None            # E with the model's weights (before any edit)
        self.loss_before_update = None    # E before the last applied update, to show how it moved
        self._token = 0                   # changes whenever the weights or the sample change
        self.awaiting_apply = False       # an update was sent to the worker, no answer yet
        self.is_stale = False             # the model changed since these weights were read
        self._check_thread, self._cancel = None, threading.Event()
        self._build()
        self.check_finished.connect(self._check_done)

    # -- construction ------------------------------------------------------------------
    def _build(self) -> None:
        self.header = QLabel()
        self.header.setTextFormat(Qt.RichText)
        self.header.setObjectName("header")
        self.step_list = QListWidget()
        self.step_list.currentRowChanged.connect(self.show_step)
        self.previous_button, self.next_button = QPushButton("◀ Previous"), QPushButton("Next ▶")
        self.previous_button.setToolTip("Previous step (Left arrow)")
        self.next_button.setToolTip("Next step (Right arrow)")
        self.previous_button.clicked.connect(self.previous_step)
        self.next_button.clicked.connect(self.next_step)
        for key, slot in ((Qt.Key_Right, self.next_step), (Qt.Key_Left, self.previous_step),
                          (Qt.Key_PageDown, self.next_step), (Qt.Key_PageUp, self.previous_step)):
            QShortcut(QKeySequence(key), self, slot)
        navigation = QHBoxLayout()
        navigation.addWidget(self.previous_button)
        navigation.addWidget(self.next_button)

        editor = QGroupBox("Edit a kernel")
        form = QFormLayout(editor)
        self.edit_layer, self.edit_kernel, self.edit_channel = QComboBox(), QSpinBox(), QSpinBox()
        self.kernel_table = QTableWidget(3, 3)
        self.kernel_table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.kernel_table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.kernel_table.setToolTip("Type a number: the maps, prediction and loss are recomputed at once")
        self.reset_edits_button = QPushButton("Reset edits")
        self.reset_edits_button.setToolTip("Back to the model's weights")
        form.addRow("Layer", self.edit_layer)
        form.addRow("Kernel i", self.edit_kernel)
        form.addRow("Channel j", self.edit_channel)
        form.addRow(self.kernel_table)
        form.addRow(self.reset_edits_button)
        for widget in (self.edit_layer, self.edit_kernel, self.edit_channel):
            (widget.currentIndexChanged if widget is self.edit_layer else widget.valueChanged).connect(self._fill_table)
        self.kernel_table.itemChanged.connect(self._kernel_value_edited)
        self.reset_edits_button.clicked.connect(self.reset_edits)

        check = QGroupBox("Gradient check (float64)")
        check_layout = QVBoxLayout(check)
        self.check_button = QPushButton("Check gradients")
        self.check_button.setToolTip("Compare every parameter gradient with central finite differences")
        self.check_button.clicked.connect(self.check_gradients)
        self.check_table = QTableWidget(0, 3)
        self.check_table.setHorizontalHeaderLabels(["tensor", "entries", "relative error"])
        self.check_table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.check_table.verticalHeader().hide()
        self.check_table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.check_table.setMinimumHeight(100)
        self.check_note = QLabel("")
        self.check_note.setWordWrap(True)
        check_layout.addWidget(self.check_button)
        check_layout.addWidget(self.check_table)
        check_layout.addWidget(self.check_note)

        self.apply_button = QPushButton("Apply update")
        self.apply_button.setToolTip("Write the new weights of the update steps into the model: one SGD step on this sample")
        self.apply_button.clicked.connect(self.apply_update)
        self.status = QLabel("")
        self.status.setWordWrap(True)

        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel("<b>Steps</b>"))
        column.addWidget(self.step_list, 2)
        column.addLayout(navigation)
        column.addWidget(editor)
        column.addWidget(check, 1)
        column.addWidget(self.apply_button)
        column.addWidget(self.status)

        self.formula = QLabel()
        self.formula.setTextFormat(Qt.RichText)
        self.formula.setObjectName("formula")
        self.formula.setStyleSheet("#formula { font-size: 15pt; padding: 6px; background: #f6f6f2; }")
        self.explanation = QLabel()
        self.explanation.setTextFormat(Qt.RichText)
        self.explanation.setWordWrap(True)
        self.panels = [ArrayPanel() for _ in range(PANELS)]
        grid = QGridLayout()
        for n, panel in enumerate(self.panels):
            grid.addWidget(panel, n // 3, n % 3)
            panel.hovered.connect(self.hover)
            panel.clicked.connect(self._clicked)
        for n in range(3):
            grid.setColumnStretch(n, 1)
        self.readout = QLabel("Hover over an array to read its values.")
        self.readout.setTextFormat(Qt.RichText)
        self.readout.setObjectName("readout")
        self.readout.setMinimumHeight(90)
        self.readout.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.readout.setTextInteractionFlags(Qt.TextSelectableByMouse)
        right = QWidget()
        page = QVBoxLayout(right)
        page.setContentsMargins(0, 0, 0, 0)
        page.addWidget(self.formula)
        page.addWidget(self.explanation)
        page.addLayout(grid, 1)
        page.addWidget(self.readout)

        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([320, 1100])
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(splitter, 1)

    # -- what the studio gives it --------------------------------------------------------
    def load(self, weights, model, split: str, index: int) -> None:
        """New weights from the worker (opened, or after an applied update); keeps the current step."""
        self.weights, self.model = weights, model
        self.network = Network.from_architecture(list(weights.architecture), weights.dtype)
        self.network.set_params(weights.params)
        self.loss = loss_for(self.network)
        conv_layers = [i for i, layer in enumerate(self.network.layers) if isinstance(layer, Convolutional)]
        self.edit_layer.blockSignals(True)
        self.edit_layer.clear()
        for i in conv_layers:
            self.edit_layer.addItem(f"{i} · Convolutional", i)
        self.edit_layer.blockSignals(False)
        self.apply_button.setEnabled(True)
        self.awaiting_apply = self.is_stale = False
        self.set_sample(split, index)

    def set_sample(self, split: str, index: int) -> None:
        if self.model is None:
            return
        images, labels = self.model.images[split], self.model.labels[split]
        index = min(max(index, 0), len(images) - 1)
        label = int(labels[index])
        y = np.zeros((1, len(self.model.classes)), dtype=self.network.dtype)
        y[0, self.model.classes.index(label)] = 1
        self.sample = (split, index, label, np.asarray(images[index], dtype=self.network.dtype)[None, None], y)
        self.setWindowTitle(f"Step through — {split} image #{index}")
        self.model_loss = None
        self.recompute()

    # -- computing ----------------------------------------------------------------------------
    def recompute(self) -> None:
        """Trace the sample with the current (possibly edited) weights and redraw everything."""
        _, _, _, x, y = self.sample
        self.trace = trace(self.network, x, y, self.loss, self.weights.learning_rate)
        if self.model_loss is None:
            self.model_loss = self.trace.loss
        self._token += 1
        self._cancel_check()
        self.check_table.setRowCount(0)
        self.check_note.setText("")
        self.steps = build_steps(self.trace, self.network)
        current = min(self.current, len(self.steps) - 1)
        self.step_list.blockSignals(True)
        self.step_list.clear()
        for n, step in enumerate(self.steps):
            item = QListWidgetItem(f"{n + 1}. {step.title}")
            item.setForeground(QBrush(QColor(PHASE_COLOURS[step.phase])))
            self.step_list.addItem(item)
        self.step_list.setCurrentRow(current)
        self.step_list.blockSignals(False)
        self.show_step(current)
        self._fill_table()
        self._update_header()

    @property
    def edited(self) -> bool:
        return any(not np.array_equal(value, self.weights.params[name]) for name, value in self.network.params.items())

    def _update_header(self) -> None:
        split, index, label, _, _ = self.sample
        classes = self.model.classes
        scores = self.trace.output[0]
        probabilities = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum() \
            if self.loss.on_logits else scores
        best = int(np.argmax(scores))
        verdict = "<span style='color:#1b7837'>✓ right</span>" if classes[best] == label \
            else "<span style='color:#b2182b'>✗ misclassified</span>"
        kind = "p" if self.loss.on_logits else "output"
        text = (f"<b>{split} image #{index}</b> · label <b>{label}</b> · predicted <b>{classes[best]}</b> "
                f"({kind} {probabilities[best]:.4f}) {verdict} · loss <b><i>E</i> = {self.trace.loss:.8g}</b>"
                f" · {self.weights.dtype}, η = {self.weights.learning_rate:g}")
        if self.edited:
            text += (f" · <span style='color:#b35c00'>kernels edited (the model's weights give "
                     f"<i>E</i> = {self.model_loss:.8g})</span>")
        if self.loss_before_update is not None:
            text += f" · the applied update moved <i>E</i> from {self.loss_before_update:.8g} to {self.model_loss:.8g}"
        self.header.setText(text)

    # -- steps ----------------------------------------------------------------------------------
    def show_step(self, number: int) -> None:
        if not 0 <= number < len(self.steps):
            return
        self.current = number
        if self.step_list.currentRow() != number:
            self.step_list.setCurrentRow(number)
        step = self.steps[number]
        self.formula.setText(step.formula)
        explanation = step.explanation
        if step.phase == "update" and self.weights.momentum:
            explanation += (f" (Training also uses momentum μ = {self.weights.momentum:g}; this step does not touch "
                            "the optimizer's velocity.)")
        self.explanation.setText(explanation)
        for panel, content in zip(self.panels, step.panels):
            panel.show_panel(content)
            panel.show()
        for panel in self.panels[len(step.panels):]:
            panel.hide()
        self.previous_button.setEnabled(number > 0)
        self.next_button.setEnabled(number < len(self.steps) - 1)
        self.readout.setText("Hover over an array to read its values.")

    def next_step(self) -> None:
        self.show_step(self.current + 1)

    def previous_step(self) -> None:
        self.show_step(self.current - 1)

    def panel(self, key: str) -> ArrayPanel | None:
        return next((p for p in self.panels if p.isVisible() and p.key == key), None)

    # -- hover: where a number comes from ------------------------------------------------------
    def hover(self, key: str, index) -> None:
        for panel in self.panels:
            panel.clear_highlights()
        if index is None:
            return
        step = self.steps[self.current]
        source = self.panel(key)
        value = source.array[index]
        text = f"{source.name}[{', '.join(map(str, index))}] = <code>{value:+.10g}</code>"
        if step.phase == "forward" and step.layer is not None and self.trace.layers[step.layer].kind == "Convolutional" \
                and key in ("Y", "terms"):
            text = self._explain_convolution_pixel(step.layer, key, index)
        elif step.phase == "backward" and key == "dK":
            text = self._explain_kernel_gradient(step.layer, index)
        else:
            source.highlight([(source.cell_of(index), slice(index[-2], index[-2] + 1), slice(index[-1], index[-1] + 1))]
                             if source.array.ndim >= 2 else [])
        self.readout.setText(text)

    def _explain_convolution_pixel(self, layer_index: int, key: str, index) -> str:
        """Y[i, r, c] (or one term of it): the window in X, the kernel, the products and their sum."""
        layer = self.trace.layers[layer_index]
        x, kernels, biases = layer.input[0], layer.params["kernels"], layer.params["biases"]
        i, r, c = (index[0], index[-2], index[-1])
        channels = range(x.shape[0]) if key == "Y" else [index[1]]
        k = kernels.shape[-1]
        rows, cols = input_window(r, c, k)
        products = window_products(x, kernels, i, r, c)
        self.panel("X").highlight([(j, rows, cols) for j in channels])
        self.panel("K").highlight([(self.panel("K").cell_of((i, j)), slice(0, k), slice(0, k)) for j in channels])
        self.panel("terms").highlight([(self.panel("terms").cell_of((i, j)), slice(r, r + 1), slice(c, c + 1))
                                       for j in channels])
        bias = biases[i, r, c] if biases.ndim == 3 else biases[i]
        lines = []
        for j in list(channels)[:2]:
            cells = "".join("<tr>" + "".join(f"<td align='right'><code>{x[j, r + a, c + b]:.4f}×{kernels[i, j, a, b]:+.4f}"
                                             f"</code></td>" for b in range(k)) + "</tr>" for a in range(k))
            lines.append(f"<td>X<sub>{j}</sub>[{r}:{r + k}, {c}:{c + k}] ⊙ K<sub>{i},{j}</sub>:<table>{cells}</table>"
                         f"sum <code>{products[j].sum():+.10g}</code></td>")
        total = float(products[list(channels)].sum())
        if key == "terms":
            summary = f"term X<sub>{index[1]}</sub> ⋆ K<sub>{i},{index[1]}</sub> at [{r}, {c}] = <code>{total:+.10g}</code>"
        else:
            self.panel("Y").highlight([(i, slice(r, r + 1), slice(c, c + 1))])
            more = f" (the {x.shape[0]} channels' sums: " + ", ".join(f"{products[j].sum():+.6g}" for j in channels) \
                + ")" if x.shape[0] > 2 else ""
            summary = (f"Y[{i}, {r}, {c}] = Σ products (<code>{total:+.10g}</code>) + B (<code>{bias:+.10g}</code>) = "
                       f"<code>{total + bias:+.10g}</code>; the engine computed <code>{layer.output[0][i, r, c]:+.10g}</code>"
                       f"{more}")
        return f"<table cellspacing='8'><tr>{''.join(lines)}</tr></table>{summary}"

    def _explain_kernel_gradient(self, layer_index: int, index) -> str:
        layer = self.trace.layers[layer_index]
        i, j, a, b = index
        dy = layer.output_gradient[0]
        rows, cols = kernel_gradient_region(a, b, dy.shape[1:])
        self.panel("X").highlight([(j, rows, cols)])
        self.panel("dY").highlight([(i, slice(0, dy.shape[1]), slice(0, dy.shape[2]))])
        self.panel("dK").highlight([(self.panel("dK").cell_of(index), slice(a, a + 1), slice(b, b + 1))])
        total = float(np.sum(layer.input[0][j, rows, cols] * dy[i]))
        return (f"{D}K[{i}, {j}, {a}, {b}] = Σ<sub>r,c</sub> X<sub>{j}</sub>[{a}+r, {b}+c] · {D}Y<sub>{i}</sub>[r, c] "
                f"over the {shape_text(dy.shape[1:])} region X<sub>{j}</sub>[{rows.start}:{rows.stop}, "
                f"{cols.start}:{cols.stop}] = <code>{total:+.10g}</code>; the engine: "
                f"<code>{layer.grads['kernels'][index]:+.10g}</code>")

    # -- editing a kernel ------------------------------------------------------------------------
    def _clicked(self, key: str, index) -> None:
        """A click on a kernel value selects it in the editor, ready to type."""
        step = self.steps[self.current]
        if key != "K" or step.layer is None or len(index) != 4:
            return
        self.edit_layer.setCurrentIndex(self.edit_layer.findData(step.layer))
        self.edit_kernel.setValue(index[0])
        self.edit_channel.setValue(index[1])
        item = self.kernel_table.item(index[2], index[3])
        self.kernel_table.setCurrentItem(item)
        self.kernel_table.setFocus()
        self.kernel_table.editItem(item)

    def _edited_layer(self) -> Convolutional | None:
        data = self.edit_layer.currentData()
        return None if data is None else self.network.layers[data]

    def _fill_table(self) -> None:
        layer = self._edited_layer()
        if layer is None:
            return
        kernels = layer.params["kernels"]
        self.edit_kernel.setMaximum(kernels.shape[0] - 1)
        self.edit_channel.setMaximum(kernels.shape[1] - 1)
        k = kernels.shape[-1]
        self.kernel_table.blockSignals(True)
        self.kernel_table.setRowCount(k)
        self.kernel_table.setColumnCount(k)
        self.kernel_table.setHorizontalHeaderLabels([f"b={b}" for b in range(k)])
        self.kernel_table.setVerticalHeaderLabels([f"a={a}" for a in range(k)])
        kernel = kernels[self.edit_kernel.value(), self.edit_channel.value()]
        original = self.weights.params[f"{self.edit_layer.currentData()}.kernels"][self.edit_kernel.value(),
                                                                                   self.edit_channel.value()]
        for a in range(k):
            for b in range(k):
                item = QTableWidgetItem(f"{kernel[a, b]:.6g}")
                item.setTextAlignment(Qt.AlignCenter)
                if kernel[a, b] != original[a, b]:
                    item.setBackground(QColor("#fdd49e"))
                    item.setToolTip(f"edited; the model has {original[a, b]:.10g}")
                self.kernel_table.setItem(a, b, item)
        self.kernel_table.blockSignals(False)
        self.kernel_table.resizeRowsToContents()
        self.kernel_table.setFixedHeight(self.kernel_table.horizontalHeader().sizeHint().height()
                                         + sum(self.kernel_table.rowHeight(a) for a in range(k))
                                         + 2 * self.kernel_table.frameWidth())

    def _kernel_value_edited(self, item: QTableWidgetItem) -> None:
        layer = self._edited_layer()
        i, j = self.edit_kernel.value(), self.edit_channel.value()
        a, b = item.row(), item.column()
        try:
            value = float(item.text().replace("−", "-"))
            if not np.isfinite(value):
                raise ValueError
        except ValueError:
            self.status.setText(f"K[{i}, {j}, {a}, {b}]: “{item.text()}” is not a finite number; the value is unchanged.")
            self._fill_table()
            return
        layer.params["kernels"][i, j, a, b] = value
        self.status.setText(f"K[{i}, {j}, {a}, {b}] of layer {self.edit_layer.currentData()} set to {value:g}.")
        self.recompute()

    def reset_edits(self) -> None:
        self.network.set_params(self.weights.params)
        self.status.setText("Back to the model's weights.")
        self.recompute()

    # -- gradient check ---------------------------------------------------------------------------
    def check_gradients(self) -> None:
        """Runs on a thread (a second or two for the original network) so the window stays live."""
        self._cancel_check()
        self._cancel = threading.Event()
        architecture = self.network.architecture()
        params = {name: value.copy() for name, value in self.network.params.items()}
        _, _, _, x, y = self.sample
        token, cancel, loss = self._token, self._cancel, self.loss

        def run():
            try:
                network = Network.from_architecture(architecture, "float64")
                network.set_params(params)
                result = check_network_gradients(network, x.astype(np.float64), y.astype(np.float64), loss,
                                                 max_entries=CHECK_ENTRIES, cancelled=cancel.is_set)
            except InterruptedError:
                return
            except Exception as error:  # reported in the window, never lost on a thread
                result = error
            self.check_finished.emit(token, result)

        self.check_button.setEnabled(False)
        self.check_button.setText("Checking…")
        self._check_thread = threading.Thread(target=run, name="gradient check", daemon=True)
        self._check_thread.start()

    @Slot(int, object)
    def _check_done(self, token: int, result) -> None:
        self.check_button.setEnabled(True)
        self.check_button.setText("Check gradients")
        if token != self._token:
            return  # the weights or the sample changed meanwhile
        if isinstance(result, Exception):
            self.check_note.setText(f"The check failed: {result}")
            return
        self.check_table.setRowCount(len(result))
        sampled = 0
        for row, (name, check) in enumerate(result.items()):
            cells = (name, f"{check.checked:,}" + ("" if check.checked == check.total else f" of {check.total:,}"),
                     f"{check.relative_error:.2e}")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setBackground(QColor(error_colour(check.relative_error)))
                self.check_table.setItem(row, column, item)
            sampled += check.checked < check.total
        worst = max(check.relative_error for check in result.values())
        self.check_note.setText(
            f"Central differences, h = 10<sup>−6</sup>, on a float64 copy. Worst relative error {worst:.1e} "
            "(green &lt; 10<sup>−6</sup>, amber &lt; 10<sup>−3</sup>, red above)."
            + (f" {sampled} large tensor{'s' * (sampled > 1)} checked on {CHECK_ENTRIES:,} random entries."
               if sampled else "") + self._kinks())

    def _kinks(self) -> str:
        """ReLU inputs at the kink, where no derivative exists: a finite difference there sees the
        average of both sides (½), the engine uses 0; it shows up as a large error in the biases."""
        counts = [(layer.index, int(np.sum(np.abs(layer.input) <= 1e-6))) for layer in self.trace.layers
                  if layer.kind == "ReLU"]
        counts = [(index, count) for index, count in counts if count]
        if not counts:
            return ""
        where = ", ".join(f"{count:,} in layer {index}" for index, count in counts)
        return (f"<br><b>Note:</b> ReLU inputs within h of the kink at 0 ({where}; blank image patches with a zero "
                "bias land exactly there). The derivative does not exist at 0: the engine uses 0, a central "
                "difference averages both sides, so the biases that move those inputs show a large error that "
                "says nothing about the gradient elsewhere.")

    def _cancel_check(self) -> None:
        self._cancel.set()
        if self._check_thread is not None:
            self._check_thread.join()
            self._check_thread = None
        self.check_button.setEnabled(True)
        self.check_button.setText("Check gradients")

    # -- applying the update ------------------------------------------------------------------
    def apply_update(self) -> None:
        """The update steps' new values (this sample's SGD step from the weights shown) go to the model."""
        new = dict(self.trace.new_params)
        self.loss_before_update = self.trace.loss
        self.apply_button.setEnabled(False)  # until the worker sends the updated weights back
        self.awaiting_apply = True
        self.status.setText("Applying the update…")
        self.apply_requested.emit(self.weights.version, new)

    def stale(self, reason: str) -> None:
        """The model changed under this window (training resumed), or the worker refused the update."""
        self.apply_button.setEnabled(False)
        self.awaiting_apply, self.is_stale = False, True
        self.status.setText(reason)

    def closeEvent(self, event) -> None:
        self._cancel_check()
        super().closeEvent(event)
