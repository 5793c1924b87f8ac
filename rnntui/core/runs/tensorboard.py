"""A run in TensorBoard: metrics records as TensorBoard scalars and texts, and the writer that stores them.

One mapping serves both ways in: `rnntui export RUN_DIR --tensorboard OUT` feeds it the run folder's
metrics.jsonl (read and checked by runlog.py), and `rnntui train --tensorboard OUT` feeds it each engine
event as the record the run folder's log gets (records.to_record, probes thinned as that log thins them),
so a live-written run and an exported one read the same.

    tag                  from      value
    loss/train           step      training loss, nats per char (the mean over the log interval)
    loss/val             eval      validation loss, nats per char
    bpc/train, bpc/val   step/eval the same in bits per char
    optim/lr             step      learning rate
    optim/grad_norm      step      global gradient norm before clipping
    speed/chars_per_s    step      training characters per second
    horizon/layer_N      probe     memory horizon of layer N in steps, over the last few probes as the app
                                   computes it (analysis/horizon.py); a horizon that fills the window reads
                                   as window - 1 ("at least")
    samples (text)       sample    the sample, as a code block under its temperature and prime

Each event's wall time is the run's: the start record's clock plus the training seconds of the latest
step record. The writer is torch.utils.tensorboard.SummaryWriter, from the optional `tensorboard`
package (`pip install 'rnntui[tensorboard]'`); it is imported only when a writer opens. No UI toolkit.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnntui.core import events as ev
from rnntui.core.analysis.horizon import HorizonSmoother
from rnntui.core.config import RnntuiError
from rnntui.core.runs.records import ProbeThinner, to_record
from rnntui.core.runs.runlog import read_records
from rnntui.core.train.schedule import Budget
from rnntui.core.units import bits_per_char

INSTALL = "pip install 'rnntui[tensorboard]'"
EVENT_FILES = "events.out.tfevents.*"  # how TensorBoard names its files (an export replaces only these)
FLUSH_S = 5  # a live run's events reach the disk (and a watching TensorBoard) at least this often


class BoardError(RnntuiError):
    """TensorBoard output cannot be written (or the package is missing): one line saying why."""


@dataclass(frozen=True)
class Scalar:
    tag: str
    step: int
    value: float
    wall_time: float | None  # seconds since the epoch; None: now


@dataclass(frozen=True)
class Text:
    tag: str
    step: int
    text: str  # markdown, as TensorBoard's text plugin renders it
    wall_time: float | None


Item = Scalar | Text


# -----------------------------------------------------------------------------
# records -> scalars and texts


class BoardMapper:
    """Maps metrics records, in log order, to TensorBoard items. Holds what spans records: the horizon's
    recent probes and the run's clock."""

    def __init__(self) -> None:
        self.horizons = HorizonSmoother()
        self.started: float | None = None  # time.time() of the latest start record
        self.elapsed = 0.0  # training seconds of this invocation at the latest step record

    def wall_time(self) -> float | None:
        return None if self.started is None else self.started + self.elapsed

    def add(self, rec: dict[str, Any]) -> list[Item]:
        t, step = rec["type"], rec["step"]
        if t == "start":
            self.started, self.elapsed = rec.get("time"), 0.0
            return []
        if t == "step":
            self.elapsed = float(rec.get("elapsed_s") or 0.0)
            loss = rec.get("loss")
            return self._scalars(
                step,
                {
                    "loss/train": loss,
                    "bpc/train": None if loss is None else bits_per_char(loss),
                    "optim/lr": rec.get("lr"),
                    "optim/grad_norm": rec.get("grad_norm"),
                    "speed/chars_per_s": rec.get("chars_per_s"),
                },
            )
        if t == "eval":
            loss = rec.get("val_loss")
            bpc = rec.get("val_bpc", None if loss is None else bits_per_char(loss))
            return self._scalars(step, {"loss/val": loss, "bpc/val": bpc})
        if t == "probe":
            self.horizons.add(rec["grad_last"], step)  # (layers, T); nulls read as NaN: unknown
            return self._scalars(step, {f"horizon/layer_{h.layer + 1}": h.steps for h in self.horizons.horizons()})
        if t == "sample":
            return [
                Text(
                    "samples",
                    step,
                    sample_markdown(rec.get("text", ""), rec.get("prime", ""), rec.get("temperature")),
                    self.wall_time(),
                )
            ]
        return []

    def _scalars(self, step: int, values: dict[str, float | None]) -> list[Item]:
        wall = self.wall_time()
        return [
            Scalar(tag, step, float(v), wall)
            for tag, v in values.items()
            if isinstance(v, (int, float)) and math.isfinite(v)
        ]


