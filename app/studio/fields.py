"""Number fields that say no: the arrows step within the field's range, and a typed number outside
it is refused (the `refused` signal carries the text), never clamped to the nearest bound or
silently reverted. Whole-number fields hold up to 2⁵³ exactly (a seed up to 2³²−1 fits, which a
QSpinBox's 32-bit int does not)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox

DECIMALS = 12                 # what Qt keeps of a typed real number (1e-12 and above survive)
PARTIAL = ("", "-", "+", ".", "-.", "+.")


class NumberField(QDoubleSpinBox):
    refused = Signal(str)     # the text typed, which is not a value this field takes

    def __init__(self, low: float, high: float, *, whole: bool = False, step: float = 1.0,
                 special_text: str | None = None, suffix: str = ""):
        """special_text, if given, is shown for `low` and typed to mean it (e.g. "all"); `low`
        itself cannot then be typed as a number."""
        super().__init__()
        self.whole, self.special_text = whole, special_text
        self.setDecimals(0 if whole else DECIMALS)
        self.setRange(low, high)
        self.setSingleStep(step)
        self.setSuffix(suffix)
        if special_text:
            self.setSpecialValueText(special_text)
        self.setKeyboardTracking(False)   # a value is taken on Enter or when the focus leaves, not per key
        self.setCorrectionMode(QDoubleSpinBox.CorrectToPreviousValue)

    # -- Qt's hooks ---------------------------------------------------------------------------
    def textFromValue(self, value: float) -> str:
        return str(int(round(value))) if self.whole else f"{value:.10g}"

    def valueFromText(self, text: str) -> float:
        number = self.number(text)
        return self.minimum() if number is None else number

    def validate(self, text: str, position: int):
        if not self.whole and text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")   # a decimal comma is a decimal point (dropped, "0,5" became 5)
        bare = self._bare(text)
        if self.special_text and bare == self.special_text:
            return QValidator.Acceptable, text, position
        number = self.number(text)
        if number is None:
            partial = bare in PARTIAL or bare.lower().endswith(("e", "e-", "e+")) or \
                (self.special_text is not None and self.special_text.startswith(bare))
            return (QValidator.Intermediate if partial else QValidator.Invalid), text, position
        return (QValidator.Acceptable if self.takes(number) else QValidator.Intermediate), text, position

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key_Return, Qt.Key_Enter):
            self._check_typed()
        super().keyPressEvent(event)

    def focusOutEvent(self, event) -> None:
        self._check_typed()
        super().focusOutEvent(event)

    # -- ours --------------------------------------------------------------------------------
    def commit(self) -> bool:
        """What Enter does to text still being typed, for a command that reads the value while the field keeps
        the focus (F5, Ctrl+R: a shortcut takes no focus away, and Start trained with the value before the
        typing). The value typed is taken; text that is none is refused (said by `refused`) and the field shows
        its value again, as when the focus leaves it: False."""
        text = self._typed()
        if text is None:
            return True
        if self.validate(text, 0)[0] == QValidator.Acceptable:
            self.interpretText()
            return True
        self.refused.emit(self._bare(text))
        self.setValue(self.value())   # (the text again, as the value kept)
        return False

    def number(self, text: str) -> float | None:
        """The number the text spells, or None (special text, partial input or not a number)."""
        try:
            number = float(self._bare(text))
        except ValueError:
            return None
        if number != number or number in (float("inf"), float("-inf")):
            return None
        return number

    def takes(self, number: float) -> bool:
        low = self.minimum()
        if self.whole and number != int(number):
            return False
        if self.special_text and number == low:
            return False  # `low` stands for the special text
        return low <= number <= self.maximum()

    def typed_value(self, text: str):
        """The typed number as the field's type (int for a whole-number field)."""
        number = self.number(text)
        if number is not None and self.whole and number == int(number):
            return int(number)
        return number

    def _bare(self, text: str) -> str:
        if self.suffix() and text.endswith(self.suffix()):
            text = text[:-len(self.suffix())]
        return text.strip()

    def _typed(self) -> str | None:
        """The field's text when it is not the value shown (typed and not taken yet), else None."""
        text = self.lineEdit().text()
        if self._bare(text) == self.textFromValue(self.value()) or text == self.specialValueText():
            return None
        return text

    def _check_typed(self) -> None:
        text = self._typed()
        if text is None:
            return
        state = self.validate(text, 0)[0]
        if state != QValidator.Acceptable and self._bare(text) not in PARTIAL:
            self.refused.emit(self._bare(text))
