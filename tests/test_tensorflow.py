"""Every layer's, loss's and the whole network's gradients against TensorFlow's GradientTape."""
import numpy as np
import pytest
import tensorflow as tf  # the test extra installs it: a missing TensorFlow fails here, never skips

from cnn import Convolutional, Dense, MaxPool2D, ReLU, Sigmoid, Softmax, Tanh
from cnn.losses import LOSSES
from cnn.presets import original_network

TOLERANCE = 1e-12
pytestmark = pytest.mark.slow  # TensorFlow's import alone takes seconds


def close(ours, theirs):
    theirs = np.asarray(theirs)
    assert ours.shape == theirs.shape
    scale = max(np.abs(theirs).max(), 1e-300)
    assert np.abs(ours - theirs).max() / scale < TOLERANCE


def nchw_to_nhwc(x):
    return tf.transpose(x, (0, 2, 3, 1))


def nhwc_to_nchw(x):
    return tf.transpose(x, (0, 3, 1, 2))


def tf_conv(x, kernels, biases, bias_mode):
    """Valid cross-correlation in TF's layout, returned in ours."""
    y = nhwc_to_nchw(tf.nn.conv2d(nchw_to_nhwc(x), tf.transpose(kernels, (2, 3, 1, 0)), 1, "VALID"))
    return y + (biases if bias_mode == "position" else biases[:, None, None])


def run_both(layer, tf_function, x, rng):
    """E = Σ G ⊙ f(x): our backward against tape.gradient for the input and every parameter."""
    ours = layer.forward(x)
    upstream = rng.standard_normal(ours.shape)
    input_gradient = layer.backward(upstream)
    variables = {name: tf.Variable(p) for name, p in layer.params.items()}
    x_tf = tf.Variable(x)
    with tf.GradientTape() as tape:
        theirs = tf_function(x_tf, **variables)
        energy = tf.reduce_sum(upstream * theirs)
    gradients = tape.gradient(energy, [x_tf, *variables.values()])
    close(ours, theirs.numpy())
    close(input_gradient, gradients[0].numpy())
    for name, gradient in zip(variables, gradients[1:], strict=True):
        close(layer.grads[name], gradient.numpy())


@pytest.mark.parametrize("bias", ["position", "kernel"])
@pytest.mark.parametrize("n, c, h, w, k, d", [(1, 1, 28, 28, 3, 5), (3, 2, 7, 9, 3, 4), (2, 3, 6, 6, 5, 2)])
def test_convolutional_matches_tensorflow(n, c, h, w, k, d, bias, rng):
    layer = Convolutional((c, h, w), k, d, bias_mode=bias, rng=rng)
    run_both(layer, lambda x, kernels, biases: tf_conv(x, kernels, biases, bias),
             rng.standard_normal((n, c, h, w)), rng)


def test_dense_matches_tensorflow(rng):
    layer = Dense(13, 7, rng=rng)
    run_both(layer, lambda x, weights, bias: tf.matmul(x, weights, transpose_b=True) + bias,
             rng.standard_normal((4, 13)), rng)


@pytest.mark.parametrize("layer, function", [(Sigmoid(), tf.sigmoid), (Tanh(), tf.tanh),
                                             (ReLU(), tf.nn.relu), (Softmax(), tf.nn.softmax)])
def test_activations_match_tensorflow(layer, function, rng):
    run_both(layer, lambda x: function(x), rng.standard_normal((3, 9)) * 4, rng)


def test_maxpool_matches_tensorflow(rng):
    layer = MaxPool2D((3, 11, 11), 2)
    run_both(layer, lambda x: nhwc_to_nchw(tf.nn.max_pool2d(nchw_to_nhwc(x), 2, 2, "VALID")),
             rng.standard_normal((2, 3, 11, 11)), rng)


TF_LOSSES = {
    "binary_cross_entropy": lambda t, y: -tf.reduce_mean(t * tf.math.log(y) + (1 - t) * tf.math.log(1 - y)),
    "mse": lambda t, y: tf.reduce_mean((y - t) ** 2),
    "categorical_cross_entropy": lambda t, y: -tf.reduce_sum(t * tf.math.log(y)) / t.shape[0],
    "softmax_cross_entropy": lambda t, z: tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(t, z)),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_match_tensorflow(name, rng):
    loss = LOSSES[name]
    y_true = np.eye(4)[rng.integers(0, 4, 5)]
    y_pred = rng.standard_normal((5, 4)) * 3 if loss.on_logits else rng.uniform(0.01, 0.99, (5, 4))
    y_tf = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        value = TF_LOSSES[name](tf.constant(y_true), y_tf)
    assert abs(loss.value(y_true, y_pred) - float(value)) <= TOLERANCE * abs(float(value))
    close(loss.prime(y_true, y_pred), tape.gradient(value, y_tf).numpy())


def test_original_network_matches_tensorflow(small_dataset):
    """The whole original network, forward and backward, built again from TF ops."""
    network = original_network(2, seed=5)
    x, y = small_dataset.train.x[:3], small_dataset.train.y[:3]
    loss = LOSSES["binary_cross_entropy"]
    output = network.forward(x)
    network.backward(loss.prime(y, output))
    variables = {name: tf.Variable(p) for name, p in network.params.items()}
    with tf.GradientTape() as tape:
        v = variables
        hidden = tf.sigmoid(tf_conv(tf.constant(x), v["0.kernels"], v["0.biases"], "position"))
        hidden = tf.reshape(hidden, (3, 3380))
        hidden = tf.sigmoid(tf.matmul(hidden, v["3.weights"], transpose_b=True) + v["3.bias"])
        prediction = tf.sigmoid(tf.matmul(hidden, v["5.weights"], transpose_b=True) + v["5.bias"])
        prediction = tf.clip_by_value(prediction, 1e-15, 1 - 1e-15)
        error = TF_LOSSES["binary_cross_entropy"](tf.constant(y), prediction)
    gradients = tape.gradient(error, list(variables.values()))
    assert abs(loss.value(y, output) - float(error)) <= TOLERANCE * float(error)
    for name, gradient in zip(variables, gradients, strict=True):
        close(network.grads[name], gradient.numpy())
