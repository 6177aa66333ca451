"""Weight initialisation from a seeded ``numpy.random.Generator``.

The same seed gives bit-identical weights: every draw is made in float64 and then
cast, so float32 networks start from the rounded float64 weights of the same seed.
"""
from __future__ import annotations

import numpy as np

SCHEMES = ("normal", "he", "xavier")


def as_generator(rng) -> np.random.Generator:
    """Accept a Generator or an integer seed."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy Generator or an integer seed, not {type(rng).__name__}")


def initial_weights(rng, shape, fan_in: int, fan_out: int, scheme: str) -> np.ndarray:
    """'normal': standard normal, as the original; 'he': N(0, 2/fan_in); 'xavier': N(0, 2/(fan_in+fan_out))."""
    if scheme not in SCHEMES:
        raise ValueError(f"init must be one of {SCHEMES}, not {scheme!r}")
    weights = as_generator(rng).standard_normal(shape)
    if scheme == "he":
        weights *= np.sqrt(2.0 / fan_in)
    elif scheme == "xavier":
        weights *= np.sqrt(2.0 / (fan_in + fan_out))
    return weights


def initial_biases(rng, shape, scheme: str) -> np.ndarray:
    """The original draws biases from N(0, 1); the scaled schemes start them at zero."""
    if scheme == "normal":
        return as_generator(rng).standard_normal(shape)
    return np.zeros(shape)
