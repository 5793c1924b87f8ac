"""RunState: what the dashboard knows about a run, fed one engine event at a time on the UI thread.

Applying an event is O(1) and draws nothing; the dashboard redraws from this on a timer (2-5 Hz), so a
fast engine cannot flood the terminal. Histories are bounded so a 100,000-step run costs the same memory
as a short one.
"""
from __future__ import annotations

import csv
import json
from collections import deque
from pathlib import Path

from rnntui.core.events import (
    CheckpointSaved, EvalMetrics, Event, Paused, ProbeSnapshot, RunFinished, RunStarted, Sample, StepMetrics,
)

MAX_POINTS = 20_000  # chart history; halved (every other point kept) when full, so the whole run stays
MAX_RECORDS = 100_000  # metric records kept for export (the newest)
MAX_SAMPLES = 40  # samples shown in the samples panel


class RunState:
    def __init__(self) -> None:
        self.started: RunStarted | None = None  # the run's resolved config, vocab, sizes
        self.metrics: StepMetrics | None = None  # the latest training metrics
        self.eval: EvalMetrics | None = None  # the latest validation pass
        self.probe: ProbeSnapshot | None = None  # the latest gradient-flow / hidden-state probe
        self.saved: CheckpointSaved | None = None  # the latest checkpoint written
        self.finished: RunFinished | None = None  # set when the run ended
        self.paused = False  # the engine reported it is idling
        self.samples: deque[Sample] = deque(maxlen=MAX_SAMPLES)
        self.train_steps: list[int] = []  # loss chart, training points
        self.train_loss: list[float] = []
        self.grad_norms: list[float] = []  # global gradient norm before clipping, same steps
        self.val_steps: list[int] = []  # loss chart, validation points
        self.val_loss: list[float] = []
        self.records: deque[dict] = deque(maxlen=MAX_RECORDS)  # step/eval metrics for export
        self.version = 0  # bumped by every event: panels redraw only when it moved

    # -------------------------------------------------------------------------
    # events

    def apply(self, event: Event) -> None:
        self.version += 1
        if isinstance(event, StepMetrics):
            self.metrics = event
            self.train_steps.append(event.step)
            self.train_loss.append(event.loss)
            self.grad_norms.append(event.grad_norm)
            if len(self.train_steps) > MAX_POINTS:
                for xs in (self.train_steps, self.train_loss, self.grad_norms):
                    xs[:] = xs[::2]
            self.records.append({"kind": "step", "step": event.step, "epoch": round(event.epoch, 5),
                                 "loss": event.loss, "lr": event.lr, "grad_norm": event.grad_norm,
                                 "chars_per_s": round(event.chars_per_s, 1),
                                 "elapsed_s": round(event.elapsed_s, 3)})
        elif isinstance(event, EvalMetrics):
            self.eval = event
            self.val_steps.append(event.step)
            self.val_loss.append(event.val_loss)
            self.records.append({"kind": "eval", "step": event.step, "val_loss": event.val_loss,
                                 "val_bpc": event.val_bpc, "full": event.full})
        elif isinstance(event, ProbeSnapshot):
            self.probe = event
        elif isinstance(event, Sample):
            self.samples.append(event)
        elif isinstance(event, CheckpointSaved):
            self.saved = event
        elif isinstance(event, Paused):
            self.paused = event.paused
        elif isinstance(event, RunStarted):
            self.started, self.finished, self.paused = event, None, False
            self.train_steps[:] = list(event.history_steps)
            self.train_loss[:] = list(event.history_loss)
            self.grad_norms[:] = [float("nan")] * len(event.history_steps)  # not kept by checkpoints
            self.val_steps[:] = [s for s, _ in event.val_history]
            self.val_loss[:] = [v for _, v in event.val_history]
        elif isinstance(event, RunFinished):
            self.finished, self.paused = event, False

    # -------------------------------------------------------------------------
    # export

    @property
    def run_dir(self) -> Path:
        """The run folder when the run saves checkpoints, else the working directory."""
        return Path(self.started.run_dir) if self.started and self.started.run_dir else Path.cwd()

    def write_jsonl(self, path: Path) -> None:
        with open(path, "w", encoding="utf-8") as f:
            for r in self.records:
                f.write(json.dumps(r) + "\n")

    def write_csv(self, path: Path) -> None:
        columns = ["kind", "step", "epoch", "loss", "lr", "grad_norm", "chars_per_s", "elapsed_s",
                   "val_loss", "val_bpc", "full"]
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=columns)
            w.writeheader()
            w.writerows(self.records)
