"""The compact grammar of `--arch` (see cnn.arch): a string → LayerSpecs, and back.

Tokens are the comma-separated items, counted from 1; a bad one raises ArchitectureError
"token 3 'maxpool 0': size must be ≥ 1". Shapes are checked elsewhere (cnn.arch.shapes).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..convolution import BIAS_MODES
from ..init import SCHEMES
from ..ranges import MAX_DIGITS, shown

IMAGE_SHAPE = (1, 28, 28)           # what the first layer takes: one MNIST image
ACTIVATION_KINDS = ("sigmoid", "tanh", "relu", "softmax")
KINDS = ("conv", "maxpool", "dense", *ACTIVATION_KINDS)
LIMITS = {"depth": 1024, "kernel size": 28, "size": 100_000}   # each number's largest value


class ArchitectureError(ValueError):
    """An architecture that cannot be built; str() is one line naming the token or layer and the reason."""


@dataclass(frozen=True)
class LayerSpec:
    """One layer as the grammar writes it. `size`: conv's depth, maxpool's window, dense's units."""
    kind: str
    size: int = 0
    kernel: int = 0                 # conv: k of the k×k kernels
    bias: str = "position"          # conv: one bias per output position, or one per kernel
    init: str = "normal"            # conv and dense

    def __str__(self) -> str:
        words = [self.kind]
        if self.kind in ("conv", "maxpool", "dense"):
            words.append(str(self.size))
        if self.kind == "conv":
            words.append(f"{self.kernel}x{self.kernel}")
            if self.bias != "position":
                words.append(f"bias={self.bias}")
        if self.kind in ("conv", "dense") and self.init != "normal":
            words.append(f"init={self.init}")
        return " ".join(words)


def text(layers) -> str:
    """The canonical compact string of a list of LayerSpecs (defaults left out)."""
    return ", ".join(map(str, layers))


OPTIONS = {"conv": ("bias", "init"), "dense": ("init",)}
CHOICES = {"bias": BIAS_MODES, "init": SCHEMES}
NUMBERS = {"conv": "DEPTH KxK, e.g. 'conv 8 3x3'", "maxpool": "a window size S, e.g. 'maxpool 2'",
           "dense": "a number of units N, e.g. 'dense 10'"}


def parse(spec: str) -> list[LayerSpec]:
    """The layers a compact string names; raises ArchitectureError for the first bad token.
    Shapes are not checked here (plan and check do)."""
    if not isinstance(spec, str) or not spec.strip():
        raise ArchitectureError("the architecture is empty; write layers separated by commas, "
                                "e.g. 'conv 5 3x3, sigmoid, dense 2, sigmoid'")
    return [_parse_token(token.strip(), index) for index, token in enumerate(spec.split(","), 1)]


def _parse_token(token: str, index: int) -> LayerSpec:
    def fail(reason):
        return ArchitectureError(f"token {index} '{shown(token, 60)}': {reason}")
    words = token.lower().split()
    if not words:
        raise fail("no layer between two commas")
    kind, rest = words[0], words[1:]
    if kind not in KINDS:
        raise fail(f"unknown layer '{shown(kind)}'; the layers are {', '.join(KINDS)}")
    if kind in ACTIVATION_KINDS:
        if rest:
            raise fail(f"{kind} takes no numbers or options, not '{' '.join(rest)}'")
        return LayerSpec(kind)
    numbers = [word for word in rest if "=" not in word]
    options = [word for word in rest if "=" in word]
    if rest[:len(numbers)] != numbers:
        raise fail(f"options come after the numbers: {kind} takes {NUMBERS[kind]}")
    wanted = 2 if kind == "conv" else 1
    if len(numbers) != wanted:
        raise fail(f"{kind} takes {NUMBERS[kind]}")
    size = _whole(numbers[0], "depth" if kind == "conv" else "size", fail)
    kernel = 0
    if kind == "conv":
        match = re.fullmatch(r"(\d+)x(\d+)", numbers[1])
        if match is None:
            raise fail(f"the kernel size must be KxK, e.g. 3x3, not '{shown(numbers[1])}'")
        if match[1] != match[2]:
            raise fail(f"kernels are square (KxK), not {shown(numbers[1])}")
        kernel = _whole(match[1], "kernel size", fail)
    settings = {}
    for option in options:
        key, _, value = option.partition("=")
        if key not in OPTIONS.get(kind, ()):
            takes = " and ".join(f"{name}={'|'.join(CHOICES[name])}" for name in OPTIONS.get(kind, ()))
            raise fail(f"unknown option '{key}'; {kind} takes {takes or 'no options'}")
        if key in settings:
            raise fail(f"{key} is given twice")
        if value not in CHOICES[key]:
            raise fail(f"{key} must be {' or '.join(CHOICES[key])}, not '{value}'")
        settings[key] = value
    return LayerSpec(kind, size, kernel, **settings)


def _whole(word: str, name: str, fail) -> int:
    if not re.fullmatch(r"[+-]?\d+", word):
        raise fail(f"{name} must be a whole number, not '{shown(word)}'")
    digits = word.lstrip("+-").lstrip("0") or "0"
    if len(digits) > MAX_DIGITS:   # int() of 4,300 digits raises Python's own "Exceeds the limit"
        raise fail(f"{name} must be ≥ 1" if word.startswith("-") else
                   f"{name} must be at most {LIMITS[name]:,}, not a number of {len(digits):,} digits")
    value = -int(digits) if word.startswith("-") else int(digits)
    if value < 1:
        raise fail(f"{name} must be ≥ 1")
    if value > LIMITS[name]:
        raise fail(f"{name} must be at most {LIMITS[name]:,}")
    return value


