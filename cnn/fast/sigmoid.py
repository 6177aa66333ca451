"""The sigmoid without scipy's expit: e^−x of the input clipped at −L, where e^L is below the dtype's
largest value (so exp never overflows), in place; the few inputs below −L (σ < 3e−308 in float64,
6e−39 in float32) still go through expit. Within a few ulp of expit. With numba the clip, the
negation and the test for such inputs are one pass, and 1/(1 + e) another; exp stays numpy's
(vectorised), so the numbers are the same either way."""
from __future__ import annotations

import numpy as np
from scipy.special import expit

from . import kernels

LIMITS = {np.dtype(np.float64): 708.0, np.dtype(np.float32): 88.0}


def forward(layer, input: np.ndarray) -> np.ndarray:
    """What Sigmoid.forward computes (and keeps: layer.output), faster."""
    limit = LIMITS[input.dtype]
    if kernels.AVAILABLE:
        input = np.ascontiguousarray(input)
        output = np.empty_like(input)
        below = kernels.negate_clipped(input.reshape(-1), limit, output.reshape(-1))
        np.exp(output, out=output)          # ≤ e^L: never overflows
        kernels.reciprocal_of_one_plus(output.reshape(-1))
    else:
        output = np.maximum(input, -limit)
        np.negative(output, out=output)
        np.exp(output, out=output)
        output += 1
        np.reciprocal(output, out=output)
        below = True
    if below:
        tail = input < -limit
        if tail.any():
            output[tail] = expit(input[tail])
    layer.output = output
    return output


def backward(layer, output_gradient: np.ndarray) -> np.ndarray:
    """∂E/∂X = ∂E/∂Y ⊙ σ(1−σ), in one buffer."""
    output = layer.output
    if kernels.AVAILABLE and output_gradient.shape == output.shape:
        gradient = np.ascontiguousarray(output_gradient, dtype=output.dtype)
        result = np.empty_like(output)
        kernels.sigmoid_gradient(output.reshape(-1), gradient.reshape(-1), result.reshape(-1))
        return result
    result = 1 - output
    result *= output
    result *= output_gradient
    return result
