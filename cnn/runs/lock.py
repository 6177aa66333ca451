"""Whether a run is being recorded right now: the recording process holds an advisory lock on the
run folder's `.lock` file. The kernel drops the lock when that process ends, however it ends
(SIGKILL included), so a run marked "running" whose lock is free was interrupted. No clocks, no
pid reuse. Where there is no fcntl (Windows), run.json's status is believed."""
from __future__ import annotations

import os
from pathlib import Path

from ..files import open_own

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None

LOCK_FILE = ".lock"


class RunBusy(RuntimeError):
    """Another process (or another recorder in this one) records this run."""


class RunLock:
    """Held from acquire() until release(): the run is live while it is held."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_FILE
        self._file = None

    def acquire(self) -> "RunLock":
        """Raises RunBusy, or OSError naming the lock file when it is a link, a FIFO or cannot be made."""
        def fail(problem):
            return OSError(f"{self.path.parent}: {LOCK_FILE} {problem}")
        file = os.fdopen(open_own(self.path, os.O_RDWR | os.O_CREAT, fail), "r+b")
        if fcntl is not None:
            try:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                file.close()
                raise RunBusy(f"{self.path.parent}: the run is being recorded by another process") from None
        self._file = file
        return self

    def release(self) -> None:
        if self._file is not None:
            self._file.close()   # closing drops the lock
            self._file = None


def is_live(folder: Path, pid: int | None) -> bool:
    """Whether some process holds the run's lock (without fcntl: whether a pid was recorded)."""
    if fcntl is None:  # pragma: no cover - os.kill(pid, 0) would end the process on Windows
        return pid is not None
    path = Path(folder) / LOCK_FILE
    try:
        file = os.fdopen(open_own(path, os.O_RDONLY, OSError), "rb")
    except OSError:
        return False            # no lock file (nobody ever locked it, or it was cleaned up), or not ours
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        file.close()
    return False

