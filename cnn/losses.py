"""Losses: E(y_true, y_pred) and ∂E/∂y_pred for a batch (N, n), and each sample's own E (N,).

Every loss averages over what DESIGN.md says it averages over, so parameter gradients
summed over the batch are the gradient of the mean loss, and the mean of the per-sample
losses is the batch's E.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from .activations import softmax

EPSILON = 1e-15


def _clipped64(y_pred, high=1 - EPSILON) -> np.ndarray:
    # In float64 always: in float32, 1 − 1e−15 rounds to 1 and log(1 − y) would be −inf.
    return np.clip(np.asarray(y_pred, dtype=np.float64), EPSILON, high)


def binary_cross_entropy(y_true, y_pred) -> float:
    """E = −(1/n) Σ [y* log y + (1−y*) log(1−y)], mean over all elements, y clipped to [ε, 1−ε]."""
    y = _clipped64(y_pred)
    return float(-np.mean(y_true * np.log(y) + (1 - y_true) * np.log(1 - y)))


def binary_cross_entropy_prime(y_true, y_pred) -> np.ndarray:
    """∂E/∂y = (1/n) ((1−y*)/(1−y) − y*/y), y clipped to [ε, 1−ε]; returned in y_pred's dtype."""
    y = _clipped64(y_pred)
    return (((1 - y_true) / (1 - y) - y_true / y) / np.size(y_true)).astype(np.result_type(y_pred))


def binary_cross_entropy_per_sample(y_true, y_pred) -> np.ndarray:
    """(N,) each sample's −(1/n) Σ [y* log y + (1−y*) log(1−y)]."""
    y = _clipped64(y_pred)
    return -np.mean(y_true * np.log(y) + (1 - y_true) * np.log(1 - y), axis=1)


def mse(y_true, y_pred) -> float:
    """E = (1/n) Σ (y − y*)², mean over all elements."""
    return float(np.mean((y_pred - y_true) ** 2))


def mse_prime(y_true, y_pred) -> np.ndarray:
    return 2 * (y_pred - y_true) / np.size(y_true)


def mse_per_sample(y_true, y_pred) -> np.ndarray:
    return np.mean((np.asarray(y_pred, dtype=np.float64) - y_true) ** 2, axis=1)


def categorical_cross_entropy(y_true, y_pred) -> float:
    """E = −(1/N) Σ_samples Σ_classes y* log y, y clipped to [ε, 1]: for probabilities (after Softmax)."""
    y = _clipped64(y_pred, 1.0)
    return float(-np.sum(y_true * np.log(y)) / y_true.shape[0])


def categorical_cross_entropy_prime(y_true, y_pred) -> np.ndarray:
    y = _clipped64(y_pred, 1.0)
    return (-y_true / y / y_true.shape[0]).astype(np.result_type(y_pred))


def categorical_cross_entropy_per_sample(y_true, y_pred) -> np.ndarray:
    return -np.sum(y_true * np.log(_clipped64(y_pred, 1.0)), axis=1)


def softmax_cross_entropy(y_true, logits) -> float:
    """Softmax and categorical cross-entropy fused, on logits: E = (1/N) Σ (logsumexp(z) − ⟨y*, z⟩)."""
    return float(np.mean(softmax_cross_entropy_per_sample(y_true, logits)))


def softmax_cross_entropy_per_sample(y_true, logits) -> np.ndarray:
    """(N,) logsumexp(z) − ⟨y*, z⟩ in float64, as log1p of the other classes' exp(z_j − z_max) plus z_max.

    log(Σ exp(z − z_max)) would add 1 (the largest class) to the rest before the log: a confidently
    right sample (rest ≈ 1e−9; 1e−6 in float32) then has E = 0 exactly while ∂E/∂z is not 0.
    """
    z = np.asarray(logits, dtype=np.float64)
    rows, top = np.arange(z.shape[0]), z.argmax(axis=-1)
    shift = z[rows, top]
    others = np.exp(z - shift[:, None])
    others[rows, top] = 0.0
    # shift − ⟨y*, z⟩ first: exactly 0 when the label is the top class, and the tiny log1p survives the sum
    return np.log1p(others.sum(axis=-1)) + (shift - (np.asarray(y_true, dtype=np.float64) * z).sum(axis=-1))


def softmax_cross_entropy_prime(y_true, logits) -> np.ndarray:
    """∂E/∂z = (softmax(z) − y*)/N: stable for any logits, no division by a probability."""
    return (softmax(logits) - y_true) / y_true.shape[0]


class Loss(NamedTuple):
    name: str
    value: Callable
    prime: Callable
    on_logits: bool  # predictions are logits: probabilities are softmax(output)
    per_sample: Callable   # (y_true, y_pred) → (N,) each sample's E alone, in float64; their mean is `value`

    def probabilities(self, outputs: np.ndarray) -> np.ndarray:
        """What the outputs (N, K) say of each class: softmax of logits; other outputs as they are
        (a sigmoid's each in [0, 1], not summing to 1)."""
        return softmax(outputs) if self.on_logits else outputs


LOSSES = {loss.name: loss for loss in (
    Loss("binary_cross_entropy", binary_cross_entropy, binary_cross_entropy_prime, False,
         binary_cross_entropy_per_sample),
    Loss("mse", mse, mse_prime, False, mse_per_sample),
    Loss("categorical_cross_entropy", categorical_cross_entropy, categorical_cross_entropy_prime, False,
         categorical_cross_entropy_per_sample),
    Loss("softmax_cross_entropy", softmax_cross_entropy, softmax_cross_entropy_prime, True,
         softmax_cross_entropy_per_sample),
)}


def get_loss(name: str) -> Loss:
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None
