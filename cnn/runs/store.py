"""A folder of runs: list them (never raising: a damaged run is listed with its reason), make a
new one, rename, delete, export. Each run is a folder:

    run.json        what the run is and where it stands (cnn.runs.runfile)
    metrics.jsonl   per-step and per-epoch measurements, append-only (cnn.runs.metrics)
    last.npz        checkpoint after the newest finished epoch (weights + optimizer state)
    best.npz        checkpoint after the epoch with the best test accuracy
    moments/        the weights at chosen steps (cnn.runs.moments)
    .lock           held by the recording process while it runs (cnn.runs.lock)
    events.out.tfevents.*   TensorBoard's view of it (cnn.runs.board)
"""
from __future__ import annotations

import os
import re
import stat
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..files import kind, open_regular
from .lock import LOCK_FILE, is_live
from .metrics import METRICS_FILE
from .moments import MOMENTS, remove_all
from .runfile import OWN_FILES, RUN_FILE, RunFile, RunFileError, RunInfo, read_info

LAST, BEST = "last.npz", "best.npz"
OURS = (RUN_FILE, METRICS_FILE, LAST, BEST, LOCK_FILE)   # what delete may remove
MAX_RUNS = 10_000                                        # a listing looks at no more folders than this


@dataclass(frozen=True)
class RunEntry:
    """One folder of the store as the list shows it."""
    path: Path
    info: RunInfo | None     # None when run.json cannot be read
    status: str              # running, finished, interrupted, or "unreadable"
    reason: str | None       # why the run cannot be opened; None when it can

    @property
    def openable(self) -> bool:
        return self.reason is None and self.status != "running"

    @property
    def name(self) -> str:
        return self.info.name if self.info else self.path.name


def inspect(folder: Path) -> RunEntry:
    """The folder as a run, or with the reason it is not one. Never raises."""
    folder = Path(folder)
    try:
        problem = member_problem(folder)
        if problem is not None:
            return RunEntry(folder, None, "unreadable", problem)
        if not os.path.lexists(folder / RUN_FILE):
            return RunEntry(folder, None, "unreadable", _without_run_file(folder))
        info = read_info(folder)
    except RunFileError as error:
        return RunEntry(folder, None, "unreadable", str(error))
    except (OSError, ValueError) as error:
        return RunEntry(folder, None, "unreadable", f"{RUN_FILE} cannot be read ({error})")
    try:
        status = info.status
        if status == "running" and not is_live(folder, info.pid, info.host):
            status = "interrupted"        # its process is gone (killed, crashed, powered off)
        reason = checkpoint_problem(folder / LAST) if status != "running" else None
        if reason and info.epochs_done == 0 and not (folder / LAST).exists():
            reason = "no checkpoint: it stopped before its first epoch ended"
        return RunEntry(folder, info, status, reason)
    except Exception as error:  # a listing never raises: whatever went wrong is the reason
        return RunEntry(folder, info, "unreadable", f"cannot be read ({error})")


def member_problem(folder: Path) -> str | None:
    """The first of the run's own files that is a symbolic link (a write would follow it out of the
    folder) or not a regular file (opening a FIFO would hang): its name and what it is. Never opens."""
    for name in (*OURS, *(path.name for path in _temporary_files(folder))):
        try:
            mode = os.lstat(folder / name).st_mode
        except FileNotFoundError:
            continue
        shown = f"the checkpoint {name}" if name in (LAST, BEST) else name
        if stat.S_ISLNK(mode):
            return f"{shown} {OWN_FILES}"
        if not stat.S_ISREG(mode):
            return f"{shown} is {kind(mode)}, not a file"
    return None


_TEMPORARY_PREFIXES = tuple(f".{name}." for name in OURS)


def _temporary_files(folder: Path) -> list[Path]:
    """Temporary files of writes cut short (.run.json.<pid>.<random>.tmp and the like): of the run's own files
    only (a folder such as .cache.tmp, which no write of a run makes, stopped the run being continued)."""
    return [path for path in Path(folder).glob(".*.tmp") if path.name.startswith(_TEMPORARY_PREFIXES)]


def _event_files(folder: Path) -> list[Path]:
    """The TensorBoard event files a recording wrote (cnn.runs.board)."""
    return list(Path(folder).glob("events.out.tfevents.*"))


