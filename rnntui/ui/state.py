"""RunState: what the dashboard knows about a run, fed one engine event at a time on the UI thread; and
Shown, what the dashboard draws: a RunState and a one-word phase.

Applying an event is O(1) and draws nothing; the dashboard redraws from this on a timer (2-5 Hz), so a
fast engine cannot flood the terminal. Histories are bounded so a 100,000-step run costs the same memory
as a short one. Two things are Shown: a run trained here (workers/training.py, fed by the engine's events)
and a run folder (workers/replay.py, fed by its log's records turned back into those events).
"""

from __future__ import annotations

import csv
import json
from collections import deque
from pathlib import Path
from typing import Protocol

from rnntui.core.analysis.horizon import HorizonSmoother
from rnntui.core.analysis.ngram.figures import Baselines
from rnntui.core.events import (
    CheckpointSaved,
    EvalMetrics,
    Event,
    Loading,
    Paused,
    ProbeSnapshot,
    RunFinished,
    RunStarted,
    Sample,
    StepMetrics,
    Throughput,
    Validating,
)
from rnntui.core.model.flops import achieved_flops, flops_per_char, mfu
from rnntui.core.runs.records import to_record

MAX_POINTS = 20_000  # chart history; halved (every other point kept) when full, so the whole run stays
MAX_RECORDS = 100_000  # metric records kept for export (the newest)
MAX_SAMPLES = 40  # samples shown in the samples panel
STALE_STEPS = 100  # a probe-driven panel is "stale" when its probe is this many steps behind the run...
STALE_S = 30.0  # ...and this many seconds of training old (a fast tiny model does 100 steps in a blink)


