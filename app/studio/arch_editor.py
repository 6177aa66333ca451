"""The architecture editor: the network as a list of layers (cnn.arch's grammar) to add to, remove
from, reorder and edit number by number, starting from a preset. Every edit re-plans the shapes
(cnn.arch.plan): each row shows its output shape and parameter count, and an invalid layer is
marked in its row with the reason. Apply hands the canonical string to the window, which starts a
new run with that network."""
from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QPen, QShortcut
from PySide6.QtWidgets import (QComboBox, QDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton,
                               QSpinBox, QStyle, QStyledItemDelegate, QTableWidget, QTableWidgetItem, QVBoxLayout)

from cnn import arch
from cnn.arch.grammar import CHOICES, LIMITS, LayerSpec
from cnn.presets import PRESETS

from app.studio.arch_fields import FIELDS, typed_field

COLUMNS = ("Layer", "Size", "Kernel", "Stride", "Pad", "P", "Bias", "Init", "Output", "Parameters", "Problem")
SIZE_NAMES = {"conv": "depth", "maxpool": "window", "avgpool": "window", "dense": "units"}
NEW_LAYER = {"conv": LayerSpec("conv", 8, 3, "kernel", "he"), "maxpool": LayerSpec("maxpool", 2),
             "avgpool": LayerSpec("avgpool", 2), "dense": LayerSpec("dense", 10, init="xavier")}
UNKNOWN = "not known: a layer above cannot be built, so this layer's input shape is unknown"
INVALID = QColor(255, 220, 220)
UNDO_LIMIT = 200          # edits kept for Undo


class InvalidStaysRed(QStyledItemDelegate):
    """A cell with a background (an invalid row's red) keeps it when selected, framed in the selection's
    colour: the selection's fill hid the red of the row just added or edited."""

    def paint(self, painter, option, index) -> None:
        if index.data(Qt.BackgroundRole) is None or not option.state & QStyle.State_Selected:
            super().paint(painter, option, index)
            return
        option.state &= ~QStyle.State_Selected
        super().paint(painter, option, index)
        painter.save()
        painter.setPen(QPen(option.palette.highlight().color(), 2))
        painter.drawRect(option.rect.adjusted(1, 1, -1, -1))
        painter.restore()


def layer_table() -> QTableWidget:
    """The empty table of layers: one selected row at a time, each column as wide as it needs, and an
    invalid row kept red when selected."""
    table = QTableWidget(0, len(COLUMNS))
    table.setHorizontalHeaderLabels(COLUMNS)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.setSelectionBehavior(QTableWidget.SelectRows)
    table.setSelectionMode(QTableWidget.SingleSelection)
    table.setItemDelegate(InvalidStaysRed(table))
    return table


