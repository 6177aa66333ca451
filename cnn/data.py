"""MNIST: loading (bundled .npz, any .npz in that layout, or a folder of IDX files) and
the original preprocessing. Every problem with a file is a DataFileError naming it."""
from __future__ import annotations

import importlib.resources
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .mnist_files import IMAGE_SIDE, DataFileError, check_arrays, read_arrays
from .mnist_files import IDX_FILES, KEYS, MAX_IMAGES, parse_idx  # noqa: F401  (the names callers know)

from .config import RunConfig
from .image_folder import is_picture_folder, load_picture_folder, refuse_options_for_files


def _bundled() -> Path:
    """The MNIST copy shipped with the program: resources/mnist.npz, installed as the package data of
    cnn.resources (pyproject.toml), or beside cnn/ in a checkout run in place."""
    try:
        return Path(str(importlib.resources.files("cnn.resources") / "mnist.npz"))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "resources" / "mnist.npz"


BUNDLED = _bundled()


@dataclass(frozen=True)
class Split:
    x: np.ndarray       # (N, 1, 28, 28) in [0, 1]
    y: np.ndarray       # (N, K) one-hot
    labels: np.ndarray  # (N,) digit of each image


@dataclass(frozen=True)
class Dataset:
    train: Split
    test: Split
    classes: tuple[int, ...]


def load_mnist(path=None) -> dict[str, np.ndarray]:
    """Raw uint8 arrays x_train (N,28,28), y_train (N,), x_test, y_test from an .npz or an IDX folder
    (checked as cnn.mnist_files says: memory bounded by what the headers declare), or from a folder of
    pictures, one subfolder per class (cnn.image_folder; `path` may be its DataChoice)."""
    if path is not None and not os.fspath(path):
        raise DataFileError("the data path is empty")
    choice, path = path, Path(path) if path is not None else BUNDLED
    if is_picture_folder(path):
        raw = load_picture_folder(choice)
    else:
        raw = read_arrays(path)
        refuse_options_for_files(choice, path)
    check_arrays(path, raw)
    return raw


def download_mnist() -> dict[str, np.ndarray]:
    """A fresh copy through keras.datasets.mnist (needs TensorFlow/Keras and a network). TensorFlow is
    loaded as the Keras bridge loads it: its start-up lines kept from the terminal unless asked for."""
    from .bridge import BridgeUnavailable, keras_module
    try:
        keras_module()
        from keras.datasets import mnist
    except (BridgeUnavailable, ImportError):
        raise DataFileError("--download needs TensorFlow (Keras): pip install tensorflow-cpu") from None
    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    except Exception as error:  # network errors come in many types; all mean the same to a user
        raise DataFileError(f"downloading MNIST failed: {error}") from None
    raw = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    check_arrays(Path("keras.datasets.mnist"), raw)
    return raw


def prepare(raw: dict[str, np.ndarray], classes=(0, 1), limit: int | None = 100, seed: int = 0,
            dtype="float64", source="data") -> Dataset:
    """The original preprocessing: the first `limit` images of each class (None: all) from train and
    test, shuffled with the seed, shaped (N, 1, 28, 28), scaled to [0, 1], one-hot targets."""
    RunConfig().with_changes(classes=tuple(classes), limit=limit)  # the rules for both: cnn.config
    classes = tuple(classes)
    rng = np.random.default_rng(seed)
    splits = [_split(raw[f"x_{part}"], raw[f"y_{part}"], classes, limit, rng, dtype, f"{source} ({part})")
              for part in ("train", "test")]
    return Dataset(*splits, classes=classes)


def _split(images, labels, classes, limit, rng, dtype, where) -> Split:
    chosen = []
    for digit in classes:
        indices = np.flatnonzero(labels == digit)
        if indices.size == 0:
            raise DataFileError(f"{where}: class {digit} has no images")
        chosen.append(indices[:limit])
    indices = rng.permutation(np.concatenate(chosen))
    x = (images[indices].astype(dtype) / 255).reshape(len(indices), 1, IMAGE_SIDE, IMAGE_SIDE)
    position = np.zeros(10, dtype=np.intp)
    position[list(classes)] = np.arange(len(classes))  # digit → output index
    chosen_labels = labels[indices]
    y = np.eye(len(classes), dtype=dtype)[position[chosen_labels]]
    for array in (x, y, chosen_labels):
        array.flags.writeable = False
    return Split(x=x, y=y, labels=chosen_labels)
