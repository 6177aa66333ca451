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
    # error_model="numpy": a float division by zero gives inf or NaN, as numpy's; the check for it that numba
    # makes otherwise stops a loop with a division from being vectorised (1/(1 + e) ran 4× slower)
    return numba.njit(cache=True, nogil=True, error_model="numpy", **options)(function) if AVAILABLE else function


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
def conv_forward_3x3(x, kernels, bias, out):
    """conv_forward for 3×3 kernels, x (N, C, H, W): the nine products of an output row in one pass
    over it (nine loads and one store per output instead of a load and a store per product)."""
    n, channels = x.shape[0], x.shape[1]
    depth = kernels.shape[0]
    ho, wo = out.shape[2], out.shape[3]
    for s in range(n):
        for d in range(depth):
            for r in range(ho):
                row, add = out[s, d, r], bias[d, r]
                for q in range(wo):
                    row[q] = add[q]
                for c in range(channels):
                    w = kernels[d, c]
                    a, b, e = x[s, c, r], x[s, c, r + 1], x[s, c, r + 2]
                    w00, w01, w02, w10, w11, w12 = w[0, 0], w[0, 1], w[0, 2], w[1, 0], w[1, 1], w[1, 2]
                    w20, w21, w22 = w[2, 0], w[2, 1], w[2, 2]
                    for q in range(wo):
                        row[q] += (w00 * a[q] + w01 * a[q + 1] + w02 * a[q + 2] + w10 * b[q] + w11 * b[q + 1]
                                   + w12 * b[q + 2] + w20 * e[q] + w21 * e[q + 1] + w22 * e[q + 2])
    return out


@_compiled(fastmath={"reassoc"})
def conv_kernel_gradient_3x3(x, gradient, out):
    """conv_kernel_gradient for 3×3 kernels, x (N, C, H, W), `out` zero on entry: the nine sums of a
    (d, c) pair in one pass over ∂E/∂Y (nine running sums in vector lanes)."""
    n, channels = x.shape[0], x.shape[1]
    depth, ho, wo = gradient.shape[1], gradient.shape[2], gradient.shape[3]
    for d in range(depth):
        for c in range(channels):
            o = out[d, c]    # zero on entry: the sums start from it (and so in its dtype)
            t00, t01, t02, t10, t11, t12, t20, t21, t22 = o[0, 0], o[0, 1], o[0, 2], o[1, 0], o[1, 1], o[1, 2], \
                o[2, 0], o[2, 1], o[2, 2]
            for s in range(n):
                for r in range(ho):
                    g, a, b, e = gradient[s, d, r], x[s, c, r], x[s, c, r + 1], x[s, c, r + 2]
                    for q in range(wo):
                        v = g[q]
                        t00 += v * a[q]
                        t01 += v * a[q + 1]
                        t02 += v * a[q + 2]
                        t10 += v * b[q]
                        t11 += v * b[q + 1]
                        t12 += v * b[q + 2]
                        t20 += v * e[q]
                        t21 += v * e[q + 1]
                        t22 += v * e[q + 2]
            o[0, 0], o[0, 1], o[0, 2], o[1, 0], o[1, 1], o[1, 2] = t00, t01, t02, t10, t11, t12
            o[2, 0], o[2, 1], o[2, 2] = t20, t21, t22
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


@_compiled(fastmath={"reassoc"})
def add_and_square(a, b):
    """a += b, and Σ a² after it, in one pass (1-D arrays)."""
    total = a[0] * 0
    for i in range(len(a)):
        value = a[i] + b[i]
        a[i] = value
        total += value * value
    return total


@_compiled
def add_scaled(y, scale, x):
    """y += scale · x (1-D arrays): BLAS axpy's sum, without the GIL."""
    for i in range(len(y)):
        y[i] += scale * x[i]


@_compiled
def negate_clipped(x, limit, out):
    """out = −max(x, −limit) (NaN stays NaN), 1-D; whether any x was below −limit."""
    below = False
    for i in range(len(x)):
        value = x[i]
        below |= value < -limit   # not `or`: its branch stops the loop from being vectorised
        out[i] = -(value if not value < -limit else -limit)
    return below


@_compiled
def reciprocal_of_one_plus(values):
    """values = 1 / (1 + values) in place, 1-D."""
    for i in range(len(values)):
        values[i] = 1 / (1 + values[i])


@_compiled
def sigmoid_gradient(output, gradient, out):
    """out = (1 − σ) · σ · ∂E/∂Y, 1-D, in that order."""
    for i in range(len(out)):
        out[i] = (1 - output[i]) * output[i] * gradient[i]


@_compiled
def momentum_step(param, velocity, gradient, momentum, rate):
    """v = μ v − η g, then θ += v, in one pass (1-D arrays), each operation rounded as numpy's in SGD.step."""
    for i in range(len(param)):
        value = velocity[i] * momentum - rate * gradient[i]
        velocity[i] = value
        param[i] += value
