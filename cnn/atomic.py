"""Writing files atomically and without harm: a temporary file beside the target, then one rename.
A symlink is written through to its target (unless follow_links=False: a run folder's own files,
which are never links), a replaced file keeps its mode (and owner), a new file gets the umask's mode,
and a path that is not a regular file is refused, never replaced."""
from __future__ import annotations

import io
import os
import secrets
import signal
import stat
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable

from .files import kind

# Each write's system calls hand the GIL to the training thread and back: a run's files, rewritten every
# epoch on the recorder's thread, make as few as they can. Their folder is written by one process at a time
# (the run's lock), so the temporary files a killed writer left there are cleared at this process's first
# write of each file (follow_links=False); a file saved anywhere else, at every write.
_swept: set[str] = set()


class WriteError(OSError):
    """A file that could not be written; str() names the path and the reason."""

    def __init__(self, path, reason: str):
        self.path, self.reason = _shown(path), reason
        super().__init__(f"{self.path}: {reason}")


class WriteInterrupted(KeyboardInterrupt):
    """Ctrl-C while writing: the file is as it was before and no temporary file is left."""

    def __init__(self, path):
        self.path = _shown(path)
        super().__init__(f"interrupted while saving; {self.path} was left as it was")


def writable_target(path, follow_links: bool = True, tried: bool = True) -> Path:
    """The regular file a write to `path` creates or replaces (a symlink's final target). Raises
    WriteError when it cannot be written: an empty path, a folder, a device or other non-regular
    file (a symbolic link too, with follow_links=False), a missing folder, a folder this process may
    not write in (tried, not guessed; tried=False leaves that to the caller's own first write)."""
    target, _ = _target(path, follow_links)
    if tried:
        try:
            descriptor, probe = _create_beside(target)
            os.close(descriptor)
            os.unlink(probe)
        except OSError as error:
            raise _not_writable(path, target, error) from None
    return target


def _target(path, follow_links: bool) -> tuple[Path, os.stat_result | None]:
    """writable_target()'s file, untried, and its status (None: it does not exist yet)."""
    text = os.fspath(path)
    if not text:
        raise WriteError(path, "the path is empty")
    if follow_links:
        target = Path(os.path.realpath(text))
        if target.is_symlink():
            raise WriteError(path, "is a symbolic link that never reaches a file (a loop)")
    else:   # (the folder's path is not resolved: the system finds the same folder, with no lstat of each part)
        target = Path(os.path.abspath(text))
    if not target.parent.is_dir():
        raise WriteError(path, f"{target.parent} is not a folder" if target.parent.exists()
                         else f"the folder {target.parent} does not exist")
    try:
        status = (os.stat if follow_links else os.lstat)(target)
    except FileNotFoundError:
        return target, None
    except OSError as error:
        raise WriteError(path, error.strerror or str(error)) from None
    if not stat.S_ISREG(status.st_mode):
        raise WriteError(path, f"is {kind(status.st_mode)}, not a file; it is left alone")
    return target, status


def _not_writable(path, target: Path, error: OSError) -> WriteError:
    return WriteError(path, f"cannot write in {target.parent} ({error.strerror or error})")


def write_atomically(path, write: Callable[[BinaryIO], None], *, sync: bool = True, follow_links: bool = True) -> Path:
    """Writes `write(file)`'s bytes to `path`: into a temporary file beside the target, then one
    rename. Returns the file written (a symlink's target). A process killed meanwhile leaves the
    previous file intact; its temporary file (named after its process id) is removed by the next
    write to the same path. Raises WriteError (nothing changed, no temporary file left), or
    WriteInterrupted on Ctrl-C before the rename.

    sync=False skips the fsyncs, which only a power failure or a system crash needs (a killed
    process loses nothing the kernel has): for files rewritten often whose writer syncs them
    now and then (a run's checkpoints, cnn.runs.recorder). follow_links=False refuses a symbolic
    link at `path` (WriteError) instead of writing through it."""
    target, old = _target(path, follow_links)   # untried: the temporary file is the try
    if follow_links or str(target) not in _swept:
        _remove_orphans(target)
        if not follow_links:
            _swept.add(str(target))
    try:
        descriptor, temporary = _create_beside(target)
    except OSError as error:
        raise _not_writable(path, target, error) from None
    replaced = False
    try:   # (a buffer size given: no question whether the file is a terminal, one system call less)
        with os.fdopen(descriptor, "wb", buffering=io.DEFAULT_BUFFER_SIZE) as file:
            _keep_mode_and_owner(old, file.fileno())
            write(file)
            file.flush()
            if sync:
                os.fsync(file.fileno())
        with _interrupts_deferred():          # so that `replaced` tells the truth when Ctrl-C comes
            os.replace(temporary, target)
            replaced = True
    except BaseException as error:
        if replaced:
            raise
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, KeyboardInterrupt):
            raise WriteInterrupted(path) from None
        if isinstance(error, OSError):
            raise WriteError(path, error.strerror or str(error)) from None
        raise
    if sync:
        _sync_folder(target.parent)
    return target


