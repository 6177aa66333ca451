"""Moments: the weights of a run at chosen steps, kept so that any point of training can be looked at
again or used as a weights file (time travel). A run folder keeps them in `moments/`, one weights file
per moment (cnn.weights_file's format, the run's dtype, bit for bit), named by the step it was taken after:

    moments/step-000000000.npz   before any update
    moments/step-000000001.npz   after the first update; then 2, 4, 8, … while the first epoch lasts
    moments/step-000000200.npz   at the end of every epoch (here: 200 steps an epoch), and where it stopped

The file name is the index: a listing reads each file's header only (the zip's directory and a few
hundred bytes), never its arrays. The header's "moment" entry says where the moment is (step, epoch,
steps per epoch) and, at an epoch's end, the test loss and accuracy measured there. Each file is written
atomically, never through a symbolic link, without fsync (the recorder syncs the run now and then, as it
does its checkpoints); a full disk raises an OSError naming the file, which ends the recording as a
checkpoint that cannot be written does. A damaged or foreign file is listed with its reason and never
stops the other moments, or the run, from opening.
"""
from __future__ import annotations

import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import files, weights_file
from ..network import Network

MOMENTS = "moments"                       # the run folder's sub-folder of moments
NAME = re.compile(r"step-(\d{9})\.npz")   # a moment's file name: its step, 9 digits
MOMENT_KEY = "moment"                     # the header's entry: {"step", "epoch", "steps_per_epoch", ...}
MAX_MOMENTS = 100_000                     # a listing looks at no more files than this


@dataclass(frozen=True)
class Moment:
    step: int                        # updates taken before it (0: the untrained network)
    steps_per_epoch: int
    path: Path
    test_accuracy: float | None = None   # measured there (at an epoch's end), else None
    test_loss: float | None = None

    @property
    def epoch(self) -> float:
        """Where it falls on an axis of epochs: 1 at the end of the first epoch, 0.5 half-way through it."""
        return self.step / self.steps_per_epoch

    @property
    def epoch_end(self) -> int | None:
        """The epoch it ends (1-based), or None inside an epoch (and at step 0)."""
        whole, within = divmod(self.step, self.steps_per_epoch)
        return whole if within == 0 and whole > 0 else None


@dataclass(frozen=True)
class Damaged:
    name: str        # the file's name in moments/
    reason: str


def file_name(step: int) -> str:
    return f"step-{step:09d}.npz"


def is_early(step: int, steps_per_epoch: int) -> bool:
    """Whether a step inside the first epoch is one whose moment is kept: 1, 2, 4, 8, …"""
    return 0 < step < steps_per_epoch and step & (step - 1) == 0


def folder_problem(run_folder: Path) -> str | None:
    """What is wrong with the run's moments folder for writing: a link (a write would follow it out of the
    run) or something that is not a folder. None when it is a folder or absent. Never opens anything."""
    return _problem(_mode(run_folder))


def _mode(run_folder: Path) -> int | None:
    """The moments folder's own mode (a link's, not its target's); None when it is absent."""
    try:
        return os.lstat(Path(run_folder) / MOMENTS).st_mode
    except FileNotFoundError:
        return None


def _problem(mode: int | None) -> str | None:
    if mode is None:
        return None
    if stat.S_ISLNK(mode):
        return f"{MOMENTS} is a symbolic link; a run folder's files must be its own"
    if not stat.S_ISDIR(mode):
        return f"{MOMENTS} is {'a file' if stat.S_ISREG(mode) else files.kind(mode)}, not a folder"
    return None


def write_moment(run_folder: Path, network: Network, step: int, steps_per_epoch: int,
                 test_loss: float | None = None, test_accuracy: float | None = None) -> Path:
    """The network's weights as the moment at `step`, written atomically (replacing one at that step)."""
    return moment_later(run_folder, network, step, steps_per_epoch, test_loss, test_accuracy)()


def moment_later(run_folder: Path, network: Network, step: int, steps_per_epoch: int,
                 test_loss: float | None = None, test_accuracy: float | None = None) -> Callable[[], Path]:
    """write_moment() in two halves: the weights are copied now, and written by the call returned
    (cnn.weights_file.save_later)."""
    return weights_file.save_later(network, _folder(run_folder) / file_name(step),
                                   extra_header=header_entry(step, steps_per_epoch, test_loss, test_accuracy),
                                   sync=False, follow_links=False)


def header_entry(step: int, steps_per_epoch: int, test_loss: float | None = None,
                 test_accuracy: float | None = None) -> dict:
    """What a moment's header says of it (a checkpoint that is also the moment carries it too)."""
    entry = {"step": step, "steps_per_epoch": steps_per_epoch}
    if test_accuracy is not None and test_accuracy == test_accuracy:
        entry.update(test_loss=float(test_loss), test_accuracy=float(test_accuracy))
    return {MOMENT_KEY: entry}


def share_moment(run_folder: Path, checkpoint: Path, step: int) -> Path:
    """The moment at `step` as the same file as `checkpoint` (written with header_entry): a hard link,
    made atomically (a copy where links cannot be made). The checkpoint is only ever replaced by a
    rename, never written in place, so the moment keeps these weights. No second 2.7 MB write."""
    target = _folder(run_folder) / file_name(step)
    files.link_or_copy(checkpoint, target)
    return target


