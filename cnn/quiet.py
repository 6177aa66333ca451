"""Lines that C libraries (TensorFlow's logging, its converters) write straight to file descriptor 2 while a
call runs, kept from the terminal: sys.stderr never sees them, so the descriptor itself points at a
temporary file meanwhile, and afterwards the lines `keep` accepts are written back, in order."""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from typing import Callable

REPLAYED = 1 << 20       # at most this many bytes are read back (memory bounded)


@contextlib.contextmanager
def stderr_filtered(keep: Callable[[bytes], bool] = lambda line: False):
    """Descriptor 2 captured inside the block; the lines `keep` accepts (none by default) reach it after."""
    try:
        capture = tempfile.TemporaryFile()
    except OSError:                 # nowhere to capture: nothing is kept from the terminal
        yield
        return
    with capture:
        try:
            saved = _flushed_dup()
        except OSError:             # no descriptor 2
            yield
            return
        try:
            os.dup2(capture.fileno(), 2)
            yield
        finally:
            _flushed_dup(restore=saved)
            capture.seek(0)
            kept = b"".join(line for line in capture.read(REPLAYED).splitlines(keepends=True) if keep(line))
            with contextlib.suppress(OSError):      # a closed terminal or pipe: nothing to tell
                _write_all(saved, kept)
            os.close(saved)


def _flushed_dup(restore: int | None = None) -> int:
    """sys.stderr flushed (its buffered text belongs where it was written), then fd 2 saved or restored."""
    if sys.stderr is not None:
        sys.stderr.flush()
    if restore is None:
        return os.dup(2)
    os.dup2(restore, 2)
    return restore


def _write_all(descriptor: int, data: bytes) -> None:
    while data:
        data = data[os.write(descriptor, data):]
