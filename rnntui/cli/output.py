"""When the command line's own output fails: a closed pipe (`rnntui train ... | head -3`), a terminal that
answers EIO, a full disk under `> file`.

While a headless command runs, sys.stdout and sys.stderr are GuardedStreams. A write or flush that fails
never raises into the command (where it would abandon a training run without saving): the stream's file
descriptor is pointed at /dev/null, so every later write, a C library's and Python's flush at exit
included, succeeds and says nothing, and the OutputGuard calls its listeners once. `rnntui train` listens
and stops the run as a signal does (latest.pt saved, run.json 'stopped'); `sample` stops generating; the
others finish quietly. A pipe whose reader goes away is heard of at once, not at the next write (a
helper thread polls it for POLLERR): `train --no-samples | head -1` may write nothing for hours, and
should not train for hours for nobody. Only a write that failed sets the exit status, though: `rnntui
runs | head -1` exits 0 when all of its output was written before head left.

Exit status after an output error (unless a signal stopped the command first):
    141  (128 + SIGPIPE) the output was a pipe whose reader went away, as for any Unix tool
     74  (EX_IOERR) any other error writing stdout or stderr (EIO, ENOSPC)

The streams also never fail to encode (a strict UTF-8 locale, PYTHONIOENCODING=...:strict): a byte that
came in undecodable (a file name, an argument, held as a lone surrogate) goes out as that same byte, and a
character the stream's encoding lacks is written as a backslash escape. What is shown on a terminal has
been through textsafe.visible first.
"""

from __future__ import annotations

import codecs
import errno
import os
import select
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

BROKEN_PIPE_EXIT = 141  # 128 + SIGPIPE: what a shell reports for a tool killed by a closed pipe
IO_ERROR_EXIT = 74  # EX_IOERR (sysexits.h)
ERRORS = "rnntui-exact"  # the streams' encoding error handler, registered below


def exit_status_for(e: BaseException) -> int:
    """The exit status of a command whose output failed with e."""
    return BROKEN_PIPE_EXIT if isinstance(e, OSError) and e.errno == errno.EPIPE else IO_ERROR_EXIT


def _exact_or_escaped(err: UnicodeError) -> tuple[str | bytes, int]:
    """Encoding error handler: a lone surrogate U+DC80-U+DCFF (surrogateescape's way of carrying an
    undecodable byte) is written as that byte; any other character the encoding lacks as \\x, \\u or \\U."""
    if not isinstance(err, UnicodeEncodeError):
        raise err
    bad = err.object[err.start : err.end]
    if all(0xDC80 <= ord(ch) <= 0xDCFF for ch in bad):
        return bytes(ord(ch) - 0xDC00 for ch in bad), err.end
    return codecs.backslashreplace_errors(err)


codecs.register_error(ERRORS, _exact_or_escaped)


# -----------------------------------------------------------------------------
# one stream


class GuardedStream:
    """A text stream around sys.stdout or sys.stderr whose writes never raise OSError."""

    def __init__(self, inner: TextIO, guard: OutputGuard):
        self.inner, self.guard = inner, guard
        self.dead = False  # a write failed: later ones are dropped

    def write(self, s: str) -> int:
        if not self.dead:
            try:
                return self.inner.write(s)
            except OSError as e:
                self._failed(e)
        return len(s)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if not self.dead:
            try:
                self.inner.flush()
            except OSError as e:
                self._failed(e)

    def _failed(self, e: OSError) -> None:
        self.dead = True
        try:  # what is still buffered, and whatever else writes to this descriptor, goes nowhere
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self.inner.fileno())
            os.close(null)
        except (OSError, ValueError, AttributeError):
            pass  # not a real descriptor (a test's capture): the writes are dropped above
        self.guard.failed(e)

    def __getattr__(self, name: str):  # encoding, isatty, fileno, buffer...: the real stream's
        return getattr(self.inner, name)


# -----------------------------------------------------------------------------
# both streams, for the life of a command


