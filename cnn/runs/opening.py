"""Opening a recorded run: its settings and its checkpoint, checked, or one line saying why not."""
from __future__ import annotations

from pathlib import Path

from ..checkpoint import Checkpoint, load_checkpoint
from ..io import WeightsFileError
from .runfile import RunInfo
from .store import BEST, LAST, inspect

BUNDLED = "bundled MNIST"   # the data source of a run on the MNIST copy shipped with the program


class RunOpenError(ValueError):
    """A run that cannot be opened; the message names the folder and the reason."""


def data_path(info: RunInfo) -> str | None:
    """The run's data as load_mnist takes it: None for the bundled copy, else its path."""
    return None if info.data == BUNDLED else info.data


def open_run(folder, which: str = LAST) -> tuple[RunInfo, Checkpoint]:
    """The run's description and its `last` (or `best`) checkpoint, every part checked."""
    folder = Path(folder)
    if which not in (LAST, BEST):
        raise ValueError(f"which checkpoint: {LAST!r} or {BEST!r}, not {which!r}")
    if not folder.is_dir():
        raise RunOpenError(f"{folder}: no such run folder")
    entry = inspect(folder)
    if entry.status == "running":
        raise RunOpenError(f"{folder}: the run is being recorded by another process")
    if entry.reason is not None:
        raise RunOpenError(f"{folder}: {entry.reason}")
    try:
        checkpoint = load_checkpoint(folder / which)
    except WeightsFileError as error:
        raise RunOpenError(f"{folder}: the checkpoint {which} cannot be loaded: "
                           f"{str(error).removeprefix(str(folder / which) + ': ')}") from None
    if checkpoint.config is None:
        raise RunOpenError(f"{folder}: the checkpoint {which} holds no run settings")
    return entry.info, checkpoint
