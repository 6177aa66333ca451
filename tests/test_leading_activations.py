"""An activation before the first layer with a shape (red team F7: `--arch "relu, dense 2, sigmoid"`
was refused with "layer 1 (Reshape) expects input (1, 28, 28), but receives ()"). An activation
keeps its input's shape, so the network's input is the first declaring layer's: the image's."""
import numpy as np
import pytest

from cnn import arch, weights_file
from cnn.cli import main as cnn_train
from cnn.gradcheck import check_network_gradients
from cnn.network import Network
from cnn.session import loss_for

LEADING = ["relu, dense 2, sigmoid",
           "sigmoid, tanh, relu, conv 2 3x3, relu, maxpool 2, dense 2",
           "tanh, maxpool 2, dense 3, relu, dense 2, sigmoid"]


@pytest.mark.parametrize("layers", LEADING)
def test_leading_activations_take_the_images_shape(layers):
    network = arch.build(arch.parse(layers), 2)
    assert network.input_shape == (1, 28, 28) and network.output_shape == (2,)
    assert arch.describe(network) == layers
    assert Network.from_architecture(network.architecture()).input_shape == (1, 28, 28)   # as a saved file reads


@pytest.mark.parametrize("layers", LEADING)
def test_their_gradients_match_finite_differences(layers, small_dataset, rng):
    network = arch.build(arch.parse(layers), 2)
    x = small_dataset.train.x[:2] - 0.5 + rng.uniform(0.01, 0.1, small_dataset.train.x[:2].shape)  # relu: both signs
    results = check_network_gradients(network, x, small_dataset.train.y[:2], loss_for(network), max_entries=100)
    assert set(results) == set(network.params)
    assert all(result.relative_error < 1e-6 for result in results.values()), results


def test_cnn_train_trains_and_saves_it(tmp_path, capsys):
    saved = tmp_path / "w.npz"
    assert cnn_train(["--arch", "relu, dense 2, sigmoid", "--limit", "10", "--epochs", "1", "--quiet",
                      "--save", str(saved)]) == 0
    assert "expects input" not in capsys.readouterr().err
    network = weights_file.load(saved)
    assert network.input_shape == (1, 28, 28) and arch.describe(network) == "relu, dense 2, sigmoid"
    assert np.isfinite(network.forward(np.zeros((1, 1, 28, 28)))).all()
