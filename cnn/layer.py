"""The layer contract every part of the engine (and the studio) relies on.

Every array carries a leading batch axis N; one sample is a batch of one.
``forward`` keeps what ``backward`` needs; ``backward`` returns ∂E/∂X and stores
the parameter gradients in ``grads`` (summed over the batch) without touching
``params``: the optimizer owns the update.

Two flags, set for the whole network by ``Network.mode``: ``training`` (dropout drops, batch
normalization uses the batch's statistics; off: evaluation) and ``stepping`` (the forward pass is
a real training step: running averages move and dropout draws its next mask; off, a training-mode
pass shows what the next step would do and changes nothing). ``buffers`` hold what a layer keeps
that is not trained (running statistics, dropout's generator position); they are saved with the weights.
"""
from __future__ import annotations

import numpy as np

DTYPES = {"float64": np.float64, "float32": np.float32}


def resolve_dtype(dtype) -> np.dtype:
    """Accept 'float64', 'float32', np.float64 or np.float32; reject anything else."""
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if name not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, not {dtype!r}")
    return np.dtype(DTYPES[name])


class Layer:
    """Base class: a layer without parameters that passes shapes through."""

    def __init__(self, dtype="float64"):
        self.dtype = resolve_dtype(dtype)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = False
        self.stepping = False

    def forward(self, input: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, output_gradient: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def output_shape(self, input_shape: tuple) -> tuple:
        """Per-sample output shape for a per-sample input shape."""
        return tuple(input_shape)

    def config(self) -> dict:
        """Constructor arguments as plain JSON values (weights excluded)."""
        return {}

    def astype(self, dtype) -> None:
        """Convert parameters (and their gradients) to ``dtype`` in place of the old arrays."""
        self.dtype = resolve_dtype(dtype)
        for name in self.params:
            self.params[name] = self.params[name].astype(self.dtype)
            self.grads[name] = np.zeros_like(self.params[name])
        for name, value in self.buffers.items():
            if value.dtype.kind == "f":
                self.buffers[name] = value.astype(self.dtype)

    def _init_params(self, **arrays: np.ndarray) -> None:
        for name, value in arrays.items():
            self.params[name] = np.ascontiguousarray(value, dtype=self.dtype)
            self.grads[name] = np.zeros_like(self.params[name])

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"
