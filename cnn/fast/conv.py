"""Convolutional's three products for training (stride 1, the input padded first), in the "wide"
layout: each image plane as one flat row, so that every k×k window offset (i, j) is one shifted
slice of it.

Convolutional's own im2col copies windows with an inner run of Wo values (11 in the ten-digit
network's second convolution), and its ∂E/∂X adds k·k strided blocks with the same short runs;
numpy's loops pay per run. Here output position p = h·W + w of the flat plane reads input
p + i·W + j for offset (i, j), so a window row of the columns is one slice of Ho·W values, and
∂E/∂X adds k·k such slices. The positions w ≥ Wo of each output row ("wide" columns) are computed
and dropped: ∂E/∂Y is zero there, so they add nothing to ∂E/∂K or ∂E/∂X.

With numba (kernels.py), a layer with few values per window (C·k² < DIRECT_BELOW: a first
convolution of one channel) is summed directly, plane by plane, with no columns at all: a GEMM
with an inner dimension of 9 is bound by memory. Wider layers keep the GEMMs and take the layout
changes around them (columns → (N, D, Ho, Wo), ∂E/∂Y → rows, blocks → ∂E/∂X) as compiled loops.
Tested equal to the layer's methods (tests/test_fast.py); the sums run in another order, so equal
within rounding.
"""
from __future__ import annotations

import weakref

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..convolution import Convolutional
from . import kernels

DIRECT_BELOW = 32   # values per window (C·k²) under which the compiled loops sum without a GEMM
_columns: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # layer → (its input, its wide columns)
_biases: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()    # layer → (its biases, them as (D, Ho, Wo))


def takes(layer) -> bool:
    """Whether this lowering computes the layer: a convolution of stride 1 (any padding)."""
    return type(layer) is Convolutional and layer.stride == 1


def direct(layer: Convolutional) -> bool:
    return kernels.AVAILABLE and layer.params["kernels"][0].size < DIRECT_BELOW


def forward(layer: Convolutional, input: np.ndarray) -> np.ndarray:
    """What layer.forward computes; keeps the input (and its wide columns) for backward."""
    layer.input = input
    padded = layer.padded(input)
    weights, d, k = layer.params["kernels"], layer.depth, layer.kernel_size
    output = np.empty((input.shape[0], d, *layer.out_hw), dtype=np.result_type(input, weights))
    bias = _bias(layer, output.shape[1:])
    if direct(layer):
        if k == 3:
            return kernels.conv_forward_3x3(np.ascontiguousarray(padded, dtype=output.dtype), weights, bias, output)
        return kernels.conv_forward(_flat(padded, output.dtype), weights, bias, output)
    cols = wide_columns(padded, k)
    _columns[layer] = (input, cols)
    products = weights.reshape(d, -1) @ cols                 # (D, N·Ho·W)
    if kernels.AVAILABLE:
        return kernels.unwide(products, bias, output)
    ho, wo = layer.out_hw
    np.add(products.reshape(d, len(input), ho, padded.shape[3])[:, :, :, :wo].transpose(1, 0, 2, 3), bias, out=output)
    return output


def _bias(layer: Convolutional, shape: tuple) -> np.ndarray:
    """layer.bias_term() broadcast to (D, Ho, Wo), a view of the biases (which steps update in place), made
    again only when they are another array: np.broadcast_to holds the GIL the other half waits for."""
    biases = layer.params["biases"]
    kept = _biases.get(layer)
    if kept is None or kept[0] is not biases:
        kept = _biases[layer] = (biases, np.broadcast_to(layer.bias_term(), shape))
    return kept[1]


def backward(layer: Convolutional, output_gradient: np.ndarray, input_gradient: bool = True) -> np.ndarray | None:
    """∂E/∂K and ∂E/∂B into layer.grads, as layer.backward; returns ∂E/∂X, or None without input_gradient."""
    weights = layer.params["kernels"]
    x = layer.padded(layer.input)
    d, c, k, _ = weights.shape
    gradient = np.ascontiguousarray(output_gradient, dtype=np.result_type(x, weights))
    layer.grads["biases"] = layer.bias_gradient(output_gradient)
    if direct(layer):
        flat = _flat(x, gradient.dtype)
        if k == 3 and gradient.dtype == np.float64:   # in float32 the nine sums' lanes spill: the row form is faster
            layer.grads["kernels"] = kernels.conv_kernel_gradient_3x3(flat.reshape(x.shape), gradient,
                                                                       np.zeros_like(weights))
        else:
            layer.grads["kernels"] = kernels.conv_kernel_gradient(flat, gradient, np.empty_like(weights))
        if not input_gradient:
            return None
        return layer.unpadded(kernels.conv_input_gradient(gradient, weights, np.empty_like(flat)).reshape(x.shape))
    kept = _columns.get(layer)
    cols = kept[1] if kept is not None and kept[0] is layer.input else wide_columns(x, k)   # else: its own forward
    rows = wide_rows(gradient, x.shape[3])
    # (D, C·k·k) as the transpose of cols · rowsᵀ: OpenBLAS is up to 1.6× faster with the long sum this way round.
    # Contiguous: the halves add their gradients in place (shards.py), which a strided view would not take.
    layer.grads["kernels"] = np.ascontiguousarray((cols @ rows.T).T).reshape(weights.shape)
    if not input_gradient:
        return None
    blocks = (weights.reshape(d, -1).T @ rows).reshape(c, k, k, -1)
    return layer.unpadded(_add_windows(blocks, x.shape))


