"""Activations and losses stay finite and silent (no warnings) for inputs up to ±1e4 and beyond."""
import warnings

import numpy as np
import pytest

from cnn import ReLU, Sigmoid, Softmax, Tanh
from cnn.losses import LOSSES, binary_cross_entropy, binary_cross_entropy_prime

EXTREMES = np.array([[-1e308, -1e4, -745.0, -50.0, 0.0, 50.0, 745.0, 1e4, 1e308]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layer_type", [Sigmoid, Tanh, ReLU, Softmax])
def test_activations_are_finite_and_silent(layer_type, dtype):
    x = np.clip(EXTREMES, np.finfo(dtype).min, np.finfo(dtype).max).astype(dtype)
    layer = layer_type(dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = layer.forward(x)
        g = layer.backward(np.ones_like(y))
    assert np.isfinite(y).all() and np.isfinite(g).all()


def test_sigmoid_values_at_the_extremes():
    y = Sigmoid().forward(EXTREMES)
    assert y[0, 0] == 0.0 and y[0, -1] == 1.0 and y[0, 4] == 0.5


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_losses_are_finite_and_silent_at_the_extremes(name, dtype):
    loss = LOSSES[name]
    y_true = np.eye(3, dtype=dtype)[[0, 1, 2, 0]]
    if loss.on_logits:
        predictions = [np.full((4, 3), v, dtype) for v in (-1e4, 1e4)] + [np.array([[1e4, -1e4, 0]] * 4, dtype)]
    else:
        predictions = [np.zeros((4, 3), dtype), np.ones((4, 3), dtype), np.full((4, 3), 0.5, dtype)]
        if name == "mse":
            predictions.append(np.full((4, 3), 1e4, dtype))
    for y_pred in predictions:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            value, gradient = loss.value(y_true, y_pred), loss.prime(y_true, y_pred)
        assert np.isfinite(value) and np.isfinite(gradient).all()
        assert gradient.dtype == dtype


def test_binary_cross_entropy_matches_the_definition():
    y_true = np.array([[1.0, 0.0]])
    y_pred = np.array([[0.8, 0.3]])
    expected = -(np.log(0.8) + np.log(0.7)) / 2
    assert binary_cross_entropy(y_true, y_pred) == pytest.approx(expected, rel=1e-15)
    np.testing.assert_allclose(binary_cross_entropy_prime(y_true, y_pred), [[-1 / 0.8 / 2, 1 / 0.7 / 2]], rtol=1e-15)


def test_binary_cross_entropy_clips_at_epsilon():
    assert binary_cross_entropy(np.array([[1.0]]), np.array([[0.0]])) == pytest.approx(-np.log(1e-15))
