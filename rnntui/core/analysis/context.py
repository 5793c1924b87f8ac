"""Effective context: how far back a model actually looks, averaged over many predictions of held-out text.

    ec = effective_context(model, corpus.val)     EffectiveContext: a curve and the median reach
    ec.curve[d]                                   mean share of the influence d characters back
    ec.median_reach                               "90% of the influence lies within the last N characters"
    checkpoint_context(ckpt)                      the same from a checkpoint, on its corpus's validation split

The measure is influence.py's, explained for the character that actually comes next (the one the
validation loss scores). Each prediction is read from a fresh state over the `window` characters before
it, exactly what `rnntui inspect --text WINDOW_OF_TEXT --json` would attribute (with the real next
character as target). So nothing older than the window can count, and the curve ends at the window.
POSITIONS predictions are taken at evenly spaced places of the text (no randomness: the same figure
every time) and BATCH of them go through one forward and one backward pass. For a 2x256 model on
2 CPU cores that is a few seconds (benchmarks/bench_influence.py). Numpy out.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rnntui.core.analysis.influence import GRADIENT_X_INPUT, SHARE, WINDOW, InfluenceError, attribute, normalise, reach
from rnntui.core.model.cells import CharModel

POSITIONS = 128  # predictions averaged: the median reach moved by a character or two between 128 and 512
BATCH = 32  # windows per forward/backward pass (memory: BATCH * window * layers * hidden floats, a few MB)
CURVE_POINTS = (1, 2, 4, 8, 16, 32, 64, 128, 256)  # distances the one-line curve prints


@dataclass(frozen=True)
class EffectiveContext:
    method: str  # influence.METHODS
    window: int  # characters each prediction reads from a fresh state: the longest distance measured
    curve: np.ndarray  # (window + 1,) float64 mean share at each distance back; [0] = 0 (the predicted char); sums to 1
    reaches: np.ndarray  # (positions,) int64 reach (SHARE of the influence) of each prediction, in characters
    share: float = SHARE  # the share the reaches are for (0.9)

    @property
    def positions(self) -> int:
        return int(self.reaches.size)

    @property
    def median_reach(self) -> int | None:
        """The lower median of the reaches: an observed value (None when there is none)."""
        if not self.reaches.size:
            return None
        return int(np.sort(self.reaches)[(self.reaches.size - 1) // 2])

    @property
    def curve_reach(self) -> int | None:
        """The reach of the mean curve itself (the mass of all predictions pooled)."""
        return reach(self.curve[:0:-1])  # reach() takes oldest first: the curve from the window back to 1

    def cumulative(self, distance: int) -> float:
        """Share of the influence within the last `distance` characters, over all predictions."""
        return float(self.curve[1 : min(distance, self.window) + 1].sum())

    def sentence(self) -> str:
        """ "90% of the influence lies within the last 23 characters (median over 128 predictions)"."""
        r = self.median_reach
        if r is None:
            return "no prediction measured"
        within = "the last character" if r == 1 else f"the last {r} characters"
        n = self.positions
        return (
            f"{self.share:.0%} of the influence lies within {within} (median over {n} "
            f"prediction{'s' if n != 1 else ''}, {self.window} characters read)"
        )

    def curve_line(self) -> str:
        """ "within 1: 31%  2: 45%  4: 60% ..." at CURVE_POINTS up to the window."""
        points = [d for d in CURVE_POINTS if d <= self.window]
        return "within " + "  ".join(f"{d}: {self.cumulative(d):.0%}" for d in points)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "window": self.window,
            "positions": self.positions,
            "reach90": self.median_reach,
            "curve_reach90": self.curve_reach,
            "curve": [round(float(x), 6) for x in self.curve],
        }


def prediction_ends(n: int, window: int, positions: int) -> np.ndarray:
    """Indices p of the last character read, evenly spaced over [window - 1, n - 2] (each needs window
    characters before it, itself included, and the one after it): (k,) int64, k <= positions, distinct."""
    lo, hi = window - 1, n - 2
    if hi < lo:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.linspace(lo, hi, num=max(1, positions)).round().astype(np.int64))


def effective_context(
    model: CharModel,
    ids: np.ndarray,
    window: int = WINDOW,
    positions: int = POSITIONS,
    batch: int = BATCH,
    method: str = GRADIENT_X_INPUT,
    stop: threading.Event | None = None,
) -> EffectiveContext | None:
    """Influence against distance, averaged over `positions` predictions of `ids` (held-out model ids).

    A text shorter than window + 1 characters gets a shorter window. None if `stop` was set midway."""
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size < 2:
        raise InfluenceError("too little held-out text to measure the effective context (2 characters at least)")
    window = max(1, min(int(window), ids.size - 1))
    ends = prediction_ends(ids.size, window, positions)
    offsets = np.arange(-window + 1, 1)  # (W,) relative to the last character read
    total = np.zeros(window, dtype=np.float64)  # oldest first, as attribute() returns
    reaches: list[int] = []
    for s in range(0, ends.size, max(1, batch)):
        if stop is not None and stop.is_set():
            return None
        p = ends[s : s + batch]  # (b,)
        windows = torch.from_numpy(ids[p[:, None] + offsets[None, :]])  # (b, W)
        targets = torch.from_numpy(ids[p + 1])  # (b,) the characters that came next
        scores, _, _ = attribute(model, windows, None, targets, method)
        shares = normalise(scores)  # (b, W)
        for row in shares:
            r = reach(row)
            if r is not None:  # a prediction no gradient reaches is left out of both figures
                reaches.append(r)
                total += row
    n = len(reaches)
    curve = np.zeros(window + 1, dtype=np.float64)
    if n:
        curve[1:] = (total / n)[::-1]  # index d: d characters back
    return EffectiveContext(method=method, window=window, curve=curve, reaches=np.asarray(reaches, dtype=np.int64))


def checkpoint_context(
    ckpt: dict[str, Any] | Any,
    text: str | None = None,
    window: int = WINDOW,
    positions: int = POSITIONS,
    method: str = GRADIENT_X_INPUT,
    stop: threading.Event | None = None,
) -> EffectiveContext | None:
    """effective_context of a checkpoint's model over `text`, or over its corpus's validation split."""
    from rnntui.core.analysis.inspect import align
    from rnntui.core.data.corpus import CorpusError, load_corpus
    from rnntui.core.runs.checkpoints import model_from_checkpoint

    model, vocab, cfg = model_from_checkpoint(ckpt)
    if text is None:
        try:
            ids = load_corpus(cfg.corpus, cfg.val_frac, vocab).val
        except (CorpusError, OSError) as e:
            raise InfluenceError(f"the checkpoint's corpus cannot be read ({e}); give a text to measure over") from None
    else:
        ids, _, _ = align(text, vocab)  # characters outside the vocabulary are skipped, as the inspector does
    return effective_context(model, ids, window=window, positions=positions, method=method, stop=stop)
