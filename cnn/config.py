"""A run's settings, range-checked in one place for the CLI and the studio."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from .arch import IMAGE_SHAPE, ArchitectureError, check, parse
from .layer import DTYPES
from .memory import sample_problem
from .presets import PRESETS
from .ranges import CHOICES, RANGES, SettingError, check_batch_size

__all__ = ["RunConfig", "SettingError"]


_ORIGINAL = PRESETS["original"]    # the defaults: the original experiment's


@dataclass(frozen=True)
class RunConfig:
    """A run's settings (each described once in cnn.settings; the ranges: cnn.ranges)."""
    preset: str = _ORIGINAL.name
    classes: tuple[int, ...] = _ORIGINAL.classes
    limit: int | None = _ORIGINAL.limit   # images per class; None: all
    epochs: int = _ORIGINAL.epochs
    learning_rate: float = _ORIGINAL.learning_rate
    batch_size: int = _ORIGINAL.batch_size
    momentum: float = _ORIGINAL.momentum
    seed: int = 0
    dtype: str = _ORIGINAL.dtype
    lr_decay: float = _ORIGINAL.lr_decay  # epoch e's learning rate: learning_rate × lr_decay^(e−1), floored (cnn.optim)
    shift: int = _ORIGINAL.shift          # augmentation: each training image moved by −shift…+shift pixels each way
    architecture: str | None = None       # the network in cnn.arch's grammar; None: the preset's
    optimizer: str = _ORIGINAL.optimizer  # cnn.optim: "sgd" (with `momentum`) or "adam" (β₁ 0.9, β₂ 0.999, ε 1e-8)
    reshuffle: bool = _ORIGINAL.reshuffle  # a new order of the training images every epoch
    weight_decay: float = _ORIGINAL.weight_decay  # λ: SGD's g = ∂E/∂θ + λθ, Adam's decoupled (cnn.optim)

    @classmethod
    def from_preset(cls, name: str, **overrides) -> "RunConfig":
        if name not in PRESETS:
            raise SettingError("preset", f"one of {sorted(PRESETS)}", name)
        p = PRESETS[name]
        config = cls(name, p.classes, p.limit, p.epochs, p.learning_rate, p.batch_size, p.momentum, 0, p.dtype,
                     p.lr_decay, p.shift, optimizer=p.optimizer, reshuffle=p.reshuffle,
                     weight_decay=p.weight_decay)
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
        if "reshuffle" not in values and values.get("preset") in PRESETS:   # written before it was a setting
            values = {**values, "reshuffle": PRESETS[values["preset"]].reshuffle}
        return cls().with_changes(**values)

    def with_changes(self, **changes) -> "RunConfig":
        if isinstance(changes.get("classes"), list):
            changes["classes"] = tuple(changes["classes"])
        config = replace(self, **changes)
        config.validate()
        return config

    def validate(self) -> None:
        """Raises SettingError naming the first field that is out of range (the ranges: cnn.ranges)."""
        digit = RANGES["digit"]
        checks = [
            ("preset", isinstance(self.preset, str) and self.preset in PRESETS, f"one of {sorted(PRESETS)}"),
            ("classes", isinstance(self.classes, (tuple, list)) and len(self.classes) >= 2
             and all(digit.contains(c) for c in self.classes) and len(set(self.classes)) == len(self.classes),
             "two or more distinct digits 0–9"),
            ("limit", self.limit is None or RANGES["limit"].contains(self.limit),
             f"{RANGES['limit'].low} to {RANGES['limit'].high} images per class, or all"),
            ("dtype", isinstance(self.dtype, str) and self.dtype in DTYPES, f"one of {sorted(DTYPES)}"),
            ("optimizer", self.optimizer in CHOICES["optimizer"], f"one of {', '.join(CHOICES['optimizer'])}"),
            ("reshuffle", isinstance(self.reshuffle, bool), "true or false"),
        ] + [(name, RANGES[name].contains(getattr(self, name)), RANGES[name].describe())
             for name in ("epochs", "learning_rate", "batch_size", "momentum", "seed", "lr_decay", "shift",
                          "weight_decay")]
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
            rows = check(parse(self.architecture), classes=len(self.classes))   # (what canonical() checks)
        except ArchitectureError as error:
            raise SettingError("architecture", "a network the data can take", self.architecture, str(error)) from None
        problem = sample_problem(rows, IMAGE_SHAPE, np.dtype(DTYPES[self.dtype]).itemsize)
        if problem is not None:   # refused before any array is made, rather than a MemoryError mid-run
            raise SettingError("architecture", "a network the data can take", self.architecture, problem)

    def check_batch_size(self, training_images: int) -> None:
        """The one rule that needs the data (cnn.ranges.check_batch_size)."""
        check_batch_size(self.batch_size, training_images)

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}
