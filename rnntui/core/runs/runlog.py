"""Reading a metrics log back (the records rnntui.core.runs.records writes), bounded, and every record checked
(record_schema.py) before anything reads it:

    parse_lines(lines)      records from JSONL lines; a torn, foreign or malformed line is skipped
    read_records(path)      every record of a finished log
    Follower(path).poll()   the records appended since the last poll, for a log that is still growing
    read_log(path)          a run's story as arrays for charts (RunLog)

A log killed mid-line reads back: the torn last line is skipped, never fatal.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnntui.core.runs.files import RunDirError, open_regular
from rnntui.core.runs.record_schema import check_record

# -----------------------------------------------------------------------------
# reading: bounded, and every record checked before anything reads it

MAX_LINE = 4 << 20  # bytes: a longer line is no record of ours (the longest, a sample, is a few KB); skipped
CHUNK = 1 << 20  # bytes read at a time


def parse_lines(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Records from JSONL lines; a torn, foreign or malformed line is skipped, never fatal."""
    out = []
    for line in lines:
        line = line.strip()
        if not line or len(line) > MAX_LINE:
            continue
        try:
            rec = check_record(json.loads(line))
        except (ValueError, RecursionError):  # not JSON; or nested deeper than Python's stack allows
            continue
        if rec is not None:
            out.append(rec)
    return out


def read_records(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Every record of a log written to the end (its torn last line too, if that happens to parse);
    nothing when the file is missing or not a regular file."""
    follower = Follower(path)
    return follower.poll() + follower.rest()


class Follower:
    """Follows a growing metrics file: each poll() returns the whole lines appended since the last.

    Reads in bounded chunks and never holds more than MAX_LINE bytes of an unfinished line: a line
    longer than that is skipped as it goes by. A file that is not a regular file reads as empty."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.offset = 0
        self._partial = b""  # the unfinished last line, waiting for the rest of it
        self._skipping = False  # inside a line too long to be a record: drop bytes until its end

    def poll(self) -> list[dict[str, Any]]:
        try:
            f = open_regular(self.path)
        except RunDirError:
            return []
        out: list[dict[str, Any]] = []
        with f:
            try:
                if os.fstat(f.fileno()).st_size < self.offset:  # truncated or replaced: read it afresh
                    self.offset, self._partial, self._skipping = 0, b"", False
                f.seek(self.offset)
                while chunk := f.read(CHUNK):
                    self.offset += len(chunk)
                    out += parse_lines(line.decode("utf-8", errors="replace") for line in self._lines(chunk))
            except OSError:
                pass
        return out

    def rest(self) -> list[dict[str, Any]]:
        """The unfinished last line as a record, when it parses (a reader of a finished log wants it)."""
        line, self._partial = self._partial, b""
        return parse_lines([line.decode("utf-8", errors="replace")]) if line and not self._skipping else []

    def _lines(self, chunk: bytes) -> list[bytes]:
        """The whole lines `chunk` completes; the rest waits in _partial (or is skipped, when too long)."""
        *whole, tail = chunk.split(b"\n")
        lines = []
        if whole:
            first = self._partial + whole[0]
            if not self._skipping and len(first) <= MAX_LINE:
                lines.append(first)
            lines += [w for w in whole[1:] if len(w) <= MAX_LINE]
            self._partial, self._skipping = b"", False
        if not self._skipping:
            self._partial += tail
            if len(self._partial) > MAX_LINE:
                self._partial, self._skipping = b"", True
        return lines


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
            self.samples.append(
                (rec["step"], str(rec.get("prime", "")), str(rec.get("text", "")), _f(rec.get("temperature")))
            )
        elif t == "checkpoint":
            self.saved[str(rec.get("kind"))] = rec["step"]
        elif t == "start":
            self.end = None
        elif t == "end":
            self.end = rec

    def extend(self, records: Iterable[dict[str, Any]]) -> RunLog:
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
