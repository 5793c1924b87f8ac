"""An experiment: several runs trained interleaved in one thread worker, shown in Compare as they learn.

The runs' configurations come from core/train/experiments.py (the presets); this is how the app trains
them. Each is a real Trainer writing its own run folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from textual.message import Message

from rnntui.core.config import TrainConfig
from rnntui.core.events import Event, RunFinished, RunStarted, StepMetrics
from rnntui.ui.workers.engine import TrainerFactory
from rnntui.ui.workers.session import Session


class ExperimentEvent(Message):
    """One event of one of an experiment's runs, posted by the experiment worker."""

    def __init__(self, index: int, event: Event) -> None:
        super().__init__()
        self.index = index  # which of the experiment's runs
        self.event = event  # the engine's frozen dataclass


class ExperimentSession(Session):
    """Several runs trained in one thread, a log interval of each in turn, so their curves grow together.

    One thread, not one per run: the runs would only fight over the same cores (torch already uses them all
    for one step), and interleaving gives every run the same share however the OS schedules. The time a run
    waits while the others step is credited to it as idle (Trainer.credit_idle), so its chars/s, wall time
    and a minutes budget count its own training only. A stop ends every run at its next step, each
    validating and saving latest.pt in turn. There is no single run's weights: Generate and Inspect reach
    an experiment's runs through the Runs screen.
    """

    def __init__(self, name: str, cfgs: list[TrainConfig], factory: TrainerFactory | None = None):
        super().__init__(factory)
        self.name = name  # the preset's name, for titles
        self.cfgs = list(cfgs)  # one per run
        self.run_dirs: list[str] = []  # each run's folder, in the order the runs started (UI thread)
        self.steps: dict[int, int] = {}  # run index -> last step seen (UI thread)
        self.ended: dict[int, str] = {}  # run index -> how it ended (UI thread)
        self.failed: dict[int, str] = {}  # run index -> the error that ended it (worker thread)

    def label(self, i: int) -> str:
        return self.cfgs[i].run_name

    def short(self, i: int) -> str:
        """The variant's label, e.g. "rnn" of exp-vanishing-rnn-tiny."""
        parts = self.cfgs[i].run_name.split("-")
        return parts[2] if len(parts) > 3 and parts[0] == "exp" else self.cfgs[i].run_name

    # ---- in the worker ---------------------------------------------------------------------------

    def run(self, post: Callable[[int, Event], object]) -> None:
        """Thread body: build every trainer, then step them round-robin until all have finished."""
        try:
            self._run(post)
        finally:
            self.done.set()

    def _run(self, post: Callable[[int, Event], object]) -> None:
        gens: dict[int, Iterator[Event]] = {}
        for i, cfg in enumerate(self.cfgs):
            trainer = self.factory(cfg, resume=None)
            self.trainers.append(trainer)
            gens[i] = iter(trainer.run(stop=self.stop, pause=self.pause))
        waiting_since: dict[int, float] = {}
        while gens:
            for i in list(gens):
                if i in waiting_since:  # the time the others trained is not this run's training time
                    credit = getattr(self.trainers[i], "credit_idle", None)  # a stand-in engine may not have it
                    if credit is not None:
                        credit(time.perf_counter() - waiting_since[i])
                try:
                    while True:  # one log interval: up to the next StepMetrics
                        event = next(gens[i])
                        post(i, event)
                        if isinstance(event, (StepMetrics, RunFinished)):
                            break
                except StopIteration:
                    del gens[i]
                    continue
                except Exception as e:  # one run failing ends that run, not the experiment
                    self.failed[i] = f"{type(e).__name__}: {e}".splitlines()[0][:200]
                    post(i, RunFinished(0, "error", self.failed[i], None, None, None))
                    del gens[i]
                    continue
                waiting_since[i] = time.perf_counter()

    # ---- on the UI thread ------------------------------------------------------------------------

    def seen(self, i: int, event: Event) -> None:
        if isinstance(event, RunStarted) and event.run_dir and event.run_dir not in self.run_dirs:
            self.run_dirs.append(event.run_dir)
        elif isinstance(event, StepMetrics):
            self.steps[i] = event.step
        elif isinstance(event, RunFinished):
            self.ended[i] = event.reason

    def describe(self) -> str:
        """One line for the Compare view: what the experiment is doing."""
        n = len(self.cfgs)
        if not self.running:
            state = "finished" if self.worker is not None else "starting"
        elif self.stop.is_set():
            state = "stopping: each run validates and saves latest.pt"
        elif self.pause.is_set():
            state = "paused (p resumes)"
        else:
            state = "training, interleaved (p pauses, x stops)"
        steps = " · ".join(
            f"{self.short(i)} {self.steps.get(i, 0):,}" + (f" {self.ended[i]}" if i in self.ended else "")
            for i in range(n)
        )
        return f"{self.name}: {state} · steps {steps}"
