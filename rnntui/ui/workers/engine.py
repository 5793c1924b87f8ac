"""The engine as the UI's thread workers reach it, and what a failed worker tells the user.

Nothing here imports torch at module import: the factories import the engine when they are called, which
is only ever inside a worker thread, after the app's first frame is on screen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from rnntui.core.config import RnntuiError, TrainConfig
from rnntui.core.events import Event


class TrainerLike(Protocol):
    """What the app needs of a trainer: core's Trainer, or a stand-in engine (the tests' fake)."""

    def run(self, stop: threading.Event, pause: threading.Event) -> Iterator[Event]: ...
    def snapshot(self) -> Any: ...  # WeightsSnapshot (a stand-in engine may return a checkpoint dict)
    def request_save(self) -> None: ...


TrainerFactory = Callable[..., TrainerLike]  # (cfg, resume=path | None) -> trainer


def real_trainer(cfg: TrainConfig, resume: str | None = None) -> TrainerLike:
    from rnntui.core.train.engine import Trainer  # imports torch: only ever called inside a worker thread

    return Trainer(cfg, resume=resume)


def load_checkpoint(path: str) -> dict:
    """A checkpoint file's dict (torch loads here: call it in a worker). Raises CheckpointError."""
    from rnntui.core.runs.checkpoints import load_checkpoint as load

    return load(path)


# -----------------------------------------------------------------------------
# a worker's error, as the user reads it


def error_text(err: BaseException | None) -> str:
    """One line for a notification: the project's own errors say what to do; others name their type."""
    if isinstance(err, RnntuiError):
        return str(err)
    if isinstance(err, MemoryError):
        return "out of memory: lower the batch size, the sequence length or the hidden size"
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"{type(err).__name__}: {first}"[:300]
