"""An .npz written without copying: numpy's own .npy header for each array, then the array's bytes handed
to the file as they lie in memory, in a zip whose headers are made here (members stored, as np.savez
stores them). np.load and zipfile read it as they read np.savez's.

Why not np.savez: it copies each array into a new bytes object while holding Python's GIL, and its zip
writer asks the file where it is and seeks back for every member. A run's checkpoint is written on a
thread of its own while training goes on, and every such step (the copy most: a 2.7 MB parameter's
fresh pages) is time the training thread waits for the GIL. Here a large array's bytes go to the file in
one write, which lets go of the GIL, and so does the CRC of a large array (zlib's)."""
from __future__ import annotations

import io
import struct
import time
import zlib
from typing import BinaryIO

import numpy as np
from numpy.lib import format as npy_format

LOCAL = struct.Struct("<4s2B4HL2L2H")         # zip's local file header (zipfile's structFileHeader)
CENTRAL = struct.Struct("<4s4B4HL2L5H2L")     # its central directory entry (structCentralDir)
END = struct.Struct("<4s4H2LH")               # its end of central directory (structEndArchive)
ZIP_LIMIT = 0xFFFFFFFF                        # sizes and offsets past it need zip64: np.savez writes those
UTF8_NAME = 0x800                             # flag bit 11: the member's name is UTF-8
VERSION = 20                                  # zip 2.0, as zipfile writes stored members


def write(file: BinaryIO, arrays: dict[str, np.ndarray]) -> None:
    """np.savez(file, **arrays) for numeric arrays: member NAME.npy holds arrays[NAME]. A file past
    zip's limits (4 GB, 65,535 members) is left to np.savez (zip64)."""
    members = []
    for name, array in arrays.items():
        array = _contiguous(array)
        in_order = array.T if not array.flags.c_contiguous else array   # Fortran order: its transpose is C's
        members.append((name, _npy_header(array), memoryview(in_order.reshape(-1).view(np.uint8))))
    total = sum(len(header) + data.nbytes + 200 + 2 * len(name) for name, header, data in members)
    if total >= ZIP_LIMIT or len(members) >= 0xFFFF:
        np.savez(file, **arrays)
        return
    when = _dos_time(time.localtime()[:6])
    directory, offset = [], 0   # from the archive's start (zipfile reads an archive after other bytes so)
    for name, header, data in members:
        encoded, flags = _name(name + ".npy")
        crc = zlib.crc32(data, zlib.crc32(header))
        size = len(header) + data.nbytes
        local = LOCAL.pack(b"PK\x03\x04", VERSION, 0, flags, 0, *when, crc, size, size, len(encoded), 0) + encoded
        file.write(local + header)
        file.write(data)
        directory.append(CENTRAL.pack(b"PK\x01\x02", VERSION, 3, VERSION, 0, flags, 0, *when, crc, size, size,
                                      len(encoded), 0, 0, 0, 0, 0o600 << 16, offset) + encoded)
        offset += len(local) + size
    listing = b"".join(directory)
    file.write(listing + END.pack(b"PK\x05\x06", 0, 0, len(directory), len(directory), len(listing),
                                  offset, 0))


def _npy_header(array: np.ndarray) -> bytes:
    """numpy's .npy header for a contiguous array (its order, C or Fortran), in the first version it fits."""
    buffer = io.BytesIO()
    fields = npy_format.header_data_from_array_1_0(array)
    try:
        npy_format.write_array_header_1_0(buffer, fields)
    except ValueError:   # a header over 64 kB (a shape of very many dimensions)
        buffer = io.BytesIO()
        npy_format.write_array_header_2_0(buffer, fields)
    return buffer.getvalue()


def _contiguous(array) -> np.ndarray:
    """The array itself when its bytes lie in C or Fortran order (as np.savez writes them), else a C-ordered copy."""
    array = np.asanyarray(array)
    if array.dtype.hasobject:
        raise ValueError("an array of Python objects has no .npy bytes of its own")
    return array if array.flags.c_contiguous or array.flags.f_contiguous else np.array(array, order="C")


def _name(name: str) -> tuple[bytes, int]:
    """The member's name as zipfile encodes it: ASCII, or UTF-8 with its flag."""
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), UTF8_NAME


def _dos_time(when: tuple[int, ...]) -> tuple[int, int]:
    """(time, date) in MS-DOS's form, as zip keeps them (two-second steps; 1980 at the earliest)."""
    year, month, day, hour, minute, second = when
    year = max(year, 1980)
    return hour << 11 | minute << 5 | second // 2, (year - 1980) << 9 | month << 5 | day
