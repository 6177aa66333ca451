"""MNIST's files read without trusting them: an .npz in Keras' layout or a folder of the four IDX
files (raw or .gz). Headers are read first and every array's declared size is held to MAX_IMAGES;
then exactly the declared bytes are read (or decompressed) and more data after them is refused
unread, so memory stays within what the headers declare. A FIFO or a device is named as such, never
opened to wait. Every problem is a DataFileError naming the file."""
from __future__ import annotations

import gzip
import io
import math
import os
import stat
import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from . import files, npy

KEYS = ("x_train", "y_train", "x_test", "y_test")
IDX_FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
             "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
IMAGE_SIDE = 28
# The most images one array may declare: EMNIST Digits' 240,000 fit. With this bound, and only
# declared bytes ever read, loading never needs more than ~MAX_BYTES per array (MNIST: 55 MB in all).
MAX_IMAGES = 300_000
MAX_BYTES = MAX_IMAGES * IMAGE_SIDE * IMAGE_SIDE


class DataFileError(ValueError):
    """A data file or folder that cannot be used; the message names it and says why."""


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """x_train, y_train, x_test, y_test as stored in the .npz or IDX folder at `path`."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file or folder") from None
    except OSError as error:
        raise DataFileError(f"{path}: {error.strerror or error}") from None
    if stat.S_ISDIR(mode):
        return {key: _read_idx_file(path, name) for key, name in IDX_FILES.items()}
    return _read_npz(path)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    def fail(problem):
        return DataFileError(f"{path}: {problem}")
    expected = "expected an .npz in Keras' MNIST layout or a folder of the four IDX files"
    with files.open_regular(path, lambda problem: fail(f"{problem}; {expected}")) as file:
        if not zipfile.is_zipfile(file):
            file.seek(0)
            if file.read(2) == b"PK":
                raise fail("not a readable .npz archive (a truncated or damaged zip: its directory is missing)")
            raise fail(f"not an .npz archive (no zip signature); {expected}")
        try:
            with zipfile.ZipFile(file) as archive:
                names = set(archive.namelist())
                missing = [key for key in KEYS if f"{key}.npy" not in names]
                if missing:
                    raise fail(f"missing arrays {missing} (expected {list(KEYS)})")
                return {key: _read_member(archive, key, fail) for key in KEYS}
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, zlib.error, NotImplementedError,
                RuntimeError) as error:  # the last three: corrupt deflate data, unknown compression, encryption
            raise fail(f"not a readable .npz archive ({error})") from None


def _read_member(archive: zipfile.ZipFile, key: str, fail) -> np.ndarray:
    member = f"{key}.npy"
    with archive.open(member) as file:
        try:
            array = npy.read_npy(file, np.dtype(np.uint8), MAX_BYTES if key.startswith("x") else MAX_IMAGES)
        except npy.NpyError as error:
            raise fail(f"{member} {error}") from None
        if file.read(1):
            raise fail(f"{member} has bytes after the data its header declares")
    if array.ndim and len(array) > MAX_IMAGES:
        raise fail(f"{member} declares {len(array):,} images, more than the {MAX_IMAGES:,} this program reads")
    return array


def _read_idx_file(folder: Path, name: str) -> np.ndarray:
    for path in (folder / name, folder / f"{name}.gz"):
        if os.path.lexists(path):
            break
    else:
        raise DataFileError(f"{folder}: neither {name} nor {name}.gz is there (nor a subfolder of "
                             "pictures per class)")
    with files.open_regular(path, lambda problem: DataFileError(f"{path}: {problem} (expected an IDX file)")) as file:
        if path.suffix != ".gz":
            return read_idx(file, path, size=os.fstat(file.fileno()).st_size)
        try:
            with gzip.GzipFile(fileobj=file) as stream:
                return read_idx(stream, path)
        except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
            raise DataFileError(f"{path}: not a readable gzip file ({error})") from None


def parse_idx(data: bytes, path) -> np.ndarray:
    """An IDX file held in memory (see read_idx)."""
    return read_idx(io.BytesIO(data), path, size=len(data))


def read_idx(stream: BinaryIO, path, size: int | None = None) -> np.ndarray:
    """An IDX file of unsigned bytes: magic 0x0000 08 D, D big-endian sizes, then the values.

    The header is read first and its declared size held to the limits; then exactly the declared
    bytes are read, and more data after them is refused without reading it. `size`: the file's
    length when known (raw files), so a wrong length is refused before any data is read."""
    magic = stream.read(4)
    if len(magic) < 4:
        raise DataFileError(f"{path}: truncated: {len(magic)} bytes, too short for an IDX header")
    zero, type_code, ndim = struct.unpack(">HBB", magic)
    if zero != 0 or type_code != 0x08 or ndim not in (1, 3):
        raise DataFileError(f"{path}: bad magic number 0x{magic.hex()} "
                            "(expected 0x00000801 for labels or 0x00000803 for images)")
    header = 4 + 4 * ndim
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DataFileError(f"{path}: truncated: the header needs {header} bytes, the file has {4 + len(dims)}")
    shape = struct.unpack(f">{ndim}I", dims)
    count = math.prod(shape)  # Python ints: a product past 2⁶⁴ stays exact
    expected = header + count
    if count > MAX_BYTES or shape[0] > MAX_IMAGES:
        raise DataFileError(f"{path}: header declares shape {shape} ({expected:,} bytes), more than this program "
                            f"reads ({MAX_IMAGES:,} images, {MAX_BYTES:,} bytes)")
    if size is not None and size != expected:
        problem = "truncated" if size < expected else "has trailing bytes"
        raise DataFileError(f"{path}: {problem}: header declares shape {shape} "
                            f"({expected} bytes), the file has {size} bytes")
    values = np.empty(count, dtype=np.uint8)
    got = npy.read_into(stream, values)
    if got < count:
        raise DataFileError(f"{path}: truncated: header declares shape {shape} "
                            f"({expected} bytes), the data ends after {header + got} bytes")
    if stream.read(1):
        raise DataFileError(f"{path}: has trailing bytes: header declares shape {shape} "
                            f"({expected} bytes), the data goes on after them")
    return values.reshape(shape)


def check_arrays(source: Path, raw: dict[str, np.ndarray]) -> None:
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
