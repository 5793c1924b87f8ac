"""What the inspector's keys do to the View: pure functions from the View shown (and the key's argument) to
the next one, which the Inspect screen then shows. numpy only, no Textual.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from rnntui.ui.widgets.inspect.view import View


def word_starts(text: str) -> np.ndarray:
    """(W,) start positions of the text's words, for ctrl+left/right."""
    return np.array([m.start() for m in re.finditer(r"\w+", text)], dtype=np.int64)


def at_cursor(v: View, pos: int, mark_from: int | None) -> View:
    """The cursor at text position pos (clamped); an unfinished mark (started at mark_from) follows it."""
    pos = max(0, min(pos, len(v.ins.text) - 1))
    sel = v.selection
    if mark_from is not None:  # an unfinished mark follows the cursor
        sel = (min(mark_from, pos), max(mark_from, pos) + 1)
    return replace(v, cursor=pos, selection=sel)


def word_target(v: View, words: np.ndarray, direction: int) -> int:
    """Where ctrl+right (direction > 0) or ctrl+left takes the cursor: the next or previous word start, else
    the text's last or first character."""
    cur = v.cursor
    if direction > 0:
        i = int(np.searchsorted(words, cur, side="right"))
        return int(words[i]) if i < len(words) else len(v.ins.text) - 1
    i = int(np.searchsorted(words, cur, side="left")) - 1
    return int(words[i]) if i >= 0 else 0


def at_rank(v: View, k: int) -> View:
    """The unit at position k of the order (clamped) selected."""
    k = max(0, min(k, len(v.order) - 1))
    return replace(v, unit=int(v.order[k]))


def next_layer(v: View) -> View:
    return replace(v, layer=(v.layer + 1) % v.ins.layers)


def other_state(v: View) -> View:
    """h and the LSTM's cell state c swapped (the caller checks there is a c)."""
    return replace(v, state="c" if v.state == "h" else "h")


def with_threshold(v: View, delta: float) -> View:
    """The range score's "on" threshold moved by delta, within 0.05-0.95."""
    return replace(v, threshold=round(min(0.95, max(0.05, v.threshold + delta)), 2))
