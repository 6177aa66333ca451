"""The range of every run setting, written once: RunConfig, the optimizer, the training loop and
the studio's settings panel read them here."""
from __future__ import annotations

import argparse
import math
import re
from dataclasses import dataclass

MAX_DIGITS = 30    # of a typed whole number: no setting needs more, and int() refuses 4,300 in Python's words


class SettingError(ValueError):
    """A run setting out of range: `field` names it, `expected` says what is accepted; str() is
    "field must be expected, not value" (the CLI says the same with the option's name), or
    "field: reason" when a `reason` says more than a range can (the architecture's problems)."""

    def __init__(self, field: str, expected: str, value, reason: str | None = None):
        self.field, self.expected, self.value, self.reason = field, expected, value, reason
        super().__init__(f"{field}: {reason}" if reason else f"{field} must be {expected}, not {value!r}")


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    whole: bool = False            # integers only
    low_open: bool = False         # low itself is excluded
    high_open: bool = False        # high itself is excluded
    unit: str = ""                 # what a whole number counts ("pixels")

    def contains(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, int if self.whole else (int, float)):
            return False
        if not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def describe(self) -> str:
        if self.whole:
            return f"a whole number{' of ' + self.unit if self.unit else ''} from {self.low} to {self.high}"
        if not (self.low_open or self.high_open):
            return f"from {self.low:g} to {self.high:g}"
        return f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"


RANGES = {
    "limit": Range(1, 60000, whole=True),        # images per class (RunConfig also takes None: all)
    "epochs": Range(1, 10000, whole=True),
    "learning_rate": Range(1e-6, 100.0),         # the lower end is also the floor of a decayed rate
    "batch_size": Range(1, 60000, whole=True),
    "momentum": Range(0.0, 1.0, high_open=True),
    "seed": Range(0, 2**32 - 1, whole=True),
    "lr_decay": Range(0.0, 1.0, low_open=True),
    "weight_decay": Range(0.0, 1.0),              # λ
    "shift": Range(0, 4, whole=True, unit="pixels"),
    "digit": Range(0, 9, whole=True),
}
MIN_LEARNING_RATE = RANGES["learning_rate"].low
CHOICES = {"optimizer": ("sgd", "adam")}     # settings that name one of a few things (cnn.optim.OPTIMIZERS)



def check_range(name: str, value):
    """`value` (a float for a real range) if it lies in the range of `name`, else a SettingError that
    names the field, the range and the value."""
    allowed = RANGES[name]
    if not allowed.contains(value):
        raise SettingError(name, allowed.describe(), value)
    return value if allowed.whole else float(value)


def check_batch_size(batch_size, training_images: int) -> int:
    """The one rule that needs the data besides the range: a batch holds at most every training image."""
    check_range("batch_size", batch_size)
    if batch_size > training_images:
        raise SettingError("batch_size", f"at most the {training_images} training images", batch_size)
    return batch_size


def shown(text: str, width: int = 40) -> str:
    """`text` as a message quotes it: whole when short, else its start and end and how long it is
    (a 5,000-digit number is not echoed in full)."""
    if len(text) <= width:
        return text
    return f"{text[:width // 2]}…{text[-8:]} ({len(text):,} characters)"


def whole_option(expected: str):
    """argparse's type for a whole-number option: int(), but a number of more than MAX_DIGITS digits
    is "must be `expected`, not a number of 5,000 digits", and other text is argparse's "invalid int
    value: 'x'" with the text shortened (Python's int() refuses 4,300 digits in its own words)."""
    def whole(text: str) -> int:
        digits = sum(char.isdigit() for char in text)
        if digits > MAX_DIGITS and re.fullmatch(r"\s*[+-]?[\d_]+\s*", text):
            raise argparse.ArgumentTypeError(f"must be {expected}, not a number of {digits:,} digits")
        try:
            return int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {shown(text)!r}") from None
    whole.__name__ = "int"
    return whole


def number_option(expected: str, within):
    """argparse's type for a number option: float(), refused as "must be `expected`, not 'text'" when it is
    no number or `within(value)` is false."""
    def number(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not within(value):
            raise argparse.ArgumentTypeError(f"must be {expected}, not {text!r}")
        return value
    number.__name__ = "float"
    return number
