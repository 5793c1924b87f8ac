"""Thread-worker adapters between the engine and the UI.

The engine knows nothing of Textual: it takes threading Events and yields dataclasses. These functions run
in Textual thread workers, import torch there (never on the UI thread), and hand results back only through
post_message, which is thread-safe. Thread workers cannot be killed, so every loop checks a stop Event.
"""
from __future__ import annotations

import threading
from typing import Callable, Iterator, Protocol

from rnntui.core.config import TrainConfig
from rnntui.core.events import Event


class TrainerLike(Protocol):
    def run(self, stop: threading.Event, pause: threading.Event) -> Iterator[Event]: ...
    def snapshot(self) -> dict | None: ...
    def request_save(self) -> None: ...


TrainerFactory = Callable[..., TrainerLike]  # (cfg, resume=path | None) -> trainer


def real_trainer(cfg: TrainConfig, resume: str | None = None) -> TrainerLike:
    from rnntui.core.engine import Trainer  # imports torch: only ever called inside a worker thread

    return Trainer(cfg, resume=resume)


def load_checkpoint(path: str) -> dict:
    from rnntui.core.checkpoints import load_checkpoint as load

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
        self.trainer: TrainerLike | None = None  # exists once the worker built it
        self.worker = None  # the Textual Worker running run(), set by the app
        self.save_asked = False  # the user pressed save: announce the next CheckpointSaved

    def run(self, post: Callable[[Event], None]) -> None:
        """Thread body: build the trainer (torch loads here) and forward every event to the UI."""
        self.trainer = self.factory(self.cfg, resume=self.resume)
        for event in self.trainer.run(stop=self.stop, pause=self.pause):
            post(event)

    def snapshot(self) -> dict | None:
        """A consistent copy of the current weights (checkpoint format), or None before the model exists."""
        return self.trainer.snapshot() if self.trainer is not None else None

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.is_running
