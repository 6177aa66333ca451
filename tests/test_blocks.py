"""The newer layers (stride and padding, average pooling, dropout, batch normalization) against
finite differences and against PyTorch, in float64."""
import numpy as np
import pytest

from cnn import AvgPool2D, BatchNorm, Convolutional, Dropout, GlobalAvgPool, Network
from cnn.gradcheck import numerical_gradient, relative_error

torch = pytest.importorskip("torch")
F = torch.nn.functional
CONVOLUTIONS = [  # (C, H, W), k, depth, stride, padding, bias
    ((2, 7, 6), 3, 3, 2, "valid", "kernel"), ((2, 7, 6), 3, 3, 2, 1, "position"),
    ((3, 8, 8), 3, 2, 2, "same", "kernel"), ((1, 9, 9), 4, 2, 1, "same", "kernel"),
    ((2, 10, 9), 5, 3, 3, 2, "position"), ((1, 6, 6), 3, 2, 1, "same", "kernel"), ((2, 5, 5), 5, 2, 4, 4, "kernel")]


def _checked(layer, x, rng, training=False):
    """∂E/∂X and every ∂E/∂θ of E = Σ G ⊙ layer(X), analytic against central differences."""
    network = Network([layer])
    with network.mode(training=training):
        weights = rng.standard_normal(layer.forward(x).shape)

        def error():
            return float(np.sum(weights * layer.forward(x)))
        layer.forward(x)
        input_gradient = layer.backward(weights)
        assert relative_error(input_gradient, numerical_gradient(error, x)) < 1e-7
        for name, param in layer.params.items():
            layer.forward(x)
            layer.backward(weights)
            assert relative_error(layer.grads[name], numerical_gradient(error, param)) < 1e-7, name


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("shape, k, depth, stride, padding, bias", CONVOLUTIONS)
def test_convolution_with_stride_and_padding_against_torch(shape, k, depth, stride, padding, bias, rng):
    layer = Convolutional(shape, k, depth, bias, rng=rng, stride=stride, padding=padding)
    x = rng.standard_normal((3, *shape))
    tx = torch.tensor(x, requires_grad=True)
    kernels = torch.tensor(layer.params["kernels"], requires_grad=True)
    biases = torch.tensor(layer.params["biases"], requires_grad=True)
    if padding == "same" and stride == 1:    # torch's own 'same' (the odd zero after)
        convolved = F.conv2d(tx, kernels, stride=1, padding="same")
    else:
        convolved = F.conv2d(tx, kernels, stride=stride, padding=0 if padding in ("valid", "same") else padding)
        if padding == "same":
            (top, bottom), (left, right) = layer.pads
            convolved = F.conv2d(F.pad(tx, (left, right, top, bottom)), kernels, stride=stride)
    expected = convolved + (biases if bias == "position" else biases[:, None, None])
    output = layer.forward(x)
    assert output.shape == tuple(expected.shape)
    upstream = rng.standard_normal(output.shape)
    expected.backward(torch.tensor(upstream))
    input_gradient = layer.backward(upstream)
    assert np.abs(output - expected.detach().numpy()).max() < 1e-9
    assert np.abs(input_gradient - tx.grad.numpy()).max() < 1e-9
    assert np.abs(layer.grads["kernels"] - kernels.grad.numpy()).max() < 1e-9
    assert np.abs(layer.grads["biases"] - biases.grad.numpy()).max() < 1e-9


@pytest.mark.parametrize("shape, k, depth, stride, padding, bias", CONVOLUTIONS[:4])
def test_convolution_gradients_against_finite_differences(shape, k, depth, stride, padding, bias, rng):
    _checked(Convolutional(shape, k, depth, bias, rng=rng, stride=stride, padding=padding),
             rng.standard_normal((2, *shape)), rng)


def test_the_terms_of_a_strided_padded_convolution_sum_to_its_output(rng):
    layer = Convolutional((2, 7, 7), 3, 4, "kernel", rng=rng, stride=2, padding="same")
    x = rng.standard_normal((1, 2, 7, 7))
    terms = layer.reference_terms(x[0])
    assert terms.shape == (4, 2, 4, 4)
    np.testing.assert_allclose(terms.sum(axis=1) + layer.bias_term(), layer.forward(x)[0], atol=1e-12)


