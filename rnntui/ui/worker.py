"""Thread-worker adapters between the engine and the UI.

The engine knows nothing of Textual: it takes threading Events and yields dataclasses. These functions run
in Textual thread workers, import torch there (never on the UI thread), and hand results back only through
post_message, which is thread-safe. Thread workers cannot be killed, so every loop checks a stop Event.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Iterator, Protocol

from rnntui.core.config import TrainConfig
from rnntui.core.events import Event


class TrainerLike(Protocol):
    def run(self, stop: threading.Event, pause: threading.Event) -> Iterator[Event]: ...
    def snapshot(self) -> Any: ...  # WeightsSnapshot (a stand-in engine may return a checkpoint dict)
    def request_save(self) -> None: ...


TrainerFactory = Callable[..., TrainerLike]  # (cfg, resume=path | None) -> trainer


def real_trainer(cfg: TrainConfig, resume: str | None = None) -> TrainerLike:
    from rnntui.core.train.engine import Trainer  # imports torch: only ever called inside a worker thread

    return Trainer(cfg, resume=resume)


def load_checkpoint(path: str) -> dict:
    from rnntui.core.runs.checkpoints import load_checkpoint as load

    return load(path)


# -----------------------------------------------------------------------------
# training


class TrainSession:
    """One training run: its trainer, the pause/stop Events it watches, and the worker driving it."""

    def __init__(self, cfg: TrainConfig, resume: str | None = None, factory: TrainerFactory | None = None):
        self.cfg = cfg  # the configuration from the setup screen
        self.resume = resume  # checkpoint path to continue from, or None
        self.factory = factory or real_trainer
        self.pause = threading.Event()  # set: the trainer idles between steps
        self.stop = threading.Event()  # set: the trainer finishes the step, saves, and returns
        self.done = threading.Event()  # set when run() returns (saved, or failed): what a hang-up waits for
        self.trainer: TrainerLike | None = None  # exists once the worker built it
        self.worker = None  # the Textual Worker running run(), set by the app
        self.save_asked = False  # the user pressed save: announce the next CheckpointSaved

    def run(self, post: Callable[[Event], None]) -> None:
        """Thread body: build the trainer (torch loads here) and forward every event to the UI."""
        try:
            self.trainer = self.factory(self.cfg, resume=self.resume)
            for event in self.trainer.run(stop=self.stop, pause=self.pause):
                post(event)
        finally:
            self.done.set()

    def snapshot(self) -> Any:
        """A consistent copy of the current weights (a WeightsSnapshot), or None before the model exists."""
        return self.trainer.snapshot() if self.trainer is not None else None

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.is_running


# -----------------------------------------------------------------------------
# experiments: several runs trained interleaved in one worker (their configs: core/train/experiments.py)


class ExperimentSession:
    """Several runs trained in one thread, a log interval of each in turn, so their curves grow together.

    Each is a real Trainer writing its own run folder. One thread, not one per run: the runs would only
    fight over the same cores (torch already uses them all for one step), and interleaving gives every
    run the same share however the OS schedules. The time a run waits while the others step is credited
    to it as idle (Trainer.credit_idle), so its chars/s, wall time and a minutes budget count its own
    training only. Same surface as TrainSession (stop, pause, worker, running), so the app's stop, pause
    and quit handle it unchanged: a stop ends every run at its next step, each validating and saving
    latest.pt in turn.
    """

    def __init__(self, name: str, cfgs: list[TrainConfig], factory: TrainerFactory | None = None):
        self.name = name  # the preset's name, for titles
        self.cfgs = list(cfgs)  # one per run
        self.cfg = self.cfgs[0]  # what TrainSession-minded code reads
        self.resume = None
        self.factory = factory or real_trainer
        self.pause = threading.Event()
        self.stop = threading.Event()
        self.done = threading.Event()  # set when run() returns: every run has saved
        self.trainers: list[TrainerLike] = []
        self.trainer = None  # no single run's weights: Generate/Inspect go through the Runs screen
        self.worker = None
        self.save_asked = False
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

    def run(self, post: Callable[[int, Event], None]) -> None:
        """Thread body: build every trainer, then step them round-robin until all have finished."""
        try:
            self._run(post)
        finally:
            self.done.set()

    def _run(self, post: Callable[[int, Event], None]) -> None:
        from rnntui.core.events import RunFinished, StepMetrics

        gens: dict[int, Iterator[Event]] = {}
        for i, cfg in enumerate(self.cfgs):
            trainer = self.factory(cfg, resume=None)
            self.trainers.append(trainer)
            gens[i] = iter(trainer.run(stop=self.stop, pause=self.pause))
        waiting_since: dict[int, float] = {}
        while gens:
            for i in list(gens):
                if i in waiting_since:  # the time the others trained is not this run's training time
                    credit = getattr(self.trainers[i], "credit_idle", None)
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

    # ---- on the UI thread ---------------------------------------------------------------------------

    def seen(self, i: int, event: Event) -> None:
        from rnntui.core.events import RunFinished, RunStarted, StepMetrics

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
        steps = " · ".join(f"{self.short(i)} {self.steps.get(i, 0):,}"
                           + (f" {self.ended[i]}" if i in self.ended else "") for i in range(n))
        return f"{self.name}: {state} · steps {steps}"

    def snapshot(self) -> dict | None:
        return None

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.is_running
