"""The newer layers (stride and padding, average pooling, dropout, batch normalization) against finite
differences in float64, their modes, and the modern preset (tests/test_blocks_torch.py: against PyTorch)."""
import numpy as np
import pytest

from cnn import AvgPool2D, BatchNorm, Convolutional, Dropout, GlobalAvgPool, Network
from cnn.gradcheck import numerical_gradient, relative_error

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


def test_the_fast_step_trains_the_modern_network_as_the_plain_step(small_dataset):
    from cnn.fast import FastStep
    from cnn.losses import LOSSES
    from cnn.optim import Adam
    from cnn.presets import PRESETS
    from cnn.step import PlainStep
    results = []
    for step_type in (PlainStep, FastStep):
        network = PRESETS["modern"].build(2, 4, "float64")
        step = step_type(network, LOSSES["softmax_cross_entropy"], Adam(0.003))
        for start in (0, 16):    # batches of 16: the fast step would split ≥ 32 in halves, if the network let it
            step(small_dataset.train.x[start:start + 16], small_dataset.train.y[start:start + 16])
        step(small_dataset.train.x[:40], small_dataset.train.y[:40])
        results.append((network.params, network.buffers))
    for name, value in results[0][0].items():   # a bias before batchnorm has a gradient of rounding alone (~1e−17)
        np.testing.assert_allclose(results[1][0][name], value, rtol=1e-10, atol=1e-9, err_msg=name)
    for name, value in results[0][1].items():
        np.testing.assert_allclose(results[1][1][name], value, rtol=1e-10, atol=1e-9, err_msg=name)
    assert results[1][1]["15.generator"].tolist() == [4, 15, 3]   # three steps, three masks


def test_the_modern_preset_is_a_run_setting_and_a_sentence_of_the_grammar():
    from cnn import arch
    from cnn.config import RunConfig
    from cnn.presets import MODERN, PRESETS
    config = RunConfig.from_preset("modern")
    assert (config.optimizer, config.dtype, config.classes, config.limit) == ("adam", "float32", tuple(range(10)), None)
    network = PRESETS["modern"].build(10, 0, "float32")
    assert arch.describe(network) == MODERN.format(classes=10)
    assert network.output_shape == (10,) and network.whole_batches


@pytest.mark.parametrize("layer, shape", [(lambda: AvgPool2D((2, 7, 9), 3), (2, 7, 9)),
                                          (lambda: GlobalAvgPool((3, 5, 4)), (3, 5, 4)),
                                          (lambda: Dropout(0.4, seed=2), (3, 4, 4))])
@pytest.mark.parametrize("training", [True, False])
def test_pooling_and_dropout_gradients_against_finite_differences(layer, shape, training, rng):
    _checked(layer(), rng.standard_normal((2, *shape)), rng, training=training)


def test_a_batch_too_large_for_one_pass_of_a_batchnorm_network_is_refused_up_front(monkeypatch, small_dataset):
    from cnn import arch, memory
    from cnn.losses import LOSSES
    from cnn.optim import SGD
    from cnn.train import train
    network = arch.build(arch.parse("conv 2 3x3, batchnorm, relu, dense 2"), 2)
    monkeypatch.setattr(memory, "TRAINING_BYTES", 2 * memory.network_values(network) * 8 * 10)   # 10 samples fit
    before = {name: value.copy() for name, value in network.params.items()}
    with pytest.raises(ValueError, match=r"^a batch of 11 is more than this network can take in one pass \(10 "
                                         r"samples fit in .*; batch normalization and dropout take a batch whole\); "
                                         r"choose a smaller batch size$"):
        next(train(network, small_dataset, LOSSES["softmax_cross_entropy"], SGD(0.1), 1, 11))
    assert all(np.array_equal(value, network.params[name]) for name, value in before.items())
    next(train(network, small_dataset, LOSSES["softmax_cross_entropy"], SGD(0.1), 1, 10))   # 10 goes


def test_grad_cam_takes_the_maps_after_batchnorm_and_relu_and_places_strided_padded_outputs(rng):
    from cnn import arch
    from cnn.attribution import grad_cam, receptive_centres
    network = arch.build(arch.parse("conv 4 3x3 pad=same, batchnorm, relu, conv 4 3x3 stride=2 pad=same, batchnorm, "
                                    "dropout 0.5, relu, maxpool 2, dense 3"), 3, dtype="float64")
    assert receptive_centres(network, 0)[0].tolist() == list(range(28))          # pad=same: the same pixels
    assert receptive_centres(network, 3)[0].tolist() == [2 * r + 1 for r in range(14)]   # zeros (0, 1): none before
    cam = grad_cam(network, rng.random((1, 1, 28, 28)), 1)
    assert (cam.layer, cam.maps_layer) == (3, 6)
    assert cam.image.shape == (28, 28)


def test_a_bias_before_batchnorm_is_too_small_to_check_in_training_mode_not_wrong(rng):
    from cnn import arch
    from cnn.gradcheck import check_network_gradients
    from cnn.losses import LOSSES
    network = arch.build(arch.parse("conv 2 3x3 bias=kernel, relu, dense 4, batchnorm, relu, dense 3"), 3)
    x, y = rng.random((4, 1, 28, 28)), np.eye(3)[[0, 1, 2, 0]]
    checks = check_network_gradients(network, x, y, LOSSES["softmax_cross_entropy"], training=True)
    assert checks["3.bias"].verdict == "unresolved"        # exactly 0 through the batch's mean: rounding alone
    assert {name: check.verdict for name, check in checks.items() if name != "3.bias"} == dict.fromkeys(
        ["0.kernels", "0.biases", "3.weights", "4.gamma", "4.beta", "6.weights", "6.bias"], "agrees")
    network.layers[3].params["bias"] += 1.0   # what the check could not resolve: 0 up to rounding, whatever the bias
    with network.mode(training=True):
        network.backward(LOSSES["softmax_cross_entropy"].prime(y, network.forward(x)))
    assert np.abs(network.layers[3].grads["bias"]).max() < 1e-15


def test_the_step_throughs_copy_of_the_network_keeps_its_running_statistics(raw_mnist):
    from app.model.snapshot import weights_of
    from app.model.step_sample import rebuild
    from cnn.config import RunConfig
    from cnn.session import Session
    session = Session(RunConfig.from_preset("digits", classes=(0, 1), limit=10, epochs=1, batch_size=4,
                                            architecture="conv 2 3x3 bias=kernel, batchnorm, relu, dropout 0.5, "
                                                         "dense 2"), raw_mnist)
    for _ in session.run(1):
        pass
    assert session.network.buffers["1.running_var"].tolist() != [1.0, 1.0]
    copy = rebuild(weights_of(session, 0)).network
    x = session.dataset.test.x
    assert np.array_equal(copy.predict(x), session.network.predict(x))
    assert copy.buffers["3.generator"].tolist() == session.network.buffers["3.generator"].tolist() == [0, 3, 5]
