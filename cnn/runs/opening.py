"""Opening a recorded run: its settings and its checkpoint, checked, or one line saying why not."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from ..checkpoint import Checkpoint, load_checkpoint
from ..config import RunConfig
from ..files import kind
from ..weights_file import WeightsFileError
from .lock import busy
from .runfile import MAX_EPOCHS, RUN_FILE, RunInfo
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
    _refuse_a_non_folder(folder)
    entry = inspect(folder)
    if entry.status == "running":
        raise RunOpenError(busy(folder, entry.info.pid))
    if entry.reason is not None:
        raise RunOpenError(f"{folder}: {entry.reason}")
    checkpoint = _checkpoint(folder, entry.info, which)
    if which == LAST and os.path.lexists(folder / BEST):
        _checkpoint(folder, entry.info, BEST)   # kept by a continued run: it must be this run's too
    return entry.info, checkpoint


def _refuse_a_non_folder(folder: Path) -> None:
    try:
        mode = os.stat(folder).st_mode
    except (OSError, ValueError):
        mode = None
    if mode is None:
        raise RunOpenError(f"{folder}: no such run folder")
    if not stat.S_ISDIR(mode):
        raise RunOpenError(f"{folder}: is {'a file' if stat.S_ISREG(mode) else kind(mode)}, not a run folder")


def _checkpoint(folder: Path, info: RunInfo, which: str) -> Checkpoint:
    """The run's checkpoint `which`, loaded and checked against run.json."""
    try:
        checkpoint = load_checkpoint(folder / which)
    except WeightsFileError as error:
        raise RunOpenError(f"{folder}: the checkpoint {which} cannot be loaded: "
                           f"{str(error).removeprefix(str(folder / which) + ': ')}") from None
    if checkpoint.config is None:
        raise RunOpenError(f"{folder}: the checkpoint {which} holds no run settings")
    if checkpoint.epoch > MAX_EPOCHS:
        raise RunOpenError(f"{folder}: the checkpoint {which}'s epoch must be a whole number from 0 to {MAX_EPOCHS}, "
                           f"not {checkpoint.epoch}")
    differences = _differences(info, checkpoint, which)
    if differences:
        raise RunOpenError(f"{folder}: the checkpoint {which} is of another network than {RUN_FILE} describes "
                           f"({'; '.join(differences)}); nothing was changed")
    return checkpoint


def _differences(info: RunInfo, checkpoint: Checkpoint, which: str) -> list[str]:
    """How the checkpoint's settings and layers differ from run.json's (its planned epochs may: a
    continued run plans more before its first new checkpoint); [] when they are the same run's."""
    ours, theirs = info.settings.as_dict(), RunConfig.from_dict(checkpoint.config).as_dict()
    differences = [f"{name} {theirs[name]!r} in {which}, {ours[name]!r} in {RUN_FILE}"
                   for name in ours if name != "epochs" and ours[name] != theirs.get(name)]
    if json.loads(json.dumps(checkpoint.network.architecture())) != info.architecture:
        differences.append(f"its layers are not those of {RUN_FILE}")
    return differences[:3]
