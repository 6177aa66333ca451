"""Convolutional layer: Y_i = B_i + Σ_j X_j ⋆ K_ij (valid cross-correlation).

The default path is vectorised over the whole batch with im2col + one GEMM per pass;
``reference_forward``/``reference_backward`` keep the original scipy loops over
(kernel, channel), which the step-through shows term by term.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import signal

from .init import as_generator, initial_biases, initial_weights
from .layer import Layer

BIAS_MODES = ("position", "kernel")


def _check_positive_ints(name, values):
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in values):
        raise ValueError(f"{name} must be positive integers, not {values!r}")


class Convolutional(Layer):
    """(N, C, H, W) → (N, depth, H−k+1, W−k+1).

    params["kernels"]: (depth, C, k, k).
    params["biases"]: (depth, H−k+1, W−k+1) with bias_mode="position" (the original: one bias
    per output position) or (depth,) with bias_mode="kernel".
    """

    def __init__(self, input_shape, kernel_size: int, depth: int, bias_mode: str = "position",
                 init: str = "normal", rng=0, dtype="float64"):
        super().__init__(dtype)
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(f"input_shape must be (channels, height, width), not {input_shape!r}")
        _check_positive_ints("input_shape", input_shape)
        _check_positive_ints("kernel_size and depth", (kernel_size, depth))
        if bias_mode not in BIAS_MODES:
            raise ValueError(f"bias_mode must be one of {BIAS_MODES}, not {bias_mode!r}")
        channels, height, width = input_shape
        if kernel_size > min(height, width):
            raise ValueError(f"kernel_size {kernel_size} is larger than the input {height}×{width}")
        self.input_shape, self.kernel_size, self.depth = input_shape, int(kernel_size), int(depth)
        self.bias_mode, self.init = bias_mode, init
        self.out_hw = (height - kernel_size + 1, width - kernel_size + 1)
        rng = as_generator(rng)
        fan_in, fan_out = channels * kernel_size**2, depth * kernel_size**2
        kernels = initial_weights(rng, (depth, channels, kernel_size, kernel_size), fan_in, fan_out, init)
        biases = initial_biases(rng, (depth, *self.out_hw) if bias_mode == "position" else (depth,), init)
        self._init_params(kernels=kernels, biases=biases)

    def output_shape(self, input_shape=None) -> tuple:
        return (self.depth, *self.out_hw)

    def config(self) -> dict:
        return {"input_shape": list(self.input_shape), "kernel_size": self.kernel_size,
                "depth": self.depth, "bias_mode": self.bias_mode, "init": self.init}

    def _bias_term(self) -> np.ndarray:
        biases = self.params["biases"]
        return biases if self.bias_mode == "position" else biases[:, None, None]

    # -- vectorised path -------------------------------------------------------------
    def forward(self, input: np.ndarray) -> np.ndarray:
        self.input = input
        n, d = input.shape[0], self.depth
        # cols[(c, i, j), (n, h, w)] = X[n, c, h+i, w+j]: every window of the batch as a column, so
        # one GEMM (not N small ones) gives every output, and backward reuses cols as they are.
        self._cols = _im2col(input, self.kernel_size)
        products = self.params["kernels"].reshape(d, -1) @ self._cols           # (D, N·H'·W')
        output = np.empty((n, d, *self.out_hw), dtype=np.result_type(input, products))
        np.add(products.reshape(d, n, *self.out_hw).transpose(1, 0, 2, 3), self._bias_term(), out=output)
        return output

    def backward(self, output_gradient: np.ndarray) -> np.ndarray:
        """∂E/∂K and ∂E/∂B into grads; returns ∂E/∂X."""
        self.parameter_gradients(output_gradient)
        return self.input_gradient(output_gradient)

    def parameter_gradients(self, output_gradient: np.ndarray) -> None:
        """∂E/∂K_ij = X_j ⋆ ∂E/∂Y_i and ∂E/∂B_i = ∂E/∂Y_i, summed over the batch, into grads."""
        # one GEMM over every position of every sample: ∂E/∂Y as rows (D, N·H'·W') against the columns of X
        self.grads["kernels"] = (_rows(output_gradient) @ self._cols.T).reshape(self.params["kernels"].shape)
        self.grads["biases"] = self._bias_gradient(output_gradient)

    def input_gradient(self, output_gradient: np.ndarray) -> np.ndarray:
        """∂E/∂X_j = Σ_i ∂E/∂Y_i ∗ K_ij (full convolution), (N, C, H, W)."""
        # Computed as its adjoint: each window's gradient Kᵀ·∂E/∂Y is added back where the window
        # came from (k·k strided additions).
        n, d, k = output_gradient.shape[0], self.depth, self.kernel_size
        channels, ho, wo = self.input_shape[0], *self.out_hw
        dcols = (self.params["kernels"].reshape(d, -1).T @ _rows(output_gradient)).reshape(channels, k, k, n, ho, wo)
        result = np.zeros((channels, n, *self.input_shape[1:]), dtype=dcols.dtype)
        for i in range(k):
            for j in range(k):
                result[:, :, i:i + ho, j:j + wo] += dcols[:, i, j]
        return np.ascontiguousarray(result.transpose(1, 0, 2, 3))

    def _bias_gradient(self, output_gradient: np.ndarray) -> np.ndarray:
        return output_gradient.sum(axis=0) if self.bias_mode == "position" else output_gradient.sum(axis=(0, 2, 3))

    # -- reference path: the original scipy loops -------------------------------------
    def reference_terms(self, sample: np.ndarray) -> np.ndarray:
        """X_j ⋆ K_ij for one sample (C, H, W): shape (depth, C, H−k+1, W−k+1)."""
        kernels = self.params["kernels"]
        return np.array([[signal.correlate2d(sample[j], kernels[i, j], "valid")
                          for j in range(sample.shape[0])] for i in range(self.depth)])

    def reference_forward(self, input: np.ndarray) -> np.ndarray:
        self.input = input
        return np.array([self.reference_terms(x).sum(axis=1) for x in input]) + self._bias_term()

    def reference_backward(self, output_gradient: np.ndarray) -> np.ndarray:
        kernels = self.params["kernels"]
        kernels_gradient = np.zeros_like(kernels)
        input_gradient = np.zeros(self.input.shape, dtype=np.result_type(self.input, kernels))
        for n, (x, dy) in enumerate(zip(self.input, output_gradient, strict=True)):
            for i in range(self.depth):
                for j in range(self.input_shape[0]):
                    kernels_gradient[i, j] += signal.correlate2d(x[j], dy[i], "valid")
                    input_gradient[n, j] += signal.convolve2d(dy[i], kernels[i, j], "full")
        self.grads["kernels"] = kernels_gradient
        self.grads["biases"] = self._bias_gradient(output_gradient)
        return input_gradient


def _rows(output_gradient: np.ndarray) -> np.ndarray:
    """(N, D, H', W') → (D, N·H'·W'): ∂E/∂Y in the column order of _im2col."""
    return output_gradient.transpose(1, 0, 2, 3).reshape(output_gradient.shape[1], -1)


def _im2col(x: np.ndarray, k: int) -> np.ndarray:
    """(N, C, H, W) → (C·k·k, N·Ho·Wo): the batch's k×k windows as columns, rows ordered (c, i, j),
    columns (n, h, w)."""
    windows = sliding_window_view(x, (k, k), axis=(2, 3))  # (N, C, Ho, Wo, k, k)
    n, c, ho, wo = windows.shape[:4]
    return windows.transpose(1, 4, 5, 0, 2, 3).reshape(c * k * k, n * ho * wo)
