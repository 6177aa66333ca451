"""The vectorised convolution against the original scipy loops."""
import numpy as np
import pytest

from cnn import SGD, Convolutional
from cnn.losses import LOSSES
from cnn.presets import original_network


@pytest.mark.parametrize("bias", ["position", "kernel"])
@pytest.mark.parametrize("n, c, h, w, k, d", [(1, 1, 28, 28, 3, 5), (4, 3, 9, 7, 3, 2), (2, 2, 5, 5, 5, 3)])
def test_vectorised_equals_reference(n, c, h, w, k, d, bias, rng):
    layer = Convolutional((c, h, w), k, d, bias_mode=bias, rng=rng)
    x = rng.standard_normal((n, c, h, w))
    upstream = rng.standard_normal((n, d, h - k + 1, w - k + 1))
    fast = layer.forward(x)
    fast_input_gradient = layer.backward(upstream)
    fast_grads = {name: g.copy() for name, g in layer.grads.items()}
    slow = layer.reference_forward(x)
    slow_input_gradient = layer.reference_backward(upstream)
    assert np.abs(fast - slow).max() < 1e-12
    assert np.abs(fast_input_gradient - slow_input_gradient).max() < 1e-12
    for name in fast_grads:
        assert np.abs(fast_grads[name] - layer.grads[name]).max() < 1e-12


def test_reference_terms_sum_to_output(rng):
    layer = Convolutional((2, 6, 6), 3, 4, rng=rng)
    x = rng.standard_normal((1, 2, 6, 6))
    terms = layer.reference_terms(x[0])
    assert terms.shape == (4, 2, 4, 4)
    np.testing.assert_allclose(terms.sum(axis=1) + layer.params["biases"], layer.forward(x)[0], atol=1e-12)


def test_training_both_ways_gives_the_same_weights(small_dataset):
    """Ten SGD steps of the original network with the fast and with the reference convolution."""
    loss = LOSSES["binary_cross_entropy"]
    fast, slow = original_network(2, seed=7), original_network(2, seed=7)
    conv = slow.layers[0]
    conv.forward, conv.backward = conv.reference_forward, conv.reference_backward
    for network in (fast, slow):
        optimizer = SGD(0.1)
        for x, y in zip(small_dataset.train.x[:10], small_dataset.train.y[:10], strict=True):
            output = network.forward(x[None])
            network.backward(loss.prime(y[None], output))
            optimizer.step(network)
    assert not np.array_equal(fast.params["0.kernels"], original_network(2, seed=7).params["0.kernels"])
    for name, value in fast.params.items():
        assert np.abs(value - slow.params[name]).max() < 1e-10, name
