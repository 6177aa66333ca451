"""run.json: what a run is (name, settings, architecture, data source) and where it stands
(status, epochs, best test accuracy). Written atomically; read with every field checked, so a
damaged file gives one reason, never a half-read run."""
from __future__ import annotations

import json
import math
import os
import socket
import threading
from dataclasses import dataclass, fields, replace
from datetime import datetime, timezone
from pathlib import Path

from ..config import RunConfig
from .. import files, jsonfile
from ..atomic import MAX_PID, write_atomically
from ..ranges import RANGES

RUN_FILE = "run.json"
FORMAT = "cnn-studio-run"
VERSION = 1
MAX_RUN_FILE_BYTES = 1 << 20          # a run.json is a few kB; a larger one is not ours
STATUSES = ("running", "finished", "interrupted")
ENGINES = ("numpy", "keras")
MAX_EPOCHS = RANGES["epochs"].high    # a run plans at most this many epochs in all
OWN_FILES = "is a symbolic link; a run folder's files must be its own"   # a member that is a link is refused


class RunFileError(ValueError):
    """A run.json that cannot be read; the message says what is wrong, without the folder."""


@dataclass(frozen=True)
class RunInfo:
    name: str
    settings: RunConfig
    architecture: list
    data: str                           # the data source: "bundled MNIST" or a path
    status: str                         # as written: running, finished or interrupted
    created: str                        # ISO 8601, UTC
    updated: str
    epochs_planned: int
    epochs_done: int
    best_test_accuracy: float | None    # fraction in [0, 1]
    best_epoch: int | None
    pid: int | None = None              # the recording process, while it runs
    host: str | None = None
    step: int = 0                       # steps of epoch epochs_done + 1 the last checkpoint holds (0: none)
    steps_per_epoch: int | None = None  # of that epoch, when step > 0
    engine: str = "numpy"               # what trained it last: numpy (ours) or keras (cnn-train --engine keras)
    replicas: int = 1                   # the replicas each batch was split over (in all, every worker's)
    workers: int = 1                    # the machines (processes) of a multi-worker run

    def with_changes(self, **changes) -> "RunInfo":
        return replace(self, updated=now(), **changes)

    def as_json(self) -> dict:
        """The fields as JSON's types (no deep copy: run.json is written at every epoch's end)."""
        values = {field.name: getattr(self, field.name) for field in fields(self)}
        values["settings"] = {**self.settings.as_dict(), "classes": list(self.settings.classes)}
        return {"format": FORMAT, "version": VERSION, **values}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


MAX_PATH = 4096   # characters of a path (Linux's PATH_MAX; longer ones no file can be opened by)


def new_info(name: str, config: RunConfig, architecture: list, data: str, epochs_planned: int) -> RunInfo:
    stamp = now()
    return RunInfo(name, config, architecture, data, "running", stamp, stamp, epochs_planned, 0, None, None,
                   os.getpid(), socket.gethostname())


def write_info(folder: Path, info: RunInfo, sync: bool = True) -> None:
    """Replace folder/run.json atomically: a reader sees the old file or the new, never a mixture."""
    text = json.dumps(info.as_json(), indent=1).encode("utf-8")
    write_atomically(Path(folder) / RUN_FILE, lambda file: file.write(text), sync=sync, follow_links=False)


class RunFile:
    """A run's run.json as its recorder keeps it. Each write takes the name the file has (the studio's Runs panel
    may rename the run while it records), and a rename made in this process while the run records goes through
    here (cnn.runs.store.rename), under one lock: neither can overwrite the other. The file is read back only
    when it is no longer the one written here (reading it every epoch was eight system calls on the recorder's
    thread, each handing the GIL to training and back). close() ends that."""
    _live: dict[str, "RunFile"] = {}    # the run folders recorded in this process, by their absolute path

    def __init__(self, folder: Path, live: bool = False):
        """`live`: this process records the run, and renames go through this RunFile until close()."""
        self.folder = Path(folder)
        self._key = os.path.abspath(self.folder)
        self._lock = threading.Lock()
        self._written: tuple = (None, None)   # (files.stamp of run.json as written here, the name in it)
        if live:
            RunFile._live[self._key] = self

    @classmethod
    def recording(cls, folder: Path) -> "RunFile | None":
        """The RunFile of `folder` while this process records the run."""
        return cls._live.get(os.path.abspath(folder))

    @classmethod
    def of(cls, folder: Path) -> "RunFile":
        """The RunFile to write `folder`'s run.json through: its recorder's while this process records the run."""
        return cls.recording(folder) or cls(folder)

    def write(self, info: RunInfo, sync: bool = True) -> RunInfo:
        """Writes `info` under the name run.json has (info's own when it cannot be read); returns what it wrote."""
        with self._lock:
            info = info.with_changes(name=self._name(info.name))
            self._write(info, sync)
            return info

    def rename(self, name: str) -> RunInfo:
        with self._lock:
            info = read_info(self.folder).with_changes(name=name)
            self._write(info, sync=True)
            return info

    def close(self) -> None:
        if RunFile._live.get(self._key) is self:
            del RunFile._live[self._key]

    def _write(self, info: RunInfo, sync: bool) -> None:
        write_info(self.folder, info, sync=sync)
        self._written = (files.stamp(self.folder / RUN_FILE), info.name)

    def _name(self, otherwise: str) -> str:
        stamp, name = self._written
        if stamp is not None and files.stamp(self.folder / RUN_FILE) == stamp:
            return name
        try:
            return read_info(self.folder).name
        except (OSError, ValueError):
            return otherwise


