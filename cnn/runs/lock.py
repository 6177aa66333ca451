"""Whether a run is being recorded right now: the recording process holds an advisory lock on the
run folder's `.lock` file. The kernel drops the lock when that process ends, however it ends
(SIGKILL included), so a run marked "running" whose lock is free was interrupted. No clocks, no
pid reuse. A `.lock` deleted while the run records holds no lock any more: then the process
run.json names is asked, when it is on this host. Where there is no fcntl (Windows), run.json's
status is believed."""
from __future__ import annotations

import os
import socket
from pathlib import Path

from ..atomic import running
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


def is_live(folder: Path, pid: int | None, host: str | None = None) -> bool:
    """Whether some process holds the run's lock; with no lock file, whether the recording process
    run.json names (`pid` on `host`) runs on this host (without fcntl: whether a pid was recorded)."""
    if fcntl is None:  # pragma: no cover - os.kill(pid, 0) would end the process on Windows
        return pid is not None
    path = Path(folder) / LOCK_FILE
    try:
        file = os.fdopen(open_own(path, os.O_RDONLY, OSError), "rb")
    except FileNotFoundError:
        return recorder_alive(pid, host)   # never locked (an old run), or deleted while it records
    except OSError:
        return False            # not ours (a link, a FIFO): member_problem names it
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        file.close()
    return False



def recorder_alive(pid: int | None, host: str | None) -> bool:
    """Whether the process run.json names as recording runs on this host (one on another host, or
    none named, cannot be asked: no)."""
    return fcntl is not None and pid is not None and host == socket.gethostname() and running(pid)


def busy(folder: Path, pid: int | None) -> str:
    """The message for a run another process records, naming that process when run.json does."""
    if pid is None:
        return f"{folder}: the run is being recorded by another process"
    missing = f" (its {LOCK_FILE} file is missing)" if not os.path.lexists(Path(folder) / LOCK_FILE) else ""
    return f"{folder}: the run is being recorded by process {pid}{missing}"
