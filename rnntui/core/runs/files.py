"""The file I/O primitives: a run folder's files opened as untrusted, and every file written atomically.

Whatever sits at a run file's name (a FIFO, a device, a link someone planted) is named and refused, never
blocked on, read without bound or written through; and a file is replaced whole or not at all, so a
crash or a full disk never leaves half of one.

    open_regular(path)            read: a regular file or RunDirError ("... a FIFO (named pipe), not a regular file")
    read_regular(path, limit)     the whole of a small file (run.json), at most `limit` bytes
    open_for_write(path, append)  write: never through a symbolic link, never anything but a regular file
    unusable(path)                why a run file that exists cannot be used ("" when it can)
    atomic_write(path, write)     write() into a temp file, fsync, rename over `path` (checkpoints, run.json)
    remove_stale_temps(folder)    the temp files of writers that were killed mid-write

Stdlib only (folder.py and the runs listing use it, and listing never imports torch).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO, BinaryIO

from rnntui.core.config import RnntuiError


class RunDirError(RnntuiError):
    """A run folder cannot be used: one line naming it."""


# -----------------------------------------------------------------------------
# reading: regular files only, bounded


MAX_INFO_BYTES = 1 << 20  # a run.json is a few KB; a larger one is not ours


def open_regular(path: Path) -> BinaryIO:
    """Open a run folder's file for reading, or raise RunDirError saying what it is instead of a regular
    file. Never blocks: a FIFO is refused before it is opened (and opened with O_NONBLOCK against a race),
    so `runs`, `watch` and the Runs screen cannot hang on one."""
    try:
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode):
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
            st = os.fstat(fd)  # the file opened, not the one stat saw (it may have been swapped since)
            if stat.S_ISREG(st.st_mode):
                return os.fdopen(fd, "rb")
            os.close(fd)
    except OSError as e:
        raise RunDirError(f"{path}: cannot read ({e.strerror or e})") from None
    raise RunDirError(f"{path}: {file_kind(st.st_mode)}, not a regular file")


def read_regular(path: Path, limit: int) -> bytes:
    """A run folder's small file, whole: RunDirError if it is not a regular file or over `limit` bytes."""
    with open_regular(path) as f:
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise RunDirError(f"{path}: cannot read ({e.strerror or e})") from None
    if len(data) > limit:
        raise RunDirError(f"{path}: larger than {limit:,} bytes, too large to be rnntui's")
    return data


def unusable(p: Path, appended: bool = False) -> str:
    """Why a run file that exists cannot be used, in one line naming it ("" when it is missing or a
    regular file). `appended`: the log, which a resume appends to and never through a link, so a link
    is flagged too."""
    try:
        st = os.stat(p)
    except FileNotFoundError:
        return f"{p}: a dangling symbolic link" if os.path.islink(p) else ""
    except OSError as e:
        return f"{p}: cannot read ({e.strerror or e})"
    if not stat.S_ISREG(st.st_mode):
        return f"{p}: {file_kind(st.st_mode)}, not a regular file"
    if appended and os.path.islink(p):
        return f"{p}: a symbolic link; a run's log must be a file of its own (a resume will not append to it)"
    return ""


def file_kind(mode: int) -> str:
    """'a directory', 'a FIFO', 'a device', ...: what a file is, for the messages."""
    for test, what in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return what
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


# -----------------------------------------------------------------------------
# writing


def open_for_write(path: Path, append: bool = False) -> int:
    """A file descriptor to write `path` (truncated, or appended to), never through a symbolic link and
    never anything but a regular file: a link planted in a run folder cannot redirect a write, and a FIFO
    cannot block one. OSError otherwise (ELOOP for a link)."""
    flags = (
        os.O_RDWR
        | os.O_CREAT
        | os.O_NONBLOCK
        | getattr(os, "O_NOFOLLOW", 0)
        | getattr(os, "O_CLOEXEC", 0)
        | (os.O_APPEND if append else os.O_TRUNC)
    )
    fd = os.open(path, flags, 0o644)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, f"{file_kind(mode)}, not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


# -----------------------------------------------------------------------------
# writing atomically, and cleaning up after writers that were killed


def pid_alive(pid: int) -> bool:
    """Whether process `pid` still runs on this machine (one we may not signal counts as running)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(folder: Path, pattern: str = ".*.tmp*") -> list[Path]:
    """Delete temp files (`.NAME.tmpPID`, or `.tmpPID-THREAD`) whose writer is gone (a save killed
    mid-write); a live process's file is left alone."""
    removed = []
    for p in folder.glob(pattern):
        pid = p.name.rsplit(".tmp", 1)[-1].split("-")[0].split(".")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed


def atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """write() into a temp file beside `path`, fsync, rename over it, fsync the folder: a crash leaves
    the old file or the new one, never half of one. Errors propagate; the temp file is always removed."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with os.fdopen(open_for_write(tmp), "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        try:
            tmp.unlink()
        except OSError:
            pass


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a small file atomically; a full disk raises RunDirError naming the file."""
    try:
        atomic_write(path, lambda f: f.write(data))
    except OSError as e:
        raise RunDirError(f"{path}: {e.strerror or e}") from None


def fsync_dir(folder: Path) -> None:
    """Make a rename durable: fsync the folder (a no-op where the OS cannot open folders)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