def write_new(folder, prefix: str, suffix: str, write: Callable[[BinaryIO], None]) -> Path:
    """Writes to a new file with a fresh name in `folder` (umask's mode); removes it if that fails."""
    for _ in range(100):
        path = Path(folder) / f"{prefix}{secrets.token_hex(4)}{suffix}"
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"no free file name in {folder}")
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def rescue_folders() -> list[Path]:
    """Where a file goes when it cannot go where it was asked: the system temp folder, then home."""
    return [Path(p) for p in dict.fromkeys([tempfile.gettempdir(), os.path.expanduser("~")])]


def _create_beside(target: Path) -> tuple[int, str]:
    """A new temporary file next to `target`, created with mode 0666 so the umask applies."""
    for _ in range(100):
        temporary = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), str(temporary)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary file name beside {target}")


def _keep_mode_and_owner(old: os.stat_result | None, descriptor: int) -> None:
    """The replaced file's (`old`'s) mode and owner for the new one; None: a new file, the umask's mode."""
    if old is None:
        return
    os.fchmod(descriptor, stat.S_IMODE(old.st_mode))
    if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.fchown(descriptor, old.st_uid, old.st_gid)
        except PermissionError:
            pass  # only root may give a file away; the file is then the writer's, mode kept


def _remove_orphans(target: Path) -> None:
    """Temporary files of earlier writes to `target` whose process no longer runs. A leftover whose
    pid field is no process id this program writes (not ASCII digits, out of range), or that is not
    a regular file, is left alone: it never stops the write."""
    prefix = f".{target.name}."
    try:
        with os.scandir(target.parent) as entries:   # (a run's files are rewritten every epoch: no pathlib glob)
            names = [entry.name for entry in entries if entry.name.startswith(prefix) and entry.name.endswith(".tmp")]
    except OSError:
        return
    for name in names:
        orphan = target.parent / name
        pid = process_id(name[len(prefix):].split(".", 1)[0])
        try:
            if pid is not None and stat.S_ISREG(os.lstat(orphan).st_mode) and not running(pid):
                orphan.unlink(missing_ok=True)
        except OSError:
            continue      # gone meanwhile, or not ours to remove


MAX_PID = 2**31 - 1     # a pid_t; Linux's pid_max is at most 2**22


def process_id(text: str) -> int | None:
    """The process id `text` spells in ASCII digits (at most 10, from 1 to MAX_PID), else None."""
    if not (0 < len(text) <= 10 and text.isascii() and text.isdigit()):
        return None
    pid = int(text)
    return pid if 1 <= pid <= MAX_PID else None


def running(pid: int) -> bool:
    """Whether process `pid` (from 1 to MAX_PID) runs on this machine; another user's counts."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass  # alive, but another user's (PermissionError)
    return True


@contextmanager
def _interrupts_deferred():
    """Holds SIGINT back (main thread) for a few statements; it is delivered right after. A Python
    handler catches it meanwhile: blocking the signal would hold it in this thread only, and the kernel
    gives a signal sent to the process to any thread not blocking it (BLAS's, the halves' pool), whose
    note of it Python then acts on in the main thread at once."""
    # (get_ident, not current_thread(): on a thread Python did not start, such as the studio's worker
    # QThread, current_thread() registers a dummy Thread object that stays for good)
    if threading.get_ident() != threading.main_thread().ident:
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and previous is not signal.SIG_IGN:
            if callable(previous):
                previous(signal.SIGINT, None)     # Python's default raises KeyboardInterrupt; another does its own
            else:
                raise KeyboardInterrupt


def _sync_folder(folder: Path) -> None:
    """Makes the rename durable; some filesystems cannot fsync a folder, which costs nothing else."""
    sync_path(folder)


def sync_path(path) -> None:
    """fsync a file or folder by its path; one that cannot be opened or synced is left as it is."""
    try:   # O_NONBLOCK: a FIFO put in a file's place never blocks the open (its fsync then fails, ignored)
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _shown(path) -> str:
    text = os.fspath(path)
    return text if text else "''"
