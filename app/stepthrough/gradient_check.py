"""The step-through's gradient check: every parameter tensor's gradient against central finite
differences (cnn.gradcheck) on a float64 copy, on a thread so the window stays live, with the
relative error per tensor judged by GradientCheck.verdict: green (agrees, or within the differences'
own rounding), grey (the gradients are below that rounding), amber (< 1e−3) or red.

The differences are taken of the network's outputs, with the loss's derivative applied exactly
(through_outputs): differencing E itself made a trained network's check amber (1e−6 to 2e−5) on
every sample it gets confidently right, where E ≈ 1e−5 is the difference of two numbers near 10
and its rounding, divided by 2h, is the size of the gradient."""
from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGroupBox, QHeaderView, QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout

from cnn.gradcheck import check_network_gradients
from cnn.network import Network

CHECK_ENTRIES = 2000        # entries per tensor compared (all of a smaller tensor)
MIN_HEIGHT = 100            # the results table before a check
SHOWN_ROWS = 12             # the table is tall enough for this many tensors' rows (the digits network has 8)
SHIFT_FREE = "agrees: 0 (batchnorm after it)"   # a bias right before a batch normalization, in training mode
VERDICTS = {  # GradientCheck.verdict: what the table says and its colour
    "agrees": ("agrees", "#c7e9c0"),
    "rounding": ("agrees within rounding", "#c7e9c0"),
    "unresolved": ("too small to check", "#e0e0e0"),
    "close": ("close", "#fdd49e"),
    "wrong": ("wrong", "#fcbba1"),
}


class GradientCheckPanel(QGroupBox):
    requested = Signal()                 # the button: the window answers with start(...)
    _finished = Signal(int, object)      # from the checking thread: run number, results or an exception

    def __init__(self, parent=None):
        super().__init__("Gradient check (float64)", parent)
        self.button = QPushButton("Check gradients")
        self.button.setToolTip("Compare every parameter gradient with central finite differences")
        self.button.clicked.connect(self.requested)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["tensor", "entries", "relative error", "verdict"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)   # each column as wide as it needs, the
        header.setSectionResizeMode(3, QHeaderView.Stretch)         # verdict taking what is left
        self.table.verticalHeader().hide()
        self._fit_columns()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setMinimumHeight(MIN_HEIGHT)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.button)
        layout.addWidget(self.table)
        layout.addWidget(self.note)
        self._run, self._thread, self._cancel = 0, None, threading.Event()
        self._kinks = ""
        self._shift_free: set[str] = set()
        self._finished.connect(self._done)

    def start(self, network: Network, x: np.ndarray, y: np.ndarray, loss, trace, training: bool = False) -> None:
        """Checks a float64 copy of `network` on (x, y), in training mode (dropout's next mask held, the
        sample's batch statistics) or evaluation mode; `trace` (of the same pass) tells where ReLUs sit
        at their kink."""
        self.clear()
        self._cancel = threading.Event()
        architecture, cancel, run = network.architecture(), self._cancel, self._run
        params = {name: value.copy() for name, value in network.params.items()}
        buffers = {name: value.copy() for name, value in network.buffers.items()}
        x, y = x.astype(np.float64), y.astype(np.float64)
        self._kinks = kinks(trace)
        self._shift_free = shift_free(trace) if training else set()

        def check():
            try:
                copy = Network.from_architecture(architecture, "float64")
                copy.set_params(params)
                copy.set_buffers(buffers)
                result = check_network_gradients(copy, x, y, loss, max_entries=CHECK_ENTRIES, cancelled=cancel.is_set,
                                                 through_outputs=True, training=training)
            except InterruptedError:
                return
            except Exception as error:  # reported in the window, never lost on a thread
                result = error
            self._finished.emit(run, result)

        self.button.setEnabled(False)
        self.button.setText("Checking…")
        self._thread = threading.Thread(target=check, name="gradient check", daemon=True)
        self._thread.start()

    def _fit_columns(self) -> None:
        """The table as wide as its titles and numbers: stretched alike in the step-through's column at
        1024 px they were cut ("ensor", "elative erro"); the splitter leaves the column this much."""
        header = self.table.horizontalHeader()
        needed = sum(max(header.sectionSizeHint(i), self.table.sizeHintForColumn(i)) for i in range(4))
        self.table.setMinimumWidth(needed + self.table.verticalScrollBar().sizeHint().width()
                                   + 2 * self.table.frameWidth())

    def _fit_rows(self) -> None:
        """Every tensor's row in view (up to SHOWN_ROWS): at 1024×768 the table showed 4 of 8, scrolled."""
        rows = min(self.table.rowCount(), SHOWN_ROWS)
        self.table.setMinimumHeight(max(MIN_HEIGHT, self.table.horizontalHeader().height()
                                        + sum(self.table.rowHeight(row) for row in range(rows))
                                        + 2 * self.table.frameWidth() + 2))

    def clear(self) -> None:
        """Cancels a running check and empties the table (the weights or the sample changed)."""
        self._run += 1
        self._cancel.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.button.setEnabled(True)
        self.button.setText("Check gradients")
        self.table.setRowCount(0)
        self.table.setMinimumHeight(MIN_HEIGHT)
        self.note.setText("")

    @Slot(int, object)
    def _done(self, run: int, result) -> None:
        if run != self._run:
            return  # cleared meanwhile
        self._thread = None
        self.button.setEnabled(True)
        self.button.setText("Check gradients")
        if isinstance(result, Exception):
            self.note.setText(f"The check failed: {result}")
            return
        self.table.setRowCount(len(result))
        sampled = 0
        for row, (name, check) in enumerate(result.items()):
            verdict, colour = VERDICTS[check.verdict]
            if check.verdict == "unresolved" and name in self._shift_free:
                verdict, colour = SHIFT_FREE, VERDICTS["agrees"][1]
            cells = (name, f"{check.checked:,}" + ("" if check.checked == check.total else f" of {check.total:,}"),
                     f"{check.relative_error:.2e}", verdict)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setBackground(QColor(colour))
                if check.rounding > 0:
                    item.setToolTip(f"rounding of the differences (from h and 2h): {check.rounding:.1e} relative")
                self.table.setItem(row, column, item)
            sampled += check.checked < check.total
        self._fit_columns()
        self._fit_rows()
        worst = max(check.relative_error for check in result.values())
        tiny = [name for name, check in result.items() if check.verdict in ("rounding", "unresolved")
                and name not in self._shift_free]
        self.note.setText(
            f"Central differences of the outputs <i>y</i>, h = 10<sup>−6</sup>, on a float64 copy, times "
            f"∂<i>E</i>/∂<i>y</i>. Worst relative error {worst:.1e} (green &lt; 10<sup>−6</sup>, amber &lt; "
            "10<sup>−3</sup>, red above). Differencing <i>E</i> itself would be amber on a sample the network "
            "gets confidently right: <i>E</i> is then tiny but computed from outputs near 10, and its rounding "
            "divided by 2h is as large as the gradients."
            + (f" {sampled} large tensor{'s' * (sampled > 1)} checked on {CHECK_ENTRIES:,} random entries."
               if sampled else "") + rounding_note(tiny) + self._kinks)


