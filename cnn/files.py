"""Reading files without trusting the path: only regular files are opened (a FIFO is never opened in
a way that blocks, a device never at all), and what a path is instead is named."""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from pathlib import Path
from typing import BinaryIO, Callable

KINDS = {stat.S_IFDIR: "a folder", stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
         stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket", stat.S_IFLNK: "a symbolic link"}


def kind(mode: int) -> str:
    """'a folder', 'a FIFO (named pipe)', … for a st_mode that is not a regular file."""
    return KINDS.get(stat.S_IFMT(mode), "not a regular file")


def open_regular(path, fail: Callable[[str], Exception]) -> BinaryIO:
    """`path` opened for binary reading, or fail(problem) raised: an empty path, no such file, a
    folder, a FIFO or a device (named as such), no permission."""
    text = os.fspath(path)
    if not text:
        raise fail("the path is empty")
    descriptor = None
    try:
        mode = os.stat(text).st_mode
        if stat.S_ISREG(mode):        # checked before opening: opening a device can act on it
            # O_NONBLOCK: should a FIFO replace the file between stat and open, opening must not wait
            descriptor = os.open(text, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            mode = os.fstat(descriptor).st_mode
    except FileNotFoundError:
        raise fail("no such file") from None
    except OSError as error:
        raise fail(error.strerror or str(error)) from None
    if not stat.S_ISREG(mode):
        if descriptor is not None:
            os.close(descriptor)
        raise fail(f"is {kind(mode)}, not a file")
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def open_own(path, flags: int, fail: Callable[[str], Exception]) -> int:
    """A descriptor of the regular file at `path`, opened with os.open `flags` (O_CREAT makes it, mode
    0666 less the umask), never through a symbolic link at the path's end and never waiting on a FIFO;
    else fail(problem) raised for a link or a file that is not regular (which is never opened). Other
    OSErrors (no such file, no permission) are raised as they are."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISLNK(mode):
        raise fail("is a symbolic link, which is not followed")
    if mode is not None and not stat.S_ISREG(mode):
        raise fail(f"is {kind(mode)}, not a file")
    try:
        descriptor = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
                             | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as error:   # replaced by a link or a FIFO since the look above
        if error.errno in (errno.ELOOP, errno.ENXIO):
            raise fail("is not a file of its own (a link or a FIFO)") from None
        raise
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise fail(f"is {kind(mode)}, not a file")
    os.set_blocking(descriptor, True)
    return descriptor


def shown(path) -> str:
    """`path` as text fit to print or show: a name that is not valid in the file system's encoding (on
    Linux, bytes that are not UTF-8, held as surrogates) has those bytes escaped ('\\xff'), never a
    UnicodeEncodeError or a name Qt silently shortens; an empty path is ''."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not text:
        return "''"
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")


def naming(error: BaseException, path, *also) -> str:
    """`error` as one line that names the file once: its own text when that starts with `path` or one of
    `also` (errors raised here name their file), else "path: text". Python's own OSError text
    ("[Errno 13] Permission denied: '/x'") becomes "/x: Permission denied"."""
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        text = f"{shown(error.filename)}: {error.strerror}"
    else:
        text = str(error)
    names = [shown(place) for place in (path, *also) if place is not None and os.fspath(place)]
    if any(text == name or text.startswith(f"{name}: ") or text.startswith(f"{name}{os.sep}") for name in names):
        return text
    return f"{shown(path)}: {text}"


def not_a_file(path) -> str | None:
    """What `path` is when something is there that is not a regular file ("is a FIFO (named pipe), not a
    file"), to refuse it before a library opens it and waits; None for a regular file or nothing there."""
    try:
        mode = os.stat(os.fspath(path)).st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else f"is {kind(mode)}, not a file"


def stamp(path) -> tuple | None:
    """What tells one version of a file from the next written in its place (each is a new inode, as
    cnn.atomic writes them): its inode, modification time and size. None when it cannot be read."""
    try:
        status = os.lstat(path)
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns, status.st_size


def link_or_copy(source: Path, target: Path) -> None:
    """`target` becomes the same file as `source`, atomically: a hard link (a copy where links cannot
    be made). `source` is only ever replaced by a rename, never written in place, so sharing its
    inode is safe, and costs no copy. An OSError names `target`, and no temporary file of it stays."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.link.tmp")
    try:
        temporary.unlink(missing_ok=True)
        try:
            os.link(source, temporary, follow_symlinks=False)
        except OSError:
            shutil.copyfile(source, temporary, follow_symlinks=False)
        os.replace(temporary, target)
    except OSError as error:   # (a folder where the file goes: "Is a directory" named the run folder only)
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)   # a hard link of the checkpoint: its megabytes kept for nothing
        raise OSError(error.errno, f"{target}: {error.strerror or error}") from None
