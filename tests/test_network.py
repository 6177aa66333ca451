import numpy as np
import pytest

from cnn import SGD, Convolutional, Dense, Network, Reshape, Sigmoid
from cnn.losses import LOSSES
from cnn.presets import digits_network, original_network


def test_original_shapes_and_names():
    network = original_network()
    assert network.shapes == [(1, 28, 28), (5, 26, 26), (5, 26, 26), (3380,), (100,), (100,), (2,), (2,)]
    assert {name: p.shape for name, p in network.params.items()} == {
        "0.kernels": (5, 1, 3, 3), "0.biases": (5, 26, 26), "3.weights": (100, 3380), "3.bias": (100,),
        "5.weights": (2, 100), "5.bias": (2,)}
    assert all(network.grads[name].shape == p.shape for name, p in network.params.items())


def test_forward_backward_records_every_layer(rng):
    network = original_network()
    x = rng.random((3, 1, 28, 28))
    output = network.forward(x)
    assert output.shape == (3, 2)
    input_gradient = network.backward(np.ones_like(output))
    assert input_gradient.shape == x.shape
    assert [o.shape[1:] for o in network.outputs] == network.shapes[1:]
    assert [i.shape[1:] for i in network.inputs] == network.shapes[:-1]
    assert network.input_gradients[0] is input_gradient


def test_backward_never_changes_weights(rng):
    network = original_network()
    before = {name: p.copy() for name, p in network.params.items()}
    network.backward(np.ones_like(network.forward(rng.random((2, 1, 28, 28)))))
    assert all(np.array_equal(before[name], p) for name, p in network.params.items())


def test_parameter_gradients_are_summed_over_the_batch(rng):
    network = original_network()
    x = rng.random((3, 1, 28, 28))
    upstream = rng.standard_normal((3, 2))
    network.forward(x)
    network.backward(upstream)
    batched = {name: g.copy() for name, g in network.grads.items()}
    summed = {name: 0 for name in batched}
    for i in range(3):
        network.forward(x[i:i + 1])
        network.backward(upstream[i:i + 1])
        summed = {name: summed[name] + g for name, g in network.grads.items()}
    for name in batched:
        np.testing.assert_allclose(batched[name], summed[name], rtol=1e-12, atol=1e-14)


def test_sgd_step(rng):
    network = original_network()
    network.backward(np.ones((1, 2)) - network.forward(rng.random((1, 1, 28, 28))))
    before = {name: p.copy() for name, p in network.params.items()}
    SGD(0.25).step(network)
    for name, p in network.params.items():
        np.testing.assert_array_equal(p, before[name] - 0.25 * network.grads[name])


def test_dense_weight_gradient_is_the_outer_product_summed_over_the_batch(rng):
    network = original_network()
    x = rng.random((3, 1, 28, 28))
    network.backward(np.ones((3, 2)) - network.forward(x))
    dy, inputs = network.input_gradients[4], network.inputs[3]
    expected = sum(np.outer(dy[n], inputs[n]) for n in range(3))
    np.testing.assert_allclose(network.layers[3].grads["weights"], expected, rtol=1e-13, atol=1e-15)


def test_sgd_momentum(rng):
    network = Network([Dense(3, 2, rng=rng)])
    optimizer = SGD(0.5, momentum=0.9)
    w0 = network.params["0.weights"].copy()
    network.layers[0].grads = {"weights": np.ones((2, 3)), "bias": np.ones(2)}
    optimizer.step(network)
    optimizer.step(network)
    # v1 = −0.5; v2 = 0.9·v1 − 0.5 = −0.95; w = w0 + v1 + v2
    np.testing.assert_allclose(network.params["0.weights"], w0 - 1.45)


@pytest.mark.parametrize("value", [0, -1, 1e-7, 100.5, float("nan"), float("inf"), "0.1", True])
def test_sgd_rejects_bad_learning_rates(value):
    with pytest.raises(ValueError, match="learning_rate must be from 1e-06 to 100, not"):
        SGD(value)


def test_same_seed_same_weights_and_predictions(rng):
    x = rng.random((4, 1, 28, 28))
    a, b, c = original_network(seed=11), original_network(seed=11), original_network(seed=12)
    for name in a.params:
        assert np.array_equal(a.params[name], b.params[name])
    assert not np.array_equal(a.params["0.kernels"], c.params["0.kernels"])
    assert np.array_equal(a.forward(x), b.forward(x))


@pytest.mark.parametrize("build", [original_network, digits_network])
def test_float32_network_computes_in_float32(build, rng):
    network = build(seed=1, dtype="float32")
    x = rng.random((2, 1, 28, 28))
    output = network.forward(x)
    assert output.dtype == np.float32
    assert network.backward(np.ones_like(output)).dtype == np.float32
    assert all(g.dtype == np.float32 for g in network.grads.values())
    reference = build(seed=1, dtype="float64")
    np.testing.assert_allclose(output, reference.forward(x), rtol=1e-3, atol=1e-4)


def test_mismatched_layers_are_refused():
    with pytest.raises(ValueError, match="layer 2 .* expects input \\(5, 26, 26\\), but receives \\(4, 26, 26\\)"):
        Network([Convolutional((1, 28, 28), 3, 4), Sigmoid(), Reshape((5, 26, 26), (3380,))])


def test_wrong_input_shape_is_refused():
    with pytest.raises(ValueError, match="expected input of shape \\(N, 1, 28, 28\\)"):
        original_network().forward(np.zeros((1, 28, 28)))


def test_one_training_step_lowers_the_loss(small_dataset):
    network, loss = original_network(seed=2), LOSSES["binary_cross_entropy"]
    x, y = small_dataset.train.x[:1], small_dataset.train.y[:1]
    before = loss.value(y, network.forward(x))
    network.backward(loss.prime(y, network.outputs[-1]))
    SGD(0.1).step(network)
    assert loss.value(y, network.forward(x)) < before