def wide_columns(x: np.ndarray, k: int) -> np.ndarray:
    """(N, C, H, W) → (C·k·k, N·Ho·W): row (c, i, j), column (n, p) holds plane (n, c) at p + i·W + j
    (0 past the plane's end)."""
    n, c, h, w = x.shape
    length = (h - k + 1) * w
    if kernels.AVAILABLE:   # compiled, without the GIL: numpy's copy of the strided view below holds it
        return _wide_columns(_flat(x, x.dtype), k, w, np.empty((c * k * k, n * length), dtype=x.dtype))
    planes = np.zeros((n, c, h * w + k), dtype=x.dtype)    # k spare values: the last rows' wide columns read them
    planes[:, :, :h * w] = x.reshape(n, c, h * w)
    s = planes.strides
    view = as_strided(planes, shape=(c, k, k, n, length), strides=(s[1], w * s[2], s[2], s[0], s[2]), writeable=False)
    return view.reshape(c * k * k, n * length)    # a copy: the view is not contiguous


def wide_rows(output_gradient: np.ndarray, width: int) -> np.ndarray:
    """(N, D, Ho, Wo) → (D, N·Ho·W), the columns w ≥ Wo zero."""
    n, d, ho, wo = output_gradient.shape
    if kernels.AVAILABLE:
        return kernels.wide_rows(output_gradient, width, np.empty((d, n * ho * width), dtype=output_gradient.dtype))
    rows = np.zeros((d, n, ho, width), dtype=output_gradient.dtype)
    rows[:, :, :, :wo] = output_gradient.transpose(1, 0, 2, 3)
    return rows.reshape(d, n * ho * width)


def _add_windows(blocks: np.ndarray, shape: tuple) -> np.ndarray:
    """∂E/∂X (N, C, H, W): each offset's block of Kᵀ·∂E/∂Y (C, k, k, N·Ho·W) added back as one
    shifted slice of the flat planes."""
    n, c, h, w = shape
    k = blocks.shape[1]
    if kernels.AVAILABLE:
        return kernels.add_windows(blocks, k, np.empty((n, c, h * w), dtype=blocks.dtype)).reshape(shape)
    length = (h - k + 1) * w
    blocks = blocks.reshape(c, k, k, n, length)
    planes = np.zeros((c, n, h * w + k), dtype=blocks.dtype)
    for i in range(k):
        for j in range(k):
            start = i * w + j
            planes[:, :, start:start + length] += blocks[:, i, j]
    return np.ascontiguousarray(planes[:, :, :h * w].reshape(c, n, h, w).transpose(1, 0, 2, 3))


def _flat(x: np.ndarray, dtype) -> np.ndarray:
    """(N, C, H, W) → (N, C, H·W), contiguous: the planes as the compiled loops read them."""
    return np.ascontiguousarray(x, dtype=dtype).reshape(*x.shape[:2], -1)


@kernels._compiled
def _wide_columns(planes, k, width, out):
    """wide_columns from the flat planes (N, C, H·W) into `out` (C·k·k, N·L), L = Ho·W."""
    n, channels, size = planes.shape
    length = out.shape[1] // n
    for c in range(channels):
        for i in range(k):
            for j in range(k):
                row, offset = out[(c * k + i) * k + j], i * width + j
                inside = min(length, size - offset)   # the last k − 1 wide columns read past the plane: 0
                for s in range(n):
                    source, target = planes[s, c, offset:offset + inside], row[s * length:(s + 1) * length]
                    for p in range(inside):
                        target[p] = source[p]
                    for p in range(inside, length):
                        target[p] = 0
    return out