def read_info(folder: Path) -> RunInfo:
    """folder/run.json, checked field by field; raises RunFileError (or OSError) naming the problem."""
    if os.path.islink(Path(folder) / RUN_FILE):
        raise RunFileError(f"{RUN_FILE} {OWN_FILES}")
    fields = jsonfile.read(Path(folder) / RUN_FILE, RunFileError, MAX_RUN_FILE_BYTES, name=RUN_FILE)
    if not isinstance(fields, dict) or fields.get("format") != FORMAT:
        raise RunFileError(f"{RUN_FILE} does not describe a CNN Studio run")
    version = fields.get("version")
    if not _whole(version) or version < 1:
        raise RunFileError(f"{RUN_FILE}: unknown format version {version!r}")
    if version > VERSION:
        raise RunFileError(f"{RUN_FILE}: format version {version} is newer than this program reads; update CNN Studio")
    return _parse(fields)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse(fields: dict) -> RunInfo:
    def need(name, ok, expected):
        if not ok(fields.get(name)):
            raise RunFileError(f"{RUN_FILE}: {name} must be {expected}, not {str(fields.get(name))[:60]!r}")
        return fields.get(name)
    def text(value, most=1000):
        return isinstance(value, str) and len(value) <= most

    def path(value):   # the data's path: as long as the system allows one (a longer --data made runs unreadable)
        return text(value, MAX_PATH)

    def count(value):
        return _whole(value) and 0 <= value <= MAX_EPOCHS
    epochs = f"a whole number from 0 to {MAX_EPOCHS}"
    name = need("name", text, "a text of at most 1,000 characters")
    settings = need("settings", lambda v: isinstance(v, dict), "an object")
    try:
        config = RunConfig.from_dict(settings)
    except (TypeError, ValueError) as error:
        raise RunFileError(f"{RUN_FILE}: settings: {error}") from None
    architecture = need("architecture", lambda v: isinstance(v, list) and v, "a non-empty list of layers")
    best = need("best_test_accuracy", lambda v: v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)
                                                              and math.isfinite(v) and 0 <= v <= 1),
                "a fraction from 0 to 1 or null")
    return RunInfo(name, config, architecture, need("data", path, f"a text of at most {MAX_PATH:,} characters"),
                   need("status", lambda v: v in STATUSES, f"one of {list(STATUSES)}"),
                   need("created", text, "a date"), need("updated", text, "a date"),
                   need("epochs_planned", count, epochs), need("epochs_done", count, epochs),
                   None if best is None else float(best),
                   need("best_epoch", lambda v: v is None or count(v), f"{epochs} or null"),
                   _pid(fields.get("pid")),
                   fields.get("host") if isinstance(fields.get("host"), str) else None,
                   *_within_epoch(fields), *_engine(fields))


def _pid(value) -> int | None:
    """The recording process's id: a whole number a process can have, else none (an old or odd file)."""
    return value if _whole(value) and 1 <= value <= MAX_PID else None


def _engine(fields: dict) -> tuple[str, int, int]:
    """engine, replicas and workers (absent from runs recorded before they were: numpy, 1, 1)."""
    engine = fields.get("engine", "numpy")
    if engine not in ENGINES:
        raise RunFileError(f"{RUN_FILE}: engine must be one of {list(ENGINES)}, not {str(engine)[:60]!r}")
    counts = [fields.get(name, 1) for name in ("replicas", "workers")]
    for name, value in zip(("replicas", "workers"), counts, strict=True):
        if not (_whole(value) and 1 <= value <= 1 << 20):
            raise RunFileError(f"{RUN_FILE}: {name} must be a whole number of at least 1, not {str(value)[:60]!r}")
    return (engine, *counts)


def _within_epoch(fields: dict) -> tuple[int, int | None]:
    """step and steps_per_epoch (absent from runs recorded before checkpoints were taken inside an epoch)."""
    step, steps = fields.get("step", 0), fields.get("steps_per_epoch")
    if not (_whole(step) and step >= 0):
        raise RunFileError(f"{RUN_FILE}: step must be a whole number, not {str(step)[:60]!r}")
    if steps is not None and not (_whole(steps) and steps >= step and steps >= 1):
        raise RunFileError(f"{RUN_FILE}: steps_per_epoch must be a whole number of at least step, "
                           f"not {str(steps)[:60]!r}")
    return step, steps
