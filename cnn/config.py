"""A run's settings, range-checked in one place for the CLI and the studio."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from .arch import ArchitectureError, canonical
from .layer import DTYPES
from .optim import MAX_LEARNING_RATE, MIN_LEARNING_RATE
from .presets import PRESETS


class SettingError(ValueError):
    """A run setting out of range: `field` names it, `expected` says what is accepted; str() is
    "field must be expected, not value" (the CLI says the same with the option's name), or
    "field: reason" when a `reason` says more than a range can (the architecture's problems)."""

    def __init__(self, field: str, expected: str, value, reason: str | None = None):
        self.field, self.expected, self.value, self.reason = field, expected, value, reason
        super().__init__(f"{field}: {reason}" if reason else f"{field} must be {expected}, not {value!r}")


@dataclass(frozen=True)
class RunConfig:
    preset: str = "original"
    classes: tuple[int, ...] = (0, 1)
    limit: int | None = 100          # images per class; None: all
    epochs: int = 20
    learning_rate: float = 0.1
    batch_size: int = 1
    momentum: float = 0.0
    seed: int = 0
    dtype: str = "float64"
    lr_decay: float = 1.0            # epoch e's learning rate: learning_rate × lr_decay^(e−1), floored (cnn.optim)
    shift: int = 0                   # augmentation: training images moved by up to this many pixels
    architecture: str | None = None  # the network in cnn.arch's grammar; None: the preset's

    @classmethod
    def from_preset(cls, name: str, **overrides) -> "RunConfig":
        if name not in PRESETS:
            raise SettingError("preset", f"one of {sorted(PRESETS)}", name)
        p = PRESETS[name]
        config = cls(name, p.classes, p.limit, p.epochs, p.learning_rate, p.batch_size, p.momentum, 0, p.dtype,
                     p.lr_decay, p.shift)
        return config.with_changes(**{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_dict(cls, values: dict) -> "RunConfig":
        """The inverse of as_dict (lists for tuples, as JSON gives them back); missing fields take
        their defaults; unknown fields and out-of-range values raise ValueError naming them."""
        if not isinstance(values, dict):
            raise ValueError(f"settings must be a mapping of field names to values, not {type(values).__name__}")
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown settings {unknown}")
        return cls().with_changes(**values)

    def with_changes(self, **changes) -> "RunConfig":
        if isinstance(changes.get("classes"), list):
            changes["classes"] = tuple(changes["classes"])
        config = replace(self, **changes)
        config.validate()
        return config

    def validate(self) -> None:
        """Raises SettingError naming the first field that is out of range."""
        def whole(value, low, high):
            return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        def real(value):
            return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        checks = [
            ("preset", isinstance(self.preset, str) and self.preset in PRESETS, f"one of {sorted(PRESETS)}"),
            ("classes", isinstance(self.classes, (tuple, list)) and len(self.classes) >= 2
             and all(whole(c, 0, 9) for c in self.classes) and len(set(self.classes)) == len(self.classes),
             "two or more distinct digits 0–9"),
            ("limit", self.limit is None or whole(self.limit, 1, 60000), "1 to 60000 images per class, or all"),
            ("epochs", whole(self.epochs, 1, 10000), "a whole number from 1 to 10000"),
            ("learning_rate", real(self.learning_rate) and MIN_LEARNING_RATE <= self.learning_rate <= MAX_LEARNING_RATE,
             f"from {MIN_LEARNING_RATE:g} to {MAX_LEARNING_RATE:g}"),
            ("batch_size", whole(self.batch_size, 1, 60000), "a whole number from 1 to 60000"),
            ("momentum", real(self.momentum) and 0 <= self.momentum < 1, "in [0, 1)"),
            ("seed", whole(self.seed, 0, 2**32 - 1), "a whole number from 0 to 4294967295"),
            ("dtype", isinstance(self.dtype, str) and self.dtype in DTYPES, f"one of {sorted(DTYPES)}"),
            ("lr_decay", real(self.lr_decay) and 0 < self.lr_decay <= 1, "in (0, 1]"),
            ("shift", whole(self.shift, 0, 4), "a whole number of pixels from 0 to 4"),
        ]
        for name, ok, expected in checks:
            if not ok:
                raise SettingError(name, expected, getattr(self, name))
        self._check_architecture()

    def _check_architecture(self) -> None:
        """The architecture parses, its shapes fit the 1×28×28 images, and it ends in one output per class."""
        if self.architecture is None:
            return
        if not isinstance(self.architecture, str):
            raise SettingError("architecture", "a text in the grammar of cnn.arch, or None", self.architecture)
        try:
            canonical(self.architecture, len(self.classes))
        except ArchitectureError as error:
            raise SettingError("architecture", "a network the data can take", self.architecture, str(error)) from None

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}
