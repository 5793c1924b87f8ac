"""Textual messages that carry work done in thread workers back to the UI thread."""
from __future__ import annotations

from textual.message import Message

from rnntui.core.events import Event


class EngineEvent(Message):
    """One event from Trainer.run, posted by the training worker (post_message is thread-safe)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event  # the engine's frozen dataclass, never a tensor


class GenChunk(Message):
    """Generated text for one output pane, batched by the generation worker to bound the update rate."""

    def __init__(self, pane: int, run: int, text: str, done: bool = False) -> None:
        super().__init__()
        self.pane = pane  # which side-by-side pane the text belongs to
        self.run = run  # generation id, so chunks of a cancelled run are ignored
        self.text = text  # new characters since the previous chunk
        self.done = done  # True on the last chunk of the stream


class ExperimentEvent(Message):
    """One event of one of an experiment's runs, posted by the experiment worker."""

    def __init__(self, index: int, event: Event) -> None:
        super().__init__()
        self.index = index  # which of the experiment's runs
        self.event = event  # the engine's frozen dataclass
