"""One of our parameters ↔ one Keras variable, and how the layout changes on the way.

    convolution kernels   ours (D, C, k, k)            Keras Conv2D (k, k, C, D)
    position biases       ours (D, H', W')             PositionBias (H', W', D)   (channels last)
                                                       or the bias branch's Dense bias: (H'·W'·D,), flattened
    dense weights         ours W (out, in): Y = W X    Keras Dense (in, out): Y = X K
    after a flatten       ours flatten (C, H, W)       Keras Flatten (H, W, C): the rows of K are permuted
Kernel and dense biases keep their layout. Both directions are pure permutations, so the same
functions carry gradients across too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Link:
    name: str                                     # our parameter's name, '3.weights'
    variable: object                              # the Keras variable
    to_ours: Callable[[np.ndarray], np.ndarray]
    to_keras: Callable[[np.ndarray], np.ndarray]


def same(name, variable) -> Link:
    return Link(name, variable, np.asarray, np.asarray)


def conv_kernels(name, variable) -> Link:
    return Link(name, variable, lambda k: np.transpose(k, (3, 2, 0, 1)), lambda k: np.transpose(k, (2, 3, 1, 0)))


def position_biases(name, variable) -> Link:
    return Link(name, variable, lambda b: np.transpose(b, (2, 0, 1)), lambda b: np.transpose(b, (1, 2, 0)))


def flat_position_biases(name, variable, shape: tuple) -> Link:
    """The bias branch's Dense bias (cnn.bridge.export): (H', W', D) flattened; `shape` is (H', W', D)."""
    h, w, d = shape
    return Link(name, variable, lambda b: np.transpose(np.reshape(b, (h, w, d)), (2, 0, 1)),
                lambda b: np.transpose(b, (1, 2, 0)).reshape(-1))


def dense_weights(name, variable, flattened: tuple | None) -> Link:
    """`flattened`: the (C, H, W) image a flatten made the dense layer's input from, or None."""
    if flattened is None:
        return Link(name, variable, np.transpose, np.transpose)
    c, h, w = flattened

    def to_keras(weights):    # W[o, (c, h, w)] → K[(h, w, c), o]
        return weights.reshape(-1, c, h, w).transpose(2, 3, 1, 0).reshape(h * w * c, -1)

    def to_ours(kernel):      # K[(h, w, c), o] → W[o, (c, h, w)]
        return kernel.reshape(h, w, c, -1).transpose(3, 2, 0, 1).reshape(-1, c * h * w)
    return Link(name, variable, to_ours, to_keras)


def keras_values(links: list[Link]) -> dict[str, np.ndarray]:
    """Our parameters from the Keras variables."""
    return {link.name: np.ascontiguousarray(link.to_ours(np.asarray(link.variable.numpy()))) for link in links}


def assign(links: list[Link], params: dict[str, np.ndarray]) -> None:
    """The Keras variables from our parameters."""
    for link in links:
        link.variable.assign(np.ascontiguousarray(link.to_keras(params[link.name])))


def ours(links: list[Link], keras_arrays) -> dict[str, np.ndarray]:
    """Arrays in the Keras variables' layout (gradients, velocities) in ours, by parameter name."""
    return {link.name: np.ascontiguousarray(link.to_ours(np.asarray(array)))
            for link, array in zip(links, keras_arrays, strict=True)}
