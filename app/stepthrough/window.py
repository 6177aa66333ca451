"""The step-through window: one sample's forward and backward pass, step by step, with the formula
beside the arrays; kernel values to edit, a gradient check, and one SGD step to apply.

It works on its own copy of the model's weights (sent by the worker while training is paused or
stopped); closing it without "Apply update" changes nothing.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QDialog, QListWidgetItem

from cnn.evaluation import accuracy_text
from cnn.trace import trace

from app.model import step_explain as explain
from app.stepthrough.array_panel import ArrayPanel
from app.stepthrough.layout import StepThroughLayout
from app.model.steps import build_steps
from app.model.step_sample import edited, rebuild, step_sample
from app.model.snapshot import StepRequest

PHASE_COLOURS = {"forward": "#1f4e9c", "loss": "#6a3d9a", "loss gradient": "#6a3d9a", "backward": "#b2182b",
                 "update": "#1b7837"}


class StepThroughWindow(StepThroughLayout, QDialog):
    """The step-through's behaviour; its widgets are made and placed by StepThroughLayout."""
    apply_requested = Signal(int, object)   # the weights' version, a StepRequest

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Step through one sample")
        self.setMinimumSize(760, 520)  # fits a 1024×768 screen; the panels scale down
        self.weights = self.model = self.network = self.trace = None
        self.steps, self.current, self.sample = [], 0, None
        self.model_loss = None            # E with the model's weights (before any edit)
        self.applied = None               # the last update applied: its sample's title, E and test accuracy
        self.awaiting_apply = False       # an update was sent to the worker, no answer yet
        self.is_stale = False             # the model changed since these weights were read
        self.label_picked = True          # False: your image with no true digit picked (E against the prediction)
        self._build()
        self._connect()

    # -- what the widgets do ------------------------------------------------------------------
    def _connect(self) -> None:
        """Wires the widgets StepThroughLayout made to the window's behaviour, and the step keys."""
        self.step_list.currentRowChanged.connect(self.show_step)
        self.previous_button.clicked.connect(self.previous_step)
        self.next_button.clicked.connect(self.next_step)
        self.arrow_keys = []
        for key, slot in ((Qt.Key_Right, self.next_step), (Qt.Key_Left, self.previous_step),
                          (Qt.Key_PageDown, self.next_step), (Qt.Key_PageUp, self.previous_step)):
            shortcut = QShortcut(QKeySequence(key), self, slot)
            if key in (Qt.Key_Right, Qt.Key_Left):
                self.arrow_keys.append(shortcut)
        # → and ← move between cells while the kernel editor has the focus (PgDn/PgUp still step).
        QApplication.instance().focusChanged.connect(self._focus_changed)
        self.editor.changed.connect(self._kernel_edited)
        self.editor.refused.connect(self.status.setText)
        self.checker.requested.connect(self.check_gradients)
        self.apply_button.clicked.connect(self.apply_update)
        self.evaluation_box.toggled.connect(lambda _on: self.recompute())
        for panel in self.panels:
            panel.hovered.connect(self.hover)
            panel.clicked.connect(self._clicked)

    # -- what the studio gives it --------------------------------------------------------
    def load(self, weights, model, sample) -> None:
        """New weights from the worker (opened, or after an applied update); keeps the current step.
        `sample`: (split, index) of the model's images, or an ImageSample (your own image)."""
        self.weights, self.model = weights, model
        rebuilt = rebuild(weights)
        self.network, self.loss, self.optimizer = rebuilt.network, rebuilt.loss, rebuilt.optimizer
        self.editor.set_network(self.network, weights.params)
        self.evaluation_box.setVisible(self.has_modes)
        self.apply_button.setEnabled(True)
        applied, self.awaiting_apply, self.is_stale = self.awaiting_apply, False, False
        if not applied:  # opened on other weights: what an earlier update did is not about these
            self.applied = None
            self.status.setText("")
        self.set_sample(sample)
        if applied:
            self.status.setText(self._applied_text())

    def set_sample(self, sample) -> None:
        """(split, index) of the model's images, or an ImageSample. The true digit of your own image is
        the one picked, else the network's prediction."""
        if self.model is None:
            return
        chosen = step_sample(self.network, self.model, sample)
        title, label, x, y, self.label_picked = chosen.title, chosen.label, chosen.x, chosen.y, chosen.label_picked
        if self.sample is None or self.sample[0] != title:
            if self.applied is not None and not self.awaiting_apply and not self.is_stale:
                self.status.setText("")
            self.applied = None            # what an applied update did belongs to the sample it was made on
        self.sample = (title, label, x, y)
        self.setWindowTitle(f"Step through — {title}")
        self.model_loss = None
        self.recompute()

    # -- computing ----------------------------------------------------------------------------
    def recompute(self) -> None:
        """Trace the sample with the current (possibly edited) weights and redraw everything."""
        _, _, x, y = self.sample
        self.trace = trace(self.network, x, y, self.loss, self.optimizer, training=self.training_mode)
        if self.model_loss is None:
            self.model_loss = self.trace.loss
        if self.has_modes and not self.training_mode:   # Apply takes a training step: the steps shown must be its own
            self.apply_button.setEnabled(False)
        elif not self.awaiting_apply and not self.is_stale:
            self.apply_button.setEnabled(True)
        self.checker.clear()
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
        self._update_header()

    @property
    def has_modes(self) -> bool:
        """Whether the network computes otherwise in training than in evaluation (dropout, batch normalization)."""
        return self.network is not None and any(layer.buffers for layer in self.network.layers)

    @property
    def training_mode(self) -> bool:
        """The pass shown is in training mode (as Apply update computes it) unless evaluation mode is ticked."""
        return self.has_modes and not self.evaluation_box.isChecked()

    def _mode_text(self) -> str:
        if not self.has_modes:
            return ""
        if self.training_mode:
            scores = self.network.forward(self.sample[2])   # layers outside a pass are in evaluation mode
            best = int(np.argmax(scores[0]))
            return (" · <b>training mode</b>: dropout's mask of the next step and this sample's batch statistics, "
                    f"as Apply update computes them (evaluation mode predicts <b>{self.model.classes[best]}</b>, "
                    f"{'p' if self.loss.on_logits else 'output'} "
                    f"{self.loss.probabilities(scores)[0][best]:.4f})")
        return (" · <b>evaluation mode</b>: no dropout, batch normalization's running averages, as predictions "
                "(Apply update takes a training step: untick to see it)")

    @property
    def edited(self) -> bool:
        return edited(self.network, self.weights)

    def _update_header(self) -> None:
        title, label, _, _ = self.sample
        classes = self.model.classes
        scores = self.trace.output[0]
        probabilities = self.loss.probabilities(scores[None])[0]
        best = int(np.argmax(scores))
        verdict = "<span style='color:#1b7837'>✓ right</span>" if classes[best] == label \
            else "<span style='color:#b2182b'>✗ misclassified</span>"
        shown_label = f"label <b>{label}</b>"
        if not self.label_picked:
            verdict, shown_label = "", f"no true digit picked: <i>E</i> is against the predicted class {label}"
        kind = "p" if self.loss.on_logits else "output"
        text = (f"<b>{title}</b> · {shown_label} · predicted <b>{classes[best]}</b> "
                f"({kind} {probabilities[best]:.4f}) {verdict} · loss <b><i>E</i> = {self.trace.loss:.8g}</b>"
                f" · {self.weights.dtype}, η = {self.weights.learning_rate:g}" + self._mode_text())
        if self.edited:
            text += (f" · <span style='color:#b35c00'>kernels edited (the model's weights give "
                     f"<i>E</i> = {self.model_loss:.8g})</span>")
        if self.applied is not None and not self.awaiting_apply and self.applied.get("title") == title:
            text += (f" · the applied update moved <i>E</i> from {self.applied['loss']:.8g} to "
                     f"{self.model_loss:.8g}")
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
        self.explanation.setText(explanation)
        for panel, content in zip(self.panels, step.panels, strict=False):  # a step shows up to PANELS arrays
            panel.show_panel(content)
            panel.show()
        for panel in self.panels[len(step.panels):]:
            panel.hide()
        self.previous_button.setEnabled(number > 0)
        self.next_button.setEnabled(number < len(self.steps) - 1)
        self.readout.setText("Hover over an array to read its values.")

    def _focus_changed(self, _old, new) -> None:
        editing = new is not None and (new is self.editor or self.editor.isAncestorOf(new))
        for shortcut in self.arrow_keys:
            shortcut.setEnabled(not editing)

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
        step, source = self.steps[self.current], self.panel(key)
        layer = self.trace.layers[step.layer] if step.layer is not None else None
        conv = self.network.layers[step.layer] if layer is not None and layer.kind == "Convolutional" else None
        if step.phase == "forward" and conv is not None and key in ("Y", "terms"):
            explanation = explain.convolution_pixel(layer, key, index, conv.stride, conv.pads)
        elif step.phase == "backward" and key == "dK":
            explanation = explain.kernel_gradient(layer, index, conv.stride, conv.pads)
        else:  # any other number: its value, its cell outlined (a vector's cells are not drawn as such)
            pixel = [(key, index[:-2], slice(index[-2], index[-2] + 1), slice(index[-1], index[-1] + 1))] \
                if len(index) >= 2 else []
            explanation = explain.Explanation(f"{source.name}[{', '.join(map(str, index))}] = <code>"
                                              f"{explain.number_text(source.array[index], source.array.dtype)}</code>",
                                              pixel)
        outlines: dict[str, list] = {}
        for panel_key, map_index, rows, cols in explanation.outlines:
            panel = self.panel(panel_key)
            outlines.setdefault(panel_key, []).append((panel.cell_of(map_index), rows, cols))
        for panel_key, regions in outlines.items():
            self.panel(panel_key).highlight(regions)
        self.readout.setText(explanation.text)

    # -- editing a kernel ------------------------------------------------------------------------
    def _clicked(self, key: str, index) -> None:
        """A click on a kernel value selects it in the editor, ready to type."""
        step = self.steps[self.current]
        if key == "K" and step.layer is not None and len(index) == 4:
            self.editor.select(step.layer, *index)

    def _kernel_edited(self, message: str) -> None:
        self.status.setText(message)
        self.recompute()

    def reset_edits(self) -> None:
        self.editor.reset()

    def check_gradients(self) -> None:
        _, _, x, y = self.sample
        self.checker.start(self.network, x, y, self.loss, self.trace, training=self.training_mode)

    # -- applying the update ------------------------------------------------------------------
    def apply_update(self) -> None:
        """One real engine step on this sample, from the weights shown (edits included): the update steps' θ after."""
        _, _, x, y = self.sample
        self.applied = {"title": self.sample[0], "loss": self.trace.loss}
        self.apply_button.setEnabled(False)  # until the worker sends the updated weights back
        self.awaiting_apply = True
        self.status.setText("Applying the update…")
        params = {name: value.copy() for name, value in self.network.params.items()}
        self.apply_requested.emit(self.weights.version, StepRequest(params, x, y))

    def update_applied(self, accuracy_before: float, accuracy_after: float) -> None:
        """The worker applied the update: the test accuracy with the weights before and after it."""
        if self.applied is not None:
            self.applied.update(before=accuracy_before, after=accuracy_after)
            self.status.setText(self._applied_text())

    def _applied_text(self) -> str:
        applied = self.applied or {}
        text = "The update was applied to the model."
        if "before" in applied:
            before, after = applied["before"], applied["after"]
            colour = "#b2182b" if after < before else "#1b7837" if after > before else "#404040"
            text += (f" Test accuracy <b style='color:{colour}'>{accuracy_text(before)} → {accuracy_text(after)}</b>: "
                     "one step on one "
                     "sample moves every weight, so it changes the answers on the other images too.")
        return text

    def stale(self, reason: str) -> None:
        """The model changed under this window (training resumed), or the worker refused the update."""
        self.apply_button.setEnabled(False)
        self.awaiting_apply, self.is_stale = False, True
        self.status.setText(reason)

    def closeEvent(self, event) -> None:
        self.checker.clear()
        super().closeEvent(event)