def _without_run_file(folder: Path) -> str:
    """Why a folder without run.json is not a run: it never was one, its recording was killed before
    it wrote run.json (the first thing a run writes, after its empty metrics file), or it lost it."""
    if not any(os.path.lexists(folder / name) for name in (METRICS_FILE, LAST, BEST)):
        return f"not a run folder (no {RUN_FILE})"
    metrics = folder / METRICS_FILE
    untrained = not metrics.exists() or metrics.stat().st_size == 0
    if untrained and not (folder / BEST).exists() and any(
            path.name.startswith(f".{RUN_FILE}.") for path in _temporary_files(folder)):
        return f"it stopped before its first step (before its {RUN_FILE} was written): nothing was trained"
    return f"{RUN_FILE} is missing"


def checkpoint_problem(path: Path) -> str | None:
    """A quick look (the zip's directory, not its arrays): what is wrong with a checkpoint, if anything.
    Opening the run loads it in full and reports anything this look misses."""
    if not path.exists():
        return f"the checkpoint {path.name} is missing"
    try:
        with open_regular(path, lambda problem: OSError(problem)) as file, zipfile.ZipFile(file) as archive:
            if not archive.namelist():
                return f"the checkpoint {path.name} is empty"
    except OSError as error:
        return f"the checkpoint {path.name} {error}"
    except (zipfile.BadZipFile, EOFError) as error:
        return f"the checkpoint {path.name} is corrupt ({error})"
    return None


class RunStore:
    def __init__(self, root):
        self.root = Path(root)

    def list(self) -> list[RunEntry]:
        """Every sub-folder as a RunEntry, newest first. Never raises: a missing or unreadable
        root gives an empty list."""
        try:
            folders = []
            with os.scandir(self.root) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
                        folders.append(Path(entry.path))
                        if len(folders) >= MAX_RUNS:
                            break
        except OSError:
            return []
        runs = [inspect(folder) for folder in folders]
        return sorted(runs, key=lambda run: (run.info.created if run.info else "", run.path.name), reverse=True)

    def new_folder(self, stem: str) -> Path:
        """A fresh, empty folder named after the time and `stem`; created here, never reused."""
        self._make_root()
        base = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S") + "-" + (re.sub(r"[^\w.-]+", "-", stem) or "run")
        for suffix in range(1000):
            folder = self.root / (base if suffix == 0 else f"{base}-{suffix}")
            try:
                folder.mkdir()
                return folder
            except FileExistsError:
                continue
            except OSError as error:   # a folder no run folder can be made in (/proc/self, read-only)
                raise OSError(f"{self.root}: a run folder cannot be made in the runs folder "
                              f"({error.strerror or error})") from None
        raise OSError(f"{self.root}: cannot make a new run folder")

    def _make_root(self) -> None:
        """The runs folder, made if missing; an OSError naming it and what is wrong, in one line."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise OSError(f"{self.root}: the runs folder is a file (or part of its path is), not a folder") from None
        except OSError as error:
            raise OSError(f"{self.root}: the runs folder cannot be made ({error.strerror or error})") from None


def rename(folder: Path, name: str) -> RunInfo:
    """Give the run a new name (in run.json; the folder keeps its own)."""
    name = name.strip()
    if not name:
        raise ValueError("a run's name cannot be empty")
    entry = inspect(folder)
    if entry.info is None:
        raise ValueError(f"{folder}: {entry.reason}")
    return RunFile.of(folder).rename(name[:200])   # (recorded by this process: its recorder's writes keep it)


def delete(folder: Path) -> list[str]:
    """Remove the run's own files, and the folder once it is empty. Files the run did not write (and
    folders named like its files) stay; their names are returned. A live run is not deleted."""
    folder = Path(folder)
    entry = inspect(folder)
    if entry.status == "running":
        raise ValueError(f"{folder}: the run is still being recorded")
    if entry.info is None and not any(os.path.lexists(folder / name) for name in OURS):
        raise ValueError(f"{folder}: not a run folder; nothing deleted")
    # The run's files and the temporary files of saves cut short; a folder by such a name is not the run's
    # and stays (unlinking it would fail half-way through). A link is removed itself, never what it points to.
    for path in [folder / name for name in OURS] + _temporary_files(folder) + _event_files(folder):
        try:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                path.unlink()
        except FileNotFoundError:
            pass
    kept = [f"{MOMENTS}/{name}" for name in remove_all(folder)]
    left = sorted(path.name for path in folder.iterdir())
    if not left:
        folder.rmdir()
    return [name for name in left if name != MOMENTS or not kept] + kept
