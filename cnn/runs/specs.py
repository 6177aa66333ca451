"""A moment of a recorded run named as a weights file: RUN_FOLDER@STEP, @first, @last, @best (the epoch's
end with the best test accuracy) or @epochN (the end of epoch N; @epoch0 is the run's start). cnn.weights_file.load
resolves such a name to the moment's file, so every command that takes a weights file takes a moment."""
from __future__ import annotations

import os
import re
from pathlib import Path

from ..weights_file import WeightsFileError
from .moments import Moment, list_moments

SELECTOR = re.compile(r"\d{1,9}|first|last|best|epoch\d{1,6}")
SHOWN_STEPS = 12      # an error lists at most this many of the steps there are


def split_spec(text) -> tuple[Path, str] | None:
    """(run folder, selector) when `text` names a moment: something@selector where no file of that name
    is, and the part before the @ is a folder (or the selector is one). None for any other path."""
    if isinstance(text, os.PathLike):
        text = os.fspath(text)
    if not isinstance(text, str) or "@" not in text or os.path.lexists(text):
        return None
    folder, selector = text.rsplit("@", 1)
    if not folder or not (os.path.isdir(folder) or SELECTOR.fullmatch(selector)):
        return None
    return Path(folder), selector


def resolve(text) -> Path | None:
    """The file of the moment `text` names, or None when `text` is no moment's name (a plain path).
    Raises WeightsFileError, one line naming `text`, when the run has no such moment or it is damaged."""
    parts = split_spec(text)
    if parts is None:
        return None
    return find(*parts, shown=str(text)).path


def find(folder: Path, selector: str, shown: str | None = None) -> Moment:
    """The run's moment `selector` names (see the module's doc)."""
    shown = shown or f"{folder}@{selector}"

    def fail(problem):
        return WeightsFileError(f"{shown}: {problem}")
    if not folder.is_dir():
        raise fail("no such run folder" if not os.path.lexists(folder) else "not a run folder")
    if not SELECTOR.fullmatch(selector):
        raise fail(f"after the @ comes a step (17), first, last, best or epochN (epoch3), not {selector[:40]!r}")
    moments, damaged = list_moments(folder)
    if not moments:
        why = f" ({damaged[0].name}: {damaged[0].reason})" if damaged else ""
        raise fail(f"the run keeps no moments{why}")
    if selector in ("first", "last"):
        return moments[0] if selector == "first" else moments[-1]
    if selector == "best":
        measured = [moment for moment in moments if moment.test_accuracy is not None]
        if not measured:
            raise fail("no moment of the run has a test accuracy yet (they are measured at the end of each epoch)")
        return max(measured, key=lambda moment: (moment.test_accuracy, -moment.step))
    step = int(selector) if selector.isdigit() else int(selector[5:]) * moments[0].steps_per_epoch
    for moment in moments:
        if moment.step == step:
            return moment
    for item in damaged:
        if item.name == f"step-{step:09d}.npz":
            raise fail(f"the moment at step {step} is damaged: {item.reason}")
    where = f"the end of epoch {selector[5:]} (step {step})" if selector.startswith("epoch") else f"step {step}"
    return _missing(fail, where, moments)


def _missing(fail, where: str, moments: list[Moment]):
    steps = [str(moment.step) for moment in moments]
    listed = ", ".join(steps[:SHOWN_STEPS]) + (f", … {steps[-1]}" if len(steps) > SHOWN_STEPS else "")
    raise fail(f"no moment at {where}; the moments are at step{'s' if len(steps) > 1 else ''} {listed}")
