"""Session: what a training run (training.py) and an experiment (experiment.py) have in common.

Both step trainers in one Textual thread worker that the app drives through three threading Events: pause,
stop, and done (set by the worker when it returns). A thread cannot be killed, so the trainers poll stop
and pause between steps, and stopping is always "finish the step, validate, save latest.pt, return". The
app pauses, stops and quits through this class alone, whichever kind of session it holds.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from textual.worker import WorkerState

from rnntui.ui.workers.engine import TrainerFactory, TrainerLike, real_trainer

if TYPE_CHECKING:
    from textual.worker import Worker


class Session:
    """Trainers stepped by one thread worker; subclasses build them in their run(), the worker's body."""

    def __init__(self, factory: TrainerFactory | None = None) -> None:
        self.factory = factory or real_trainer  # builds one trainer from a config, inside the worker
        self.pause = threading.Event()  # set: the trainers idle between steps
        self.stop = threading.Event()  # set: each trainer finishes its step, saves latest.pt and returns
        self.done = threading.Event()  # set when run() returns (saved, or failed): what a hang-up waits for
        self.trainers: list[TrainerLike] = []  # built so far, by the worker
        self.worker: Worker | None = None  # the Textual worker running run(), set by the app

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.is_running

    def phase(self) -> str:
        """One word for where the session is: idle or failed once its worker ended, else stopping, paused
        or training."""
        if not self.running:
            return "failed" if self.worker is not None and self.worker.state == WorkerState.ERROR else "idle"
        if self.stop.is_set():
            return "stopping"
        return "paused" if self.pause.is_set() else "training"

    # ---- what the app asks -----------------------------------------------------------------------

    def toggle_pause(self) -> None:
        if self.pause.is_set():
            self.pause.clear()
        else:
            self.pause.set()

    def halt(self) -> None:
        """Stop at the next step (each trainer validates and writes latest.pt first); a pause is lifted so
        the trainers get there."""
        self.stop.set()
        self.pause.clear()

    def hurry(self) -> None:
        """halt(), and cut any validation short: after a hang-up nobody is there to read it. latest.pt is
        still written."""
        self.halt()
        for trainer in list(self.trainers):
            hurry = getattr(trainer, "hurry", None)  # core's Trainer has it; a stand-in engine may not
            if hurry is not None:
                hurry()
