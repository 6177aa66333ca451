"""Convolutional layer: Y_i = B_i + Σ_j X_j ⋆ K_ij, with stride s and zero padding P.

Per sample, input X with C channels X_1..X_C, d kernels K_ij (k×k) linking output i with input
channel j, and ⋆ the cross-correlation over X padded with zeros (P before, P′ after), taken every s
positions:

    (X_j ⋆ K_ij)[r, c] = Σ_a,b X_j[s·r + a − P, s·c + b − P] · K_ij[a, b]
    Y_i = B_i + Σ_j X_j ⋆ K_ij                  Ho = ⌊(H + P + P′ − k)/s⌋ + 1, Wo likewise
    ∂E/∂K_ij[a, b] = Σ_r,c X_j[s·r + a − P, s·c + b − P] · ∂E/∂Y_i[r, c]    (X_j ⋆ ∂E/∂Y_i, stride s)
    ∂E/∂B_i = ∂E/∂Y_i                           (summed over positions with one bias per kernel)
    ∂E/∂X_j = Σ_i ∂E/∂Y_i ∗ K_ij                 (∗ = full convolution of ∂E/∂Y_i spread out by s:
              ∂E/∂X_j[p, q] = Σ_i Σ_{r,c,a,b: s·r + a − P = p, s·c + b − P = q} ∂E/∂Y_i[r, c] · K_ij[a, b])

With s = 1 and P = 0 (the original) these are DESIGN.md's valid cross-correlation and full
convolution. pad=N puts P = P′ = N zeros on every side; pad=same pads so that Ho = ⌈H/s⌉, an odd
zero after (P′ = P + 1), as TensorFlow and PyTorch do. The sums over windows are tensor contractions of the
windows' view (np.tensordot: one matrix product); the speed path's own lowering is cnn/fast/conv.py.
``reference_terms`` gives each X_j ⋆ K_ij alone: the step-through shows them term by term.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .init import as_generator, initial_biases, initial_weights
from .layer import Layer

BIAS_MODES = ("position", "kernel")
PADDINGS = ("valid", "same")        # or a whole number P of zeros on every side


def _check_positive_ints(name, values):
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in values):
        raise ValueError(f"{name} must be positive integers, not {values!r}")


def padding_sides(padding, size: int, kernel_size: int, stride: int) -> tuple[int, int]:
    """Zeros (before, after) along one axis of `size`: 'valid' none, 'same' enough for ⌈size/s⌉ outputs
    (the odd one after), a whole number P on both sides."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = max((math.ceil(size / stride) - 1) * stride + kernel_size - size, 0)
        return total // 2, total - total // 2
    return padding, padding


def output_size(size: int, kernel_size: int, stride: int, padding) -> int:
    """Ho = ⌊(H + P_before + P_after − k)/s⌋ + 1 (0 or less: the kernel does not fit)."""
    before, after = padding_sides(padding, size, kernel_size, stride)
    return (size + before + after - kernel_size) // stride + 1


def check_padding(padding, kernel_size: int) -> None:
    if padding in PADDINGS:
        return
    if not (isinstance(padding, (int, np.integer)) and not isinstance(padding, bool) and 0 <= padding < kernel_size):
        raise ValueError(f"padding must be 'valid', 'same' or a whole number from 0 to kernel_size − 1 "
                         f"({kernel_size - 1}), not {padding!r}")


