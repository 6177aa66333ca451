"""What a step of the step-through is made of (Qt-free): its panels of arrays and the text helpers
every step's formula uses (app/model/steps.py builds the steps, app/model/steps_blocks.py those of the
newer blocks)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Panel:
    key: str            # what the array is, for hover and click handling: 'X', 'K', 'terms', 'Y', 'dK', …
    title: str          # rich text: 'X', '∂E/∂K'
    array: np.ndarray   # (d, C, h, w), (C, h, w), (rows, cols) or (n,)
    scale: str          # 'signed' (diverging, white = 0), 'gray' (an image in [0, 1]) or 'positive'


@dataclass(frozen=True)
class Step:
    phase: str          # 'forward', 'loss', 'loss gradient', 'backward' or 'update'
    layer: int | None   # the layer's index, for forward, backward and update steps
    title: str          # the entry in the list of steps
    formula: str        # rich text
    explanation: str    # rich text: the formula applied to this network's shapes
    panels: tuple[Panel, ...]


D = "∂<i>E</i>/∂"


def shape_text(shape) -> str:
    return "×".join(map(str, shape)) if len(shape) else "scalar"


def sub(name: str, index: str) -> str:
    return f"<i>{name}</i><sub>{index}</sub>"


def scale_of(array) -> str:
    return "positive" if array.size and float(np.min(array)) >= 0 else "signed"


def input_panel(layer, key="X", title="<i>X</i>") -> Panel:
    x = layer.input[0]
    return Panel(key, title, x, "gray" if layer.index == 0 else scale_of(x))
