"""Weights files: one .npz holding every parameter by name ('0.kernels'), plus a JSON header
with the architecture, dtype and format version. Loading never unpickles and never returns a
half-loaded network; saving is atomic."""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .layer import DTYPES
from .network import LAYER_TYPES, Network

FORMAT = "cnn-studio-weights"
VERSION = 1
HEADER_KEY = "__header__"
MAX_PARAMETERS = 50_000_000   # a file declaring more is rejected before anything is allocated
MAX_HEADER_BYTES = 1 << 20
STATE_PREFIX = "state/"       # members under this prefix are not parameters (a checkpoint's); load skips them


class WeightsFileError(ValueError):
    """A weights file that cannot be loaded; the message names the file and the problem."""


def save(network: Network, path, *, extra_header: dict | None = None,
         state: dict[str, np.ndarray] | None = None) -> None:
    """Write the network to `path` (.npz) atomically: a temporary file beside it, then a rename.

    A process killed while saving leaves the previous file intact, and its temporary file
    (named after its process id) is removed by the next save to the same path. A checkpoint adds
    `extra_header` entries to the JSON header and `state` arrays (stored under STATE_PREFIX); the
    file still loads as plain weights.
    """
    path = Path(path)
    header = {**(extra_header or {}), "format": FORMAT, "version": VERSION, "dtype": network.dtype.name,
              "architecture": network.architecture()}
    arrays = {HEADER_KEY: np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **network.params,
              **{STATE_PREFIX + name: value for name, value in (state or {}).items()}}
    _remove_orphans(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                                             dir=path.parent or ".")
    try:
        with os.fdopen(descriptor, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _remove_orphans(path: Path) -> None:
    """Temporary files of earlier saves to `path` whose process no longer runs."""
    for orphan in path.parent.glob(f".{path.name}.*.tmp"):
        pid = orphan.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            orphan.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, but another user's
    return True


def load(path) -> Network:
    """Rebuild the network saved in `path`, or raise WeightsFileError and change nothing."""
    path = Path(path)
    def fail(problem):
        return WeightsFileError(f"{path}: {problem}")
    if not path.is_file():
        raise fail("no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            members = {name[:-4] if name.endswith(".npy") else name: name for name in archive.namelist()}
            if HEADER_KEY not in members:
                raise fail("not a CNN Studio weights file (no header)")
            header = _read_header(archive, members[HEADER_KEY], fail)
            network = _build(header, fail)
            expected = network.params
            state = {name for name in members if name.startswith(STATE_PREFIX)}
            missing = sorted(set(expected) - set(members))
            extra = sorted(set(members) - set(expected) - {HEADER_KEY} - state)
            if missing or extra:
                raise fail(f"the arrays do not match the architecture: missing {missing}, unexpected {extra}")
            values = {name: _read_array(archive, members[name], expected[name], fail) for name in expected}
    except WeightsFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
        raise fail(f"not a readable weights archive ({error})") from None
    except (ValueError, KeyError, TypeError) as error:
        raise fail(f"corrupt archive ({error})") from None
    network.set_params(values)
    return network


def _read_header(archive, member, fail) -> dict:
    with archive.open(member) as file:
        array = _read_npy(file, member, fail, max_items=MAX_HEADER_BYTES, dtype=np.dtype(np.uint8))
    try:
        header = json.loads(array.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise fail(f"the header is not valid JSON ({error})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise fail("the header does not describe a CNN Studio weights file")
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise fail(f"the header's version must be an integer, not {version!r}")
    if version > VERSION:
        raise fail(f"format version {version} is newer than this program reads (up to {VERSION}); update CNN Studio")
    if version < 1:
        raise fail(f"unknown format version {version}")
    return header


def _build(header: dict, fail) -> Network:
    dtype, architecture = header.get("dtype"), header.get("architecture")
    if dtype not in DTYPES:
        raise fail(f"the header's dtype must be one of {sorted(DTYPES)}, not {dtype!r}")
    if not isinstance(architecture, list) or not architecture:
        raise fail("the header's architecture must be a non-empty list of layers")
    for index, spec in enumerate(architecture):
        if not isinstance(spec, dict) or spec.get("type") not in LAYER_TYPES or not isinstance(spec.get("args", {}), dict):
            raise fail(f"layer {index} of the architecture is not a known layer: {str(spec)[:80]}")
    total = _declared_parameters(architecture)
    if total > MAX_PARAMETERS:
        raise fail(f"the architecture declares {total:,} parameters, more than the {MAX_PARAMETERS:,} allowed")
    try:
        return Network.from_architecture(architecture, dtype=dtype)
    except (ValueError, TypeError) as error:
        raise fail(f"the architecture is invalid ({error})") from None


def _declared_parameters(architecture: list) -> int:
    """Parameter count from the JSON alone, so absurd sizes are caught before allocation."""
    def size(values):
        if not isinstance(values, (list, tuple)) or not all(isinstance(v, int) and v > 0 for v in values):
            return 0
        return int(np.prod([float(v) for v in values]))  # float: no integer overflow for absurd sizes
    total = 0
    for spec in architecture:
        args = spec.get("args", {})
        if spec["type"] == "Dense":
            total += size([args.get("input_size"), args.get("output_size")])
        elif spec["type"] == "Convolutional":
            shape = args.get("input_shape")
            total += size([args.get("depth"), args.get("kernel_size"), args.get("kernel_size")] +
                          ([shape[0]] if isinstance(shape, list) and shape else [0]))
            total += size([args.get("depth")] + (list(shape[1:]) if isinstance(shape, list) else [0]))
    return total


def _read_array(archive, member, expected: np.ndarray, fail) -> np.ndarray:
    with archive.open(member) as file:
        array = _read_npy(file, member, fail, max_items=expected.size, dtype=expected.dtype)
    name = member[:-4]
    if array.shape != expected.shape:
        raise fail(f"{name} has shape {array.shape}, the architecture needs {expected.shape}")
    if not np.isfinite(array).all():
        raise fail(f"{name} holds non-finite values (NaN or infinity)")
    return array


def _read_npy(file, member, fail, max_items: int, dtype: np.dtype) -> np.ndarray:
    """Reads one .npy member after checking its declared dtype and size: never pickles,
    never allocates more than max_items values."""
    try:
        version = np.lib.format.read_magic(file)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            raise ValueError(f"unsupported .npy version {version}")
        shape, fortran_order, stored = read_header(file)
    except ValueError as error:
        raise fail(f"{member} is not a valid .npy array ({error})") from None
    if stored != dtype:
        raise fail(f"{member[:-4]} has dtype {stored}, expected {dtype}")
    count = int(np.prod([float(s) for s in shape]))
    if count > max_items:
        raise fail(f"{member[:-4]} declares shape {shape}, larger than expected ({max_items} values)")
    data = file.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise fail(f"{member[:-4]} is truncated")
    # Read-only over the bytes read; Network.set_params copies it into the network.
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")
