"""Central finite differences: the independent check of every analytic gradient."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .losses import Loss
from .network import Network


def numerical_gradient(f: Callable[[], float], array: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂f/∂array by central differences, perturbing `array` in place (and restoring it exactly)."""
    gradient = np.zeros(array.shape, dtype=np.float64)
    flat, flat_gradient = array.reshape(-1), gradient.reshape(-1)
    for index in range(flat.size):
        saved = flat[index]
        flat[index] = saved + h
        plus = f()
        flat[index] = saved - h
        minus = f()
        flat[index] = saved
        flat_gradient[index] = (plus - minus) / (2 * h)
    return gradient


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """‖a − n‖ / (‖a‖ + ‖n‖), and 0 when both vanish."""
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return float(np.linalg.norm(analytic - numeric) / scale) if scale > 0 else 0.0


def check_network_gradients(network: Network, x: np.ndarray, y_true: np.ndarray, loss: Loss,
                            h: float = 1e-6) -> dict[str, float]:
    """Relative error of every parameter gradient against central differences, in float64.

    The network must be float64: in float32 the differences are dominated by rounding.
    Leaves the network's weights exactly as they were.
    """
    if network.dtype != np.float64:
        raise ValueError("gradient checks need a float64 network (float32 rounding swamps the differences)")
    network.backward(loss.prime(y_true, network.forward(x)))
    analytic = {name: grad.copy() for name, grad in network.grads.items()}
    def error_value():
        return loss.value(y_true, network.forward(x))
    return {name: relative_error(analytic[name], numerical_gradient(error_value, param, h))
            for name, param in network.params.items()}
