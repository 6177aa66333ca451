"""The convolution against the original per-sample scipy loops (cnn/reference.py, the oracle)."""
import numpy as np
import pytest

from cnn import SGD, Convolutional, reference
from cnn.losses import LOSSES
from cnn.presets import original_network


@pytest.mark.parametrize("n, c, h, w, k, d", [(1, 1, 28, 28, 3, 5), (4, 3, 9, 7, 3, 2), (2, 2, 5, 5, 5, 3)])
def test_the_layer_equals_the_reference(n, c, h, w, k, d, rng):
    layer = Convolutional((c, h, w), k, d, rng=rng)
    x = rng.standard_normal((n, c, h, w))
    upstream = rng.standard_normal((n, d, h - k + 1, w - k + 1))
    output = layer.forward(x)
    input_gradient = layer.backward(upstream)
    kernels_gradient = np.zeros_like(layer.params["kernels"])
    for sample in range(n):
        oracle = reference.Convolutional(layer.params["kernels"], layer.params["biases"])
        assert np.abs(output[sample] - oracle.forward(x[sample])).max() < 1e-12
        assert np.abs(input_gradient[sample] - oracle.backward(upstream[sample], 1.0)).max() < 1e-12
        kernels_gradient += layer.params["kernels"] - oracle.kernels   # the oracle stepped by −1·∂E/∂K
    assert np.abs(layer.grads["kernels"] - kernels_gradient).max() < 1e-12
    assert np.abs(layer.grads["biases"] - upstream.sum(axis=0)).max() < 1e-12


def test_reference_terms_sum_to_output(rng):
    layer = Convolutional((2, 6, 6), 3, 4, rng=rng)
    x = rng.standard_normal((1, 2, 6, 6))
    terms = layer.reference_terms(x[0])
    assert terms.shape == (4, 2, 4, 4)
    np.testing.assert_allclose(terms.sum(axis=1) + layer.params["biases"], layer.forward(x)[0], atol=1e-12)


def test_training_gives_the_references_weights(small_dataset):
    """Ten per-sample SGD steps of the original network, and of the reference's layers."""
    loss = LOSSES["binary_cross_entropy"]
    network = original_network(2, seed=7)
    layers = reference.from_engine(network)
    optimizer = SGD(0.1)
    for x, y in zip(small_dataset.train.x[:10], small_dataset.train.y[:10], strict=True):
        output = network.forward(x[None])
        network.backward(loss.prime(y[None], output))
        optimizer.step(network)
        reference.train_step(layers, x, y[:, None], 0.1)
    assert not np.array_equal(network.params["0.kernels"], original_network(2, seed=7).params["0.kernels"])
    assert np.abs(network.params["0.kernels"] - layers[0].kernels).max() < 1e-10
    assert np.abs(network.params["5.weights"] - layers[5].weights).max() < 1e-10
