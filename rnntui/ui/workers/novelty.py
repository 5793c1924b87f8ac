"""The generation panel's live novelty curve, measured in the sampling worker while a text streams in, and
the corpus index it searches (shared with the copy check).

Each pane's curve (core/generate/novelty.py) is measured at most every NOVELTY_UPDATE_S and once more when
the pane is done, each time searching only what arrived since (RunningNovelty). The corpus index loads in
a thread of its own, so the text never waits for a first build; one index per corpus is kept for the
process. Results go back as NoveltyMeasured: plain floats.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from textual.message import Message

NOVELTY_UPDATE_S = 0.5  # a streaming pane's novelty curve is measured at most this often (and when it is done)


class NoveltyMeasured(Message):
    """A pane's novelty curve so far: plain floats, one per substring length."""

    def __init__(self, run: int, pane: int, fractions: tuple[float, ...], chars: int) -> None:
        super().__init__()
        self.run, self.pane = run, pane  # which generation (chunks' run id); which pane
        self.fractions = fractions  # [L-1]: share of the text's length-L substrings found nowhere in the corpus
        self.chars = chars  # characters measured (the pane's text so far)


# -----------------------------------------------------------------------------
# the corpus index, one per process


_INDEX_LOCK = threading.Lock()  # one build at a time: the copy check and the live curve wait for the same one
_INDEX: dict[tuple, Any] = {}  # the last corpus index, by (corpus, validation fraction, file version)


def shared_index(corpus: str, val_frac: float) -> Any:
    """The copy-check index (CopyIndex) of the corpus's training split (val_frac: its validation fraction):
    built or loaded from the cache once, then kept for the process (the last corpus only) for every
    generation after it."""
    from rnntui.core.config import RnntuiError
    from rnntui.core.data.builtin import resolve_corpus
    from rnntui.core.data.read import file_key
    from rnntui.core.generate.copycheck import CopyIndex

    with _INDEX_LOCK:
        try:  # the file's version: an edited corpus is a new key (the disk cache keys it the same way)
            key = (corpus, val_frac, file_key(resolve_corpus(corpus)))
        except (RnntuiError, OSError, ValueError):
            key = None  # a missing or unknown corpus: for_corpus says so in one line
        if key is not None and key in _INDEX:
            return _INDEX[key]
        index = CopyIndex.for_corpus(corpus, val_frac)
        _INDEX.clear()
        if key is not None:
            _INDEX[key] = index
        return index


class IndexLoader:
    """shared_index in a daemon thread of its own, started at once: the stream goes on meanwhile, and the
    curve is measured from the first update after the index is there (the whole text so far then)."""

    def __init__(self, corpus: str, val_frac: float) -> None:
        self.index: Any = None  # the CopyIndex, once loaded
        if corpus:  # no corpus named: no curve (the copy check says why)
            threading.Thread(target=self._load, args=(corpus, val_frac), name="novelty-index", daemon=True).start()

    def _load(self, corpus: str, val_frac: float) -> None:
        try:
            self.index = shared_index(corpus, val_frac)
        except Exception:
            pass


# -----------------------------------------------------------------------------
# one pane's curve


class PaneNovelty:
    """One pane's running curve: text is kept until the index is there, then measured at most every
    NOVELTY_UPDATE_S (and always when the pane is done)."""

    def __init__(self, loader: IndexLoader, post: Callable[[Message], object], run: int, pane: int) -> None:
        self.loader, self.post, self.run, self.pane = loader, post, run, pane
        self.meter: Any = None  # core RunningNovelty, once the index is loaded
        self.pending: list[str] = []  # text not measured yet
        self.last = 0.0  # monotonic time of the last measurement

    def add(self, text: str, done: bool = False) -> None:
        self.pending.append(text)
        if not done and time.monotonic() - self.last < NOVELTY_UPDATE_S:
            return
        if self.meter is None:
            if self.loader.index is None:
                return
            self.meter = self.loader.index.running_novelty()
        curve = self.meter.extend("".join(self.pending))
        self.pending.clear()
        self.last = time.monotonic()
        self.post(NoveltyMeasured(self.run, self.pane, tuple(f for _, f in curve.points()), len(self.meter.text)))
