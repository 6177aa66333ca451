"""What the step-through's hover says: where a convolution's number comes from (Qt-free).

Each explanation is rich text and the regions to outline, as (panel key, map index, rows, cols),
the map index being the leading indices of that panel's array ((j,) of X, (i, j) of K).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from app.model.step_types import D, shape_text


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


NO_PADDING = ((0, 0), (0, 0))


def input_window(row: int, col: int, kernel_size: int, stride: int = 1) -> tuple[slice, slice]:
    """The window of the padded input behind output pixel (row, col): rows s·row .. s·row+k−1."""
    return slice(stride * row, stride * row + kernel_size), slice(stride * col, stride * col + kernel_size)


def kernel_gradient_region(a: int, b: int, out_hw: tuple[int, int], stride: int = 1) -> tuple[slice, slice]:
    """The entries of the padded input ∂E/∂K[i, j, a, b] sums over against ∂E/∂Y_i: rows a, a+s, …, a+s(Ho−1)."""
    return slice(a, a + stride * (out_hw[0] - 1) + 1, stride), slice(b, b + stride * (out_hw[1] - 1) + 1, stride)


def in_input(rows: slice, cols: slice, pads, shape) -> tuple[slice, slice]:
    """Slices of the padded input → the part inside X (the padding's zeros are not drawn), for outlines."""
    (top, _), (left, _) = pads
    return (slice(max(rows.start - top, 0), min(rows.stop - top, shape[0])),
            slice(max(cols.start - left, 0), min(cols.stop - left, shape[1])))


def padded(x: np.ndarray, pads) -> np.ndarray:
    """One sample (C, H, W) with the padding's zeros around each plane."""
    return np.pad(x, ((0, 0), *pads)) if any(map(any, pads)) else x


def window_products(x: np.ndarray, kernels: np.ndarray, i: int, row: int, col: int, stride: int = 1,
                    pads=NO_PADDING) -> np.ndarray:
    """The products X_j[s·row+a−P, s·col+b−P] · K_ij[a, b] that make Y_i[row, col] (without the bias): (C, k, k)."""
    rows, cols = input_window(row, col, kernels.shape[-1], stride)
    return padded(x, pads)[:, rows, cols] * kernels[i]


def convolution_pixel(layer, key: str, index: tuple, stride: int = 1, pads=NO_PADDING) -> Explanation:
    """Y[i, r, c] (key "Y") or one term X_j ⋆ K_ij at [r, c] (key "terms", index (i, j, r, c)): the
    window in X, the kernel, the products and their sum, with the bias and the engine's value.
    `stride` and `pads` ((top, bottom), (left, right)) are the convolution's."""
    x, kernels, biases = layer.input[0], layer.params["kernels"], layer.params["biases"]
    i, r, c = index[0], index[-2], index[-1]
    channels = list(range(x.shape[0])) if key == "Y" else [index[1]]
    k = kernels.shape[-1]
    rows, cols = input_window(r, c, k, stride)
    xp = padded(x, pads)
    products = window_products(x, kernels, i, r, c, stride, pads)
    pixel = (slice(r, r + 1), slice(c, c + 1))
    outlines = [("X", (j,), *in_input(rows, cols, pads, x.shape[1:])) for j in channels]
    outlines += [("K", (i, j), slice(0, k), slice(0, k)) for j in channels]
    outlines += [("terms", (i, j), *pixel) for j in channels]
    bias = biases[i, r, c] if biases.ndim == 3 else biases[i]
    grids = []
    dtype = layer.output.dtype
    (top, _), (left, _) = pads
    r0, c0 = rows.start - top, cols.start - left
    for j in channels[:2]:   # one cell per product, bordered, so that nine products never run together
        cells = "".join("<tr>" + "".join(f"<td align='right'><code>{xp[j, rows.start + a, cols.start + b]:.4f} × "
                                         f"{kernels[i, j, a, b]:+.4f}</code></td>" for b in range(k)) + "</tr>"
                        for a in range(k))
        grids.append(f"<td>X<sub>{j}</sub>[{r0}:{r0 + k}, {c0}:{c0 + k}] ⊙ K<sub>{i},{j}</sub>:"
                     f"<table border='1' cellspacing='0' cellpadding='3'>{cells}</table>"
                     f"sum <code>{number_text(products[j].sum(), dtype)}</code></td>")
    total = float(products[channels].sum())
    outside = " (X is 0 outside its edges: the padding)" if any(map(any, pads)) else ""
    if key == "terms":
        summary = (f"term X<sub>{index[1]}</sub> ⋆ K<sub>{i},{index[1]}</sub> at [{r}, {c}] = "
                   f"<code>{number_text(total, dtype)}</code>{outside}")
    else:
        outlines.append(("Y", (i,), *pixel))
        more = f" (the {x.shape[0]} channels' sums: " + ", ".join(f"{products[j].sum():+.6g}" for j in channels) \
            + "; the first two are shown)" if x.shape[0] > 2 else ""
        summary = (f"Y[{i}, {r}, {c}] = Σ products (<code>{number_text(total, dtype)}</code>) + B "
                   f"(<code>{number_text(bias, dtype)}</code>) = <code>{number_text(total + bias, dtype)}</code>; "
                   f"the engine computed <code>{number_text(layer.output[0][i, r, c], dtype)}</code>{more}{outside}")
    return Explanation(f"<table cellspacing='8'><tr>{''.join(grids)}</tr></table>{summary}", outlines)


def kernel_gradient(layer, index: tuple, stride: int = 1, pads=NO_PADDING) -> Explanation:
    """∂E/∂K[i, j, a, b]: the region of X_j it sums against ∂E/∂Y_i (every s-th entry with stride s), and the sum."""
    i, j, a, b = index
    dy = layer.output_gradient[0]
    x = layer.input[0]
    rows, cols = kernel_gradient_region(a, b, dy.shape[1:], stride)
    total = float(np.sum(padded(x, pads)[j, rows, cols] * dy[i]))
    (top, _), (left, _) = pads
    at = (f"X<sub>{j}</sub>[{stride}r + {a - top}, {stride}c + {b - left}]" if stride > 1 or top or left
          else f"X<sub>{j}</sub>[{a}+r, {b}+c]")
    every = f", rows and columns {stride} apart" if stride > 1 else ""
    outside = "; X is 0 outside its edges (the padding)" if any(map(any, pads)) else ""
    shown = in_input(rows, cols, pads, x.shape[1:])
    text = (f"{D}K[{i}, {j}, {a}, {b}] = Σ<sub>r,c</sub> {at} · {D}Y<sub>{i}</sub>[r, c] "
            f"over the {shape_text(dy.shape[1:])} region X<sub>{j}</sub>[{shown[0].start}:{shown[0].stop}, "
            f"{shown[1].start}:{shown[1].stop}]{every}{outside} = <code>{number_text(total, dy.dtype)}</code>; "
            f"the engine: <code>{number_text(layer.grads['kernels'][index], dy.dtype)}</code>")
    return Explanation(text, [("X", (j,), *shown), ("dY", (i,), slice(0, dy.shape[1]), slice(0, dy.shape[2])),
                              ("dK", (i, j), slice(a, a + 1), slice(b, b + 1))])
