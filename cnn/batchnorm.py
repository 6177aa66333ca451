"""Batch normalization: each channel (after a convolution: over the batch and every position) or
each unit (after a dense layer: over the batch) normalized, then scaled and shifted:

    training:    μ = mean x,  σ² = mean (x − μ)²  over the M values of the channel in the batch
                 x̂ = (x − μ)/√(σ² + ε),   y = γ x̂ + β
                 μ_run ← (1 − m) μ_run + m μ,   σ²_run ← (1 − m) σ²_run + m σ² M/(M − 1)
    evaluation:  x̂ = (x − μ_run)/√(σ²_run + ε),   y = γ x̂ + β

    ∂E/∂γ = Σ ∂E/∂y · x̂,   ∂E/∂β = Σ ∂E/∂y
    ∂E/∂x = γ/√(σ² + ε) · (∂E/∂y − mean ∂E/∂y − x̂ · mean(∂E/∂y · x̂))      (training: μ, σ² depend on x)
    ∂E/∂x = γ/√(σ²_run + ε) · ∂E/∂y                                          (evaluation)

m = 0.1 and ε = 1e−5, as PyTorch's defaults; the running averages start at μ_run = 0, σ²_run = 1 and
move only in a real training step (``stepping``); they are buffers, saved with the weights. With a
single value per channel (M = 1) σ² M/(M − 1) is taken as σ² (= 0).
"""
from __future__ import annotations

import numpy as np

from .layer import Layer

MOMENTUM, EPS = 0.1, 1e-5


class BatchNorm(Layer):
    """(N, C, H, W) or (N, F) → the same shape; params["gamma"], params["beta"]: (C,) or (F,)."""

    def __init__(self, input_shape, dtype="float64"):
        super().__init__(dtype)
        self.input_shape = tuple(input_shape)
        if len(self.input_shape) not in (1, 3) or not all(isinstance(v, int) and v > 0 for v in self.input_shape):
            raise ValueError(f"batch normalization needs (channels, height, width) or (units,), not {self.input_shape}")
        channels = self.input_shape[0]
        self._init_params(gamma=np.ones(channels), beta=np.zeros(channels))
        self.buffers["running_mean"] = np.zeros(channels, dtype=self.dtype)
        self.buffers["running_var"] = np.ones(channels, dtype=self.dtype)

    def config(self) -> dict:
        return {"input_shape": list(self.input_shape)}

    @property
    def _axes(self) -> tuple:
        return (0, 2, 3) if len(self.input_shape) == 3 else (0,)

    def _per_channel(self, values: np.ndarray) -> np.ndarray:
        """(C,) → broadcastable against the input."""
        return values[:, None, None] if len(self.input_shape) == 3 else values

    def forward(self, input: np.ndarray) -> np.ndarray:
        self.input = input
        if self.training:
            mean, variance = input.mean(axis=self._axes), input.var(axis=self._axes)
            if self.stepping:
                self._move_running_averages(mean, variance, input.size // len(mean))
        else:
            mean, variance = self.buffers["running_mean"], self.buffers["running_var"]
        self.inverse_std = 1.0 / np.sqrt(variance + self.dtype.type(EPS))
        self.normalized = (input - self._per_channel(mean)) * self._per_channel(self.inverse_std)
        return self._per_channel(self.params["gamma"]) * self.normalized + self._per_channel(self.params["beta"])

    def _move_running_averages(self, mean: np.ndarray, variance: np.ndarray, count: int) -> None:
        unbiased = variance * (count / (count - 1)) if count > 1 else variance
        running_mean, running_var = self.buffers["running_mean"], self.buffers["running_var"]
        running_mean *= 1 - MOMENTUM
        running_mean += MOMENTUM * mean
        running_var *= 1 - MOMENTUM
        running_var += MOMENTUM * unbiased

    def backward(self, output_gradient: np.ndarray) -> np.ndarray:
        self.grads["gamma"] = (output_gradient * self.normalized).sum(axis=self._axes)
        self.grads["beta"] = output_gradient.sum(axis=self._axes)
        scale = self._per_channel(self.params["gamma"] * self.inverse_std)
        if not self.training:
            return scale * output_gradient
        count = output_gradient.size // len(self.grads["beta"])
        mean_gradient = self._per_channel(self.grads["beta"] / count)
        mean_projection = self._per_channel(self.grads["gamma"] / count)
        return scale * (output_gradient - mean_gradient - self.normalized * mean_projection)
