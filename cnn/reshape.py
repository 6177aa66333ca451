"""Reshape between per-sample shapes, keeping the batch axis."""
from __future__ import annotations

import numpy as np

from .layer import Layer


class Reshape(Layer):
    """(N, *input_shape) → (N, *output_shape), e.g. Reshape((5, 26, 26), (3380,))."""

    def __init__(self, input_shape, output_shape, dtype="float64"):
        super().__init__(dtype)
        self.input_shape, self.out_shape = tuple(input_shape), tuple(output_shape)
        if int(np.prod(self.input_shape)) != int(np.prod(self.out_shape)):
            raise ValueError(f"cannot reshape {self.input_shape} ({int(np.prod(self.input_shape))} values) "
                             f"into {self.out_shape} ({int(np.prod(self.out_shape))} values)")

    def output_shape(self, input_shape=None) -> tuple:
        return self.out_shape

    def config(self) -> dict:
        return {"input_shape": list(self.input_shape), "output_shape": list(self.out_shape)}

    def forward(self, input: np.ndarray) -> np.ndarray:
        return input.reshape(input.shape[0], *self.out_shape)

    def backward(self, output_gradient: np.ndarray) -> np.ndarray:
        return output_gradient.reshape(output_gradient.shape[0], *self.input_shape)
