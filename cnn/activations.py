"""Element-wise activations and softmax. None has parameters."""
from __future__ import annotations

import numpy as np
from scipy.special import expit

from .layer import Layer


class Sigmoid(Layer):
    """σ(x) = 1/(1+e^−x), σ' = σ(1−σ); scipy's expit never overflows, for any float."""

    def forward(self, input):
        self.output = expit(input)
        return self.output

    def backward(self, output_gradient):
        return output_gradient * self.output * (1 - self.output)


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