def sample_markdown(text: str, prime: str = "", temperature: float | None = None) -> str:
    """A sample as TensorBoard shows it: a line saying how it was made, then the text as a code block
    (indented, so nothing the model wrote is read as markdown)."""
    how = [
        f"temperature {temperature:g}" if isinstance(temperature, (int, float)) else "",
        f"prime {prime!r}" if prime else "",
    ]
    head = ", ".join(x for x in how if x) or "sample"
    return head + "\n\n" + "\n".join("    " + line for line in text.split("\n"))


def board_items(records: Iterable[dict[str, Any]]) -> list[Item]:
    """Every item of a metrics log's records (as runlog.read_records returns them), in order."""
    mapper = BoardMapper()
    return [item for rec in records for item in mapper.add(rec)]


# -----------------------------------------------------------------------------
# writing


def require_tensorboard() -> Any:
    """torch.utils.tensorboard.SummaryWriter, or BoardError saying what to install."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise BoardError(f"TensorBoard output needs the tensorboard package: {INSTALL}") from None
    return SummaryWriter


class BoardWriter:
    """Writes items into one TensorBoard run folder (a SummaryWriter); every failure is a BoardError."""

    def __init__(self, folder: str | os.PathLike):
        writer_cls = require_tensorboard()
        self.folder = Path(folder)
        self.scalars = self.texts = 0
        self.tags: set[str] = set()
        try:
            self._w = writer_cls(log_dir=str(self.folder), flush_secs=FLUSH_S)
        except Exception as e:
            raise _error(self.folder, e) from None

    def write(self, items: Iterable[Item]) -> None:
        try:
            for it in items:
                if isinstance(it, Scalar):
                    self._w.add_scalar(it.tag, it.value, it.step, walltime=it.wall_time)
                    self.scalars += 1
                else:
                    self._w.add_text(it.tag, it.text, it.step, walltime=it.wall_time)
                    self.texts += 1
                self.tags.add(it.tag)
        except Exception as e:
            raise _error(self.folder, e) from None

    def flush(self) -> None:
        try:
            self._w.flush()
        except Exception as e:
            raise _error(self.folder, e) from None

    def close(self) -> None:
        try:
            self._w.close()
        except Exception as e:
            raise _error(self.folder, e) from None


def _error(folder: Path, e: Exception) -> BoardError:
    why = e.strerror if isinstance(e, OSError) and e.strerror else str(e) or type(e).__name__
    return BoardError(f"{folder}: cannot write TensorBoard events ({why.splitlines()[0]})")


def event_files(folder: str | os.PathLike) -> list[Path]:
    """The TensorBoard event files in a folder (not below it)."""
    return sorted(p for p in Path(folder).glob(EVENT_FILES) if p.is_file())


# -----------------------------------------------------------------------------
# a finished (or growing) run folder's log


def export_log(metrics: str | os.PathLike, folder: str | os.PathLike, overwrite: bool = False) -> list[Item]:
    """Write the items of a metrics log into `folder` and return them. A folder that already holds event
    files is refused (TensorBoard would show both copies), unless `overwrite`: then those files go first."""
    folder = Path(folder)
    old = event_files(folder) if folder.is_dir() else []
    if old and not overwrite:
        raise BoardError(f"{folder}: already holds TensorBoard events (use --overwrite to replace them)")
    items = board_items(read_records(metrics))
    for p in old:
        try:
            p.unlink()
        except OSError as e:
            raise _error(folder, e) from None
    writer = BoardWriter(folder)
    try:
        writer.write(items)
    finally:
        writer.close()
    return items


# -----------------------------------------------------------------------------
# live: engine events -> the records the run folder's log keeps -> items


class LiveBoard:
    """Writes a training run's events to TensorBoard as they come: each event becomes the record the run
    folder's metrics.jsonl gets (to_record, probes thinned by the same ProbeThinner), so the folder reads
    as `rnntui export` of the run would write it."""

    def __init__(self, writer: BoardWriter):
        self.writer = writer
        self.mapper = BoardMapper()
        self.thinner: ProbeThinner | None = None

    def write(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            budget = Budget.of(event.config, event.steps_per_epoch)  # the budget the run's log thins by
            self.thinner = ProbeThinner(budget.total_steps, budget.seconds)
        rec = to_record(event)
        if rec is None:
            return
        if self.thinner is not None and not self.thinner.passes(event):
            return
        self.writer.write(self.mapper.add(rec))
        if isinstance(event, ev.RunFinished):
            self.writer.flush()
