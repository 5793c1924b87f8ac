"""A run folder as the dashboard sees it: its metrics records turned into the engine's events.

The dashboard draws a RunState that the live engine feeds one event at a time. A finished run (replay)
and a run another process trains (watch) feed the same RunState from the run folder instead: each
record of metrics.jsonl becomes the event that wrote it, so the panels cannot tell the difference. No
tensors, no torch: records hold plain lists and the probes become small numpy arrays.

    view = RunView.open(run_dir, live=False)   # in a thread worker: reads the whole log
    TrainScreen(view)                          # on the UI thread: a RunView is what the dashboard Shows
    view.poll()  ->  [records]                 # a watched run: what was appended since (thread)
    view.apply(records)                        # on the UI thread
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from rnntui.core import events as ev
from rnntui.core.config import TrainConfig
from rnntui.core.runs.folder import RunDir
from rnntui.core.runs.info import RunInfo
from rnntui.core.runs.runlog import Follower
from rnntui.core.units import bits_per_char
from rnntui.ui.state import RunState


def _num(x: Any, default: float = math.nan) -> float:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else default


# -----------------------------------------------------------------------------
# records -> events


def started_event(run: RunDir, info: RunInfo | None, live: bool) -> ev.RunStarted:
    """The RunStarted a replay begins with, from run.json (a run without one gets a default config)."""
    cfg = _config(info, run)
    return ev.RunStarted(
        config=cfg,
        vocab="",
        n_params=info.n_params if info else 0,
        device=(info.device if info and info.device else "?") + (" (elsewhere)" if live else ""),
        run_dir="" if live else str(run.path),  # export writes beside a replayed run, never into a watched one
        start_step=0,
        total_steps=cfg.steps,
        steps_per_epoch=1,
        train_chars=0,
        val_chars=0,
        initial_loss=0.0,
        wall_s=0.0,
        chars_seen=0,
        notice=f"watching {run.path}" if live else f"replayed from {run.metrics}",
    )


def _config(info: RunInfo | None, run: RunDir) -> TrainConfig:
    try:
        cfg = info.train_config if info is not None else TrainConfig()
    except (TypeError, ValueError):
        cfg = TrainConfig()
    return replace(cfg, run_name=run.name, out_dir=str(run.out_dir))


@dataclass
class Replayer:
    """Turns records into events, keeping what a record alone does not say (best loss, budget)."""

    cfg: TrainConfig  # the run's configuration: budget and clip threshold
    layers: int = 1  # recurrent layers, for the probes' empty hidden-state arrays
    best: float = math.inf  # best validation loss so far
    last_loss: float | None = None  # last training loss, for the closing RunFinished
    saved: dict[str, str] = field(default_factory=dict)  # kind -> path of the last save

    def event(self, rec: dict[str, Any]) -> ev.Event | None:
        t, step = rec.get("type"), int(rec.get("step", 0))
        if t == "step":
            loss, el = _num(rec.get("loss")), _num(rec.get("elapsed_s"), 0.0)
            self.last_loss = loss if math.isfinite(loss) else self.last_loss
            cfg = self.cfg
            if cfg.steps:
                progress = step / cfg.steps
            elif cfg.minutes:
                progress = el / (cfg.minutes * 60)
            else:
                progress = 0.0
            return ev.StepMetrics(
                step=step,
                epoch=_num(rec.get("epoch"), 0.0),
                loss=loss,
                lr=_num(rec.get("lr")),
                grad_norm=_num(rec.get("grad_norm")),
                chars_per_s=_num(rec.get("chars_per_s"), 0.0),
                elapsed_s=el,
                progress=min(1.0, max(0.0, progress)),
                eta_s=None,
                chars_seen=int(rec.get("chars_seen") or 0),
                wall_s=_num(rec.get("wall_s"), el),
            )
        if t == "eval":
            v = _num(rec.get("val_loss"))
            if math.isfinite(v):
                self.best = min(self.best, v)
            return ev.EvalMetrics(step, v, _num(rec.get("val_bpc"), bits_per_char(v)), self.best, bool(rec.get("full")))
        if t == "probe":
            try:
                total = np.asarray(rec["grad_total"], dtype=np.float32)  # (layers, T); null -> nan
                last = np.asarray(rec["grad_last"], dtype=np.float32)
            except (KeyError, TypeError, ValueError):
                return None
            if total.ndim != 2 or total.shape != last.shape:
                return None
            self.layers = total.shape[0]
            # the log keeps the gradient curves, not the hidden states: the heatmap says so
            return ev.ProbeSnapshot(
                step=step,
                grad_total=total,
                grad_last=last,
                text="",
                hidden=np.zeros((total.shape[0], 0, 1), dtype=np.float32),
                cell=None,
                clip=self.cfg.clip,
            )
        if t == "sample":
            return ev.Sample(
                step, str(rec.get("prime", "")), str(rec.get("text", "")), _num(rec.get("temperature"), 1.0)
            )
        if t == "checkpoint":
            path, kind = str(rec.get("path", "")), str(rec.get("kind", "latest"))
            self.saved[kind] = path
            try:
                when = os.path.getmtime(path)
            except (OSError, ValueError):  # the log's path may name nothing, or hold a NUL
                when = time.time()
            return ev.CheckpointSaved(step, path, kind, when)
        if t == "end":
            val = rec.get("val_loss")
            return ev.RunFinished(
                step,
                str(rec.get("reason", "completed")),
                str(rec.get("message", "")),
                self.last_loss,
                _num(val) if val is not None else None,
                None if math.isinf(self.best) else self.best,
                latest_path=self.saved.get("latest"),
                best_path=self.saved.get("best"),
            )
        return None


# -----------------------------------------------------------------------------
# a run folder on the dashboard


class RunView:
    """One run folder shown on the dashboard: its RunState, its probe history, and (watched) its follower.

    The probe cursor steps through the gradient-flow history: None follows the latest probe."""

    def __init__(self, run: RunDir, info: RunInfo | None, live: bool):
        self.run, self.info, self.live = run, info, live
        self.state = RunState()
        self.follower = Follower(run.metrics)
        self.replayer = Replayer(_config(info, run))
        self.probes: list[ev.ProbeSnapshot] = []  # every probe the log kept, oldest first
        self.cursor: int | None = None  # index into probes; None: the latest
        self.ended_told = False  # the user was told the watched run ended
        self.owner: str | None = None  # "process N on HOST" training the run, from its lock (set in a thread)
        self.state.apply(started_event(run, info, live))

    @classmethod
    def open(cls, path: str | os.PathLike, live: bool = False) -> RunView:
        """Read a run folder (call in a thread worker: a day-long log takes a moment)."""
        run = RunDir(Path(path))
        view = cls(run, run.read_info(), live)
        view.apply(view.follower.poll())
        view.owner = run.owner()
        if view.info is not None:  # the loss chart's reference lines: from the cache only, never the corpus
            from rnntui.core.analysis.ngram.baselines import cached

            val_frac = _config(view.info, run).val_frac  # a config run.json cannot give: the default's
            view.state.baselines = cached(view.info.corpus_fingerprint, val_frac)
        return view

    # ---- feeding --------------------------------------------------------------------------------

    def poll(self) -> tuple[list[dict[str, Any]], RunInfo | None]:
        """What was appended to the log since the last poll, and run.json now (thread-safe to call
        from one thread at a time). It also asks the folder's lock who trains the run now."""
        records, info = self.follower.poll(), self.run.read_info()
        self.owner = self.run.owner()
        return records, info

    def apply(self, records: list[dict[str, Any]], info: RunInfo | None = None) -> None:
        """Feed records to the state, as the engine's events would (on the UI thread once shown)."""
        if info is not None:
            self.info = info
        st = self.state
        for rec in records:
            if rec.get("type") == "start" and st.finished is not None:
                st.finished = None  # the run was resumed after it ended: it goes on
                st.version += 1
                continue
            event = self.replayer.event(rec)
            if event is None:
                continue
            if isinstance(event, ev.ProbeSnapshot):
                self.probes.append(event)
                if self.cursor is not None:  # the user looks at an older probe: keep showing it
                    st.version += 1
                    continue
            st.apply(event)

    # ---- the gradient-flow history --------------------------------------------------------------

    def step_probe(self, delta: int) -> ev.ProbeSnapshot | None:
        """Move the probe cursor by delta (-1 earlier, +1 later; a large delta goes to the end)."""
        if not self.probes:
            return None
        i = len(self.probes) - 1 if self.cursor is None else self.cursor
        i = min(len(self.probes) - 1, max(0, i + delta))
        self.cursor = None if i == len(self.probes) - 1 else i
        probe = self.probes[i]
        self.state.probe = probe
        self.state.version += 1
        return probe

    def probe_position(self) -> str:
        """e.g. "probe @ step 1,240 (12/40)", for the gradient panel's subtitle."""
        if not self.probes:
            return ""
        i = len(self.probes) - 1 if self.cursor is None else self.cursor
        latest = " latest" if self.cursor is None else ""
        return f"probe @ step {self.probes[i].step:,} ({i + 1}/{len(self.probes)}{latest}) · < > history"

    # ---- what the dashboard says about it -------------------------------------------------------

    @property
    def ended(self) -> bool:
        if self.state.finished is not None:
            return True
        return self.info is not None and self.info.state != "running"

    def alive(self) -> bool:
        """Another process still trains this run."""
        return self.info is not None and self.owner is not None and self.state.finished is None

    def phase(self) -> str:
        st = self.state
        if st.finished is not None:
            return st.finished.reason
        if self.info is None:
            return "watching (no run.json yet)" if self.live else "replayed (no run.json)"
        if self.info.state != "running":
            return self.info.state
        if self.live:
            return "training elsewhere" if self.alive() else "killed (its process is gone)"
        return "killed (its process is gone)" if self.owner is None else "running elsewhere"
