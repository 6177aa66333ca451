"""MNIST: loading (bundled .npz, any .npz in that layout, or a folder of IDX files) and
the original preprocessing. Every problem with a file is a DataFileError naming it."""
from __future__ import annotations

import gzip
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BUNDLED = Path(__file__).resolve().parent.parent / "resources" / "mnist.npz"
KEYS = ("x_train", "y_train", "x_test", "y_test")
IDX_FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
             "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
IMAGE_SIDE = 28


class DataFileError(ValueError):
    """A data file or folder that cannot be used; the message names it and says why."""


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
    """Raw uint8 arrays x_train (N,28,28), y_train (N,), x_test, y_test from an .npz or an IDX folder."""
    path = Path(path) if path is not None else BUNDLED
    if path.is_dir():
        raw = {key: _read_idx_file(path, name) for key, name in IDX_FILES.items()}
    elif path.is_file():
        raw = _read_npz(path)
    else:
        raise DataFileError(f"{path}: no such file or folder")
    _check_arrays(path, raw)
    return raw


def download_mnist() -> dict[str, np.ndarray]:
    """A fresh copy through keras.datasets.mnist (needs TensorFlow/Keras and a network)."""
    try:
        from keras.datasets import mnist
    except ImportError:
        raise DataFileError("--download needs TensorFlow (Keras): pip install tensorflow-cpu") from None
    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    except Exception as error:  # network errors come in many types; all mean the same to a user
        raise DataFileError(f"downloading MNIST failed: {error}") from None
    raw = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    _check_arrays(Path("keras.datasets.mnist"), raw)
    return raw


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        # our own file handle: np.load leaves its own open when the archive is not a valid zip
        with open(path, "rb") as file, np.load(file, allow_pickle=False) as archive:
            missing = [key for key in KEYS if key not in archive.files]
            if missing:
                raise DataFileError(f"{path}: missing arrays {missing} (expected {list(KEYS)})")
            return {key: archive[key] for key in KEYS}
    except DataFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise DataFileError(f"{path}: not a readable .npz archive ({error})") from None
    except ValueError as error:  # object arrays (pickles are refused), bad headers, truncated data
        raise DataFileError(f"{path}: unreadable array ({error})") from None


def _read_idx_file(folder: Path, name: str) -> np.ndarray:
    for path in (folder / name, folder / f"{name}.gz"):
        if path.is_file():
            break
    else:
        raise DataFileError(f"{folder}: neither {name} nor {name}.gz is there")
    try:
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise DataFileError(f"{path}: not a readable gzip file ({error})") from None
    return parse_idx(data, path)


def parse_idx(data: bytes, path) -> np.ndarray:
    """An IDX file of unsigned bytes: magic 0x0000 08 D, D big-endian sizes, then the values."""
    if len(data) < 4:
        raise DataFileError(f"{path}: truncated: {len(data)} bytes, too short for an IDX header")
    zero, type_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or type_code != 0x08 or ndim not in (1, 3):
        raise DataFileError(f"{path}: bad magic number 0x{data[:4].hex()} "
                            "(expected 0x00000801 for labels or 0x00000803 for images)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFileError(f"{path}: truncated: the header needs {header} bytes, the file has {len(data)}")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "has trailing bytes"
        raise DataFileError(f"{path}: {problem}: header declares shape {shape} "
                            f"({expected} bytes), the file has {len(data)} bytes")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _check_arrays(source: Path, raw: dict[str, np.ndarray]) -> None:
    for part in ("train", "test"):
        x, y = raw[f"x_{part}"], raw[f"y_{part}"]
        if x.ndim != 3 or x.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
            raise DataFileError(f"{source}: x_{part} has shape {x.shape}, expected (N, 28, 28)")
        if y.ndim != 1:
            raise DataFileError(f"{source}: y_{part} has shape {y.shape}, expected (N,)")
        if x.dtype != np.uint8 or y.dtype != np.uint8:
            raise DataFileError(f"{source}: {part} arrays must be uint8, got {x.dtype} and {y.dtype}")
        if len(x) != len(y):
            raise DataFileError(f"{source}: counts disagree: {len(x)} {part} images but {len(y)} labels")
        if len(y) and y.max() > 9:
            raise DataFileError(f"{source}: y_{part} holds label {int(y.max())}; digits are 0–9")


def prepare(raw: dict[str, np.ndarray], classes=(0, 1), limit: int | None = 100, seed: int = 0,
            dtype="float64", source="data") -> Dataset:
    """The original preprocessing: the first `limit` images of each class (None: all) from train and
    test, shuffled with the seed, shaped (N, 1, 28, 28), scaled to [0, 1], one-hot targets."""
    classes = tuple(int(c) for c in classes)
    if len(classes) < 2 or len(set(classes)) != len(classes) or not all(0 <= c <= 9 for c in classes):
        raise ValueError(f"classes must be two or more distinct digits 0–9, not {classes}")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive number of images per class, not {limit!r}")
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
