import numpy as np
import pytest

from cnn import SGD, trace
from cnn.losses import LOSSES
from cnn.presets import digits_network, original_network


@pytest.mark.parametrize("build, loss_name, classes", [(original_network, "binary_cross_entropy", 2),
                                                       (digits_network, "softmax_cross_entropy", 10)])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_trace_equals_the_normal_pass(build, loss_name, classes, small_dataset, momentum, rng):
    network, loss = build(classes, seed=4, dtype="float64"), LOSSES[loss_name]
    x, y = small_dataset.train.x[3:4], np.eye(classes)[[1]]
    before = {k: v.copy() for k, v in network.params.items()}
    optimizer = SGD(0.2, momentum, lr_decay=0.5)
    optimizer.start_epoch(2)  # η = 0.1
    if momentum:
        optimizer.velocity = {k: rng.standard_normal(v.shape) * 1e-3 for k, v in before.items()}
    state = optimizer.state_dict()
    t = trace(network, x, y, loss, optimizer)
    assert all(np.array_equal(before[k], v) for k, v in network.params.items())  # weights untouched
    assert all(np.array_equal(state["velocity"][k], v) for k, v in optimizer.velocity.items())  # so is the optimizer
    assert (t.learning_rate, t.momentum) == (0.1, momentum)
    reference = build(classes, seed=4, dtype="float64")
    output = reference.forward(x)
    reference.backward(loss.prime(y, output))
    assert np.array_equal(t.output, output) and t.loss == loss.value(y, output)
    assert np.array_equal(t.loss_gradient, loss.prime(y, output))
    for index, layer in enumerate(t.layers):
        assert np.array_equal(layer.input, reference.inputs[index])
        assert np.array_equal(layer.output, reference.outputs[index])
        assert np.array_equal(layer.input_gradient, reference.input_gradients[index])
        above = reference.input_gradients[index + 1] if index + 1 < len(t.layers) else t.loss_gradient
        assert np.array_equal(layer.output_gradient, above)
        for name, grad in layer.grads.items():
            assert np.array_equal(grad, reference.layers[index].grads[name])
    # the traced new values are one step of the engine's optimizer, and exactly the old values plus the updates
    optimizer.step(reference)
    for name, update in t.updates.items():
        np.testing.assert_array_equal(t.new_params[name], reference.params[name])
        np.testing.assert_array_equal(before[name] + update, t.new_params[name])
        expected = -0.1 * reference.grads[name] + (0.9 * state["velocity"][name] if momentum else 0)
        np.testing.assert_allclose(update, expected, rtol=1e-12, atol=1e-15)


def test_trace_is_frozen(small_dataset):
    t = trace(original_network(), small_dataset.train.x[:1], small_dataset.train.y[:1],
              LOSSES["binary_cross_entropy"], SGD(0.1))
    with pytest.raises(ValueError):
        t.layers[0].grads["kernels"][0, 0, 0, 0] = 1.0
    with pytest.raises(ValueError, match="one sample"):
        trace(original_network(), small_dataset.train.x[:2], small_dataset.train.y[:2], LOSSES["binary_cross_entropy"],
              SGD(0.1))
