"""The architecture editor's typed fields: a conv's stride and padding and a dropout's probability,
written as in `--arch` (stride 2; pad valid, same or a number; P 0.3) and read by the grammar itself
(cnn.arch.grammar.field), so a bad value gets the grammar's one-line reason."""
from __future__ import annotations

from PySide6.QtWidgets import QLineEdit

from cnn.arch.grammar import ArchitectureError, LayerSpec, field

FIELDS = {"Stride": ("stride", "stride", ("conv",), "stride S: the kernel moves S pixels at a time"),
          "Pad": ("pad", "padding", ("conv",), "pad: valid (none), same (keeps the size, ⌈H/S⌉) or N zeros "
                                               "on every side"),
          "P": ("p", "rate", ("dropout",), "P: the probability of dropping each value in training, 0 to below 1")}
INVALID_FIELD = "QLineEdit { background: rgb(255, 220, 220); }"


def shown_value(spec: LayerSpec, attribute: str) -> str:
    value = getattr(spec, attribute)
    return f"{value:g}" if isinstance(value, float) else str(value)


def typed_field(spec: LayerSpec, column: str, changed) -> QLineEdit:
    """The field of `column` for this layer: typed when the layer has it, a disabled dash otherwise.
    `changed(attribute, value, error)` is called with every edit: the value read, or the grammar's reason."""
    key, attribute, kinds, tip = FIELDS[column]
    edit = QLineEdit()
    edit.setToolTip(tip)
    used = spec.kind in kinds
    edit.setText(shown_value(spec, attribute) if used else "–")
    edit.setEnabled(used)
    edit.setMaximumWidth(70)

    def read(text: str) -> None:
        try:
            value, error = field(key, text), None
        except ArchitectureError as problem:
            value, error = None, f"{key}: {problem}"
        edit.setStyleSheet(INVALID_FIELD if error else "")
        edit.setToolTip(error or tip)
        changed(attribute, value, error)

    if used:
        edit.textEdited.connect(read)
    return edit