class Convolutional(Layer):
    """(N, C, H, W) → (N, depth, Ho, Wo).

    params["kernels"]: (depth, C, k, k).
    params["biases"]: (depth, Ho, Wo) with bias_mode="position" (the original: one bias per output
    position) or (depth,) with bias_mode="kernel".
    """

    def __init__(self, input_shape, kernel_size: int, depth: int, bias_mode: str = "position",
                 init: str = "normal", rng=0, dtype="float64", *, stride: int = 1, padding="valid"):
        super().__init__(dtype)
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(f"input_shape must be (channels, height, width), not {input_shape!r}")
        _check_positive_ints("input_shape", input_shape)
        _check_positive_ints("kernel_size, depth and stride", (kernel_size, depth, stride))
        if bias_mode not in BIAS_MODES:
            raise ValueError(f"bias_mode must be one of {BIAS_MODES}, not {bias_mode!r}")
        check_padding(padding, kernel_size)
        channels, height, width = input_shape
        self.input_shape, self.kernel_size, self.depth = input_shape, int(kernel_size), int(depth)
        self.stride, self.padding = int(stride), padding if isinstance(padding, str) else int(padding)
        self.pads = (padding_sides(self.padding, height, self.kernel_size, self.stride),
                     padding_sides(self.padding, width, self.kernel_size, self.stride))
        self.out_hw = (output_size(height, self.kernel_size, self.stride, self.padding),
                       output_size(width, self.kernel_size, self.stride, self.padding))
        if min(self.out_hw) < 1:
            raise ValueError(f"kernel_size {kernel_size} is larger than the input {height}×{width}"
                             + (f" padded by {self.padding}" if self.padding != "valid" else ""))
        self.bias_mode, self.init = bias_mode, init
        rng = as_generator(rng)
        fan_in, fan_out = channels * kernel_size**2, depth * kernel_size**2
        kernels = initial_weights(rng, (depth, channels, kernel_size, kernel_size), fan_in, fan_out, init)
        biases = initial_biases(rng, (depth, *self.out_hw) if bias_mode == "position" else (depth,), init)
        self._init_params(kernels=kernels, biases=biases)

    def output_shape(self, input_shape=None) -> tuple:
        return (self.depth, *self.out_hw)

    def config(self) -> dict:
        """The constructor's arguments; stride and padding only when not the original's (1, valid)."""
        config = {"input_shape": list(self.input_shape), "kernel_size": self.kernel_size,
                  "depth": self.depth, "bias_mode": self.bias_mode, "init": self.init}
        if self.stride != 1:
            config["stride"] = self.stride
        if self.padding not in ("valid", 0):
            config["padding"] = self.padding
        return config

    # -- hooks the speed path (cnn/fast/conv.py) shares --------------------------------
    def padded(self, x: np.ndarray) -> np.ndarray:
        """(N, C, H, W) with the padding's zeros around each plane (x itself without padding)."""
        (top, bottom), (left, right) = self.pads
        if top == bottom == left == right == 0:
            return x
        return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))

    def unpadded(self, gradient: np.ndarray) -> np.ndarray:
        """∂E/∂X of the padded input → ∂E/∂X of the input (the padding's zeros are no input)."""
        (top, _), (left, _) = self.pads
        height, width = self.input_shape[1:]
        return np.ascontiguousarray(gradient[:, :, top:top + height, left:left + width])

    def bias_term(self) -> np.ndarray:
        """B as it is added to (N, depth, Ho, Wo)."""
        biases = self.params["biases"]
        return biases if self.bias_mode == "position" else biases[:, None, None]

    def bias_gradient(self, output_gradient: np.ndarray) -> np.ndarray:
        """∂E/∂B: ∂E/∂Y summed over the batch (and over positions, with one bias per kernel)."""
        return output_gradient.sum(axis=0) if self.bias_mode == "position" else output_gradient.sum(axis=(0, 2, 3))

    # -- the math ------------------------------------------------------------------------
    def windows(self, x: np.ndarray) -> np.ndarray:
        """(N, C, Ho, Wo, k, k): windows[n, j, r, c] is the k×k patch of the padded X_j under output (r, c)."""
        k, s = self.kernel_size, self.stride
        ho, wo = self.out_hw
        return sliding_window_view(self.padded(x), (k, k), axis=(2, 3))[:, :, :ho * s:s, :wo * s:s]

    def forward(self, input: np.ndarray) -> np.ndarray:
        """Y_i = B_i + Σ_j X_j ⋆ K_ij: each window times each kernel, summed over j, a and b."""
        self.input = input
        correlations = np.tensordot(self.windows(input), self.params["kernels"], axes=([1, 4, 5], [1, 2, 3]))
        return np.ascontiguousarray(correlations.transpose(0, 3, 1, 2)) + self.bias_term()

    def backward(self, output_gradient: np.ndarray) -> np.ndarray:
        """∂E/∂K and ∂E/∂B into grads; returns ∂E/∂X."""
        self.parameter_gradients(output_gradient)
        return self.input_gradient(output_gradient)

    def parameter_gradients(self, output_gradient: np.ndarray) -> None:
        """∂E/∂K_ij = X_j ⋆ ∂E/∂Y_i (every window weighed by the gradient of its output) and
        ∂E/∂B_i = ∂E/∂Y_i, summed over the batch, into grads."""
        self.grads["kernels"] = np.tensordot(output_gradient, self.windows(self.input), axes=([0, 2, 3], [0, 2, 3]))
        self.grads["biases"] = self.bias_gradient(output_gradient)

    def input_gradient(self, output_gradient: np.ndarray) -> np.ndarray:
        """∂E/∂X_j = Σ_i ∂E/∂Y_i ∗ K_ij, (N, C, H, W). The full convolution is taken as what it is, the
        adjoint of the windows: each window's share Σ_i ∂E/∂Y_i[r, c] · K_ij goes back to where the window
        was taken (k·k strided additions; rows the strided windows never reached get 0, the padding's
        are cut off)."""
        k, s = self.kernel_size, self.stride
        ho, wo = self.out_hw
        shares = np.tensordot(output_gradient, self.params["kernels"], axes=([1], [0]))   # (N, Ho, Wo, C, k, k)
        (top, bottom), (left, right) = self.pads
        n, (channels, height, width) = output_gradient.shape[0], self.input_shape
        gradient = np.zeros((n, channels, height + top + bottom, width + left + right), dtype=shares.dtype)
        for a in range(k):
            for b in range(k):
                gradient[:, :, a:a + ho * s:s, b:b + wo * s:s] += shares[:, :, :, :, a, b].transpose(0, 3, 1, 2)
        return self.unpadded(gradient)

    def reference_terms(self, sample: np.ndarray) -> np.ndarray:
        """X_j ⋆ K_ij for one sample (C, H, W), each term alone: shape (depth, C, Ho, Wo)."""
        windows = self.windows(sample[None])[0]                          # (C, Ho, Wo, k, k)
        return np.einsum("jrcab,ijab->ijrc", windows, self.params["kernels"])
