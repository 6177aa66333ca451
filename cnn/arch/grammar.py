"""The compact grammar of `--arch` (see cnn.arch): a string → LayerSpecs, and back.

    conv DEPTH KxK [stride=S] [pad=valid|same|N] [bias=position|kernel] [init=normal|he|xavier]
    maxpool S | avgpool S | globalavgpool | dropout P | batchnorm | dense N [init=...]
    sigmoid | tanh | relu | softmax

Tokens are the comma-separated items, counted from 1; a bad one raises ArchitectureError
"token 3 'maxpool 0': size must be ≥ 1". Shapes are checked elsewhere (cnn.arch.shapes).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..convolution import BIAS_MODES, PADDINGS
from ..init import SCHEMES
from ..ranges import MAX_DIGITS, shown

IMAGE_SHAPE = (1, 28, 28)           # what the first layer takes: one MNIST image
ACTIVATION_KINDS = ("sigmoid", "tanh", "relu", "softmax")
PLAIN_KINDS = (*ACTIVATION_KINDS, "globalavgpool", "batchnorm")    # a name alone, no numbers or options
KINDS = ("conv", "maxpool", "avgpool", "globalavgpool", "dropout", "batchnorm", "dense", *ACTIVATION_KINDS)
SIZED_KINDS = ("conv", "maxpool", "avgpool", "dense")             # those with a whole number after the name
LIMITS = {"depth": 1024, "kernel size": 28, "size": 100_000, "stride": 28, "pad": 27}   # each number's largest value


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
    stride: int = 1                 # conv: s
    padding: str | int = "valid"    # conv: valid, same, or P zeros on every side
    rate: float = 0.5               # dropout: p, the probability of dropping a value

    def __str__(self) -> str:
        words = [self.kind]
        if self.kind in SIZED_KINDS:
            words.append(str(self.size))
        if self.kind == "dropout":
            words.append(repr(self.rate))
        if self.kind == "conv":
            words.append(f"{self.kernel}x{self.kernel}")
            if self.stride != 1:
                words.append(f"stride={self.stride}")
            if self.padding != "valid":
                words.append(f"pad={self.padding}")
            if self.bias != "position":
                words.append(f"bias={self.bias}")
        if self.kind in ("conv", "dense") and self.init != "normal":
            words.append(f"init={self.init}")
        return " ".join(words)


def text(layers) -> str:
    """The canonical compact string of a list of LayerSpecs (defaults left out)."""
    return ", ".join(map(str, layers))


OPTIONS = {"conv": ("stride", "pad", "bias", "init"), "dense": ("init",)}
CHOICES = {"bias": BIAS_MODES, "init": SCHEMES, "pad": PADDINGS}
NUMBERS = {"conv": "DEPTH KxK, e.g. 'conv 8 3x3'", "maxpool": "a window size S, e.g. 'maxpool 2'",
           "avgpool": "a window size S, e.g. 'avgpool 2'", "dense": "a number of units N, e.g. 'dense 10'",
           "dropout": "a probability P of dropping each value, from 0 to below 1, e.g. 'dropout 0.5'"}
TAKES = {"stride": "stride=S (a whole number)", "pad": "pad=valid|same|N"}


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
    if kind in PLAIN_KINDS:
        if rest:
            raise fail(f"{kind} takes no numbers or options, not '{shown(' '.join(rest))}'")
        return LayerSpec(kind)
    numbers = [word for word in rest if "=" not in word]
    options = [word for word in rest if "=" in word]
    if rest[:len(numbers)] != numbers:
        raise fail(f"options come after the numbers: {kind} takes {NUMBERS[kind]}")
    wanted = 2 if kind == "conv" else 1
    if len(numbers) != wanted:
        raise fail(f"{kind} takes {NUMBERS[kind]}")
    if kind == "dropout":
        return LayerSpec(kind, rate=_probability(numbers[0], fail))
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
            takes = ", ".join(TAKES.get(name, f"{name}={'|'.join(CHOICES.get(name, ()))}")
                              for name in OPTIONS.get(kind, ()))
            raise fail(f"unknown option '{shown(key)}'; {kind} takes {takes or 'no options'}")
        if key in settings:
            raise fail(f"{key} is given twice")
        settings[key] = _option(key, value, fail)
    if "pad" in settings:
        settings["padding"] = settings.pop("pad")
    return LayerSpec(kind, size, kernel, **settings)


def field(key: str, value: str):
    """One typed value as the grammar reads it: 'stride' and 'pad' (conv's options) or 'p' (dropout's
    probability); raises ArchitectureError with the grammar's one-line reason (what the editor shows)."""
    def fail(reason):
        return ArchitectureError(reason)
    value = value.strip().lower()
    return _probability(value, fail) if key == "p" else _option(key, value, fail)


def _option(key: str, value: str, fail):
    """An option's value: stride a whole number, pad valid, same or a whole number (0 is valid)."""
    if key == "stride":
        return _whole(value, "stride", fail)
    if key == "pad" and re.fullmatch(r"[+-]?\d+", value):
        padding = _whole(value, "pad", fail, low=0)
        return "valid" if padding == 0 else padding
    if value not in CHOICES[key]:
        more = " or a whole number" if key == "pad" else ""
        raise fail(f"{key} must be {' or '.join(CHOICES[key])}{more}, not '{shown(value)}'")
    return value


def _probability(word: str, fail) -> float:
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d{1,3})?", word):
        raise fail(f"the probability must be a number from 0 to below 1, e.g. 0.5, not '{shown(word)}'")
    value = float(word)
    if not 0.0 <= value < 1.0:
        raise fail(f"the probability must be from 0 to below 1, not {shown(word)}")
    return value


def _whole(word: str, name: str, fail, low: int = 1) -> int:
    if not re.fullmatch(r"[+-]?\d+", word):
        raise fail(f"{name} must be a whole number, not '{shown(word)}'")
    digits = word.lstrip("+-").lstrip("0") or "0"
    if len(digits) > MAX_DIGITS:   # int() of 4,300 digits raises Python's own "Exceeds the limit"
        raise fail(f"{name} must be ≥ {low}" if word.startswith("-") else
                   f"{name} must be at most {LIMITS[name]:,}, not a number of {len(digits):,} digits")
    value = -int(digits) if word.startswith("-") else int(digits)
    if value < low:
        raise fail(f"{name} must be ≥ {low}")
    if value > LIMITS[name]:
        raise fail(f"{name} must be at most {LIMITS[name]:,}")
    return value


