"""Pooling over windows: max and average over non-overlapping p×p windows (stride p; a ragged edge is
dropped, as in PyTorch), and the average of each whole channel."""
from __future__ import annotations

import numpy as np

from .layer import Layer


class WindowPool(Layer):
    """What max and average pooling share: non-overlapping p×p windows of (C, H, W) inputs."""

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


class MaxPool2D(WindowPool):
    """(N, C, H, W) → (N, C, H//p, W//p). The gradient goes to the first maximum of each window."""

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


class AvgPool2D(WindowPool):
    """(N, C, H, W) → (N, C, H//p, W//p), the mean of each p×p window (stride p; a ragged edge is dropped):
        Y[r, c] = (1/p²) Σ_a,b X[p·r + a, p·c + b]      ∂E/∂X[p·r + a, p·c + b] = ∂E/∂Y[r, c] / p²."""

    def forward(self, input: np.ndarray) -> np.ndarray:
        self.input = input
        p = self.pool_size
        n, (c, ho, wo) = input.shape[0], self.output_shape()
        windows = input[:, :, :ho * p, :wo * p].reshape(n, c, ho, p, wo, p)
        return windows.mean(axis=(3, 5))

    def backward(self, output_gradient: np.ndarray) -> np.ndarray:
        p = self.pool_size
        share = np.repeat(np.repeat(output_gradient / (p * p), p, axis=2), p, axis=3)
        input_gradient = np.zeros(self.input.shape, dtype=share.dtype)
        input_gradient[:, :, :share.shape[2], :share.shape[3]] = share
        return input_gradient


class GlobalAvgPool(Layer):
    """(N, C, H, W) → (N, C), the mean of each channel's plane:
        Y_j = (1/HW) Σ_r,c X_j[r, c]      ∂E/∂X_j[r, c] = ∂E/∂Y_j / HW."""

    def __init__(self, input_shape, dtype="float64"):
        super().__init__(dtype)
        self.input_shape = tuple(input_shape)
        if len(self.input_shape) != 3:
            raise ValueError(f"global average pooling needs (channels, height, width), not {self.input_shape}")

    def output_shape(self, input_shape=None) -> tuple:
        return (self.input_shape[0],)

    def config(self) -> dict:
        return {"input_shape": list(self.input_shape)}

    def forward(self, input: np.ndarray) -> np.ndarray:
        self.input = input
        return input.mean(axis=(2, 3))

    def backward(self, output_gradient: np.ndarray) -> np.ndarray:
        _, h, w = self.input_shape
        share = output_gradient / (h * w)
        return np.ascontiguousarray(np.broadcast_to(share[:, :, None, None], self.input.shape))
