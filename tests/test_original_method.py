"""The speed benchmark's reference is the blog's own method; it must compute what the engine computes."""
import numpy as np

from benchmarks import original_method
from cnn import SGD
from cnn.losses import LOSSES
from cnn.presets import original_network


def test_the_original_method_gives_the_engines_losses(small_dataset):
    """20 per-sample steps. (Not many more: per-sample SGD on this network is chaotic early on. A
    1-ulp change of every initial weight grows to a 7e-3 relative loss difference in 200 steps,
    within the engine itself, so two correct implementations that round differently part ways.)"""
    network = original_network(seed=0)
    layers = original_method.from_engine(network)
    loss, optimizer = LOSSES["binary_cross_entropy"], SGD(0.1)
    x, y = small_dataset.train.x, small_dataset.train.y
    for i in range(20):
        output = network.forward(x[i:i + 1])
        ours = loss.value(y[i:i + 1], output)
        network.backward(loss.prime(y[i:i + 1], output), input_gradient=False)
        optimizer.step(network)
        theirs = original_method.train_step(layers, x[i, 0][None], y[i][:, None], 0.1)
        assert abs(ours - theirs) <= 1e-10 * abs(theirs)
    np.testing.assert_allclose(layers[3].weights, network.params["3.weights"], rtol=0, atol=1e-13)
    np.testing.assert_allclose(layers[0].kernels, network.params["0.kernels"], rtol=0, atol=1e-11)
