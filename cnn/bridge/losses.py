"""Our losses (cnn.losses) in TensorFlow, per sample, so that their mean is our loss exactly and a
distributed step can average over the global batch (tf.nn.compute_average_loss)."""
from __future__ import annotations

from ..losses import EPSILON


def per_sample_loss(name: str):
    """f(y_true, y_pred) → (N,) whose mean over the batch is cnn.losses' `name`."""
    import tensorflow as tf

    def clipped64(y, high):   # as cnn.losses: in float64 always (1 − 1e−15 is 1 in float32)
        return tf.clip_by_value(tf.cast(y, tf.float64), EPSILON, high)

    def binary_cross_entropy(y_true, y_pred):
        y, t = clipped64(y_pred, 1 - EPSILON), tf.cast(y_true, tf.float64)
        return -tf.reduce_mean(t * tf.math.log(y) + (1 - t) * tf.math.log(1 - y), axis=-1)

    def categorical_cross_entropy(y_true, y_pred):
        return -tf.reduce_sum(tf.cast(y_true, tf.float64) * tf.math.log(clipped64(y_pred, 1.0)), axis=-1)

    def softmax_cross_entropy(y_true, logits):
        return tf.reduce_logsumexp(logits, axis=-1) - tf.reduce_sum(tf.cast(y_true, logits.dtype) * logits, axis=-1)

    def mse(y_true, y_pred):
        return tf.reduce_mean(tf.square(y_pred - tf.cast(y_true, y_pred.dtype)), axis=-1)

    losses = {f.__name__: f for f in (binary_cross_entropy, categorical_cross_entropy, softmax_cross_entropy, mse)}
    return losses[name]
