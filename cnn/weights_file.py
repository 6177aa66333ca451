"""Weights files: one .npz holding every parameter by name ('0.kernels') and every buffer
('1.running_mean': running statistics, dropout's generator), plus a JSON header with the
architecture, dtype and format version. Loading never unpickles and never returns a
half-loaded network; saving is atomic."""
from __future__ import annotations

import json
import math
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import atomic, files, jsonfile, npy, npz
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
         state: dict[str, np.ndarray] | None = None, sync: bool = True, follow_links: bool = True) -> Path:
    """Write the network to `path` (.npz) atomically, by the rules of cnn.atomic (a symlink is
    written through, a replaced file keeps its mode, a path that is not a regular file is
    refused). Returns the file written; raises atomic.WriteError naming the path and the reason,
    or atomic.WriteInterrupted on Ctrl-C, and then the previous file is as it was.

    A checkpoint adds `extra_header` entries to the JSON header and `state` arrays (stored under
    STATE_PREFIX); the file still loads as plain weights. sync, follow_links: as atomic.write_atomically's."""
    return atomic.write_atomically(path, _writer(network, extra_header, state), sync=sync, follow_links=follow_links)


def save_later(network: Network, path, *, extra_header: dict | None = None,
               state: dict[str, np.ndarray] | None = None, sync: bool = True,
               follow_links: bool = True) -> Callable[[], Path]:
    """save() in two halves: the network's arrays are copied now (`state`'s are taken as they are: the
    caller's own copies), and the call returned writes them, on any thread, while training goes on."""
    write = _writer(network, extra_header, state, copied=True)
    return lambda: atomic.write_atomically(path, write, sync=sync, follow_links=follow_links)


def check_save_target(path) -> Path:
    """Raises atomic.WriteError now, before a long training, if `path` could not be saved to."""
    return atomic.writable_target(path)


@dataclass(frozen=True)
class Rescued:
    """A save that could not go where it was asked, and went to `path` instead."""
    intended: str
    reason: str
    path: Path

    def __str__(self) -> str:
        return f"could not save the weights to {self.intended} ({self.reason}); they were saved to {self.path}"


def save_or_rescue(network: Network, path) -> Rescued | None:
    """save(); if that fails, the weights go to a new file in the temp folder (or the home folder)
    so that a finished training is never lost. Returns None, or where they went and why; raises
    atomic.WriteError only if no folder at all could take them."""
    try:
        save(network, path)
        return None
    except atomic.WriteError as error:
        failure = error
    except Exception as error:    # whatever else went wrong, a finished training is not lost to it
        failure = atomic.WriteError(path, str(error) or type(error).__name__)
    stem = Path(os.fspath(path)).stem or "weights"
    for folder in atomic.rescue_folders():
        try:
            written = atomic.write_new(folder, f"cnn-weights-{stem}-", ".npz", _writer(network))
        except KeyboardInterrupt:
            raise atomic.WriteInterrupted(path) from None
        except OSError:
            continue
        return Rescued(failure.path, failure.reason, written)
    raise atomic.WriteError(path, f"{failure.reason}; no temporary or home folder could take a copy either")


def _writer(network: Network, extra_header: dict | None = None, state: dict[str, np.ndarray] | None = None,
            copied: bool = False):
    header = {**(extra_header or {}), "format": FORMAT, "version": VERSION, "dtype": network.dtype.name,
              "architecture": network.architecture()}
    own = {**network.params, **network.buffers}
    arrays = {HEADER_KEY: np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
              **({name: value.copy() for name, value in own.items()} if copied else own),
              **{STATE_PREFIX + name: value for name, value in (state or {}).items()}}
    return lambda file: npz.write(file, arrays)


def load(path) -> Network:
    """Rebuild the network saved in `path`, or raise WeightsFileError and change nothing. `path` may name
    a moment of a recorded run (RUN_FOLDER@STEP, @first, @last, @best, @epochN: cnn.runs.specs)."""
    from .runs.specs import resolve   # (cnn.runs reads weights files with this module)
    path = resolve(path) or path
    def fail(problem):
        return WeightsFileError(f"{files.shown(path)}: {problem}")
    try:
        with files.open_regular(path, fail) as file:
            _check_zip(file, fail)
            with zipfile.ZipFile(file) as archive:
                network, values = _read_network(archive, fail)
    except WeightsFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, zlib.error, NotImplementedError,
            RuntimeError) as error:  # the last three: corrupt deflate data, unknown compression, encryption
        raise fail(f"not a readable weights archive ({_damage(error)})") from None
    except (ValueError, KeyError, TypeError) as error:
        raise fail(f"corrupt archive ({error})") from None
    network.set_params({name: values[name] for name in network.params})
    network.set_buffers({name: values[name] for name in network.buffers})
    return network


EXPECTED = "expected an .npz saved by cnn-train or the studio"


