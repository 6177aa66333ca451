"""Compiled loops for what a run's recording writes of its weights (cnn.runs.events): a histogram's
counts and CRC-32C, at every epoch's end on the training thread. numpy's histogram and a byte-at-a-time
CRC in Python took 2.1 ms a histogram of the original network's 338,000 dense weights. These give what
numpy and the table-driven CRC give, bit for bit (tests/test_tensorboard.py). Without numba, those are used.
"""
from __future__ import annotations

import numpy as np

from .kernels import AVAILABLE, _compiled


def _crc32c_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint32)
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1   # Castagnoli's polynomial, reflected
        table[byte] = crc
    return table


TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of `data`."""
    if AVAILABLE:
        return int(_crc32c(np.frombuffer(data, dtype=np.uint8), TABLE))
    crc, table = 0xFFFFFFFF, TABLE.tolist()
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


@_compiled
def _crc32c(data, table):
    crc = np.uint32(0xFFFFFFFF)
    for byte in data:
        crc = table[(crc ^ byte) & np.uint32(0xFF)] ^ (crc >> np.uint32(8))
    return crc ^ np.uint32(0xFFFFFFFF)


def extent(values: np.ndarray) -> tuple[float, float, float, float]:
    """(min, max, sum, sum of squares) of float64 values, in one pass over them with numba (numpy makes four;
    its sum adds pairwise, this one in order: the last digits may differ). A NaN or an infinity among them:
    numpy's answers, as numpy gives them."""
    if AVAILABLE and values.size:
        low, high, total, squares = _extent(values)
        if np.isfinite(total) and np.isfinite(squares):
            return float(low), float(high), float(total), float(squares)
    return float(values.min()), float(values.max()), float(values.sum(dtype=np.float64)), float(np.dot(values, values))


@_compiled
def _extent(values):
    low = high = values[0]
    total = squares = 0.0
    for x in values:
        if x < low:
            low = x
        elif x > high:
            high = x
        total += x
        squares += x * x
    return low, high, total, squares


def histogram(values: np.ndarray, bins: int, low: float | None = None,
              high: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """np.histogram(values, bins, range=(min, max)) of float64 values (min == max: the range ±0.5 about
    it, as numpy takes it): (counts, edges). `low`, `high`: their min and max, when known."""
    if low is None or high is None:
        low, high = float(values.min()), float(values.max())
    if not AVAILABLE:
        return np.histogram(values, bins=bins, range=(low, high) if low < high else None)
    if low == high:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    return _counts(values, edges), edges


@_compiled
def _counts(values, edges):
    """numpy's counting for equal bins: the index from the value's place in the range, then moved by one
    where rounding put it across an edge; the last bin holds its right edge. (numpy divides by the width
    where this multiplies by its reciprocal: the first guess may differ by one, the moves make both the
    bin the edges say.)"""
    bins = edges.size - 1
    first, last = edges[0], edges[bins]
    scale = bins / (last - first)
    counts = np.zeros(bins, dtype=np.int64)
    for x in values:
        if x < first or x > last:
            continue
        i = min(int((x - first) * scale), bins - 1)
        if x < edges[i]:
            i -= 1
        if i != bins - 1 and x >= edges[i + 1]:
            i += 1
        counts[i] += 1
    return counts