class OutputGuard:
    def __init__(self) -> None:
        self.error: OSError | None = None  # the first write that failed: it decides the exit status
        self.heard: OSError | None = None  # the first output error the listeners heard of
        self._listeners: list[Callable[[OSError], None]] = []
        self._lock = threading.Lock()  # a progress bar refreshes from its own thread

    def on_failure(self, listener: Callable[[OSError], None]) -> None:
        """Call listener(error) once, at the first output error (at once if there was one already)."""
        with self._lock:
            self._listeners.append(listener)
            heard = self.heard
        if heard is not None:
            listener(heard)

    def failed(self, e: OSError, written: bool = True) -> None:
        """An output error: a write that failed, or (written=False) a pipe seen to have lost its reader,
        which tells the listeners but sets no status: all that was written may have been read."""
        with self._lock:
            if written and self.error is None:
                self.error = e
            if self.heard is not None:
                return
            self.heard = e
            listeners = list(self._listeners)
        for listener in listeners:
            listener(e)

    def exit_status(self, status: int) -> int:
        """The command's status, or the output error's when there was one and no signal came first."""
        if self.error is None or status > 128:
            return status
        return exit_status_for(self.error)


def _watch_pipes(streams: list[GuardedStream], done: threading.Event) -> None:
    """Until done: a stream whose pipe lost its reader (POLLERR) is reported to the listeners as EPIPE. The
    stream itself is left alone: a later write to it fails, and sets the exit status, on its own."""
    poller, by_fd = select.poll(), {}
    for s in streams:
        by_fd[s.inner.fileno()] = s
        poller.register(s.inner.fileno(), 0)  # no events asked: POLLERR and POLLHUP always come
    while by_fd and not done.is_set():
        for fd, _ in poller.poll(250):
            poller.unregister(fd)
            if not done.is_set():
                by_fd.pop(fd).guard.failed(OSError(errno.EPIPE, os.strerror(errno.EPIPE)), written=False)


def _pipes(streams: tuple[GuardedStream | None, ...]) -> list[GuardedStream]:
    out = []
    for s in streams:
        try:
            if s is not None and stat.S_ISFIFO(os.fstat(s.inner.fileno()).st_mode):
                out.append(s)
        except (OSError, ValueError, AttributeError):
            pass  # no descriptor (a test's capture)
    return out


_active: list[OutputGuard] = []  # the guard of the command now running (main() installs it)


def on_output_failure(listener: Callable[[OSError], None]) -> None:
    """listener(error) once, at the running command's first output error (never, outside guarded_output)."""
    if _active:
        _active[-1].on_failure(listener)


@contextmanager
def guarded_output() -> Iterator[OutputGuard]:
    """sys.stdout and sys.stderr guarded (and never failing to encode) until the block ends; flushed at
    its end, so an error in the last write is seen too."""
    guard = OutputGuard()
    saved = sys.stdout, sys.stderr
    strict = [s for s in saved if getattr(s, "errors", "") == "strict" and hasattr(s, "reconfigure")]
    for s in strict:
        _reconfigure(s, ERRORS)
    guarded = tuple(GuardedStream(s, guard) if s is not None else None for s in saved)
    sys.stdout, sys.stderr = guarded
    _active.append(guard)
    done = threading.Event()
    if pipes := _pipes(guarded):
        threading.Thread(target=_watch_pipes, args=(pipes, done), name="rnntui-pipes", daemon=True).start()
    try:
        yield guard
    finally:
        done.set()
        _active.remove(guard)
        for s in (sys.stdout, sys.stderr):
            if isinstance(s, GuardedStream):
                s.flush()
        sys.stdout, sys.stderr = saved
        for s in strict:
            _reconfigure(s, "strict")


def _reconfigure(stream: Any, errors: str) -> None:  # a text stream that has reconfigure() (checked)
    try:
        stream.reconfigure(errors=errors)  # flushes first: a closed pipe may answer
    except (OSError, ValueError):
        pass
