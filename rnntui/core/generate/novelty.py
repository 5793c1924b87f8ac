"""Novelty of a generated text: for each substring length, the share of its substrings found nowhere in
the training text (the measure of torch-rnn's scripts/novel_substrings.py).

A model that memorised its corpus writes short substrings that all occur in it, and long ones that
still do; one that learned its statistics writes short substrings that occur (words, syllables) and
long ones that do not. The curve rises from 0% towards 100% with length; where it crosses 50% is a
one-number summary ("half of the 9-character substrings are new").

Every length at once comes from one array: m[i], the longest prefix of text[i:] that occurs in the
training text (suffixes.match_lengths). The substring text[i:i+L] occurs exactly when m[i] >= L.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnntui.core.generate.suffixes import DEPTH

MAX_LENGTH = DEPTH  # the longest substring length measured (the suffix array's sorted depth)
SHOWN = (1, 2, 3, 5, 8, 12, 16, 24, 32, 50, 64)  # the lengths the one-line summary prints


@dataclass(frozen=True)
class NoveltyCurve:
    """Counts, not only shares, so that a reader can tell 1 of 2 from 1,000 of 2,000."""

    substrings: tuple[int, ...]  # [L-1]: substrings of length L in the text (T - L + 1; 0 past its length)
    novel: tuple[int, ...]  # [L-1]: of them, how many occur nowhere in the training text

    def fraction(self, length: int) -> float | None:
        """The share of the length-`length` substrings that are novel; None where there are none."""
        if not 1 <= length <= len(self.substrings) or not self.substrings[length - 1]:
            return None
        return self.novel[length - 1] / self.substrings[length - 1]

    def points(self) -> tuple[tuple[int, float], ...]:
        """(length, share novel) for every length the text has substrings of: the chart's data."""
        return tuple((L, self.novel[L - 1] / s) for L, s in enumerate(self.substrings, 1) if s)

    @property
    def half(self) -> int | None:
        """The shortest length at which at least half of the substrings are novel (None: at none)."""
        return next((L for L, f in self.points() if f >= 0.5), None)

    def summary(self) -> str:
        shown = [(L, f) for L in SHOWN if L <= len(self.substrings) if (f := self.fraction(L)) is not None]
        if not shown:
            return "novel substrings: no generated text to measure"
        head = "novel substrings by length: " + " ".join(f"{L}:{percent(f)}" for L, f in shown)
        if self.half is None:
            return f"{head}; fewer than half are novel at every length up to {len(self.points())}"
        return f"{head}; half are novel from length {self.half}"


def percent(f: float) -> str:
    """0.004 -> '<1%', 0.997 -> '>99%': a share that is not exactly none or all never reads as one."""
    if 0 < f < 0.005:
        return "<1%"
    if 0.995 <= f < 1:
        return ">99%"
    return f"{f:.0%}"


def novelty_curve(m: np.ndarray, max_length: int = MAX_LENGTH) -> NoveltyCurve:
    """The curve from the longest-match lengths m, (T,), each at most max_length."""
    T = len(m)
    substrings, novel = [], []
    for L in range(1, max_length + 1):
        count = max(0, T - L + 1)  # starts 0..T-L
        substrings.append(count)
        novel.append(int(np.count_nonzero(m[:count] < L)))
    return NoveltyCurve(tuple(substrings), tuple(novel))


# -----------------------------------------------------------------------------
# a text that grows


class RunningNovelty:
    """The curve of a text that grows as it is generated (the generation panel's live chart). Each
    extension searches only the new starts and the last MAX_LENGTH - 1 old ones: a start whose match
    stopped at a mismatch, or reached MAX_LENGTH, is final; only one whose match ran into the end of the
    text so far can grow. So a 2,000-character stream measured twice a second costs a search of what
    arrived since the last time, not of the whole text again."""

    def __init__(self, match: Callable[[str], np.ndarray]) -> None:
        self._match = match  # text -> (T,) longest match in the training text from each start (CopyIndex.match)
        self.text = ""  # everything measured so far
        self._m = np.zeros(0, np.int64)  # (len(text),) its longest matches

    def extend(self, more: str) -> NoveltyCurve:
        """Add `more` to the text; the curve of the whole text so far."""
        if more:
            redo = max(0, len(self.text) - MAX_LENGTH + 1)  # the starts within MAX_LENGTH - 1 of the old end
            self.text += more
            self._m = np.concatenate([self._m[:redo], self._match(self.text[redo:])])
        return novelty_curve(self._m)
