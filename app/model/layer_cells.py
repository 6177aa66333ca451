"""How a layer's arrays are laid out as a grid of cells, with the labels that say what each cell is.
Qt-free: the views draw these with app/widgets/grid_plot.py.

- a convolution's kernels K (D, C, k, k): row i = kernel (output map), column j = input channel;
- a Dense layer's weights W (out, in): each output unit's weights reshaped to the shape its input had
  before a Reshape (the digits network's Dense(400, 64) after 16×5×5 pooling: 64 templates of
  16×5×5, a row of 16 maps each), else the matrix itself;
- maps (M, h, w): one row of M cells; vectors: one strip.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Cells:
    cells: np.ndarray                  # (rows, cols, h, w)
    row_title: str
    col_title: str
    row_names: tuple[str, ...]
    col_names: tuple[str, ...]
    describe: Callable[[int, int, int, int], str]   # (row, col, pixel row, pixel col) → the value, in words
    wrap: bool = False                 # many rows: the grid may wrap them into blocks
    transposable: bool = False         # rows and columns may swap to fit a view's shape

    def transposed(self) -> "Cells":
        """Rows as columns (a wide view shows 16 kernels × 8 channels better as 8 rows × 16 columns)."""
        describe = self.describe
        return Cells(self.cells.transpose(1, 0, 2, 3), self.col_title, self.row_title, self.col_names,
                     self.row_names, lambda r, c, y, x: describe(c, r, y, x), self.wrap, self.transposable)


def input_maps_shape(layers, index: int) -> tuple | None:
    """The 3-D shape a Dense layer's input had before it was flattened by a Reshape, else None."""
    if index > 0 and layers[index - 1].kind == "Reshape" and len(layers[index - 1].input_shape) == 3:
        return tuple(layers[index - 1].input_shape)
    return None


def unit_names(layers, index: int, classes) -> tuple[str, ...]:
    """A Dense layer's output units: the class digits when they are the network's outputs."""
    count = layers[index].output_shape[0]
    last_with_params = max((layer.index for layer in layers if layer.params), default=-1)
    if index == last_with_params and count == len(classes):
        return tuple(f"digit {c}" for c in classes)
    return tuple(f"unit {u}" for u in range(count))


def kernel_cells(name: str, kernels: np.ndarray) -> Cells:
    depth, channels = kernels.shape[:2]
    return Cells(kernels, "kernel i", "input channel j", tuple(map(str, range(depth))),
                 tuple(map(str, range(channels))),
                 lambda i, j, r, c: f"{name}[{i},{j}] (kernel {i}, channel {j}) row {r}, column {c}: "
                                    f"{kernels[i, j, r, c]:+.6g}", transposable=True)


def dense_cells(name: str, weights: np.ndarray, maps_shape: tuple | None, units: tuple[str, ...]) -> Cells:
    out, inputs = weights.shape
    if maps_shape is None:
        return Cells(weights[None, None], "", "", (), (),
                     lambda _i, _j, r, c: f"{name}[{r},{c}] (from input {c} to {units[r]}): {weights[r, c]:+.6g}")
    channels, height, width = maps_shape
    templates = weights.reshape(out, channels, height, width)
    return Cells(templates, "output unit", "input channel", tuple(units), tuple(map(str, range(channels))),
                 lambda u, j, r, c: f"{name} of {units[u]} from channel {j}, row {r}, column {c} (input "
                                    f"{(j * height + r) * width + c}): {templates[u, j, r, c]:+.6g}",
                 wrap=True)


def map_cells(name: str, maps: np.ndarray, what: str = "map", columns: int | None = None) -> Cells:
    """(M, h, w) maps, `columns` to a row (all of them by default), or a vector as a strip of rows of
    up to `strip_width` values."""
    if maps.ndim == 3:
        count, h, w = maps.shape
        columns = min(columns or count, count)
        rows = -(-count // columns)
        cells = np.full((rows * columns, h, w), np.nan)
        cells[:count] = maps
        return Cells(cells.reshape(rows, columns, h, w), "", "", (), (),
                     lambda r, c, y, x: f"{name} of {what} {r * columns + c} at row {y}, column {x}: "
                                        f"{maps[r * columns + c, y, x]:+.6g}" if r * columns + c < count else "")
    vector = maps.reshape(-1)
    width = strip_width(vector.size)
    rows = -(-vector.size // width)
    padded = np.full(rows * width, np.nan)
    padded[:vector.size] = vector
    return Cells(padded.reshape(1, 1, rows, width), "", "", (), (),
                 lambda _r, _c, y, x: f"{name}[{y * width + x}]: {padded[y * width + x]:+.6g}"
                 if y * width + x < vector.size else "")


def strip_width(size: int) -> int:
    """Vectors of up to 16 values (class outputs) in one row; longer ones wrap to about four times as
    wide as tall (a row of 100 values one pixel high is a line nobody can read)."""
    return size if size <= 16 else math.ceil(math.sqrt(4 * size))


def parameter_cells(layers, index: int, name: str, array: np.ndarray, classes, symbol: str | None = None) -> Cells:
    """Cells for parameter `name` of layer `index` (its value, or its gradient with `symbol` '∂E/∂W')."""
    kind = layers[index].kind
    if kind == "Convolutional" and name == "kernels":
        return kernel_cells(symbol or "K", array)
    if kind == "Dense" and name == "weights":
        return dense_cells(symbol or "W", array, input_maps_shape(layers, index), unit_names(layers, index, classes))
    if array.ndim == 1:       # a bias per kernel or unit, batch normalization's γ or β per channel: one cell a value
        role = {"gamma": ("γ", "scale"), "beta": ("β", "shift")}.get(name, ("B", "bias"))
        label = "kernel" if kind == "Convolutional" else \
            "channel" if kind == "BatchNorm" and len(layers[index].input_shape) == 3 else "unit"
        symbol = symbol or role[0]
        return Cells(array.reshape(1, -1, 1, 1), "", label, (), tuple(map(str, range(array.size))),
                     lambda _r, i, _y, _x: f"{symbol}[{i}] ({label} {i}'s {role[1]}): {array[i]:+.6g}")
    return map_cells(symbol or "B", array.reshape(-1, *array.shape[-2:]), "kernel", columns=8)


def unit_cells(cells: Cells, unit: int) -> Cells:
    """One output unit's template from a Dense layer's templates (dense_cells with its input's maps):
    its input channels in a near-square grid, each map large enough to read (a row of 64 templates of
    16×5×5 gave each 5×5 map a few pixels)."""
    _units, channels, h, w = cells.cells.shape
    columns = math.ceil(math.sqrt(channels))
    rows = -(-channels // columns)
    maps = np.full((rows * columns, h, w), np.nan)
    maps[:channels] = cells.cells[unit]
    describe = cells.describe
    return Cells(maps.reshape(rows, columns, h, w), "input channel", "",
                 tuple(str(r * columns) for r in range(rows)), tuple(f"+{c}" for c in range(columns)),
                 lambda r, c, y, x: describe(unit, r * columns + c, y, x) if r * columns + c < channels else "")
