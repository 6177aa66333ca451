"""The newer layers against PyTorch in float64: conv2d with stride and padding, avg_pool2d,
adaptive_avg_pool2d, dropout with the same mask, batch_norm in training and evaluation with its running
statistics (and each against finite differences: test_blocks.py's check)."""
import numpy as np
import pytest

from cnn import AvgPool2D, BatchNorm, Convolutional, Dropout, GlobalAvgPool, Network

from tests.test_blocks import CONVOLUTIONS, _checked

pytestmark = pytest.mark.slow   # importing torch takes seconds
torch = pytest.importorskip("torch")
F = torch.nn.functional


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
