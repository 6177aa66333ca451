"""TensorBoard's event files, written here without TensorFlow: each file is a sequence of TFRecords,

    uint64 length (little-endian) · uint32 masked CRC-32C of those 8 bytes · the data · uint32 masked CRC-32C of it

whose data is one serialized `Event` protocol buffer (tensorflow/core/util/event.proto): its wall
time, step, and a `Summary` of scalars, histograms or PNG images. The few messages and fields used
are encoded by hand below (protobuf's wire format: a key of field number and wire type, then a
varint, a 64- or 32-bit little-endian value or a length-prefixed body); the field numbers are those
of event.proto, summary.proto and histogram.proto.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

from ..fast import tally
from ..fast.tally import crc32c

HISTOGRAM_BINS = 30


def masked_crc32c(data: bytes) -> int:
    """TFRecord's checksum: the CRC rotated right by 15 bits plus a constant, mod 2³²."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(data: bytes) -> bytes:
    """One TFRecord framing `data`."""
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc32c(length)) + data + struct.pack("<I", masked_crc32c(data))


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1           # int64s below zero are ten bytes, as protobuf writes them
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _int(field: int, value: int) -> bytes:
    return _key(field, 0) + _varint(int(value))


def _double(field: int, value: float) -> bytes:
    return _key(field, 1) + struct.pack("<d", value)


def _float(field: int, value: float) -> bytes:
    return _key(field, 5) + struct.pack("<f", value)


def _bytes(field: int, value: bytes) -> bytes:
    return _key(field, 2) + _varint(len(value)) + value


def _packed_doubles(field: int, values) -> bytes:
    return _bytes(field, np.asarray(values, dtype="<f8").tobytes())


def event(step: int, wall_time: float, summary_values: list[bytes] = (), *, file_version: str | None = None,
          session_start: bool = False) -> bytes:
    """A serialized Event: Event.wall_time = 1, step = 2, file_version = 3, summary = 5 (Summary.value = 1),
    session_log = 7 (SessionLog.status = 1, START = 1)."""
    body = _double(1, wall_time) + _int(2, step)
    if file_version is not None:
        body += _bytes(3, file_version.encode())
    if summary_values:
        body += _bytes(5, b"".join(_bytes(1, value) for value in summary_values))
    if session_start:
        body += _bytes(7, _int(1, 1))
    return body


def scalar(tag: str, value: float) -> bytes:
    """Summary.Value: tag = 1, simple_value = 2 (a float32, as TensorBoard keeps scalars)."""
    return _bytes(1, tag.encode()) + _float(2, value)


def histogram(tag: str, values: np.ndarray, bins: int = HISTOGRAM_BINS) -> bytes:
    """Summary.Value: tag = 1, histo = 5; HistogramProto: min 1, max 2, num 3, sum 4, sum_squares 5,
    bucket_limit 6 and bucket 7 (bucket i counts the values from limit i−1 up to limit i)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    low, high, total, squares = tally.extent(values)   # (two passes over a 2.7 MB parameter, where seven were)
    counts, edges = tally.histogram(values, bins, low, high)
    histo = (_double(1, low) + _double(2, high) + _double(3, values.size) + _double(4, total) + _double(5, squares)
             + _packed_doubles(6, edges[1:]) + _packed_doubles(7, counts))
    return _bytes(1, tag.encode()) + _bytes(5, histo)


def image(tag: str, grey: np.ndarray) -> bytes:
    """Summary.Value: tag = 1, image = 4; Summary.Image: height 1, width 2, colorspace 3 (1: grey),
    encoded_image_string 4 (a PNG)."""
    height, width = grey.shape
    picture = _int(1, height) + _int(2, width) + _int(3, 1) + _bytes(4, png(grey))
    return _bytes(1, tag.encode()) + _bytes(4, picture)


def png(grey: np.ndarray) -> bytes:
    """(H, W) uint8 grey levels as an 8-bit greyscale PNG (each row filtered with 'none')."""
    height, width = grey.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = np.hstack([np.zeros((height, 1), np.uint8), np.asarray(grey, np.uint8)])
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes()))
            + chunk(b"IEND", b""))


def kernel_grid(kernels: np.ndarray, zoom: int = 8) -> np.ndarray:
    """(D, C, k, k) kernels as one uint8 picture: each of the D·C kernels `zoom` times larger, in a grid
    of ⌈√(D·C)⌉ columns one pixel apart, grey 128 for 0 and the largest |weight| black or white."""
    flat = np.asarray(kernels, dtype=np.float64).reshape(-1, *kernels.shape[-2:])
    count, k = len(flat), flat.shape[-1]
    scale = np.abs(flat).max()
    levels = np.round(127.5 + 127.5 * flat / scale) if scale > 0 else np.full(flat.shape, 128.0)
    columns = int(np.ceil(np.sqrt(count)))
    rows = -(-count // columns)
    cell = k * zoom + 1
    grid = np.full((rows * cell - 1, columns * cell - 1), 255, dtype=np.uint8)
    for n, kernel in enumerate(levels.astype(np.uint8)):
        top, left = (n // columns) * cell, (n % columns) * cell
        grid[top:top + k * zoom, left:left + k * zoom] = np.kron(kernel, np.ones((zoom, zoom), np.uint8))
    return grid
