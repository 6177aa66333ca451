"""Element-wise activations and softmax. None has parameters."""
from __future__ import annotations

import numpy as np
from scipy.special import expit

from .layer import Layer


class Sigmoid(Layer):
    """σ(x) = 1/(1+e^−x), σ' = σ(1−σ), with no overflow for any float: e^−x is taken of
    max(x, −L) with e^L below the dtype's largest value (L = 708 in float64, 88 in float32), and
    the few inputs below −L (σ < 3e−308, or 6e−39) go through scipy's expit."""

    LIMITS = {np.dtype(np.float64): 708.0, np.dtype(np.float32): 88.0}

    def forward(self, input):
        limit = self.LIMITS[input.dtype]
        output = np.maximum(input, -limit)
        np.negative(output, out=output)
        np.exp(output, out=output)         # ≤ e^L: never overflows
        output += 1
        np.reciprocal(output, out=output)  # twice as fast as expit, within a few ulp of it
        tail = input < -limit
        if tail.any():
            output[tail] = expit(input[tail])
        self.output = output
        return output

    def backward(self, output_gradient):
        result = 1 - self.output
        result *= self.output
        result *= output_gradient
        return result


class Tanh(Layer):
    def forward(self, input):
        self.output = np.tanh(input)
        return self.output

    def backward(self, output_gradient):
        return output_gradient * (1 - self.output**2)


class ReLU(Layer):
    def forward(self, input):
        self.mask = input > 0
        return np.maximum(input, 0)

    def backward(self, output_gradient):
        return output_gradient * self.mask


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis; shifted by the max, so exp never overflows."""
    with np.errstate(over="ignore"):  # z − max can only overflow to −inf, and exp(−inf) = 0 is right
        e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Softmax(Layer):
    """(N, n) → (N, n); ∂E/∂z = s ⊙ (g − ⟨g, s⟩)."""

    def forward(self, input):
        self.output = softmax(input)
        return self.output

    def backward(self, output_gradient):
        s = self.output
        return s * (output_gradient - (output_gradient * s).sum(axis=-1, keepdims=True))