def _folder(run_folder: Path) -> Path:
    """The run's moments folder, made if missing; refused if it is not the run's own folder."""
    folder, mode = Path(run_folder) / MOMENTS, _mode(run_folder)
    problem = _problem(mode)
    if problem is not None:
        raise OSError(f"{run_folder}: {problem}")
    try:
        if mode is None:   # (absent only at the first moment: no mkdir and its stat at every epoch)
            folder.mkdir(exist_ok=True)
    except OSError as error:
        raise OSError(f"{folder}: the moments folder cannot be made ({error.strerror or error})") from None
    return folder


def list_moments(run_folder: Path) -> tuple[list[Moment], list[Damaged]]:
    """The run's moments, by step, and the files in moments/ that are not readable moments with the reason
    of each. Never raises: a missing folder has no moments; one that cannot be read is one damaged entry."""
    folder = Path(run_folder) / MOMENTS
    problem = folder_problem(run_folder)
    if problem is not None:
        return [], [Damaged(MOMENTS, problem)]
    try:
        with os.scandir(folder) as entries:
            names = sorted(entry.name for _, entry in zip(range(MAX_MOMENTS), entries, strict=False))
    except FileNotFoundError:
        return [], []
    except OSError as error:
        return [], [Damaged(MOMENTS, f"cannot be read ({error.strerror or error})")]
    moments, damaged = [], []
    for name in names:
        if name.startswith("."):
            continue       # a write cut short (its temporary file): the next write to that moment removes it
        match = NAME.fullmatch(name)
        if match is None:
            damaged.append(Damaged(name, "not a moment's file name (step-NNNNNNNNN.npz)"))
            continue
        try:
            found = os.lstat(folder / name)
            if stat.S_ISLNK(found.st_mode):
                raise OSError("is a symbolic link; a run folder's files must be its own")
            moments.append(_read_known(folder / name, int(match.group(1)), found))
        except (weights_file.WeightsFileError, OSError, ValueError) as error:
            damaged.append(Damaged(name, str(error).removeprefix(f"{folder / name}: ")))
    return moments, damaged


_known: dict[tuple, Moment] = {}   # (path, inode, size, mtime) → its moment: a file listed again is not read again
KNOWN_AT_MOST = 4096


def _read_known(path: Path, step: int, found: os.stat_result) -> Moment:
    """_read_moment, once per version of the file (the studio lists a run's moments after every epoch)."""
    key = (str(path), found.st_ino, found.st_size, found.st_mtime_ns)
    if key not in _known:
        if len(_known) >= KNOWN_AT_MOST:
            _known.clear()
        _known[key] = _read_moment(path, step)
    return _known[key]


def _read_moment(path: Path, step: int) -> Moment:
    """The moment's header, checked: it must say the step its name says."""
    def fail(problem):
        return weights_file.WeightsFileError(f"{path}: {problem}")
    try:
        with files.open_regular(path, fail) as file:
            weights_file._check_zip(file, fail)
            with zipfile.ZipFile(file) as archive:
                members = {name[:-4] if name.endswith(".npy") else name: name for name in archive.namelist()}
                if weights_file.HEADER_KEY not in members:
                    raise fail("not a CNN Studio weights file (no header)")
                header = weights_file._read_header(archive, members[weights_file.HEADER_KEY], fail)
    except weights_file.WeightsFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError) as error:
        raise fail(f"not a readable weights archive ({weights_file._damage(error)})") from None
    entry = header.get(MOMENT_KEY)
    if not isinstance(entry, dict):
        raise fail("a weights file, not a moment (its header says no step)")
    spe = entry.get("steps_per_epoch")
    if entry.get("step") != step or not _whole(entry.get("step")) or not _whole(spe) or spe < 1:
        raise fail(f"its header's step {str(entry.get('step'))[:20]} or steps per epoch {str(spe)[:20]} "
                   f"do not fit its name (step {step})")
    accuracy, loss = entry.get("test_accuracy"), entry.get("test_loss")
    if accuracy is not None and not (_number(accuracy) and 0 <= accuracy <= 1 and _number(loss)):
        raise fail(f"its header's test accuracy {str(accuracy)[:20]} is not a fraction from 0 to 1")
    return Moment(step, spe, path, accuracy, loss)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def prune_for_resume(run_folder: Path, step: int, steps_per_epoch: int) -> None:
    """A continued run repeats what came after its checkpoint at `step`: the moments after it go (damaged
    files too; a link is removed itself), and so do those of earlier stops inside an epoch, the checkpoint's
    own included. The run then keeps the moments an uninterrupted run keeps, the same bit for bit, and a run
    stopped and continued many times does not grow by a moment each time."""
    folder = Path(run_folder) / MOMENTS
    if folder_problem(run_folder) is not None or not folder.is_dir():
        return
    paths = sorted(path for path in folder.iterdir() if NAME.fullmatch(path.name))
    for index, path in enumerate(paths):
        taken = int(NAME.fullmatch(path.name).group(1))
        kept = taken % steps_per_epoch == 0 or is_early(taken, steps_per_epoch) or index == 0   # the run's start
        if (taken > step or not kept) and not stat.S_ISDIR(os.lstat(path).st_mode):
            path.unlink(missing_ok=True)


def remove_all(run_folder: Path) -> list[str]:
    """Deleting the run: its moments' files (a link is removed itself), then the folder if it is empty.
    Returns the names left in it (files that are not the run's)."""
    folder = Path(run_folder) / MOMENTS
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        return []
    if not stat.S_ISDIR(mode):
        folder.unlink()
        return []
    for path in folder.iterdir():
        if (NAME.fullmatch(path.name) or path.name.startswith(".step-")) and not path.is_dir():
            path.unlink(missing_ok=True)
    left = sorted(path.name for path in folder.iterdir())
    if not left:
        folder.rmdir()
    return left
