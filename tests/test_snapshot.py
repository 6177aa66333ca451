"""The worker's snapshot: every layer's Y and ∂E/∂Y for one sample and every parameter with its
gradient, as read-only copies, checked against a direct layer-by-layer computation."""
import numpy as np
import pytest

from app.model.model_info import default_layer, layer_infos
from app.model.snapshot import take_snapshot
from cnn.config import RunConfig
from cnn.session import Session


@pytest.fixture(scope="module")
def digits_session(raw_mnist):
    return Session(RunConfig.from_preset("digits", limit=5, batch_size=8, dtype="float64"), raw_mnist)


def direct_pass(session, x, y):
    """Forward layer by layer, then backward, keeping each layer's output and the gradient above it."""
    outputs, value = [], x
    for layer in session.network.layers:
        value = layer.forward(value)
        outputs.append(value[0].copy())
    above, gradient = [], session.loss.prime(y, value)
    for layer in reversed(session.network.layers):
        above.insert(0, gradient[0].copy())
        gradient = layer.backward(gradient)
    return outputs, above, gradient[0]


def test_the_snapshot_holds_every_layer_of_the_digits_network(digits_session):
    session = digits_session
    snapshot = take_snapshot(session, "test", 3)
    x, y = session.dataset.test.x[3:4], session.dataset.test.y[3:4]
    outputs, above, input_gradient = direct_pass(session, x, y)
    shapes = [state.output.shape for state in snapshot.layers]
    assert shapes == [(8, 26, 26), (8, 26, 26), (8, 13, 13), (16, 11, 11), (16, 11, 11), (16, 5, 5), (400,), (64,),
                      (64,), (10,)]
    for state, output, gradient in zip(snapshot.layers, outputs, above, strict=True):
        np.testing.assert_allclose(state.output, output, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(state.output_gradient, gradient, rtol=1e-12, atol=1e-15)
        assert not state.output.flags.writeable and not state.output_gradient.flags.writeable
    np.testing.assert_allclose(snapshot.input_gradient, input_gradient, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(snapshot.layer_input(3), snapshot.layers[2].output)
    np.testing.assert_array_equal(snapshot.layer_input_gradient(0), snapshot.input_gradient)
    assert [layer.info.kind for layer in snapshot.layers][3] == "Convolutional"
    assert default_layer(layer_infos(session)) == 0


def test_every_parameter_comes_with_its_gradient_as_read_only_copies(digits_session):
    session = digits_session
    snapshot = take_snapshot(session, "train", 1)
    network = session.network
    x, y = session.dataset.train.x[1:2], session.dataset.train.y[1:2]
    network.backward(session.loss.prime(y, network.forward(x)))
    for index, state in enumerate(snapshot.layers):
        assert list(state.params) == list(network.layers[index].params) == list(state.grads)
        for name, value in state.params.items():
            np.testing.assert_array_equal(value, network.layers[index].params[name])
            assert not value.flags.writeable and not np.shares_memory(value, network.layers[index].params[name])
            np.testing.assert_allclose(state.grads[name], network.layers[index].grads[name], rtol=1e-12, atol=1e-15)
            assert not state.grads[name].flags.writeable
    # the Dense layer's ∂E/∂W for one sample is ∂E/∂Y · Xᵀ
    dense = snapshot.layers[7]
    np.testing.assert_allclose(dense.grads["weights"], np.outer(dense.output_gradient, snapshot.layers[6].output),
                               rtol=1e-12)


def test_training_after_a_snapshot_is_unchanged(raw_mnist):
    """The snapshot's own forward and backward pass, between two steps, changes no training step."""
    config = RunConfig.from_preset("original", limit=5, epochs=1)
    plain, watched = Session(config, raw_mnist), Session(config, raw_mnist)
    losses = [[], []]
    for i, (a, b) in enumerate(zip(plain.run(), watched.run(), strict=True)):
        if hasattr(a, "loss"):
            losses[0].append(a.loss)
            losses[1].append(b.loss)
        take_snapshot(watched, "test", i % 7)
    assert losses[0] == losses[1] and len(losses[0]) == 10
    for name, value in plain.network.params.items():
        np.testing.assert_array_equal(watched.network.params[name], value)


BLOCKS = ("conv 8 3x3 stride=2 pad=same, batchnorm, relu, avgpool 2, dropout 0.3, conv 16 3x3 pad=1, relu, "
          "globalavgpool, dense 10")


def test_the_snapshot_of_the_new_blocks_is_the_evaluation_pass_and_changes_no_buffer(raw_mnist):
    from cnn.network import Network
    session = Session(RunConfig.from_preset("digits", limit=5, batch_size=8, dtype="float64", architecture=BLOCKS,
                                            optimizer="adam"), raw_mnist)
    loop = session.run(1)
    for _ in range(3):    # the running statistics and dropout's generator move away from their start
        next(loop)
    buffers = {name: value.copy() for name, value in session.network.buffers.items()}
    snapshot = take_snapshot(session, "test", 2)
    for name, value in session.network.buffers.items():
        np.testing.assert_array_equal(value, buffers[name])
    assert buffers["1.running_var"].min() != 1.0 and buffers["4.generator"][2] == 3
    copy = Network.from_architecture(session.network.architecture(), "float64")   # a fresh copy: evaluation mode
    copy.set_params(session.network.params)
    copy.set_buffers(buffers)
    x, y = session.dataset.test.x[2:3], session.dataset.test.y[2:3]
    session_copy = type("S", (), {"network": copy, "loss": session.loss})
    outputs, above, input_gradient = direct_pass(session_copy, x, y)
    assert [state.output.shape for state in snapshot.layers] == [
        (8, 14, 14), (8, 14, 14), (8, 14, 14), (8, 7, 7), (8, 7, 7), (16, 7, 7), (16, 7, 7), (16,), (10,)]
    assert [state.info.kind for state in snapshot.layers][1::3] == ["BatchNorm", "Dropout", "GlobalAvgPool"]
    np.testing.assert_array_equal(snapshot.layers[4].output, snapshot.layers[3].output)   # dropout: identity
    for state, output, gradient in zip(snapshot.layers, outputs, above, strict=True):
        np.testing.assert_allclose(state.output, output, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(state.output_gradient, gradient, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(snapshot.input_gradient, input_gradient, rtol=1e-10, atol=1e-13)
    assert list(snapshot.layers[1].params) == ["gamma", "beta"] and snapshot.layers[1].grads["gamma"].shape == (8,)


def test_the_weights_of_an_adam_session_say_it_has_no_momentum(raw_mnist):
    from app.model.snapshot import weights_of
    session = Session(RunConfig.from_preset("digits", limit=5, batch_size=8, optimizer="adam"), raw_mnist)
    assert weights_of(session, 0).momentum == 0.0
    sgd = Session(RunConfig.from_preset("digits", limit=5, batch_size=8, momentum=0.5), raw_mnist)
    assert weights_of(sgd, 0).momentum == 0.5