class RunState:
    def __init__(self) -> None:
        self.started: RunStarted | None = None  # the run's resolved config, vocab, sizes
        self.metrics: StepMetrics | None = None  # the latest training metrics
        self.eval: EvalMetrics | None = None  # the latest validation pass
        self.probe: ProbeSnapshot | None = None  # the latest gradient-flow / hidden-state probe
        self.probe_elapsed = 0.0  # training seconds (StepMetrics.elapsed_s) when that probe arrived
        self.horizons = HorizonSmoother()  # grad_last of the recent probes, averaged for the verdict
        self.saved: CheckpointSaved | None = None  # the latest checkpoint written
        self.saved_step: int | None = None  # its step, or the step a resumed run was saved at
        self.val_loss_last: float | None = None  # latest validation loss, carried over by a resumed run
        self.best_val: float | None = None  # best validation loss of the run, carried over too
        self.finished: RunFinished | None = None  # set when the run ended
        self.paused = False  # the engine reported it is idling
        self.loading: Loading | None = None  # progress of a first load of a large corpus
        self.throughput: Throughput | None = None  # FLOPs per char and the device's measured peak, for MFU
        self.validating: Validating | None = None  # progress of a long validation pass, until its result
        self.samples: deque[Sample] = deque(maxlen=MAX_SAMPLES)
        self.train_steps: list[int] = []  # loss chart, training points
        self.train_loss: list[float] = []
        self.norm_steps: list[int] = []  # gradient-norm chart: steps...
        self.grad_norms: list[float] = []  # ...and the global gradient norm before clipping
        self.val_steps: list[int] = []  # loss chart, validation points
        self.val_loss: list[float] = []
        self.records: deque[dict] = deque(maxlen=MAX_RECORDS)  # step/eval metrics for export
        self.baselines: Baselines | None = None  # the corpus's n-gram baselines, once computed (plain floats)
        self.version = 0  # bumped by every event: panels redraw only when it moved

    # -------------------------------------------------------------------------
    # events

    def apply(self, event: Event | Baselines) -> None:
        self.version += 1
        if isinstance(event, StepMetrics):
            self.metrics = event
            self.train_steps.append(event.step)
            self.train_loss.append(event.loss)
            self.norm_steps.append(event.step)
            self.grad_norms.append(event.grad_norm)
            for xs, ys in ((self.train_steps, self.train_loss), (self.norm_steps, self.grad_norms)):
                if len(xs) > MAX_POINTS:
                    xs[:], ys[:] = xs[::2], ys[::2]
            self.records.append(to_record(event))
        elif isinstance(event, EvalMetrics):
            self.eval, self.validating = event, None
            self.val_loss_last = event.val_loss
            self.best_val = event.best_val_loss if self.best_val is None else min(self.best_val, event.best_val_loss)
            self.val_steps.append(event.step)
            self.val_loss.append(event.val_loss)
            self.records.append(to_record(event))
        elif isinstance(event, ProbeSnapshot):
            self.probe = event
            self.probe_elapsed = self.metrics.elapsed_s if self.metrics else 0.0
            self.horizons.add(event)
        elif isinstance(event, Sample):
            self.samples.append(event)
        elif isinstance(event, CheckpointSaved):
            self.saved, self.saved_step = event, event.step
        elif isinstance(event, Paused):
            self.paused = event.paused
        elif isinstance(event, Loading):
            self.loading = event
        elif isinstance(event, Validating):
            self.validating = event
        elif isinstance(event, Throughput):
            self.throughput = event
        elif isinstance(event, RunStarted):
            self.started, self.finished, self.paused, self.throughput = event, None, False, None
            self.train_steps[:] = list(event.history_steps)
            self.train_loss[:] = list(event.history_loss)
            self.norm_steps[:] = [s for s, _ in event.grad_norm_history]
            self.grad_norms[:] = [g for _, g in event.grad_norm_history]
            self.val_steps[:] = [s for s, _ in event.val_history]
            self.val_loss[:] = [v for _, v in event.val_history]
            # what a resumed run already knew: the status shows it rather than "–" until the next pass
            self.val_loss_last = event.val_history[-1][1] if event.val_history else None
            best = [v for _, v in event.val_history]
            if event.best_val_loss is not None:
                best.append(event.best_val_loss)
            self.best_val = min(best) if best else None
            self.saved_step = event.last_saved_step
        elif isinstance(event, RunFinished):
            self.finished, self.paused = event, False
        elif isinstance(event, Baselines):  # from the training worker's side thread (workers/training.py)
            self.baselines = event

    # -------------------------------------------------------------------------
    # derived

    @property
    def baseline_refs(self) -> tuple[tuple[str, float], ...]:
        """The loss chart's reference lines, best first: (("6-gram", 1.52), ("unigram", 3.35), ("uniform", 4.17))."""
        b = self.baselines
        if b is None:
            return ()
        order, loss = b.best
        return ((f"{order}-gram", loss), ("unigram", b.unigram), ("uniform", b.uniform))

    @property
    def step(self) -> int:
        """The run's current step: the newest of what the engine reported (metrics come every log_every
        steps, a checkpoint or a probe can be newer)."""
        steps = [e.step for e in (self.metrics, self.saved, self.probe, self.finished) if e is not None]
        if self.started is not None:
            steps.append(self.started.start_step)
        return max(steps, default=0)

    def flops_per_char(self) -> int | None:
        """Matmul FLOPs of one training character: the engine's word, or (a run folder watched, which
        records no Throughput) the same count from the run's model (core/model/flops.py)."""
        if self.throughput is not None:
            return self.throughput.flops_per_char
        if self.started is None:
            return None
        return flops_per_char(self.started.config.model, len(self.started.vocab) or None)

    def achieved(self) -> tuple[float | None, float | None]:
        """(achieved FLOP/s per process, MFU: its share of the measured peak) at the latest chars/s; None
        where unknown (no metrics yet, no peak: a watched run folder, a peak that could not be measured)."""
        per_char, m, t = self.flops_per_char(), self.metrics, self.throughput
        if per_char is None or m is None:
            return None, None
        ranks = t.ranks if t is not None else 1
        share = mfu(m.chars_per_s / ranks, per_char, t.peak_flops) if t is not None and t.peak_flops else None
        return achieved_flops(m.chars_per_s / ranks, per_char), share

    def probe_lag(self) -> tuple[int, bool]:
        """(steps the shown probe is behind the run, stale?): stale when it is both STALE_STEPS steps and
        STALE_S seconds of training old, so a fast model probed twice a second is never called stale."""
        if self.probe is None:
            return 0, False
        behind = max(0, self.step - self.probe.step)
        age = (self.metrics.elapsed_s if self.metrics else 0.0) - self.probe_elapsed
        return behind, behind >= STALE_STEPS and age >= STALE_S and self.finished is None

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
        columns = [
            "type",
            "step",
            "epoch",
            "loss",
            "lr",
            "grad_norm",
            "chars_per_s",
            "elapsed_s",
            "chars_seen",
            "wall_s",
            "val_loss",
            "val_bpc",
            "full",
        ]
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=columns)
            w.writeheader()
            w.writerows(self.records)


class Shown(Protocol):
    """What the dashboard draws; the app hands it to the TrainScreen (attributes go down)."""

    state: RunState  # the run's numbers, charts and samples

    def phase(self) -> str:
        """One word (or a few) for where the run is: training, paused, completed, watching..."""
        ...
