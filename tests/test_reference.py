"""The reference (the blog's own per-sample method): the engine must compute what it computes."""
import numpy as np
import pytest

from cnn import SGD, reference
from cnn.fast import FastStep
from cnn.losses import LOSSES
from cnn.presets import original_network
from cnn.step import PlainStep


@pytest.mark.parametrize("step_type", [PlainStep, FastStep])
def test_the_reference_gives_the_engines_losses(small_dataset, step_type):
    """20 per-sample steps, by the textbook step and by the fast one. (Not many more: per-sample
    SGD on this network is chaotic early on. A 1-ulp change of every initial weight grows to a
    7e-3 relative loss difference in 200 steps, within the engine itself, so two correct
    implementations that round differently part ways.)"""
    network = original_network(seed=0)
    layers = reference.from_engine(network)
    step = step_type(network, LOSSES["binary_cross_entropy"], SGD(0.1))
    x, y = small_dataset.train.x, small_dataset.train.y
    for i in range(20):
        ours = step(x[i:i + 1], y[i:i + 1]).loss
        theirs = reference.train_step(layers, x[i, 0][None], y[i][:, None], 0.1)
        assert abs(ours - theirs) <= 1e-10 * abs(theirs)
    np.testing.assert_allclose(layers[3].weights, network.params["3.weights"], rtol=0, atol=1e-13)
    np.testing.assert_allclose(layers[0].kernels, network.params["0.kernels"], rtol=0, atol=1e-11)
    assert not np.array_equal(layers[0].kernels, original_network(seed=0).params["0.kernels"])  # they did move
