"""cnn.fit (cnn/notebook.py): numpy arrays to a trained network; the README's example runs as written."""
import re
from pathlib import Path

import numpy as np
import pytest

import cnn
from cnn.config import RunConfig
from cnn.presets import digits_network, original_network
from cnn.session import Session

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example() -> str:
    section = README.read_text().split("## From a notebook", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_trains_and_returns_the_history(capsys):
    scope = {}
    exec(compile(readme_example(), str(README), "exec"), scope)
    history = scope["history"]
    assert sorted(history) == ["loss", "seconds", "val_accuracy", "val_loss"]
    assert all(len(values) == 2 for values in history.values())
    assert history["loss"][1] < history["loss"][0]
    assert history["val_accuracy"][-1] > 0.5                     # ten classes: chance is 0.1
    assert capsys.readouterr().out.splitlines()[-1] == str(history["val_accuracy"])


def test_fit_is_the_cli_loop_on_the_same_arrays(raw_mnist):
    """The original network on the original data: fit() on the Dataset's own arrays gives the session's weights."""
    session = Session(RunConfig(epochs=2, limit=20), raw_mnist)
    data = session.dataset
    network = original_network(2, seed=0)
    history = cnn.fit(network, data.train.x, data.train.y.argmax(axis=1), epochs=2, batch_size=1,
                      learning_rate=0.1, shuffle=False, validation=(data.test.x, data.test.y.argmax(axis=1)),
                      verbose=False)
    records = [r for r in session.run(2) if hasattr(r, "train_loss")]
    assert history["loss"] == [r.train_loss for r in records]
    assert history["val_accuracy"] == [r.test_accuracy for r in records]
    for name, value in session.network.params.items():
        np.testing.assert_array_equal(network.params[name], value)


@pytest.mark.parametrize("x, y, message", [
    (np.zeros((4, 28, 28), np.float64), np.zeros(4, int), "x must be uint8 images (N, H, W) or floats (N, C, H, W), "
                                                          "not float64 of shape (4, 28, 28)"),
    (np.zeros((4, 1, 32, 32)), np.zeros(4, int), "x holds images of shape (1, 32, 32), but the network takes "
                                                 "(1, 28, 28)"),
    (np.zeros((4, 28, 28), np.uint8), np.zeros(3, int), "y holds 3 labels for 4 images"),
    (np.zeros((4, 28, 28), np.uint8), np.array([0, 1, 10, 2]), "y holds the label 10, but the network has 10 "
                                                                "outputs (labels 0–9)"),
    (np.zeros((4, 28, 28), np.uint8), np.zeros(4), "y must be integer labels (N,), not float64 of shape (4,)"),
    (np.full((4, 1, 28, 28), np.nan), np.zeros(4, int), "x holds values that are not finite (NaN or infinite)"),
])
def test_wrong_arrays_are_refused_saying_what_is_wrong(x, y, message):
    with pytest.raises(ValueError) as error:
        cnn.fit(digits_network(classes=10), x, y, verbose=False)
    assert str(error.value) == message


def test_validation_arrays_are_checked_by_name():
    x, y = np.zeros((4, 28, 28), np.uint8), np.zeros(4, int)
    with pytest.raises(ValueError, match=r"^validation x holds images of shape \(1, 27, 27\)"):
        cnn.fit(digits_network(classes=10), x, y, validation=(np.zeros((2, 27, 27), np.uint8), y[:2]))
    with pytest.raises(ValueError, match=r"^validation must be a pair \(x, y\)"):
        cnn.fit(digits_network(classes=10), x, y, validation=x)
