"""Compiled loops (numba) for the parts of a convolution that numpy does in many short runs.

A 3×3 convolution of one 28×28 channel does 9 multiply-adds per output; as im2col + GEMM it first
writes every window out, reads it back, writes the products and then transposes them into
(N, D, Ho, Wo): passes over arrays of megabytes for a few million multiply-adds. `conv_forward`,
`conv_kernel_gradient` and `conv_input_gradient` sum one sample's planes in a scratch row that
stays in the first-level cache. The row is "wide" as in conv.py: output position p = r·W + q of a
plane of width W reads input p + i·W + j for kernel offset (i, j), so each offset is one long loop
over contiguous values (which vectorises) instead of Ho short ones; the positions q ≥ Wo are
computed and dropped (in the backward passes they hold a zero gradient). For wider layers the
GEMMs stay, and `unwide`, `wide_rows` and `add_windows` do the layout changes around them.

Every loop runs without the GIL (`nogil`), so the two halves of a batch (shards.py) run on two
cores. Compiled once per dtype and kept in numba's cache (`cache=True`: in the package's
__pycache__, or the user's cache folder where that is read-only), so only the first run on a
machine pays the compilation. Without numba, AVAILABLE is False and conv.py does the same in numpy.

Sums run in another order than the layer's own methods: equal to them within rounding
(tests/test_fast.py).
"""
from __future__ import annotations

import numpy as np

try:
    import numba
except ImportError:   # the plain numpy forms in conv.py and the layers' own methods are used instead
    numba = None

AVAILABLE = numba is not None


def _compiled(function=None, **options):
    if function is None:
        return lambda function: _compiled(function, **options)
    return numba.njit(cache=True, nogil=True, **options)(function) if AVAILABLE else function


@_compiled(fastmath={"reassoc"})
def _dot(a, b):
    """Σ_p a[p] · b[p] (len(a) = len(b) ≥ 1), summed in their dtype, in vector lanes (the one place
    the order of a sum is left to the compiler)."""
    total = a[0] * b[0]
    for p in range(1, len(a)):
        total += a[p] * b[p]
    return total


@_compiled
def _spread(gradient, s, width, rows):
    """rows[d, r·W + q] = gradient[s, d, r, q]; the positions q ≥ Wo of rows are left as they are (zero)."""
    for d in range(gradient.shape[1]):
        for r in range(gradient.shape[2]):
            for q in range(gradient.shape[3]):
                rows[d, r * width + q] = gradient[s, d, r, q]


@_compiled
def conv_forward(x, kernels, bias, out):
    """out[s, d] = bias[d] + Σ_c Σ_ij kernels[d, c, i, j] · x[s, c, i:i+Ho, j:j+Wo].
    x (N, C, H·W) flat planes, bias (D, Ho, Wo), out (N, D, Ho, Wo)."""
    n, channels = x.shape[0], x.shape[1]
    depth, k = kernels.shape[0], kernels.shape[2]
    ho, wo = out.shape[2], out.shape[3]
    width = wo + k - 1
    length = (ho - 1) * width + wo
    wide = np.empty(length, dtype=out.dtype)
    for s in range(n):
        for d in range(depth):
            wide[:] = 0
            for c in range(channels):
                source = x[s, c]
                for i in range(k):
                    for j in range(k):
                        weight, offset = kernels[d, c, i, j], i * width + j
                        window = source[offset:offset + length]
                        for p in range(length):
                            wide[p] += weight * window[p]
            for r in range(ho):
                for q in range(wo):
                    out[s, d, r, q] = wide[r * width + q] + bias[d, r, q]
    return out


@_compiled
def conv_kernel_gradient(x, gradient, out):
    """out[d, c, i, j] = Σ_s Σ_rq gradient[s, d, r, q] · x[s, c, r+i, q+j] (∂E/∂K over the batch).
    x (N, C, H·W) flat planes, gradient (N, D, Ho, Wo)."""
    n, channels = x.shape[0], x.shape[1]
    depth, ho, wo = gradient.shape[1], gradient.shape[2], gradient.shape[3]
    k = out.shape[2]
    width = wo + k - 1
    length = (ho - 1) * width + wo
    rows = np.zeros((depth, length), dtype=out.dtype)
    out[...] = 0
    for s in range(n):
        _spread(gradient, s, width, rows)
        for d in range(depth):
            for c in range(channels):
                for i in range(k):
                    for j in range(k):
                        offset = i * width + j
                        out[d, c, i, j] += _dot(rows[d], x[s, c, offset:offset + length])
    return out


@_compiled
def conv_input_gradient(gradient, kernels, out):
    """out[s, c] = Σ_d Σ_ij kernels[d, c, i, j] · gradient[s, d] placed at (i, j) (the full convolution).
    out (N, C, H·W) flat planes."""
    n, depth, ho, wo = gradient.shape
    channels, k = kernels.shape[1], kernels.shape[2]
    width = wo + k - 1
    length = (ho - 1) * width + wo
    rows = np.zeros((depth, length), dtype=out.dtype)
    for s in range(n):
        _spread(gradient, s, width, rows)
        for c in range(channels):
            plane = out[s, c]
            plane[:] = 0
            for d in range(depth):
                row = rows[d]
                for i in range(k):
                    for j in range(k):
                        weight, offset = kernels[d, c, i, j], i * width + j
                        window = plane[offset:offset + length]
                        for p in range(length):
                            window[p] += weight * row[p]
    return out


@_compiled
def unwide(products, bias, out):
    """out[s, d, r, q] = products[d, (s·Ho + r)·W + q] + bias[d, r, q]: a GEMM's wide output as (N, D, Ho, Wo)."""
    n, depth, ho, wo = out.shape
    width = products.shape[1] // (n * ho)
    for s in range(n):
        for d in range(depth):
            for r in range(ho):
                start = (s * ho + r) * width
                row, add, target = products[d, start:start + wo], bias[d, r], out[s, d, r]
                for q in range(wo):
                    target[q] = row[q] + add[q]
    return out


@_compiled
def wide_rows(gradient, width, rows):
    """rows[d, (s·Ho + r)·W + q] = gradient[s, d, r, q], zero for q ≥ Wo: ∂E/∂Y in the columns' order."""
    n, depth, ho, wo = gradient.shape
    for d in range(depth):
        for s in range(n):
            for r in range(ho):
                start = (s * ho + r) * width
                row, source = rows[d, start:start + width], gradient[s, d, r]
                for q in range(wo):
                    row[q] = source[q]
                for q in range(wo, width):
                    row[q] = 0
    return rows


@_compiled
def add_windows(blocks, k, out):
    """out[s, c] (flat H·W) = Σ_ij the block of offset (i, j) added at i·W + j: ∂E/∂X from Kᵀ·∂E/∂Y
    (blocks (C, k, k, N·Ho·W))."""
    n, channels, size = out.shape
    per_sample = blocks.shape[3] // n
    width = (size - per_sample) // (k - 1) if k > 1 else 0
    length = per_sample - (k - 1)
    for s in range(n):
        for c in range(channels):
            plane = out[s, c]
            plane[:] = 0
            for i in range(k):
                for j in range(k):
                    offset = i * width + j
                    window = plane[offset:offset + length]
                    block = blocks[c, i, j, s * per_sample:s * per_sample + length]
                    for p in range(length):
                        window[p] += block[p]
    return out
