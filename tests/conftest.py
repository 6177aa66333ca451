import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnn.data import load_mnist, prepare  # noqa: E402


@pytest.fixture(scope="session")
def raw_mnist():
    return load_mnist()


@pytest.fixture(scope="session")
def small_dataset(raw_mnist):
    return prepare(raw_mnist, classes=(0, 1), limit=20, seed=0)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