class ArchitectureEditor(QDialog):
    applied = Signal(str)      # the network, as cnn.arch's canonical string

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Architecture")
        self.specs: list[LayerSpec] = []
        self.history: list[tuple[list[LayerSpec], int]] = []   # (layers, selected row) before each edit, for Undo
        self.classes = 2
        self.valid, self.training = False, False   # Apply: a network without problems, and no run training
        self.rows: list[arch.Row] = []
        self.typed_problems: dict[int, str] = {}   # row → the grammar's reason for a field typed wrong
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.preset = QComboBox()
        for name in PRESETS:
            self.preset.addItem(name, name)
        self.from_preset = QPushButton("Start from preset")
        self.from_preset.clicked.connect(lambda: self.start_from_preset(self.preset.currentData()))
        top.addWidget(QLabel("Preset"))
        top.addWidget(self.preset)
        top.addWidget(self.from_preset)
        top.addStretch(1)
        layout.addLayout(top)
        self.table = layer_table()
        layout.addWidget(self.table, 1)
        layout.addLayout(self._edit_buttons())
        self.text = QLineEdit()
        self.text.setReadOnly(True)
        self.text.setToolTip("The same network for cnn-train --arch")
        layout.addWidget(self.text)
        bottom = QHBoxLayout()
        self.summary = QLabel()
        self.apply = QPushButton("Apply: start a new run")
        self.apply.setDefault(True)
        self.apply.clicked.connect(lambda: self.applied.emit(arch.text(self.specs)))
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.apply)
        bottom.addWidget(close)
        layout.addLayout(bottom)
        self.resize(1000, 480)   # every column, Problem included, on a 1024-wide screen

    def _edit_buttons(self) -> QHBoxLayout:
        """Add (a layer of the kind chosen beside it), Remove, Move up, Move down and Undo (also Ctrl+Z)."""
        buttons = QHBoxLayout()
        self.kind = QComboBox()
        self.kind.addItems(arch.KINDS)
        self.add = QPushButton("Add")
        self.add.setToolTip("Add a layer of the chosen kind after the selected row")
        self.remove, self.up, self.down = QPushButton("Remove"), QPushButton("Move up"), QPushButton("Move down")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Undo the last edit (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo)
        QShortcut(QKeySequence.Undo, self, self.undo)
        self.add.clicked.connect(lambda: self.add_layer(self.kind.currentText()))
        self.remove.clicked.connect(self.remove_layer)
        self.up.clicked.connect(lambda: self.move_layer(-1))
        self.down.clicked.connect(lambda: self.move_layer(1))
        for widget in (self.kind, self.add, self.remove, self.up, self.down, self.undo_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        return buttons

    # -- what the editor holds -----------------------------------------------------------------
    def set_training(self, training: bool) -> None:
        """While a run trains (or is paused), Apply, which makes a new network and a new run, waits for its stop."""
        self.training = training
        self._enable_apply()

    def _enable_apply(self) -> None:
        self.apply.setEnabled(self.valid and not self.training)
        self.apply.setToolTip("Stop the run first: a new network starts a new run." if self.training else "")

    def set_network(self, text: str | None, preset: str, classes: int) -> None:
        """Show `text` (cnn.arch grammar), or the preset's network when it is None, for `classes` outputs."""
        self.classes = classes
        self.preset.setCurrentIndex(self.preset.findData(preset))
        if text is None:
            self.start_from_preset(preset)
        else:
            self.set_layers(arch.parse(text))
        self.history = []       # the network as it is in the settings: nothing to undo yet
        self._set_undo()

    def start_from_preset(self, name: str) -> None:
        network = PRESETS[name].build(self.classes, 0, "float64")
        self._remember()
        self.set_layers(arch.from_json(network.architecture()))

    def set_layers(self, specs: list[LayerSpec]) -> None:
        self.specs = list(specs)
        self.typed_problems = {}
        self.table.setRowCount(len(self.specs))
        for row, spec in enumerate(self.specs):
            self._fill_row(row, spec)
        self._replan()

    # -- edits (each one can be undone) -----------------------------------------------------------
    def _remember(self) -> None:
        self.history = [*self.history[-UNDO_LIMIT + 1:], (list(self.specs), self.table.currentRow())]
        self._set_undo()

    def _set_undo(self) -> None:
        self.undo_button.setEnabled(bool(self.history))

    def undo(self) -> None:
        """The layers as they were before the last edit (Remove, Add, a move, a changed number)."""
        if not self.history:
            return
        specs, row = self.history.pop()
        self.set_layers(specs)
        if 0 <= row < len(specs):
            self.table.selectRow(row)
        self._set_undo()

    def add_layer(self, kind: str) -> None:
        self._remember()
        at = self.table.currentRow() + 1 if self.table.currentRow() >= 0 else len(self.specs)
        self.set_layers(self.specs[:at] + [NEW_LAYER.get(kind, LayerSpec(kind))] + self.specs[at:])
        self.table.selectRow(at)

    def remove_layer(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.specs):
            self._remember()
            self.set_layers(self.specs[:row] + self.specs[row + 1:])
            self.table.selectRow(min(row, len(self.specs) - 1))

    def move_layer(self, by: int) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.specs) and 0 <= row + by < len(self.specs):
            self._remember()
            specs = list(self.specs)
            specs[row], specs[row + by] = specs[row + by], specs[row]
            self.set_layers(specs)
            self.table.selectRow(row + by)

    def edit(self, row: int, **changes) -> None:
        """Change one layer's fields (what its row's widgets do)."""
        spec = self.specs[row]
        self._remember()
        if "kind" in changes and changes["kind"] != spec.kind:
            self.specs[row] = NEW_LAYER.get(changes["kind"], LayerSpec(changes["kind"]))
            self.typed_problems.pop(row, None)
            self._fill_row(row, self.specs[row])
        else:
            self.specs[row] = replace(spec, **changes)
        self._replan()

    def typed(self, row: int, attribute: str, value, error: str | None) -> None:
        """A stride, pad or P typed in row `row`: the layer takes it, or the row shows the grammar's reason."""
        if error is not None:
            self.typed_problems[row] = error
            self._replan()
            return
        self.typed_problems.pop(row, None)
        self.edit(row, **{attribute: value})

    # -- the table -----------------------------------------------------------------------------
    def _fill_row(self, row: int, spec: LayerSpec) -> None:
        kind = QComboBox()
        kind.addItems(arch.KINDS)
        kind.setCurrentText(spec.kind)
        kind.currentTextChanged.connect(lambda text, r=row: self.edit(r, kind=text))
        self.table.setCellWidget(row, 0, kind)
        size = self._spin(spec.size if spec.kind in SIZE_NAMES else 0,
                          LIMITS["depth" if spec.kind == "conv" else "size"], spec.kind in SIZE_NAMES,
                          lambda value, r=row: self.edit(r, size=value), SIZE_NAMES.get(spec.kind, ""))
        self.table.setCellWidget(row, 1, size)
        kernel = self._spin(spec.kernel, LIMITS["kernel size"], spec.kind == "conv",
                            lambda value, r=row: self.edit(r, kernel=value), "kernel K of K×K")
        self.table.setCellWidget(row, 2, kernel)
        for name in FIELDS:
            self.table.setCellWidget(row, COLUMNS.index(name), typed_field(
                spec, name, lambda attribute, value, error, r=row: self.typed(r, attribute, value, error)))
        for column, name, used in ((6, "bias", spec.kind == "conv"), (7, "init", spec.kind in ("conv", "dense"))):
            choice = QComboBox()
            choice.addItems(CHOICES[name] if used else ("–",))   # a layer without it shows a dash
            choice.setCurrentText(getattr(spec, name))
            choice.setEnabled(used)
            choice.currentTextChanged.connect(lambda text, r=row, n=name: self.edit(r, **{n: text}))
            self.table.setCellWidget(row, column, choice)

    @staticmethod
    def _spin(value: int, largest: int, used: bool, changed, tip: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(1 if used else 0, largest)
        spin.setValue(value)
        spin.setEnabled(used)
        spin.setToolTip(tip)
        if not used:
            spin.setSpecialValueText("–")
        spin.valueChanged.connect(changed)
        return spin

    def _replan(self) -> None:
        self.rows = arch.plan(self.specs, classes=self.classes) if self.specs else []
        for index, row in enumerate(self.rows):
            # A layer that cannot take its input, or after one that cannot, has "—" and says why in its tooltip;
            # a last layer with the wrong number of outputs shows its shape and count all the same.
            known = row.output_shape is not None
            shape = "×".join(map(str, row.output_shape)) if known else "—"
            problem = self.typed_problems.get(index) or row.problem
            cells = (shape, f"{row.parameters:,}" if known else "—", problem or "")
            tip = problem or ("" if row.input_shape is not None else UNKNOWN)
            for column, text in zip((8, 9, 10), cells, strict=True):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
                item.setToolTip(tip)
                if problem:
                    item.setBackground(QBrush(INVALID))
                self.table.setItem(index, column, item)
        problems = [problem for _, problem in self.problems()]
        self.text.setText(arch.text(self.specs))
        self.valid = bool(self.specs) and not problems
        self._enable_apply()
        total = sum(row.parameters for row in self.rows)
        if not self.specs:
            self.summary.setText("Add a layer to begin.")
        elif problems:
            self.summary.setText(f"{len(problems)} layer{'s' if len(problems) > 1 else ''} to fix (red rows)")
        else:
            self.summary.setText(f"{len(self.specs)} layers · {total:,} parameters · {self.classes} outputs")

    def problems(self) -> list[tuple[int, str]]:
        """(row, reason) of every invalid layer."""
        found = [(index, self.typed_problems.get(index) or row.problem) for index, row in enumerate(self.rows)]
        return [(index, problem) for index, problem in found if problem]

    def cell_text(self, row: int, column: str) -> str:
        item = self.table.item(row, COLUMNS.index(column))
        return item.text() if item is not None else ""
