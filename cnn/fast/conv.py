"""Convolutional's three products (stride 1, the input padded first) in the "wide" layout: each image
plane as one flat row, so that every k×k window offset (i, j) is one shifted slice of it.

An im2col copies windows with an inner run of Wo values (11 in the ten-digit
network's second convolution), and its ∂E/∂X adds k·k strided blocks with the same short runs;
numpy's loops pay per run. Here output position p = h·W + w of the flat plane reads input
p + i·W + j for offset (i, j), so a window row of the columns is one slice of Ho·W values, and
∂E/∂X adds k·k such slices. The positions w ≥ Wo of each output row ("wide" columns) are computed
and dropped: ∂E/∂Y is zero there, so they add nothing to ∂E/∂K or ∂E/∂X. Tested equal to the layer's
methods (tests/test_fast.py); the sums run in another order, so equal within rounding.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..convolution import Convolutional


def takes(layer) -> bool:
    """Whether this lowering computes the layer: a convolution of stride 1 (any padding)."""
    return type(layer) is Convolutional and layer.stride == 1


def forward(layer: Convolutional, input: np.ndarray) -> np.ndarray:
    """What layer.forward computes; keeps the input and its wide columns for backward."""
    layer.input = input
    padded = layer.padded(input)
    cols = wide_columns(padded, layer.kernel_size)
    layer._wide = (input, cols)
    n, d, (ho, wo), width = input.shape[0], layer.depth, layer.out_hw, padded.shape[3]
    products = layer.params["kernels"].reshape(d, -1) @ cols                 # (D, N·Ho·W)
    output = np.empty((n, d, ho, wo), dtype=np.result_type(input, products))
    np.add(products.reshape(d, n, ho, width)[:, :, :, :wo].transpose(1, 0, 2, 3), layer.bias_term(), out=output)
    return output


def backward(layer: Convolutional, output_gradient: np.ndarray, input_gradient: bool = True) -> np.ndarray | None:
    """∂E/∂K and ∂E/∂B into layer.grads, as layer.backward; returns ∂E/∂X, or None without input_gradient."""
    kept = getattr(layer, "_wide", None)
    padded = layer.padded(layer.input)
    cols = kept[1] if kept is not None and kept[0] is layer.input \
        else wide_columns(padded, layer.kernel_size)     # the last forward was the layer's own
    rows = wide_rows(output_gradient, padded.shape[3])
    layer.grads["kernels"] = (rows @ cols.T).reshape(layer.params["kernels"].shape)
    layer.grads["biases"] = layer.bias_gradient(output_gradient)
    if not input_gradient:
        return None
    return layer.unpadded(_input_gradient(layer, rows, padded.shape))


def wide_columns(x: np.ndarray, k: int) -> np.ndarray:
    """(N, C, H, W) → (C·k·k, N·Ho·W): row (c, i, j), column (n, p) holds plane (n, c) at p + i·W + j."""
    n, c, h, w = x.shape
    length = (h - k + 1) * w
    planes = np.zeros((n, c, h * w + k), dtype=x.dtype)    # k spare values: the last rows' wide columns read them
    planes[:, :, :h * w] = x.reshape(n, c, h * w)
    s = planes.strides
    view = as_strided(planes, shape=(c, k, k, n, length), strides=(s[1], w * s[2], s[2], s[0], s[2]), writeable=False)
    return view.reshape(c * k * k, n * length)    # a copy: the view is not contiguous


def wide_rows(output_gradient: np.ndarray, width: int) -> np.ndarray:
    """(N, D, Ho, Wo) → (D, N·Ho·W), the columns w ≥ Wo zero."""
    n, d, ho, wo = output_gradient.shape
    rows = np.zeros((d, n, ho, width), dtype=output_gradient.dtype)
    rows[:, :, :, :wo] = output_gradient.transpose(1, 0, 2, 3)
    return rows.reshape(d, n * ho * width)


def _input_gradient(layer: Convolutional, rows: np.ndarray, shape: tuple) -> np.ndarray:
    """∂E/∂X of the padded input (of `shape`): each offset's Kᵀ·∂E/∂Y added back as one shifted slice
    of the flat planes."""
    n, c, h, w = shape
    d, k = layer.depth, layer.kernel_size
    length = (h - k + 1) * w
    blocks = (layer.params["kernels"].reshape(d, -1).T @ rows).reshape(c, k, k, n, length)
    planes = np.zeros((c, n, h * w + k), dtype=blocks.dtype)
    for i in range(k):
        for j in range(k):
            start = i * w + j
            planes[:, :, start:start + length] += blocks[:, i, j]
    return np.ascontiguousarray(planes[:, :, :h * w].reshape(c, n, h, w).transpose(1, 0, 2, 3))

