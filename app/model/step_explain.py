"""What the step-through's hover says: where a convolution's number comes from (Qt-free).

Each explanation is rich text and the regions to outline, as (panel key, map index, rows, cols),
the map index being the leading indices of that panel's array ((j,) of X, (i, j) of K).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from app.model.steps import D, shape_text


def number_text(value, dtype=np.float64) -> str:
    """A number as the step-through prints it: float32 to its 7 significant digits, float64 to 10,
    a sign always, and zero as 0 (never −0)."""
    value = float(value)
    if value == 0:
        return "0"
    return f"{value:+.{7 if np.dtype(dtype) == np.float32 else 10}g}"


class Explanation(NamedTuple):
    text: str
    outlines: list[tuple[str, tuple, slice, slice]]


def input_window(row: int, col: int, kernel_size: int) -> tuple[slice, slice]:
    """The input window behind output pixel (row, col) of a valid correlation: rows row..row+k−1."""
    return slice(row, row + kernel_size), slice(col, col + kernel_size)


def kernel_gradient_region(a: int, b: int, out_hw: tuple[int, int]) -> tuple[slice, slice]:
    """The input region ∂E/∂K[i, j, a, b] sums over: X_j[a : a+Ho, b : b+Wo] against ∂E/∂Y_i."""
    return slice(a, a + out_hw[0]), slice(b, b + out_hw[1])


def window_products(x: np.ndarray, kernels: np.ndarray, i: int, row: int, col: int) -> np.ndarray:
    """The products X_j[row+a, col+b] · K_ij[a, b] that make Y_i[row, col] (without the bias): (C, k, k)."""
    rows, cols = input_window(row, col, kernels.shape[-1])
    return x[:, rows, cols] * kernels[i]


def convolution_pixel(layer, key: str, index: tuple) -> Explanation:
    """Y[i, r, c] (key "Y") or one term X_j ⋆ K_ij at [r, c] (key "terms", index (i, j, r, c)): the
    window in X, the kernel, the products and their sum, with the bias and the engine's value."""
    x, kernels, biases = layer.input[0], layer.params["kernels"], layer.params["biases"]
    i, r, c = index[0], index[-2], index[-1]
    channels = list(range(x.shape[0])) if key == "Y" else [index[1]]
    k = kernels.shape[-1]
    rows, cols = input_window(r, c, k)
    products = window_products(x, kernels, i, r, c)
    pixel = (slice(r, r + 1), slice(c, c + 1))
    outlines = [("X", (j,), rows, cols) for j in channels]
    outlines += [("K", (i, j), slice(0, k), slice(0, k)) for j in channels]
    outlines += [("terms", (i, j), *pixel) for j in channels]
    bias = biases[i, r, c] if biases.ndim == 3 else biases[i]
    grids = []
    dtype = layer.output.dtype
    for j in channels[:2]:   # one cell per product, bordered, so that nine products never run together
        cells = "".join("<tr>" + "".join(f"<td align='right'><code>{x[j, r + a, c + b]:.4f} × "
                                         f"{kernels[i, j, a, b]:+.4f}</code></td>" for b in range(k)) + "</tr>"
                        for a in range(k))
        grids.append(f"<td>X<sub>{j}</sub>[{r}:{r + k}, {c}:{c + k}] ⊙ K<sub>{i},{j}</sub>:"
                     f"<table border='1' cellspacing='0' cellpadding='3'>{cells}</table>"
                     f"sum <code>{number_text(products[j].sum(), dtype)}</code></td>")
    total = float(products[channels].sum())
    if key == "terms":
        summary = (f"term X<sub>{index[1]}</sub> ⋆ K<sub>{i},{index[1]}</sub> at [{r}, {c}] = "
                   f"<code>{number_text(total, dtype)}</code>")
    else:
        outlines.append(("Y", (i,), *pixel))
        more = f" (the {x.shape[0]} channels' sums: " + ", ".join(f"{products[j].sum():+.6g}" for j in channels) \
            + "; the first two are shown)" if x.shape[0] > 2 else ""
        summary = (f"Y[{i}, {r}, {c}] = Σ products (<code>{number_text(total, dtype)}</code>) + B "
                   f"(<code>{number_text(bias, dtype)}</code>) = <code>{number_text(total + bias, dtype)}</code>; "
                   f"the engine computed <code>{number_text(layer.output[0][i, r, c], dtype)}</code>{more}")
    return Explanation(f"<table cellspacing='8'><tr>{''.join(grids)}</tr></table>{summary}", outlines)


def kernel_gradient(layer, index: tuple) -> Explanation:
    """∂E/∂K[i, j, a, b]: the region of X_j it sums against ∂E/∂Y_i, and the sum."""
    i, j, a, b = index
    dy = layer.output_gradient[0]
    rows, cols = kernel_gradient_region(a, b, dy.shape[1:])
    total = float(np.sum(layer.input[0][j, rows, cols] * dy[i]))
    text = (f"{D}K[{i}, {j}, {a}, {b}] = Σ<sub>r,c</sub> X<sub>{j}</sub>[{a}+r, {b}+c] · {D}Y<sub>{i}</sub>[r, c] "
            f"over the {shape_text(dy.shape[1:])} region X<sub>{j}</sub>[{rows.start}:{rows.stop}, "
            f"{cols.start}:{cols.stop}] = <code>{number_text(total, dy.dtype)}</code>; the engine: "
            f"<code>{number_text(layer.grads['kernels'][index], dy.dtype)}</code>")
    return Explanation(text, [("X", (j,), rows, cols), ("dY", (i,), slice(0, dy.shape[1]), slice(0, dy.shape[2])),
                              ("dK", (i, j), slice(a, a + 1), slice(b, b + 1))])
