"""ReLU's forward and backward pass for training, as compiled loops (numba, kernels.py).

The layer's own forward makes a new boolean mask (x > 0) and a new np.maximum(x, 0), two passes and two
arrays; backward multiplies by the mask. Here forward is one pass that writes the output and keeps it,
and backward reads the output in place of the mask: max(x, 0) > 0 exactly where x > 0, and a NaN input
gives a NaN output, which is not > 0 either. The numbers are the layer's (tests/test_fast.py): forward
keeps x where x > 0 or x is NaN and writes 0 elsewhere, as np.maximum does; backward multiplies the
gradient by 1 or by 0, as the product with the mask does (so −0 for a negative gradient, NaN for an
infinite one). Without numba the layer's own methods are used. Both loops run without the GIL, so the two
halves of a batch (shards.py) take them on two cores.
"""
from __future__ import annotations

import weakref

import numpy as np

from ..activations import ReLU
from .kernels import AVAILABLE, _compiled

_outputs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # layer → its output, for backward


def takes(layer) -> bool:
    return AVAILABLE and type(layer) is ReLU


def forward(layer: ReLU, input: np.ndarray) -> np.ndarray:
    """What layer.forward returns; keeps the output for backward in place of the layer's mask."""
    input = np.ascontiguousarray(input)
    output = np.empty_like(input)
    _forward(input.reshape(-1), output.reshape(-1))
    layer.mask, _outputs[layer] = None, output   # None: the layer's own backward cannot use a stale mask
    return output


def backward(layer: ReLU, output_gradient: np.ndarray) -> np.ndarray:
    """What layer.backward returns (by the layer itself after its own forward: the snapshot's)."""
    output = _outputs.get(layer)
    if layer.mask is not None or output is None or output_gradient.shape != output.shape:
        return layer.backward(output_gradient)
    gradient = np.ascontiguousarray(output_gradient)
    result = np.empty_like(gradient)
    one, zero = gradient.dtype.type(1), gradient.dtype.type(0)   # of the gradient's dtype: no conversions
    _backward(output.reshape(-1), gradient.reshape(-1), result.reshape(-1), one, zero)
    return result


@_compiled
def _forward(x, out):
    for i in range(len(x)):
        value = x[i]
        out[i] = value if not value <= 0 else 0   # one comparison (a vector select): NaN is not ≤ 0, so kept


@_compiled
def _backward(output, gradient, out, one, zero):
    for i in range(len(output)):
        out[i] = gradient[i] * (one if output[i] > 0 else zero)
