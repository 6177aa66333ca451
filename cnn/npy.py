"""Reading one .npy array from a stream without trusting it: the header's dtype and declared shape
are checked before anything is allocated, object arrays are never unpickled, and the data is read
in bounded chunks, so memory never exceeds what the header declares (itself under a limit)."""
from __future__ import annotations

import math
import tokenize
from typing import BinaryIO

import numpy as np

CHUNK = 1 << 20


class NpyError(ValueError):
    """What is wrong with a .npy stream (without the file's name: the caller adds it)."""


def read_npy(file: BinaryIO, dtype: np.dtype, max_items: int) -> np.ndarray:
    """The array in `file`, if its dtype is `dtype` and it declares at most `max_items` values."""
    try:
        version = np.lib.format.read_magic(file)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            raise ValueError(f"unsupported .npy version {version}")
        shape, fortran_order, stored = read_header(file)
    except (ValueError, SyntaxError, EOFError, TypeError, RecursionError, tokenize.TokenError) as error:
        # numpy parses the header's Python literal with tokenize and ast; a damaged one can raise any of these
        raise NpyError(f"is not a .npy array ({error})") from None
    if stored != dtype:
        raise NpyError(f"has dtype {stored}, expected {dtype}")
    if any(size < 0 for size in shape):
        raise NpyError(f"declares the impossible shape {shape}")
    count = math.prod(shape)  # Python ints: no overflow however absurd the shape
    if count > max_items:
        raise NpyError(f"declares shape {shape}, larger than expected ({max_items:,} values at most)")
    array = np.empty(count, dtype=dtype)
    if read_into(file, array.view(np.uint8)) != array.nbytes:
        raise NpyError("is truncated")
    return array.reshape(shape, order="F" if fortran_order else "C")


def read_into(file: BinaryIO, buffer: np.ndarray) -> int:
    """Fills the uint8 `buffer` from `file` in chunks (no second copy of the whole); returns the
    number of bytes read, less than the buffer's size if the stream ended."""
    view, filled = memoryview(buffer), 0
    while filled < len(view):
        chunk = file.read(min(CHUNK, len(view) - filled))
        if not chunk:
            break
        view[filled:filled + len(chunk)] = chunk
        filled += len(chunk)
    return filled