def rounding_note(names: list[str]) -> str:
    """Why a tensor with a relative error above 10⁻⁶ can still be right (GradientCheck.verdict)."""
    if not names:
        return ""
    return (f"<br><b>Tiny gradients</b> in {', '.join(names)}: saturated units (a sigmoid far into its flat "
            "part) make them so small that the outputs move by a few units in their last digit, and the "
            "differences' rounding is as large as the discrepancy. It was measured by differencing again with "
            "2h: where the discrepancy is within 3× that rounding the gradient agrees within rounding (green); "
            "where the rounding is half the gradient or more, the differences cannot check it (grey). A wrong "
            "gradient differs from both differences by far more than they differ from each other (red).")


def shift_free(trace) -> set[str]:
    """The biases whose gradient is exactly 0 in training mode: one per kernel or unit, right before a batch
    normalization, which subtracts the batch's mean and so any shift they add. Their differences are rounding
    (below what they resolve): agreeing with 0 is all a check can show, and all there is."""
    return {f"{layer.index}.{name}" for layer, after in zip(trace.layers, trace.layers[1:], strict=False)
            if after.kind == "BatchNorm"
            for name, value in layer.params.items() if name in ("biases", "bias") and value.ndim == 1}


def kinks(trace) -> str:
    """ReLU inputs at the kink, where no derivative exists: a central difference there sees the
    average of both sides (½), the engine uses 0; it shows up as a large error in the biases. In training
    mode a batch normalization of dense units gives one sample's units exactly β (σ² = 0): 0 on a new network."""
    counts = [(layer.index, int(np.sum(np.abs(layer.input) <= 1e-6))) for layer in trace.layers if layer.kind == "ReLU"]
    where = ", ".join(f"{count:,} in layer {index}" for index, count in counts if count)
    if not where:
        return ""
    normalized = [index for index, count in counts if count and index > 0 and trace.training
                  and trace.layers[index - 1].kind == "BatchNorm" and trace.layers[index - 1].input.ndim == 2]
    return (f"<br><b>Note:</b> ReLU inputs within h of the kink at 0 ({where}; blank image patches with a zero "
            "bias land exactly there). The derivative does not exist at 0: the engine uses 0, a central "
            "difference averages both sides, so the biases that move those inputs show a large error that "
            "says nothing about the gradient elsewhere."
            + (f" Layer {normalized[0] - 1} normalizes dense units over a batch of this one sample: each unit's "
               "output is exactly its β (0 on a new network), so its ReLU sits at the kink and β looks wrong; "
               "once training has moved β from 0 it does not." if normalized else ""))
