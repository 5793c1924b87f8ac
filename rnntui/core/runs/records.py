"""The metrics log: one JSON object per line, the same records for the run folder's metrics.jsonl, the
CLI's --metrics file and the app's export.

    {"type": "step", "step", "epoch", "loss", "lr", "grad_norm", "chars_per_s", "elapsed_s", "chars_seen", "wall_s"}
    {"type": "eval", "step", "val_loss", "val_bpc", "full"}
    {"type": "probe", "step", "grad_total": [[...] per layer], "grad_last": [[...] per layer]}
    {"type": "sample", "step", "prime", "text", "temperature"}
    {"type": "checkpoint", "step", "kind", "path"}
    {"type": "start", "step", "time", "wall_s"}    one per invocation (a resume appends another)
    {"type": "end", "step", "reason", "message", "val_loss"}

Written with a flush at every step record, so a run killed with SIGKILL leaves a log that reads back
(runlog.py reads it: a torn last line is skipped, never fatal). Probe records are thinned as a run grows
(see ProbeThinner).
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, overload

import numpy as np

from rnntui.core import events as ev
from rnntui.core.config import RnntuiError
from rnntui.core.runs.files import open_for_write

PROBE_CAP = 500  # probe records kept evenly over a run with a known budget (~2 KB each at 2x64)


class LogError(RnntuiError):
    """A metrics file cannot be written: one line naming it."""


def _r(x: float, digits: int = 6) -> float | None:
    """JSON has no NaN/inf: write null; round so a day's log stays small."""
    if x is None or not math.isfinite(x):
        return None
    return float(f"{x:.{digits}g}")


def _curves(a: np.ndarray) -> list[list[float | None]]:
    return [[_r(float(v), 3) for v in row] for row in np.asarray(a, dtype=np.float64)]


# -----------------------------------------------------------------------------
# event -> record


@overload
def to_record(event: ev.StepMetrics | ev.EvalMetrics) -> dict[str, Any]: ...  # always kept
@overload
def to_record(event: ev.Event) -> dict[str, Any] | None: ...
def to_record(event: ev.Event) -> dict[str, Any] | None:
    """The log record of an engine event, or None for events the log does not keep."""
    if isinstance(event, ev.StepMetrics):
        return {
            "type": "step",
            "step": event.step,
            "epoch": round(event.epoch, 5),
            "loss": _r(event.loss),
            "lr": _r(event.lr),
            "grad_norm": _r(event.grad_norm),
            "chars_per_s": round(event.chars_per_s, 1),
            "elapsed_s": round(event.elapsed_s, 3),
            "chars_seen": event.chars_seen,
            "wall_s": round(event.wall_s, 3),
        }
    if isinstance(event, ev.EvalMetrics):
        return {
            "type": "eval",
            "step": event.step,
            "val_loss": _r(event.val_loss),
            "val_bpc": _r(event.val_bpc),
            "full": event.full,
        }
    if isinstance(event, ev.ProbeSnapshot):
        return {
            "type": "probe",
            "step": event.step,
            "grad_total": _curves(event.grad_total),
            "grad_last": _curves(event.grad_last),
        }
    if isinstance(event, ev.Sample):
        return {
            "type": "sample",
            "step": event.step,
            "prime": event.prime,
            "text": event.text,
            "temperature": event.temperature,
        }
    if isinstance(event, ev.CheckpointSaved):
        return {"type": "checkpoint", "step": event.step, "kind": event.kind, "path": event.path}
    if isinstance(event, ev.RunStarted):
        return {
            "type": "start",
            "step": event.start_step,
            "time": round(time.time(), 3),
            "wall_s": round(event.wall_s, 3),
        }
    if isinstance(event, ev.RunFinished):
        return {
            "type": "end",
            "step": event.step,
            "reason": event.reason,
            "message": event.message,
            "val_loss": _r(event.val_loss) if event.val_loss is not None else None,
        }
    return None


# -----------------------------------------------------------------------------
# writing


