"""Dense layer: Y = W X + B, batched as Y = X Wᵀ + B."""
from __future__ import annotations

import functools
from collections.abc import MutableMapping

import numpy as np
from scipy.linalg import blas
from threadpoolctl import ThreadpoolController

from .init import as_generator, initial_biases, initial_weights
from .layer import Layer


class FactoredGradients(MutableMapping):
    """A Dense layer's grads, where ∂E/∂W = ∂E/∂Yᵀ · X (summed over the batch) is kept as its two
    factors and written out (into a reused buffer) only when someone reads it. The optimizer
    applies it straight from the factors (BLAS ger for one sample, gemm for a batch: one pass over
    W instead of writing ∂E/∂W, reading it back and updating), and the training loop takes its
    norm from them. Reading it does not change how the optimizer applies it: the factors stay
    until the next backward."""

    def __init__(self):
        self._arrays: dict[str, np.ndarray] = {}
        self._factors: tuple[np.ndarray, np.ndarray] | None = None  # (∂E/∂Y (N, out), X (N, in))
        self._written = False

    def set_factors(self, output_gradient: np.ndarray, input: np.ndarray) -> None:
        self._factors, self._written = (output_gradient, input), False

    def factors(self, name: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(∂E/∂Y, X) with grads[name] = ∂E/∂Yᵀ · X, if that is how it is held now; else None."""
        return self._factors if name == "weights" else None

    def __getitem__(self, name: str) -> np.ndarray:
        if name == "weights" and self._factors is not None and not self._written:
            output_gradient, input = self._factors
            if len(input) == 1:  # an outer product: 3× faster than a BLAS GEMM with k = 1
                np.multiply(output_gradient.T, input, out=self._arrays["weights"])
            else:
                np.matmul(output_gradient.T, input, out=self._arrays["weights"])
            self._written = True
        return self._arrays[name]

    def __setitem__(self, name: str, value: np.ndarray) -> None:
        if name == "weights":
            self._factors = None
        self._arrays[name] = value

    def __delitem__(self, name: str) -> None:
        del self._arrays[name]

    def __iter__(self):
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)


def add_product(weights: np.ndarray, scale: float, output_gradient: np.ndarray, input: np.ndarray,
                scratch: np.ndarray) -> None:
    """weights += (scale · output_gradient)ᵀ · input, in place.

    One sample: BLAS ger, one pass over the weights (numpy has no rank-one update). A batch: the
    product is written into `scratch` (weights' shape) once and added once, instead of writing
    ∂E/∂W, reading it for the norm, scaling it into a buffer and subtracting that.
    """
    if len(input) == 1:
        _ger(weights.dtype)(scale, input[0], output_gradient[0], a=weights.T, overwrite_a=True)
        return
    np.matmul((output_gradient * scale).T, input, out=scratch)
    weights += scratch


@functools.cache
def _ger(dtype: np.dtype):
    _one_thread_for_scipys_blas()
    return blas.get_blas_funcs("ger", dtype=dtype)


def _one_thread_for_scipys_blas() -> None:
    """numpy's and scipy's wheels each bundle their own OpenBLAS with its own threads, which spin
    for a while after every call; on two cores a second pool takes a core from numpy's work
    (a batch-64 step took 3× longer with scipy's gemm). The engine calls scipy's BLAS only for the
    per-sample ger above, so that library, when it is not numpy's, runs on one thread."""
    controller = ThreadpoolController()
    numpy_paths = {lib.filepath for lib in controller.lib_controllers if "numpy" in lib.filepath}
    for lib in controller.lib_controllers:
        if lib.user_api == "blas" and "scipy" in lib.filepath and lib.filepath not in numpy_paths:
            lib.set_num_threads(1)


def product_norm(output_gradient: np.ndarray, input: np.ndarray) -> float:
    """‖∂E/∂Yᵀ · X‖_F from the factors: ‖u‖·‖v‖ for one sample, else √Σ (∂E/∂Y ∂E/∂Yᵀ) ∘ (X Xᵀ)."""
    if len(input) == 1:
        return float(np.sqrt(np.einsum("i,i->", output_gradient[0], output_gradient[0])
                             * np.einsum("i,i->", input[0], input[0])))
    gram = np.einsum("ab,ab->", output_gradient @ output_gradient.T, input @ input.T)
    return float(np.sqrt(max(gram, 0.0)))


class Dense(Layer):
    """(N, input_size) → (N, output_size); params["weights"] (out, in), params["bias"] (out,)."""

    def __init__(self, input_size: int, output_size: int, init: str = "normal", rng=0, dtype="float64"):
        super().__init__(dtype)
        for name, value in (("input_size", input_size), ("output_size", output_size)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        self.input_size, self.output_size, self.init = int(input_size), int(output_size), init
        self.grads = FactoredGradients()
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
        # ∂E/∂W = ∂E/∂Yᵀ · X and ∂E/∂B = ∂E/∂Y, summed over the batch; ∂E/∂W kept as its factors.
        self.grads.set_factors(output_gradient, self.input)
        self.grads["bias"] = output_gradient.sum(axis=0)
        return output_gradient @ self.params["weights"]  # ∂E/∂X = Wᵀ · ∂E/∂Y
