"""Dense layer: Y = W X + B, batched as Y = X Wᵀ + B."""
from __future__ import annotations

import numpy as np

from .init import as_generator, initial_biases, initial_weights
from .layer import Layer


class Dense(Layer):
    """(N, input_size) → (N, output_size); params["weights"] (out, in), params["bias"] (out,)."""

    def __init__(self, input_size: int, output_size: int, init: str = "normal", rng=0, dtype="float64"):
        super().__init__(dtype)
        for name, value in (("input_size", input_size), ("output_size", output_size)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        self.input_size, self.output_size, self.init = int(input_size), int(output_size), init
        rng = as_generator(rng)
        weights = initial_weights(rng, (output_size, input_size), input_size, output_size, init)
        self._init_params(weights=weights, bias=initial_biases(rng, (output_size,), init))

    def output_shape(self, input_shape=None) -> tuple:
        return (self.output_size,)

    def config(self) -> dict:
        return {"input_size": self.input_size, "output_size": self.output_size, "init": self.init}

    def forward(self, input: np.ndarray) -> np.ndarray:
        self.input = input
        return input @ self.params["weights"].T + self.params["bias"]

    def backward(self, output_gradient: np.ndarray) -> np.ndarray:
        # ∂E/∂W = ∂E/∂Y · Xᵀ and ∂E/∂B = ∂E/∂Y, summed over the batch (rows of output_gradient and input).
        self.grads["weights"] = output_gradient.T @ self.input
        self.grads["bias"] = output_gradient.sum(axis=0)
        return output_gradient @ self.params["weights"]  # ∂E/∂X = Wᵀ · ∂E/∂Y
