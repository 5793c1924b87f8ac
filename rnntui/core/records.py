"""The metrics log: one JSON object per line, the same records for the run folder's metrics.jsonl, the
CLI's --metrics file and the app's export.

    {"type": "step", "step", "epoch", "loss", "lr", "grad_norm", "chars_per_s", "elapsed_s", "chars_seen", "wall_s"}
    {"type": "eval", "step", "val_loss", "val_bpc", "full"}
    {"type": "probe", "step", "grad_total": [[...] per layer], "grad_last": [[...] per layer]}
    {"type": "sample", "step", "prime", "text", "temperature"}
    {"type": "checkpoint", "step", "kind", "path"}
    {"type": "start", "step", "time", "wall_s"}    one per invocation (a resume appends another)
    {"type": "end", "step", "reason", "message", "val_loss"}

Written with a flush at every step record, so a run killed with SIGKILL leaves a log that reads back:
a torn last line is skipped, never fatal. Probe records are thinned as a run grows (see ProbeThinner).
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable

import numpy as np

from rnntui.core import events as ev
from rnntui.core.config import RnntuiError

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


def to_record(event: ev.Event) -> dict[str, Any] | None:
    """The log record of an engine event, or None for events the log does not keep."""
    if isinstance(event, ev.StepMetrics):
        return {"type": "step", "step": event.step, "epoch": round(event.epoch, 5), "loss": _r(event.loss),
                "lr": _r(event.lr), "grad_norm": _r(event.grad_norm), "chars_per_s": round(event.chars_per_s, 1),
                "elapsed_s": round(event.elapsed_s, 3), "chars_seen": event.chars_seen,
                "wall_s": round(event.wall_s, 3)}
    if isinstance(event, ev.EvalMetrics):
        return {"type": "eval", "step": event.step, "val_loss": _r(event.val_loss), "val_bpc": _r(event.val_bpc),
                "full": event.full}
    if isinstance(event, ev.ProbeSnapshot):
        return {"type": "probe", "step": event.step, "grad_total": _curves(event.grad_total),
                "grad_last": _curves(event.grad_last)}
    if isinstance(event, ev.Sample):
        return {"type": "sample", "step": event.step, "prime": event.prime, "text": event.text,
                "temperature": event.temperature}
    if isinstance(event, ev.CheckpointSaved):
        return {"type": "checkpoint", "step": event.step, "kind": event.kind, "path": event.path}
    if isinstance(event, ev.RunStarted):
        return {"type": "start", "step": event.start_step, "time": round(time.time(), 3),
                "wall_s": round(event.wall_s, 3)}
    if isinstance(event, ev.RunFinished):
        return {"type": "end", "step": event.step, "reason": event.reason, "message": event.message,
                "val_loss": _r(event.val_loss) if event.val_loss is not None else None}
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
    """Append records to a JSONL file; every write error is a LogError naming the file."""

    def __init__(self, path: str | os.PathLike, thinner: ProbeThinner | None = None, kinds: Iterable[str] | None = None):
        self.path = Path(path)
        self.thinner = thinner
        self.kinds = set(kinds) if kinds is not None else None  # None: every record type
        self._elapsed = 0.0
        try:
            self._f: IO[str] | None = open(self.path, "a", encoding="utf-8")
        except OSError as e:
            raise LogError(f"{self.path}: cannot write metrics ({e.strerror or e})") from None

    def write(self, event: ev.Event) -> None:
        rec = to_record(event)
        if rec is None or self._f is None or (self.kinds is not None and rec["type"] not in self.kinds):
            return
        if isinstance(event, ev.StepMetrics):
            self._elapsed = event.elapsed_s
        if rec["type"] == "probe" and self.thinner is not None and not self.thinner.keep(event.step, self._elapsed):
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


# -----------------------------------------------------------------------------
# reading


def parse_lines(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Records from JSONL lines; a torn or foreign line is skipped, never fatal."""
    out = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("type"), str) and isinstance(rec.get("step"), int):
            out.append(rec)
    return out


def read_records(path: str | os.PathLike) -> list[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return parse_lines(f)
    except OSError:
        return []


class Follower:
    """Follows a growing metrics file: each poll() returns the whole lines appended since the last."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.offset = 0
        self._partial = ""

    def poll(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, encoding="utf-8", errors="replace") as f:
                f.seek(self.offset)
                chunk = f.read()
                self.offset = f.tell()
        except OSError:
            return []
        text = self._partial + chunk
        lines = text.split("\n")
        self._partial = lines.pop()  # an unfinished last line waits for the rest of it
        return parse_lines(lines)


# -----------------------------------------------------------------------------
# a run's story, typed


@dataclass
class RunLog:
    """Everything a metrics log says, as arrays for charts (steps ascending within each list)."""

    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    chars_seen: list[int] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    chars_per_s: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    probes: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)  # (step, total, last)
    samples: list[tuple[int, str, str, float]] = field(default_factory=list)  # (step, prime, text, T)
    saved: dict[str, int] = field(default_factory=dict)  # kind -> step of the last save
    end: dict[str, Any] | None = None  # the last "end" record, None while running or killed

    def add(self, rec: dict[str, Any]) -> None:
        t = rec["type"]
        if t == "step":
            self.steps.append(rec["step"])
            self.loss.append(_f(rec.get("loss")))
            self.grad_norm.append(_f(rec.get("grad_norm")))
            self.chars_seen.append(int(rec.get("chars_seen") or 0))
            self.wall_s.append(_f(rec.get("wall_s", rec.get("elapsed_s"))))
            self.lr.append(_f(rec.get("lr")))
            self.chars_per_s.append(_f(rec.get("chars_per_s")))
        elif t == "eval":
            self.val_steps.append(rec["step"])
            self.val_loss.append(_f(rec.get("val_loss")))
        elif t == "probe":
            try:
                total = np.array(rec["grad_total"], dtype=np.float64)
                last = np.array(rec["grad_last"], dtype=np.float64)
            except (KeyError, TypeError, ValueError):
                return
            if total.ndim == 2 and total.shape == last.shape:
                self.probes.append((rec["step"], total, last))
        elif t == "sample":
            self.samples.append((rec["step"], str(rec.get("prime", "")), str(rec.get("text", "")),
                                 _f(rec.get("temperature"))))
        elif t == "checkpoint":
            self.saved[str(rec.get("kind"))] = rec["step"]
        elif t == "start":
            self.end = None
        elif t == "end":
            self.end = rec

    def extend(self, records: Iterable[dict[str, Any]]) -> "RunLog":
        for r in records:
            self.add(r)
        return self

    def probe_near(self, step: int | None) -> tuple[int, np.ndarray, np.ndarray] | None:
        """The probe at or before `step` (None: the latest)."""
        if not self.probes:
            return None
        if step is None:
            return self.probes[-1]
        before = [p for p in self.probes if p[0] <= step]
        return before[-1] if before else self.probes[0]


def _f(x: Any) -> float:
    return float(x) if isinstance(x, (int, float)) else math.nan


def read_log(path: str | os.PathLike) -> RunLog:
    return RunLog().extend(read_records(path))