class ProbeThinner:
    """Decides which probe snapshots reach the log, so a day-long run's log stays a few MB.

    With a step budget, one probe every total/PROBE_CAP steps; with a time budget, one every
    seconds/PROBE_CAP seconds; open-ended, the stride doubles each time another PROBE_CAP are written.
    """

    def __init__(self, total_steps: int | None, seconds: float | None, cap: int = PROBE_CAP):
        self.cap = cap
        self.step_stride = max(1, total_steps // cap) if total_steps else 0
        self.time_stride = seconds / cap if seconds else 0.0
        self.open_stride = 1 if not (total_steps or seconds) else 0
        self.next_step, self.next_t, self.written = -math.inf, -math.inf, 0
        self.elapsed = 0.0  # the run's clock, from the last StepMetrics passed in (probes carry none)

    def passes(self, event: ev.Event) -> bool:
        """Whether a writer keeps `event`: every event but a thinned-out ProbeSnapshot (StepMetrics set the
        clock a time budget thins by)."""
        if isinstance(event, ev.StepMetrics):
            self.elapsed = event.elapsed_s
        return not isinstance(event, ev.ProbeSnapshot) or self.keep(event.step, self.elapsed)

    def keep(self, step: int, elapsed_s: float) -> bool:
        ok = elapsed_s >= self.next_t if self.time_stride else step >= self.next_step
        if not ok:
            return False
        self.written += 1
        self.next_step = step + (self.step_stride or self.open_stride)
        self.next_t = elapsed_s + self.time_stride
        if self.open_stride and self.written % self.cap == 0:
            self.open_stride *= 2
        return True


class MetricsLog:
    """Append records to a JSONL file; every write error is a LogError naming the file.

    `run_file`: the log of a run folder, which only rnntui writes: it must be a regular file, and is
    never written through a symbolic link (a link planted there would make a resume append to whatever
    it points at). The --metrics file the user names is written wherever the name leads (a pipe too).
    Either way an append after a torn last line (a writer killed mid-line) starts on a new line, so the
    first record of this invocation is not glued onto the torn one and lost with it."""

    def __init__(
        self,
        path: str | os.PathLike,
        thinner: ProbeThinner | None = None,
        kinds: Iterable[str] | None = None,
        run_file: bool = False,
    ):
        self.path = Path(path)
        self.thinner = thinner
        self.kinds = set(kinds) if kinds is not None else None  # None: every record type
        try:
            self._f: IO[str] | None = _open_log(self.path, run_file)
        except OSError as e:
            why = (
                "a symbolic link; a run folder's log is never written through one"
                if e.errno == errno.ELOOP
                else e.strerror or str(e)
            )
            raise LogError(f"{self.path}: cannot write metrics ({why})") from None

    def write(self, event: ev.Event) -> None:
        rec = to_record(event)
        if rec is None or self._f is None or (self.kinds is not None and rec["type"] not in self.kinds):
            return
        if self.thinner is not None and not self.thinner.passes(event):
            return
        try:
            self._f.write(json.dumps(rec) + "\n")
            if rec["type"] != "probe":  # a step record comes every log interval: flush with it
                self._f.flush()
        except OSError as e:
            self._f = None  # a full disk: stop writing, report once
            raise LogError(f"{self.path}: {'no space left on device' if e.errno == 28 else e.strerror or e}") from None

    def close(self) -> None:
        if self._f is not None:
            try:
                self._f.close()
            except OSError:
                pass
            self._f = None


def _open_log(path: Path, run_file: bool) -> IO[str]:
    flags = os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    if run_file:
        fd = open_for_write(path, append=True)
    elif os.path.isfile(path) or not os.path.lexists(path):  # a regular file: opened readable for the check below
        try:
            fd = os.open(path, os.O_RDWR | flags, 0o644)
        except PermissionError:  # write-only to us: no check, as before
            fd = os.open(path, os.O_WRONLY | flags, 0o644)
    else:  # a pipe or a terminal the user named: write only, no looking back
        fd = os.open(path, os.O_WRONLY | flags, 0o644)
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_size and _last_byte(fd, st.st_size) not in (b"\n", None):
            os.write(fd, b"\n")  # the last line is torn: end it, so the next record starts a line of its own
        return os.fdopen(fd, "a", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def _last_byte(fd: int, size: int) -> bytes | None:
    try:
        return os.pread(fd, 1, size - 1)
    except OSError:  # opened write-only: nothing to check
        return None
