"""Stopping a headless training run cleanly: on Ctrl+C, SIGTERM or SIGHUP, or when an output fails.

    signals = StopOnSignal()        installs the handlers; signals.stop is the Event the engine watches
    signals.trainer = trainer       a second signal then cuts the closing validation short
    return signals.exit_code        128 + the signal's number, or the failed output's status

`rnntui train` and `rnntui compare` (cli/train.py, cli/runs.py) both stop this way: at the next step
boundary, with latest.pt saved.
"""

from __future__ import annotations

import errno
import signal
import sys
import threading
from typing import TYPE_CHECKING

from rnntui.core.textsafe import visible
from rnntui.terminal import silence_terminal

if TYPE_CHECKING:  # imported when a run starts: `rnntui --help` loads no torch
    from rnntui.core.train.engine import Trainer

# -----------------------------------------------------------------------------
# stopping on a signal


STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")  # Ctrl+C, timeout/docker stop/schedulers, a closed terminal


class StopOnSignal:
    """The first Ctrl+C, SIGTERM or SIGHUP stops training at the next step boundary (latest.pt is saved);
    a second one cuts the closing validation short, and the save still happens. The exit status of a
    stopped run is 128 + the signal's number (130 for Ctrl+C, 143 for SIGTERM, 129 for SIGHUP).

    A failed output stops it the same way (stop_for): stdout or stderr (141 for a closed pipe, 74 for
    another error; cli/output.py) or the --metrics file (141 for a closed pipe, 2 for another error)."""

    def __init__(self) -> None:
        from rnntui.cli.output import on_output_failure

        self.stop = threading.Event()
        self.code = 0  # the exit status of a stopped run: the first cause's
        self.closing = ""  # one line to print once the run is over, saying why it stopped (not a signal)
        self.trainer: Trainer | None = None
        self.quiet = False  # ranks other than 0 of a distributed run print nothing
        for name in STOP_SIGNALS:
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), self._on_signal)
        on_output_failure(self._on_output_failure)

    def _on_signal(self, signum: int, frame: object) -> None:
        if signum == getattr(signal, "SIGHUP", None):
            silence_terminal()  # the terminal is gone: writing to it would fail mid-save
        if not self.stop.is_set():
            self.stop_for(128 + signum)
            return
        if self.trainer is not None:
            self.trainer.hurry()
        if not self.quiet:
            print("rnntui: stopping: saving latest.pt before exiting", file=sys.stderr, flush=True)

    def stop_for(self, code: int, closing: str = "") -> None:
        """Stop at the next step, to exit with `code` and print `closing` once stopped; the first cause wins."""
        if not self.stop.is_set():
            self.code, self.closing = code, closing
            self.stop.set()

    def _on_output_failure(self, e: OSError) -> None:  # may run on a progress bar's thread: only flags
        from rnntui.cli.output import exit_status_for

        self.stop_for(exit_status_for(e), f"rnntui: error: output failed ({e.strerror or e}): training stopped")

    def metrics_failed(self, e: Exception) -> None:
        """The --metrics file could not be written (a LogError naming it)."""
        from rnntui.cli.output import BROKEN_PIPE_EXIT

        cause = e.__context__  # the OSError the LogError was raised from (raise ... from None keeps it here)
        closed = isinstance(cause, OSError) and cause.errno == errno.EPIPE  # its reader went away
        self.stop_for(BROKEN_PIPE_EXIT if closed else 2, f"rnntui: error: {visible(str(e))}: training stopped")

    def close(self, latest: str | None) -> None:
        """After the run: the line saying why it stopped, when it was not a signal."""
        if self.closing and not self.quiet:
            print(
                self.closing + (f"; latest checkpoint: {visible(latest)}" if latest else ""),
                file=sys.stderr,
                flush=True,
            )

    @property
    def exit_code(self) -> int:
        return self.code or 130
