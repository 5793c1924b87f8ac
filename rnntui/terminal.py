"""The terminal the process runs in, and what is left to do once it is gone. Standard library only: the
headless commands (cli/signals.py) and the app (ui/shutdown.py) both use it.

A terminal goes away when its window is closed, its ssh connection drops or its tmux session is killed:
the kernel hangs its tty up. From then on a read of it returns end-of-file at once (or fails with EIO),
every write fails with EIO, and the session's leader is sent SIGHUP and SIGCONT; a process that is not
the leader (or has another controlling terminal) may get no signal at all. A program that goes on as if
the terminal were there spins on the end-of-file and blocks or dies writing. What this module offers:
make the standard streams harmless (`silence_terminal`, `detach_terminal`), notice the hang-up without
a signal (`watch_for_hangup`), and end the process once the last work is done, within a bound
(`exit_when_done`).
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable

# -----------------------------------------------------------------------------
# the standard streams


def silence_terminal() -> None:
    """stdout and stderr go to /dev/null: writes succeed and go nowhere, so a save in progress does not
    fail (or block) writing to a terminal that is gone."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)
    except OSError:
        pass


def detach_terminal() -> None:
    """silence_terminal, and stdin becomes a pipe that nobody writes to. A thread reading the terminal
    (the app's input thread) then waits quietly: reading the hung-up tty, or /dev/null, would return
    end-of-file at once, forever, and a reader that takes that for "no key yet" spins on it."""
    silence_terminal()
    try:
        r, w = os.pipe()  # w stays open (and unused) for the life of the process: r never reaches EOF
        os.dup2(r, 0)
        os.close(r)
    except OSError:
        pass


# -----------------------------------------------------------------------------
# noticing the hang-up


def watch_for_hangup(gone: Callable[[], None], fd: int = 0) -> threading.Thread | None:
    """Call gone() once, from a daemon thread, when the terminal on `fd` hangs up. None (nothing
    watched) when fd is not a terminal or the platform cannot poll one.

    The thread sleeps in poll() on a copy of fd asking for no events: poll still reports a hang-up
    (POLLHUP, POLLERR), and pending keys do not wake it, so it costs nothing while the terminal lives.
    A copy, so that detach_terminal replacing fd 0 does not change what is watched."""
    if not hasattr(select, "poll") or not os.isatty(fd):
        return None
    watched = os.dup(fd)
    thread = threading.Thread(target=_watch, args=(watched, gone), name="rnntui-hangup", daemon=True)
    thread.start()
    return thread


def _watch(fd: int, gone: Callable[[], None]) -> None:
    poller = select.poll()
    poller.register(fd, 0)
    while True:
        events = 0
        for _fd, ev in poller.poll():
            events |= ev
        if events & select.POLLNVAL:
            return  # this platform cannot poll a tty (older macOS): SIGHUP is the only notice there
        if _hung_up(fd):
            gone()
            return
        time.sleep(0.5)  # reported but still answering: look again shortly


def _hung_up(fd: int) -> bool:
    """A hung-up tty refuses every terminal request (EIO); a live one answers."""
    import termios

    try:
        termios.tcgetattr(fd)
    except termios.error:
        return True
    return False


# -----------------------------------------------------------------------------
# ending the process


def exit_when_done(done: threading.Event | None, code: int, bound_s: float) -> threading.Thread:
    """End the process with `code` once `done` is set (None: at once), or after bound_s seconds if it never
    is, from a daemon thread. os._exit: no atexit handlers, no joining of other threads, no flushing of
    streams, each of which could wait on the terminal that is gone or on a thread stuck writing to it."""

    def wait_then_exit() -> None:
        if done is not None:
            done.wait(bound_s)
        os._exit(code)

    thread = threading.Thread(target=wait_then_exit, name="rnntui-exit", daemon=True)
    thread.start()
    return thread