def _check_zip(file, fail) -> None:
    """Raises fail(…) in the project's words when `file` is empty or no zip archive (cnn.mnist_files' wording)."""
    if os.fstat(file.fileno()).st_size == 0:
        raise fail(f"the file is empty; {EXPECTED}")
    if not zipfile.is_zipfile(file):
        file.seek(0)
        if file.read(2) == b"PK":
            raise fail("not a readable weights archive (a truncated or damaged zip: its directory is missing)")
        raise fail(f"not a weights file (not a zip archive); {EXPECTED}")
    file.seek(0)


def _damage(error: Exception) -> str:
    """What is wrong with an archive whose directory read, in words (zipfile's own detail kept)."""
    if isinstance(error, zlib.error):
        return "its compressed data is damaged"
    if isinstance(error, NotImplementedError):
        return f"a zip compression this program does not read: {error}"
    if isinstance(error, RecursionError):
        return "nested too deeply to read"
    if isinstance(error, RuntimeError):
        return f"an encrypted zip: {error}"
    if isinstance(error, EOFError):
        return "a truncated zip member"
    if isinstance(error, OSError) and not isinstance(error, zipfile.BadZipFile) and error.strerror:
        return error.strerror
    return f"a damaged zip: {error}"


def _read_network(archive: zipfile.ZipFile, fail) -> tuple[Network, dict[str, np.ndarray]]:
    """The network an archive's header describes and the values of its parameters, each checked."""
    members = {name[:-4] if name.endswith(".npy") else name: name for name in archive.namelist()}
    if HEADER_KEY not in members:
        raise fail("not a CNN Studio weights file (no header)")
    header = _read_header(archive, members[HEADER_KEY], fail)
    network = _build(header, fail)
    expected = {**network.params, **network.buffers}
    state = {name for name in members if name.startswith(STATE_PREFIX)}
    missing = sorted(set(expected) - set(members))
    extra = sorted(set(members) - set(expected) - {HEADER_KEY} - state)
    if missing or extra:
        raise fail(f"the arrays do not match the architecture: missing {missing}, unexpected {extra}")
    values = {name: _read_array(archive, members[name], expected[name], fail) for name in expected}
    for name, value in values.items():
        if name.endswith(".running_var") and (value < 0).any():
            raise fail(f"{name} holds a negative variance")
    return network, values


def _read_header(archive, member, fail) -> dict:
    with archive.open(member) as file:
        array = _read_npy(file, member, fail, max_items=MAX_HEADER_BYTES, dtype=np.dtype(np.uint8))
    header = jsonfile.parse(array.tobytes(), "the header", fail)   # bounded depth, huge integers caught
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise fail("the header does not describe a CNN Studio weights file")
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise fail(f"the header's version must be an integer, not {_shown(version)}")
    if version > VERSION:
        raise fail(f"format version {_shown(version)} is newer than this program reads (up to {VERSION}); "
                   "update CNN Studio")
    if version < 1:
        raise fail(f"unknown format version {_shown(version)}")
    return header


def _shown(value) -> str:
    """repr(value), cut: a header's 4,000-digit number or 1 MB string in a one-line message."""
    return _cut(repr(value), 40)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _build(header: dict, fail) -> Network:
    dtype, architecture = header.get("dtype"), header.get("architecture")
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise fail(f"the header's dtype must be one of {sorted(DTYPES)}, not {_shown(dtype)}")
    if not isinstance(architecture, list) or not architecture:
        raise fail("the header's architecture must be a non-empty list of layers")
    for index, spec in enumerate(architecture):
        known = isinstance(spec, dict) and spec.get("type") in LAYER_TYPES
        if not known or not isinstance(spec.get("args", {}), dict):
            raise fail(f"layer {index} of the architecture is not a known layer: {str(spec)[:80]}")
    total = _declared_parameters(architecture)
    if total > MAX_PARAMETERS:
        shown = f"{total:,}" if total < 10**18 else "over 10^18"
        raise fail(f"the architecture declares {shown} parameters, more than the {MAX_PARAMETERS:,} allowed")
    try:
        return Network.from_architecture(architecture, dtype=dtype)
    except (ValueError, TypeError) as error:
        raise fail(f"the architecture is invalid ({_cut(str(error), 200)})") from None


def _declared_parameters(architecture: list) -> int:
    """Parameter count from the JSON alone, so absurd sizes are caught before allocation."""
    def size(values):
        if not isinstance(values, (list, tuple)) or not all(isinstance(v, int) and v > 0 for v in values):
            return 0
        return math.prod(values)  # Python integers: no overflow however absurd the sizes
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
    """One .npy member, its header checked before anything is allocated (cnn.npy)."""
    try:
        return npy.read_npy(file, dtype, max_items)
    except npy.NpyError as error:
        raise fail(f"{member[:-4]} {error}") from None
