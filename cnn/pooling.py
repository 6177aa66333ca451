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

    def _windows(self, x: np.ndarray) -> np.ndarray:
        """(N, C, Ho, Wo, p·p) view/copy of the windows."""
        p = self.pool_size
        n = x.shape[0]
        c, ho, wo = self.output_shape()
        cropped = x[:, :, :ho * p, :wo * p]
        return cropped.reshape(n, c, ho, p, wo, p).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, ho, wo, p * p)

    def forward(self, input: np.ndarray) -> np.ndarray:
        windows = self._windows(input)
        self.argmax = windows.argmax(axis=-1)[..., None]
        return np.take_along_axis(windows, self.argmax, axis=-1)[..., 0]

    def backward(self, output_gradient: np.ndarray) -> np.ndarray:
        p = self.pool_size
        n = output_gradient.shape[0]
        c, ho, wo = self.output_shape()
        routed = np.zeros((n, c, ho, wo, p * p), dtype=output_gradient.dtype)
        np.put_along_axis(routed, self.argmax, output_gradient[..., None], axis=-1)
        input_gradient = np.zeros((n, *self.input_shape), dtype=output_gradient.dtype)
        input_gradient[:, :, :ho * p, :wo * p] = \
            routed.reshape(n, c, ho, wo, p, p).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, ho * p, wo * p)
        return input_gradient
