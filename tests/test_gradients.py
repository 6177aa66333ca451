"""Every layer's and loss's gradients against central finite differences (float64)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnn import Convolutional, Dense, MaxPool2D, ReLU, Reshape, Sigmoid, Softmax, Tanh
from cnn.gradcheck import check_network_gradients, numerical_gradient, relative_error
from cnn.losses import LOSSES
from cnn.presets import digits_network, original_network

TOLERANCE = 1e-6


def check_layer(layer, x, rng):
    """E = Σ G ⊙ layer(x) for a random G: compares ∂E/∂x and every ∂E/∂θ with differences."""
    upstream = rng.standard_normal(layer.forward(x).shape)
    def energy():
        return float(np.sum(upstream * layer.forward(x)))
    layer.forward(x)
    input_gradient = layer.backward(upstream)
    analytic = {name: grad.copy() for name, grad in layer.grads.items()}
    assert relative_error(input_gradient, numerical_gradient(energy, x)) < TOLERANCE
    for name, param in layer.params.items():
        assert analytic[name].shape == param.shape
        assert relative_error(analytic[name], numerical_gradient(energy, param)) < TOLERANCE, name


shapes = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(3, 7), st.integers(3, 7),
                   st.integers(1, 3), st.integers(1, 3), st.sampled_from(["position", "kernel"]),
                   st.integers(0, 2**32 - 1))


@settings(max_examples=25, deadline=None)
@given(shapes)
def test_convolutional_gradients(case):
    n, c, h, w, k, d, bias, seed = case
    rng = np.random.default_rng(seed)
    layer = Convolutional((c, h, w), k, d, bias_mode=bias, rng=rng)
    check_layer(layer, rng.standard_normal((n, c, h, w)), rng)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_dense_gradients(n, inputs, outputs, seed):
    rng = np.random.default_rng(seed)
    check_layer(Dense(inputs, outputs, rng=rng), rng.standard_normal((n, inputs)), rng)


@pytest.mark.parametrize("layer_type", [Sigmoid, Tanh, ReLU, Softmax])
@pytest.mark.parametrize("n", [1, 3])
def test_activation_gradients(layer_type, n, rng):
    check_layer(layer_type(), rng.standard_normal((n, 7)) * 3, rng)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(2, 7), st.integers(2, 7), st.integers(1, 2),
       st.integers(0, 2**32 - 1))
def test_maxpool_gradients(n, c, h, w, pool, seed):
    rng = np.random.default_rng(seed)
    check_layer(MaxPool2D((c, h, w), pool), rng.standard_normal((n, c, h, w)), rng)


def test_reshape_gradient(rng):
    check_layer(Reshape((2, 3, 4), (24,)), rng.standard_normal((2, 2, 3, 4)), rng)


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("n", [1, 4])
def test_loss_gradients(name, n, rng):
    loss = LOSSES[name]
    y_true = np.eye(3)[rng.integers(0, 3, n)]
    y_pred = rng.standard_normal((n, 3)) if loss.on_logits else rng.uniform(0.05, 0.95, (n, 3))
    numeric = numerical_gradient(lambda: loss.value(y_true, y_pred), y_pred)
    assert relative_error(loss.prime(y_true, y_pred), numeric) < TOLERANCE


@pytest.mark.parametrize("build, loss_name, classes", [
    pytest.param(original_network, "binary_cross_entropy", 2, marks=pytest.mark.slow),  # 340k finite differences
    (digits_network, "softmax_cross_entropy", 10),
])
def test_whole_network_gradients(build, loss_name, classes, small_dataset, rng):
    network = build(classes, seed=3, dtype="float64")
    # MNIST's blank background would put ReLU inputs exactly on the kink at 0 (zero biases),
    # where a central difference measures 1/2; a little noise keeps every input off it.
    x = small_dataset.train.x[:2] + rng.uniform(0.01, 0.1, small_dataset.train.x[:2].shape)
    y = np.eye(classes)[rng.integers(0, classes, 2)]
    before = {name: p.copy() for name, p in network.params.items()}
    results = check_network_gradients(network, x, y, LOSSES[loss_name], max_entries=200)
    assert set(results) == set(network.params)
    for name, result in results.items():
        assert result.relative_error < TOLERANCE, (name, result)
    assert all(np.array_equal(before[name], p) for name, p in network.params.items())


def test_gradient_check_detects_a_wrong_gradient(small_dataset, monkeypatch):
    network = original_network(2, seed=0)
    dense = network.layers[5]
    original_backward = dense.backward
    def wrong_backward(output_gradient):
        result = original_backward(output_gradient)
        dense.grads["weights"] = dense.grads["weights"] * 1.01
        return result
    monkeypatch.setattr(dense, "backward", wrong_backward)
    results = check_network_gradients(network, small_dataset.train.x[:1], small_dataset.train.y[:1],
                                      LOSSES["binary_cross_entropy"], max_entries=50)
    assert results["5.weights"].relative_error > 1e-3
    assert results["3.weights"].relative_error < TOLERANCE


def test_max_pooling_sends_a_tied_windows_gradient_to_its_first_maximum(rng):
    """As PyTorch does; ties are common after a ReLU (all-zero windows)."""
    x = rng.integers(0, 3, size=(2, 3, 7, 6)).astype(float)  # many ties; a ragged 7th row
    layer = MaxPool2D((3, 7, 6), 2)
    y = layer.forward(x)
    upstream = rng.standard_normal(y.shape)
    expected = np.zeros_like(x)
    for n, c, r, s in np.ndindex(y.shape):
        window = x[n, c, 2 * r:2 * r + 2, 2 * s:2 * s + 2]
        a, b = np.unravel_index(np.argmax(window), window.shape)  # argmax: the first maximum, row-major
        expected[n, c, 2 * r + a, 2 * s + b] = upstream[n, c, r, s]
        assert y[n, c, r, s] == window.max()
    np.testing.assert_array_equal(layer.backward(upstream), expected)


def confidently_right():
    """A digits network (float64) whose class-3 logit is lifted 20 above the others, so that an image is
    classified with E ≈ 1e−8, as a trained network does on most images; the logits stay near 10 or more."""
    network = digits_network(10, 0, "float64")
    x = np.random.default_rng(2).uniform(0, 1, (1, 1, 28, 28))
    logits = network.forward(x)[0]
    network.layers[-1].params["bias"][3] += logits.max() - logits[3] + 20
    return network, x, np.eye(10)[[3]]


def test_differencing_a_tiny_loss_agrees_with_differencing_the_outputs():
    """E is log1p of the other classes' share, not log(1 + share) − 0: its differences keep their precision
    (before, a confidently right sample's plain check was amber, 1e−6 to 1e−3, for right gradients)."""
    network, x, y = confidently_right()
    loss = LOSSES["softmax_cross_entropy"]
    assert loss.value(y, network.forward(x)) < 1e-6
    plain = check_network_gradients(network, x, y, loss, max_entries=60)
    through = check_network_gradients(network, x, y, loss, max_entries=60, through_outputs=True)
    assert max(c.relative_error for c in plain.values()) < 1e-6
    assert max(c.relative_error for c in through.values()) < TOLERANCE  # the same gradients, green
