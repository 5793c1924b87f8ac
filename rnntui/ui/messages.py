"""Textual messages that carry work done in thread workers back to the UI thread."""
from __future__ import annotations

from textual.message import Message

from rnntui.core.events import Event


class EngineEvent(Message):
    """One event from Trainer.run, posted by the training worker (post_message is thread-safe)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event  # the engine's frozen dataclass, never a tensor


class ExperimentEvent(Message):
    """One event of one of an experiment's runs, posted by the experiment worker."""

    def __init__(self, index: int, event: Event) -> None:
        super().__init__()
        self.index = index  # which of the experiment's runs
        self.event = event  # the engine's frozen dataclass