@pytest.mark.parametrize("padding, message", [(3, "from 0 to kernel_size − 1 (2)"), ("full", "'valid', 'same'")])
def test_a_padding_out_of_range_is_refused(padding, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Convolutional((1, 8, 8), 3, 2, padding=padding)


@pytest.mark.parametrize("shape, size", [((2, 8, 8), 2), ((3, 7, 9), 3)])
def test_average_pooling_against_torch_and_finite_differences(shape, size, rng):
    layer = AvgPool2D(shape, size)
    x = rng.standard_normal((2, *shape))
    tx = torch.tensor(x, requires_grad=True)
    expected = F.avg_pool2d(tx, size)
    upstream = rng.standard_normal(tuple(expected.shape))
    expected.backward(torch.tensor(upstream))
    assert np.abs(layer.forward(x) - expected.detach().numpy()).max() < 1e-9
    assert np.abs(layer.backward(upstream) - tx.grad.numpy()).max() < 1e-9
    _checked(layer, x, rng)


def test_global_average_pooling_against_torch_and_finite_differences(rng):
    layer = GlobalAvgPool((3, 5, 4))
    x = rng.standard_normal((2, 3, 5, 4))
    tx = torch.tensor(x, requires_grad=True)
    expected = F.adaptive_avg_pool2d(tx, 1).flatten(1)
    upstream = rng.standard_normal((2, 3))
    expected.backward(torch.tensor(upstream))
    assert np.abs(layer.forward(x) - expected.detach().numpy()).max() < 1e-9
    assert np.abs(layer.backward(upstream) - tx.grad.numpy()).max() < 1e-9
    _checked(layer, x, rng)


def test_dropout_keeps_values_by_its_mask_and_is_the_identity_in_evaluation(rng):
    layer = Dropout(0.3, seed=5)
    x = rng.standard_normal((4, 50))
    network = Network([layer], input_shape=(50,))
    assert np.array_equal(network.forward(x), x)   # evaluation: every value as it is
    with network.mode(training=True):
        output = network.forward(x)
    kept = layer.mask != 0
    assert 0.5 < kept.mean() < 0.9                 # about 1 − p kept
    tx = torch.tensor(x, requires_grad=True)
    expected = tx * torch.tensor(kept) / (1 - 0.3)   # torch's F.dropout with this mask: x·M/(1 − p)
    upstream = rng.standard_normal(x.shape)
    expected.backward(torch.tensor(upstream))
    assert np.abs(output - expected.detach().numpy()).max() < 1e-12
    with network.mode(training=True):
        assert np.abs(layer.backward(upstream) - tx.grad.numpy()).max() < 1e-12
    _checked(layer, x, rng, training=True)
    _checked(layer, x, rng, training=False)


def test_dropout_draws_a_new_mask_only_in_a_real_step():
    layer = Dropout(0.5, seed=1)
    network, x = Network([layer], input_shape=(200,)), np.ones((1, 200))
    with network.mode(training=True):
        first, again = network.forward(x), network.forward(x)
    with network.mode(training=True, stepping=True):
        stepped, following = network.forward(x), network.forward(x)
    assert np.array_equal(first, again) and np.array_equal(first, stepped)   # the next step's mask, until it is taken
    assert not np.array_equal(stepped, following)
    assert layer.buffers["generator"].tolist() == [1, 0, 2]


@pytest.mark.parametrize("shape", [(3, 4, 5), (6,)])
def test_batch_norm_against_torch_in_training_and_evaluation(shape, rng):
    layer = BatchNorm(shape)
    layer.params["gamma"] = rng.standard_normal(shape[0])
    layer.params["beta"] = rng.standard_normal(shape[0])
    network = Network([layer])
    running_mean, running_var = torch.zeros(shape[0], dtype=torch.float64), torch.ones(shape[0], dtype=torch.float64)
    gamma = torch.tensor(layer.params["gamma"], requires_grad=True)
    beta = torch.tensor(layer.params["beta"], requires_grad=True)
    for training in (True, True, False):
        x = 3 * rng.standard_normal((5, *shape)) + 1
        upstream = rng.standard_normal(x.shape)
        tx = torch.tensor(x, requires_grad=True)
        gamma.grad = beta.grad = None
        expected = F.batch_norm(tx, running_mean, running_var, gamma, beta, training=training, momentum=0.1, eps=1e-5)
        expected.backward(torch.tensor(upstream))
        with network.mode(training=training, stepping=True):
            output = network.forward(x)
            input_gradient = network.backward(upstream)
        assert np.abs(output - expected.detach().numpy()).max() < 1e-9
        assert np.abs(input_gradient - tx.grad.numpy()).max() < 1e-9
        assert np.abs(layer.grads["gamma"] - gamma.grad.numpy()).max() < 1e-9
        assert np.abs(layer.grads["beta"] - beta.grad.numpy()).max() < 1e-9
        assert np.abs(layer.buffers["running_mean"] - running_mean.numpy()).max() < 1e-12
        assert np.abs(layer.buffers["running_var"] - running_var.numpy()).max() < 1e-12
    assert not np.allclose(layer.buffers["running_var"], 1.0)   # the running statistics moved


@pytest.mark.parametrize("shape", [(2, 3, 3), (4,)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradients_against_finite_differences(shape, training, rng):
    layer = BatchNorm(shape)
    layer.params["gamma"] = rng.standard_normal(shape[0])
    layer.params["beta"] = rng.standard_normal(shape[0])
    layer.buffers["running_mean"] = rng.standard_normal(shape[0])
    layer.buffers["running_var"] = rng.uniform(0.5, 2, shape[0])
    _checked(layer, rng.standard_normal((3, *shape)), rng, training=training)


def test_a_training_pass_outside_a_step_changes_no_running_statistic(rng):
    network = Network([BatchNorm((3,))])
    with network.mode(training=True):
        network.forward(rng.standard_normal((4, 3)))
    assert network.buffers["0.running_mean"].tolist() == [0, 0, 0]
    assert not network.training                         # the mode before is back after the block


def test_predict_runs_in_evaluation_mode(rng):
    network = Network([Dropout(0.5)], input_shape=(30,))
    x = rng.standard_normal((3, 30))
    with network.mode(training=True):
        assert np.array_equal(network.predict(x), x)
        assert network.training
