"""Central finite differences: the independent check of every analytic gradient."""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from .losses import Loss
from .network import Network


def numerical_gradient(f: Callable[[], float], array: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂f/∂array by central differences, perturbing `array` in place (and restoring it exactly)."""
    flat = array.reshape(-1)
    return np.array([_central_difference(f, flat, index, h) for index in range(flat.size)]).reshape(array.shape)


def _central_difference(f: Callable[[], float], flat: np.ndarray, index: int, h: float) -> float:
    """(f(θ + h e_i) − f(θ − h e_i)) / 2h, restoring θ_i exactly."""
    saved = flat[index]
    flat[index] = saved + h
    plus = f()
    flat[index] = saved - h
    minus = f()
    flat[index] = saved
    return (plus - minus) / (2 * h)


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """‖a − n‖ / (‖a‖ + ‖n‖), and 0 when both vanish."""
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return float(np.linalg.norm(analytic - numeric) / scale) if scale > 0 else 0.0


AGREES, CLOSE = 1e-6, 1e-3   # relative errors: below AGREES the gradient agrees; below CLOSE, close
ROUNDING_MARGIN = 3.0        # a discrepancy up to this many times the measured rounding is rounding
UNRESOLVED = 0.5             # rounding this large (relative) means the differences cannot check the gradient


class GradientCheck(NamedTuple):
    relative_error: float
    checked: int        # entries compared
    total: int          # entries in the tensor
    rounding: float = 0.0  # ‖n(h) − n(2h)‖ / (‖a‖ + ‖n‖): the differences' own rounding; 0 when not measured

    @property
    def verdict(self) -> str:
        """'agrees', 'rounding' (the discrepancy is the differences' rounding), 'unresolved' (the gradients
        are smaller than that rounding: nothing can be concluded), 'close' or 'wrong'.

        A saturated network's gradients are ~1e−9: y(θ ± h) then differ by a few units in the last place
        of the sums behind them, and (y(θ+h) − y(θ−h))/2h is off by 1e−2 relative for a right gradient.
        That rounding is measured without the analytic gradient, by differencing again with 2h (its
        truncation, O(h²), is negligible): a wrong gradient differs from both by far more than they differ."""
        if self.relative_error < AGREES:
            return "agrees"
        if self.rounding > 0 and self.relative_error <= ROUNDING_MARGIN * self.rounding:
            return "rounding" if self.rounding < UNRESOLVED else "unresolved"
        return "close" if self.relative_error < CLOSE else "wrong"


def check_network_gradients(network: Network, x: np.ndarray, y_true: np.ndarray, loss: Loss,
                            h: float = 1e-6, max_entries: int | None = None, seed: int = 0,
                            cancelled: Callable[[], bool] | None = None,
                            through_outputs: bool = False, training: bool = False) -> dict[str, GradientCheck]:
    """Every parameter gradient against central differences, in float64, in training mode (dropout's
    next mask held fixed, batch statistics) or evaluation mode; no buffer changes.

    through_outputs=True differences the network's outputs y instead of E and applies the loss's own
    derivative: ∂E/∂θ ≈ ⟨∂E/∂y, (y(θ+h) − y(θ−h))/2h⟩. When the network is confidently right E is
    tiny (1e−8) but computed from outputs near 10 (logsumexp(z) − z_y), so its rounding (~1e−15),
    divided by 2h, is as large as its gradients: the plain check then reports relative errors of
    1e−6 to 1e−3 for gradients that are right. The outputs keep their full precision; ∂E/∂y is the
    loss's formula, checked by itself (tests/test_gradients.py).

    With max_entries, a tensor larger than that is checked on that many entries drawn with the
    seed (the result says how many). Perturbing layer L's parameters cannot change what enters
    layer L, so each difference re-runs only layers L onwards. Weights are left exactly as they were.
    `cancelled()` is asked before each entry (the studio runs this on a thread); when it says yes,
    InterruptedError is raised.
    """
    if network.dtype != np.float64:
        raise ValueError("gradient checks need a float64 network (float32 rounding swamps the differences)")
    with network.mode(training=training):
        return _check(network, x, y_true, loss, h, max_entries, seed, cancelled, through_outputs)


def _check(network, x, y_true, loss, h, max_entries, seed, cancelled, through_outputs) -> dict[str, GradientCheck]:
    output = network.forward(x)
    output_gradient = loss.prime(y_true, output)
    network.backward(output_gradient)
    # The smallest derivative the differences can see: E (or y) is only known to a unit in its last place, ε|E|,
    # so (E(θ+h) − E(θ−h))/2h cannot tell a gradient below about ε|E|/h from 0 (a bias before a batch
    # normalization in training mode has a gradient of exactly 0, computed as rounding of 1e−17).
    known_to = float(np.sum(np.abs(output_gradient)) * np.max(np.abs(output))) if through_outputs \
        else abs(loss.value(y_true, output))
    resolution = np.finfo(np.float64).eps * known_to / h
    inputs = list(network.inputs)
    rng = np.random.default_rng(seed)
    results = {}
    for index, layer in enumerate(network.layers):
        def error_value(index=index):
            output = inputs[index]
            for later in network.layers[index:]:
                output = later.forward(output)
            return output.copy() if through_outputs else loss.value(y_true, output)
        for name, param in layer.params.items():
            analytic = layer.grads[name].copy().reshape(-1)
            flat = param.reshape(-1)
            chosen = np.arange(flat.size) if max_entries is None or flat.size <= max_entries \
                else np.sort(rng.choice(flat.size, max_entries, replace=False))
            def differences(step, error_value=error_value, flat=flat, chosen=chosen):
                numeric = np.empty(chosen.size)
                for n, entry in enumerate(chosen):
                    if cancelled is not None and cancelled():
                        network.forward(x)
                        raise InterruptedError("gradient check cancelled")
                    difference = _central_difference(error_value, flat, entry, step)
                    numeric[n] = float(np.sum(output_gradient * difference)) if through_outputs else difference
                return numeric
            numeric = differences(h)
            error, rounding = relative_error(analytic[chosen], numeric), 0.0
            if error >= AGREES:  # is the discrepancy the differences' own rounding? (see GradientCheck.verdict)
                scale = np.linalg.norm(analytic[chosen]) + np.linalg.norm(numeric)
                rounding = float(np.linalg.norm(numeric - differences(2 * h)) / scale) if scale > 0 else 0.0
                if scale <= resolution * np.sqrt(chosen.size):   # both below what the differences resolve
                    rounding = max(rounding, 1.0)
            results[f"{index}.{name}"] = GradientCheck(error, int(chosen.size), int(flat.size), rounding)
    network.forward(x)  # leave the per-layer records as for the checked sample
    return results
