"""Where each number of an array sits in the step-through's mosaic of it, and which of its labels
fit: the arithmetic of app/stepthrough/array_panel.py's drawing, without Qt."""
from __future__ import annotations

import math

VECTOR_WIDTH = 64         # a longer vector is wrapped in rows of this many (the panel draws it as bars)


def layout_of(shape: tuple) -> tuple[tuple[int, int], int, int]:
    """How an array is laid out as a mosaic: (cell shape, columns, cells).

    (d, C, h, w): one row per i, one column per j (one row of d cells when C is 1);
    (C, h, w): up to 8 maps a row; (rows, cols): one cell; (n,): rows of VECTOR_WIDTH."""
    if len(shape) == 4:
        d, c, h, w = shape
        return (h, w), (c if c > 1 else d), d * c
    if len(shape) == 3:
        return shape[1:], min(shape[0], 8), shape[0]
    if len(shape) == 2:
        return shape, 1, 1
    n = shape[0]
    width = min(n, VECTOR_WIDTH)
    return (math.ceil(n / width), width), 1, 1


def index_at(shape: tuple, cell: int, row: int, col: int) -> tuple | None:
    """The array index shown at (cell, row, col) of the mosaic, or None on a vector's padding."""
    if len(shape) == 4:
        return divmod(cell, shape[1]) + (row, col)
    if len(shape) == 3:
        return cell, row, col
    if len(shape) == 2:
        return row, col
    flat = row * min(shape[0], VECTOR_WIDTH) + col
    return (flat,) if flat < shape[0] else None


def label_step(count: int, text_size: float, cell_size: float) -> int:
    """Label every how-manieth of `count` cells `cell_size` apart so that labels `text_size` long
    (both in the mosaic's units) do not run together."""
    if count < 2 or not math.isfinite(text_size) or cell_size <= 0 or text_size <= cell_size:
        return 1
    return min(count, math.ceil(text_size / cell_size))
