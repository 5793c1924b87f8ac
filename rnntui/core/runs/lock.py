"""Who owns a run folder: an OS lock, held by the one process that writes the run, for as long as it runs.

    lock = RunLock.take(folder)   # RunBusy (one line naming the holder) when another process has it
    ...                           # every write to the folder happens while the lock is held
    lock.release()                # or the process ends: the kernel lets go, even after SIGKILL
    lock_holder(folder)           # "process 123 on host" while someone holds it, else None; reads only

Why `fcntl.flock` on a file inside the folder (`<run>/.lock`): the standard library has it; the kernel
releases it when the holder dies however it dies, so a killed run never leaves a stale lock to clean up
(a pid in a file can outlive its process and be reused by another); it belongs to the open file, so
two opens in one process (the app training a run while its Runs screen checks it) conflict like two
processes do; and it lives on the folder's inode, so every spelling of the path (relative, `..`, a
symlinked parent) meets the same lock. It is advisory: every rnntui writer takes it, nothing else has
to. On a file system without locks (some network mounts) the run goes on unlocked and says so.

The lock file is never deleted while a run may want it (deleting it would let a second process lock a
new file of the same name); it goes only with its folder (placement.delete_run, which holds it then).
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import stat
import time
from pathlib import Path

from rnntui.core.config import RnntuiError

LOCK = ".lock"  # the lock file inside a run folder (hidden: listings and `ls` skip it)
TAKE_WAIT_S = 0.5  # a take retries this long: a reader's probe holds the lock for microseconds, a run for its life
NO_LOCKS = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS)  # the file system has no flock


class RunBusy(RnntuiError):
    """Another process holds the run folder: one line naming the folder and that process."""


def busy(folder: str | os.PathLike, who: str) -> RunBusy:
    return RunBusy(f"{folder}: in use by {who} (another rnntui trains it); wait for it to end or stop it there")


def _open_flags(write: bool) -> int:
    # never follow a symlink planted as .lock; O_NONBLOCK so a FIFO planted there cannot hang the open
    flags = os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    return flags | (os.O_RDWR | os.O_CREAT if write else os.O_RDONLY)


def _whom(fd: int) -> str:
    """What the holder wrote into the lock file: 'process PID on HOST'."""
    try:
        words = os.pread(fd, 256, 0).decode("utf-8", "replace").split()
    except OSError:
        words = []
    if len(words) == 2 and words[0].isdigit():
        return f"process {words[0]} on {words[1]}"
    return "another process"


# -----------------------------------------------------------------------------
# the lock


class RunLock:
    def __init__(self, folder: Path, fd: int, note: str = ""):
        self.folder = folder  # the run folder it owns
        self.fd = fd  # the open lock file holding the flock; -1 once released (or on a file system without locks)
        self.note = note  # one line to show when the folder could not be locked, else ""

    @classmethod
    def take(cls, folder: str | os.PathLike, wait_s: float = TAKE_WAIT_S) -> RunLock:
        """Own `folder` (which must exist) or raise RunBusy; an unusable lock file raises RnntuiError."""
        folder = Path(folder)
        path = folder / LOCK
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fd = os.open(path, _open_flags(write=True), 0o644)
            except OSError as e:
                raise RnntuiError(f"{folder}: cannot lock this run folder ({e.strerror or e})") from None
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise RnntuiError(f"{path}: not a regular file (delete it to use this run folder)")
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if time.monotonic() < deadline:
                        os.close(fd)
                        time.sleep(0.02)
                        continue
                    raise busy(folder, _whom(fd)) from None
                except OSError as e:
                    if e.errno in NO_LOCKS:
                        os.close(fd)
                        return cls(
                            folder,
                            -1,
                            f"{folder}: this file system cannot lock files, so nothing stops "
                            "a second process from writing this run folder",
                        )
                    raise RnntuiError(f"{folder}: cannot lock this run folder ({e.strerror or e})") from None
                if not _still_there(fd, path):  # the folder was deleted (or the file replaced) meanwhile
                    os.close(fd)
                    continue
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
                return cls(folder, fd)
            except BaseException:
                try:
                    os.close(fd)
                except OSError:
                    pass
                raise

    @classmethod
    def try_take(cls, folder: str | os.PathLike) -> RunLock | None:
        """take() at once, or None when another process holds the folder."""
        try:
            return cls.take(folder, wait_s=0.0)
        except RunBusy:
            return None

    def release(self) -> None:
        """Let go (idempotent). Closing the file releases the flock; nothing is deleted."""
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _still_there(fd: int, path: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


# -----------------------------------------------------------------------------
# asking without taking


def lock_holder(folder: str | os.PathLike) -> str | None:
    """'process PID on HOST' while a process holds the folder's lock; None when none does, or when the
    folder has no lock file (a run from before run locks). Reads only: never creates the lock file.

    It takes a shared lock for an instant to ask (flock has no query), which is why take() retries."""
    try:
        fd = os.open(Path(folder) / LOCK, _open_flags(write=False))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _whom(fd)
        except OSError:
            return None
        return None  # free: closing the file below lets go of the shared lock
    finally:
        os.close(fd)


def has_lock_file(folder: str | os.PathLike) -> bool:
    """The folder was written by an rnntui that locks run folders."""
    return os.path.lexists(Path(folder) / LOCK)
