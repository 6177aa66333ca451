"""Dropout: in training each value is kept with probability 1 − p and scaled by 1/(1 − p) (inverted
dropout), so evaluation, which keeps every value as it is, needs no rescaling:

    training:    M ~ Bernoulli(1 − p) per value,   Y = M ⊙ X / (1 − p),   ∂E/∂X = M ⊙ ∂E/∂Y / (1 − p)
    evaluation:  Y = X,                                                  ∂E/∂X = ∂E/∂Y

The mask of training step t is drawn from a generator seeded with (seed, stream, t): the buffer
"generator" holds (seed, stream, t) and is saved with the weights, so a run continued from a
checkpoint draws the masks the uninterrupted run drew. Only a real step (``stepping``) moves t on; a
training-mode pass outside a step (the step-through, a gradient check) uses the mask step t would.
"""
from __future__ import annotations

import numpy as np

from .layer import Layer


class Dropout(Layer):
    """(N, *shape) → the same shape; p: the probability of dropping a value, 0 ≤ p < 1."""

    def __init__(self, p: float = 0.5, seed: int = 0, stream: int = 0, dtype="float64"):
        super().__init__(dtype)
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
            raise ValueError(f"the dropout probability p must be in [0, 1), not {p!r}")
        self.p = float(p)
        self.buffers["generator"] = np.array([seed, stream, 0], dtype=np.int64)   # (seed, stream, steps drawn)
        self.mask = None

    def config(self) -> dict:
        return {"p": self.p}

    def draw_mask(self, shape: tuple) -> np.ndarray:
        """M/(1 − p) of the next step: 1/(1 − p) where a value is kept, 0 where it is dropped."""
        generator = np.random.default_rng([int(v) for v in self.buffers["generator"]])
        kept = generator.random(shape) >= self.p
        return kept.astype(self.dtype) / self.dtype.type(1.0 - self.p)

    def forward(self, input: np.ndarray) -> np.ndarray:
        if not self.training:
            self.mask = None
            return input
        self.mask = self.draw_mask(input.shape)
        if self.stepping:
            self.buffers["generator"][2] += 1
        return input * self.mask

    def backward(self, output_gradient: np.ndarray) -> np.ndarray:
        return output_gradient if self.mask is None else output_gradient * self.mask
