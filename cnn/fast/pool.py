"""MaxPool2D's forward and backward pass for training, as compiled loops (numba, kernels.py).

The layer's own methods take p·p strided views of the input: p·p passes of np.maximum forward, and
backward for each view a comparison with the output, two boolean masks and a product, a dozen passes
over the input's size with short strided runs. Here forward visits each window once and keeps where
its maximum was; backward writes each input value once: the output's gradient where the window's
maximum was, 0·gradient elsewhere. Bit for bit what the layer computes (tests/test_fast.py): the first
maximum in window order takes the gradient, a window holding NaN gives NaN and no gradient (as
np.maximum and the comparison give), and the zeros are the product's (−0 for a negative gradient).
Without numba the layer's own methods are used. Both loops run without the GIL, so the two halves of
a batch (shards.py) pool on two cores.
"""
from __future__ import annotations

import weakref

import numpy as np

from ..pooling import MaxPool2D
from .kernels import AVAILABLE, _compiled

_where: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # layer → (its output, where each maximum was)


def takes(layer) -> bool:
    return AVAILABLE and type(layer) is MaxPool2D


def forward(layer: MaxPool2D, input: np.ndarray) -> np.ndarray:
    """What layer.forward computes; keeps where each maximum was for backward."""
    layer.input = input
    n, (c, ho, wo) = len(input), layer.output_shape()
    output = np.empty((n, c, ho, wo), dtype=input.dtype)
    where = np.empty((n, c, ho, wo), dtype=np.int32)
    (_max_forward_2 if layer.pool_size == 2 else _max_forward)(np.ascontiguousarray(input), layer.pool_size,
                                                                output, where)
    layer.output, _where[layer] = output, (output, where)
    return output


def backward(layer: MaxPool2D, output_gradient: np.ndarray) -> np.ndarray:
    """What layer.backward computes: ∂E/∂X (by the layer itself after its own forward: the snapshot's)."""
    kept = _where.get(layer)
    if kept is None or kept[0] is not layer.output:
        return layer.backward(output_gradient)
    c, h, w = layer.input_shape
    p = layer.pool_size
    covered = h % p == 0 and w % p == 0     # else the ragged edge gets no gradient: zeros
    input_gradient = (np.empty if covered else np.zeros)(layer.input.shape, dtype=output_gradient.dtype)
    (_max_backward_2 if p == 2 else _max_backward)(np.ascontiguousarray(output_gradient), kept[1], p, input_gradient)
    return input_gradient


@_compiled
def _max_forward(x, p, out, where):
    """out = each p×p window's maximum (the first kept on ties: np.maximum keeps its first argument
    unless the second is greater), where = its offset a·p + b in the window; a NaN makes both NaN, −1.
    Row by row of the output, offset by offset, so that the inner loop runs along a row."""
    n, c, ho, wo = out.shape
    for s in range(n):
        for d in range(c):
            for r in range(ho):
                best, at = out[s, d, r], where[s, d, r]
                first = x[s, d, r * p]
                for q in range(wo):
                    value = first[q * p]
                    best[q] = value
                    at[q] = 0 if value == value else -1
                for a in range(p):
                    row = x[s, d, r * p + a]
                    for b in range(1 if a == 0 else 0, p):
                        k = a * p + b
                        for q in range(wo):
                            value = row[q * p + b]
                            if value > best[q]:          # (never past a NaN: a comparison with it is false)
                                best[q], at[q] = value, k
                            elif value != value:
                                best[q], at[q] = value, -1


@_compiled
def _max_forward_2(x, p, out, where):
    """_max_forward for 2×2 windows, each window's four values in locals (the common case, 3× faster)."""
    n, c, ho, wo = out.shape
    for s in range(n):
        for d in range(c):
            for r in range(ho):
                top, bottom, best, at = x[s, d, 2 * r], x[s, d, 2 * r + 1], out[s, d, r], where[s, d, r]
                for q in range(wo):
                    v0, v1, v2, v3 = top[2 * q], top[2 * q + 1], bottom[2 * q], bottom[2 * q + 1]
                    m, k = v0, 0
                    if v1 > m:
                        m, k = v1, 1
                    if v2 > m:
                        m, k = v2, 2
                    if v3 > m:
                        m, k = v3, 3
                    if v0 != v0 or v1 != v1 or v2 != v2 or v3 != v3:
                        m, k = np.nan, -1
                    best[q], at[q] = m, k


@_compiled
def _max_backward(gradient, where, p, input_gradient):
    """input_gradient of each window: gradient·1 at its maximum, gradient·0 elsewhere (and at all of a
    window whose maximum was NaN); a ragged edge is left as it is."""
    n, c, ho, wo = gradient.shape
    for s in range(n):
        for d in range(c):
            for r in range(ho):
                g, at = gradient[s, d, r], where[s, d, r]
                for a in range(p):
                    row = input_gradient[s, d, r * p + a]
                    for b in range(p):
                        k = a * p + b
                        for q in range(wo):
                            row[q * p + b] = g[q] * (1.0 if at[q] == k else 0.0)


@_compiled
def _max_backward_2(gradient, where, p, input_gradient):
    """_max_backward for 2×2 windows."""
    n, c, ho, wo = gradient.shape
    for s in range(n):
        for d in range(c):
            for r in range(ho):
                g, at = gradient[s, d, r], where[s, d, r]
                top, bottom = input_gradient[s, d, 2 * r], input_gradient[s, d, 2 * r + 1]
                for q in range(wo):
                    value, k = g[q], at[q]
                    top[2 * q] = value * (1.0 if k == 0 else 0.0)
                    top[2 * q + 1] = value * (1.0 if k == 1 else 0.0)
                    bottom[2 * q] = value * (1.0 if k == 2 else 0.0)
                    bottom[2 * q + 1] = value * (1.0 if k == 3 else 0.0)
