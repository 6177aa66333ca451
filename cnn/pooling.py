"""Max pooling over non-overlapping p×p windows (stride p; a ragged edge is dropped, as in PyTorch)."""
from __future__ import annotations

import numpy as np

from .layer import Layer


class MaxPool2D(Layer):
    """(N, C, H, W) → (N, C, H//p, W//p). The gradient goes to the first maximum of each window."""

    def __init__(self, input_shape, pool_size: int = 2, dtype="float64"):
        super().__init__(dtype)
        self.input_shape, self.pool_size = tuple(input_shape), int(pool_size)
        if len(self.input_shape) != 3 or self.pool_size < 1 or self.pool_size > min(self.input_shape[1:]):
            raise ValueError(f"cannot pool {self.input_shape} with pool_size {pool_size}")

    def output_shape(self, input_shape=None) -> tuple:
        c, h, w = self.input_shape
        return (c, h // self.pool_size, w // self.pool_size)

    def config(self) -> dict:
        return {"input_shape": list(self.input_shape), "pool_size": self.pool_size}

    def _offsets(self) -> list[tuple]:
        """Indices of the p·p strided views x[:, :, i::p, j::p] of the cropped input, in window order."""
        p = self.pool_size
        c, ho, wo = self.output_shape()
        return [(slice(None), slice(None), slice(i, ho * p, p), slice(j, wo * p, p))
                for i in range(p) for j in range(p)]

    def forward(self, input: np.ndarray) -> np.ndarray:
        self.input = input
        views = [input[index] for index in self._offsets()]
        self.output = views[0].copy()
        for view in views[1:]:
            np.maximum(self.output, view, out=self.output)
        return self.output

    def backward(self, output_gradient: np.ndarray) -> np.ndarray:
        c, h, w = self.input_shape
        covered = h % self.pool_size == 0 and w % self.pool_size == 0  # else a ragged edge gets no gradient
        input_gradient = (np.empty if covered else np.zeros)(self.input.shape, dtype=output_gradient.dtype)
        taken = None  # windows whose maximum an earlier view already held: the first maximum takes the gradient
        for index in self._offsets():
            hit = self.input[index] == self.output
            if taken is None:
                taken = hit.copy()
            else:
                hit &= ~taken
                taken |= hit
            np.multiply(output_gradient, hit, out=input_gradient[index])
        return input_gradient
