"""Dense layer: Y = W X + B, batched as Y = X Wᵀ + B."""
from __future__ import annotations

from collections.abc import MutableMapping

import numpy as np

from .init import as_generator, initial_biases, initial_weights
from .layer import Layer


class OuterProductGradients(MutableMapping):
    """A Dense layer's grads. After one sample ∂E/∂W = ∂E/∂Y · Xᵀ is an outer product: it is kept
    as its two vectors and written out (into a reused buffer) only when someone reads it. The
    optimizer applies it as a rank-one update (one pass over W, instead of writing ∂E/∂W, reading
    it back and updating) and the training loop takes its norm as ‖∂E/∂Y‖·‖X‖. Reading it does not
    change how the optimizer applies it: the vectors stay until the next backward."""

    def __init__(self):
        self._arrays: dict[str, np.ndarray] = {}
        self._factors: tuple[np.ndarray, np.ndarray] | None = None  # (∂E/∂Y (out,), X (in,))
        self._written = False

    def set_factors(self, output_gradient: np.ndarray, input: np.ndarray) -> None:
        self._factors, self._written = (output_gradient, input), False

    def factors(self, name: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(u, v) with grads[name] = outer(u, v), if that is how it is held now; else None."""
        return self._factors if name == "weights" else None

    def weights_buffer(self) -> np.ndarray:
        """The ∂E/∂W array, to be written whole by the caller: the vectors are dropped."""
        self._factors = None
        return self._arrays["weights"]

    def __getitem__(self, name: str) -> np.ndarray:
        if name == "weights" and self._factors is not None and not self._written:
            u, v = self._factors
            np.multiply(u[:, None], v[None, :], out=self._arrays["weights"])
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


def outer_factors(grads, name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(u, v) when grads[name] is held as the outer product u vᵀ (a Dense layer after one sample),
    else None: any layer's grads may be asked."""
    held_as = getattr(grads, "factors", None)
    return held_as(name) if held_as is not None else None


class Dense(Layer):
    """(N, input_size) → (N, output_size); params["weights"] (out, in), params["bias"] (out,)."""

    def __init__(self, input_size: int, output_size: int, init: str = "normal", rng=0, dtype="float64"):
        super().__init__(dtype)
        for name, value in (("input_size", input_size), ("output_size", output_size)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        self.input_size, self.output_size, self.init = int(input_size), int(output_size), init
        self.grads = OuterProductGradients()
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
        # ∂E/∂W = ∂E/∂Y · Xᵀ and ∂E/∂B = ∂E/∂Y, summed over the batch.
        if len(output_gradient) == 1:
            self.grads.set_factors(output_gradient[0], self.input[0])
        else:  # into the same buffer every step (a fresh 2.7 MB array per step costs page faults)
            np.matmul(output_gradient.T, self.input, out=self.grads.weights_buffer())
        self.grads["bias"] = output_gradient.sum(axis=0)
        return output_gradient @ self.params["weights"]  # ∂E/∂X = Wᵀ · ∂E/∂Y
