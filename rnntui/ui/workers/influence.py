"""Thread-worker bodies of the inspector's influence panel: the influence at the cursor and the effective
context, computed with torch in the worker and handed back as plain data (widgets/inspect/influence.py).

The Inspect screen runs one cursor measurement at a time: while one runs, further cursor moves only
update the cursor wanted, and when the result comes back the screen starts the next one if the cursor
moved on. So holding an arrow key costs one measurement (~30 ms for a 2x256 LSTM) per redraw, never a
queue of them.
"""

from __future__ import annotations

import threading
from typing import Any

from textual.message import Message

from rnntui.ui.widgets.inspect.influence import ContextShares, CursorShares

CONTEXT_POSITIONS = 64  # predictions the inspector averages (the CLI's 128 takes twice as long)


class InfluenceReady(Message):
    def __init__(self, shares: CursorShares) -> None:
        super().__init__()
        self.shares = shares  # plain data: the influence at one cursor position


class ContextReady(Message):
    def __init__(self, context: ContextShares) -> None:
        super().__init__()
        self.context = context  # plain data: the model's effective context


class CursorQueue:
    """Which cursor to measure next, on the UI thread: one measurement at a time, the latest wish wins."""

    def __init__(self) -> None:
        self.wanted: int | None = None  # text position whose influence should be shown
        self.busy = False  # a measurement is running
        self.cache: dict = {}  # the worker's CursorInfluence (its model copy), kept between moves
        self.method = "gradient-x-input"  # influence.METHODS: `a` in the inspector switches

    def switch(self) -> None:
        """The other attribution method (`a`): the cursor is to be measured again."""
        self.method = "integrated-gradients" if self.method == "gradient-x-input" else "gradient-x-input"
        self.wanted = None

    def want(self, cursor: int) -> bool:
        """Note the wish; True when a measurement should start now (none is running)."""
        self.wanted = cursor
        if self.busy:
            return False
        self.busy = True
        return True

    def done(self, cursor: int, method: str | None = None) -> int | None:
        """A measurement of `cursor` (by `method`) came back: the cursor to measure next, or None (it is
        current: the same cursor, and the method still wanted)."""
        self.busy = False
        if self.wanted is None or (self.wanted == cursor and method in (None, self.method)):
            return None
        return self.wanted


def cursor_of(ins: Any, source: Any, cache: dict, method: str) -> Any:
    """The CursorInfluence of this Inspection and method, built once (it copies the model), in `cache`."""
    from rnntui.core.analysis.influence import CursorInfluence  # imports torch: only in the worker

    if cache.get("key") != (id(ins), method):
        cache["key"], cache["ins"] = (id(ins), method), ins  # ins kept: its id stays unique while cached
        cache["cursor"] = CursorInfluence(source, ins, method=method)
    return cache["cursor"]


def cursor_shares(
    ins: Any, source: Any, cursor: int, step: int, cache: dict, method: str = "gradient-x-input"
) -> CursorShares:
    """The influence on the prediction after model step `step` (the last at or before text position
    `cursor`), spread over the text positions from the window's first character to the cursor."""
    from rnntui.core.analysis.influence import spread, summary

    infl = cursor_of(ins, source, cache, method).at(step)
    first = step - infl.weights.size + 1  # the window's first model step
    a = int(ins.pos_of[first])  # its text position
    chars = ins.text[a : cursor + 1]
    shares = spread(infl.weights, ins.pos_of[first : step + 1] - a, len(chars))
    return CursorShares(
        cursor=cursor,
        chars=chars,
        shares=tuple(float(x) for x in shares),
        target=ins.vocab[infl.target],
        summary=summary(chars, shares),
        method=infl.method,
    )


def context_shares(ins: Any, source: Any, stop: threading.Event | None = None) -> ContextShares | None:
    """The effective context on the checkpoint corpus's validation split, or on the inspected text when
    that cannot be read (None: stopped)."""
    from rnntui.core.analysis.context import checkpoint_context
    from rnntui.core.analysis.influence import InfluenceError

    where = "validation split"
    try:
        ec = checkpoint_context(source, None, positions=CONTEXT_POSITIONS, stop=stop)
    except InfluenceError:
        where = "inspected text"
        ec = checkpoint_context(source, ins.text, positions=CONTEXT_POSITIONS, stop=stop)
    if ec is None:
        return None
    return ContextShares(
        curve=tuple(float(x) for x in ec.curve), reach90=ec.median_reach, positions=ec.positions, source=where
    )
