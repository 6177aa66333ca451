"""The reference: the blog post's own per-sample method (after The Independent Code's tutorial),
column vectors, scipy's correlate2d/convolve2d in loops over (kernel, channel), np.dot for the
dense layers, and each layer updating its own weights inside backward. The engine is tested to
compute what it computes (tests/test_reference.py); the speed benchmark (benchmarks/compare.py)
measures against it.
"""
from __future__ import annotations

import numpy as np
from scipy import signal


class Convolutional:
    def __init__(self, kernels: np.ndarray, biases: np.ndarray):
        self.kernels, self.biases = kernels.copy(), biases.copy()   # (d, C, k, k), (d, Ho, Wo)

    def forward(self, input):
        self.input = input
        self.output = np.copy(self.biases)
        for i in range(self.kernels.shape[0]):
            for j in range(self.kernels.shape[1]):
                self.output[i] += signal.correlate2d(self.input[j], self.kernels[i, j], "valid")
        return self.output

    def backward(self, output_gradient, learning_rate):
        kernels_gradient = np.zeros(self.kernels.shape)
        input_gradient = np.zeros(self.input.shape)
        for i in range(self.kernels.shape[0]):
            for j in range(self.kernels.shape[1]):
                kernels_gradient[i, j] = signal.correlate2d(self.input[j], output_gradient[i], "valid")
                input_gradient[j] += signal.convolve2d(output_gradient[i], self.kernels[i, j], "full")
        self.kernels -= learning_rate * kernels_gradient
        self.biases -= learning_rate * output_gradient
        return input_gradient


class Dense:
    def __init__(self, weights: np.ndarray, bias: np.ndarray):
        self.weights, self.bias = weights.copy(), bias.reshape(-1, 1).copy()

    def forward(self, input):
        self.input = input
        return np.dot(self.weights, self.input) + self.bias

    def backward(self, output_gradient, learning_rate):
        weights_gradient = np.dot(output_gradient, self.input.T)
        input_gradient = np.dot(self.weights.T, output_gradient)
        self.weights -= learning_rate * weights_gradient
        self.bias -= learning_rate * output_gradient
        return input_gradient


class Reshape:
    def __init__(self, input_shape, output_shape):
        self.input_shape, self.output_shape = input_shape, output_shape

    def forward(self, input):
        return np.reshape(input, self.output_shape)

    def backward(self, output_gradient, learning_rate):
        return np.reshape(output_gradient, self.input_shape)


class Sigmoid:
    def forward(self, input):
        self.input = input
        with np.errstate(over="ignore"):  # exp(−x) overflows to inf for x < −709: σ = 0, as it should
            return 1 / (1 + np.exp(-input))

    def backward(self, output_gradient, learning_rate):
        s = self.forward(self.input)
        return np.multiply(output_gradient, s * (1 - s))


def binary_cross_entropy(y_true, y_pred):
    return np.mean(-y_true * np.log(y_pred) - (1 - y_true) * np.log(1 - y_pred))


def binary_cross_entropy_prime(y_true, y_pred):
    return ((1 - y_true) / (1 - y_pred) - y_true / y_pred) / np.size(y_true)


def from_engine(network) -> list:
    """The original layers holding copies of an engine network's (the original architecture's) weights."""
    p = network.params
    return [Convolutional(p["0.kernels"], p["0.biases"]), Sigmoid(), Reshape((5, 26, 26), (5 * 26 * 26, 1)),
            Dense(p["3.weights"], p["3.bias"]), Sigmoid(), Dense(p["5.weights"], p["5.bias"]), Sigmoid()]


def train_step(layers: list, x: np.ndarray, y: np.ndarray, learning_rate: float) -> float:
    """One sample, x (1, 28, 28) and y (classes, 1), as the original training loop did it; returns the loss."""
    output = x
    for layer in layers:
        output = layer.forward(output)
    error = binary_cross_entropy(y, output)
    gradient = binary_cross_entropy_prime(y, output)
    for layer in reversed(layers):
        gradient = layer.backward(gradient, learning_rate)
    return float(error)
