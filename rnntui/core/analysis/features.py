"""Features of a text and the scores that find the units tracking them.

A feature is one float per text position, describing the state *after* reading that character (so the
opening quote is already "inside" and the closing quote is not): that is what a hidden state can encode.
Scores work on activations in model-step space: pass `feature[inspection.pos_of]` for a text feature.
Numpy only.
"""

from __future__ import annotations

import re

import numpy as np

from rnntui.core.config import RnntuiError

FEATURES = {  # name -> label shown by the screen, in the order the screen cycles through them
    "quotes": "inside quotes",
    "depth": "bracket depth",
    "column": "position in line",
    "newline": "just read a newline",
    "regex": "regex match",
    "range": "selected range",
}
QUOTES = "\"'"
BRACKETS = {"(": ")", "[": "]", "{": "}"}


class FeatureError(RnntuiError):
    """A feature cannot be built (a bad regular expression, an empty range)."""


# -----------------------------------------------------------------------------
# features of a text: (N,) float32


def inside_quotes(text: str, quotes: str = QUOTES) -> np.ndarray:
    """1 from an opening quote up to (not including) its closing quote. The other kind of quote inside a
    string is text; a newline ends an unclosed string, so one stray apostrophe cannot flip the rest."""
    out = np.zeros(len(text), np.float32)
    open_q = ""
    for i, ch in enumerate(text):
        if ch == "\n":
            open_q = ""
        elif ch in quotes and (not open_q or ch == open_q):
            open_q = "" if open_q else ch
        out[i] = 1.0 if open_q else 0.0
    return out


def bracket_depth(text: str) -> np.ndarray:
    """Nesting depth of (), [] and {} after each character; a closer without an opener stays at 0."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)  # (N,)
    step = np.zeros(len(text), np.int64)
    step[np.isin(codes, [ord(c) for c in BRACKETS])] = 1
    step[np.isin(codes, [ord(c) for c in BRACKETS.values()])] = -1
    # running sum clipped at 0: depth = cumsum - min(0, running minimum of the cumsum)
    cs = np.cumsum(step)
    return (cs - np.minimum(np.minimum.accumulate(cs), 0)).astype(np.float32)


def line_position(text: str) -> np.ndarray:
    """Column of each character: 0 for the first character of a line (the newline ends its line)."""
    idx = np.arange(len(text))
    starts = np.zeros(len(text), np.int64)
    nl = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32) == ord("\n")
    starts[1:][nl[:-1]] = idx[1:][nl[:-1]]  # a line starts right after each newline
    return (idx - np.maximum.accumulate(starts)).astype(np.float32)


def after_newline(text: str) -> np.ndarray:
    """1 at each newline: the step at which the state has just read it."""
    return (np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32) == ord("\n")).astype(np.float32)


def regex_match(text: str, pattern: str) -> np.ndarray:
    """1 on every character inside a match of the pattern."""
    try:
        rx = re.compile(pattern)
    except re.error as e:
        raise FeatureError(f"bad regular expression {pattern!r}: {e}") from None
    out = np.zeros(len(text), np.float32)
    for m in rx.finditer(text):
        out[m.start() : m.end()] = 1.0
    return out


def text_range(n: int, start: int, end: int) -> np.ndarray:
    """1 on positions start..end-1 (a selection)."""
    if not 0 <= start < end <= n:
        raise FeatureError(f"empty or out-of-range selection {start}..{end} of {n} characters")
    out = np.zeros(n, np.float32)
    out[start:end] = 1.0
    return out


def text_feature(text: str, name: str, pattern: str = "", span: tuple[int, int] | None = None) -> np.ndarray:
    """One of FEATURES by name; regex needs `pattern`, range needs `span` (start, end) in text positions."""
    if name == "quotes":
        return inside_quotes(text)
    if name == "depth":
        return bracket_depth(text)
    if name == "column":
        return line_position(text)
    if name == "newline":
        return after_newline(text)
    if name == "regex":
        if not pattern:
            raise FeatureError("type a regular expression first")
        return regex_match(text, pattern)
    if name == "range":
        if span is None:
            raise FeatureError("select a range first")
        return text_range(len(text), *span)
    raise FeatureError(f"unknown feature {name!r}; one of {', '.join(FEATURES)}")


# -----------------------------------------------------------------------------
# scoring units: acts is (T, H), one column per unit


def correlation(acts: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Pearson r of every unit with the feature, (H,) float32; 0 where either side is constant."""
    raw = acts.astype(np.float64)
    a = raw - raw.mean(axis=0)  # (T, H)
    f = feature.astype(np.float64) - feature.mean()  # (T,)
    num = f @ a  # (H,)
    ss_a, ss_f = (a * a).sum(axis=0), f @ f
    # "constant" relative to the values' size: float32 rounding leaves a constant unit a tiny spread
    flat = (ss_a <= 1e-10 * (raw * raw).sum(axis=0) + 1e-20) | (ss_f <= 1e-20)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(flat, 0.0, num / np.sqrt(ss_a * ss_f))
    return r.astype(np.float32)


def rank(scores: np.ndarray) -> np.ndarray:
    """Unit indices by |score|, best first (ties keep unit order)."""
    return np.argsort(-np.abs(scores), kind="stable")


def selection_scores(
    acts: np.ndarray, inside: np.ndarray, threshold: float = 0.5, margin: int | None = None
) -> np.ndarray:
    """LSTMVis-style match of a selection, (H,) float32 in [-1, 1].

    A unit scores high when it is on (> threshold) during the selected steps and off around them: the
    fraction of inside steps on minus the fraction of surrounding steps on, where "around" is `margin`
    steps each side (default: as many as the selection is long). Units that go strongly negative instead
    score the same, with a minus sign.
    """
    inside = inside.astype(bool)  # (T,)
    idx = np.flatnonzero(inside)
    if len(idx) == 0:
        raise FeatureError("the selection holds no model step (only skipped characters?)")
    m = margin if margin is not None else len(idx)
    lo, hi = max(0, idx[0] - m), min(len(inside), idx[-1] + 1 + m)
    around = np.zeros_like(inside)
    around[lo:hi] = True
    around &= ~inside
    scores = []
    for sign in (1.0, -1.0):
        on = sign * acts > threshold  # (T, H)
        s_in = on[inside].mean(axis=0)
        s_out = on[around].mean(axis=0) if around.any() else np.zeros(acts.shape[1])
        scores.append(s_in - s_out)
    pos, neg = scores
    return np.where(pos >= neg, pos, -neg).astype(np.float32)


# -----------------------------------------------------------------------------
# unit statistics


def saturation(acts: np.ndarray, limit: float = 0.9) -> np.ndarray:
    """Fraction of steps each unit spends with |value| > limit (tanh outputs near +-1), (H,) float32."""
    return (np.abs(acts) > limit).mean(axis=0).astype(np.float32)


def variance_order(acts: np.ndarray) -> np.ndarray:
    """Unit indices by variance over time, largest first."""
    return np.argsort(-acts.var(axis=0), kind="stable")


def saturation_order(acts: np.ndarray, limit: float = 0.9) -> np.ndarray:
    """Unit indices by saturation (share of steps with |value| > limit), most saturated first."""
    return np.argsort(-saturation(acts, limit), kind="stable")


UNIT_ORDERS = ("variance", "saturation", "index")  # ways to order the units of a heatmap, in cycling order


def unit_order(acts: np.ndarray, by: str) -> np.ndarray:
    """Unit indices of (T, H) activations ordered by one of UNIT_ORDERS."""
    if by == "variance":
        return variance_order(acts)
    if by == "saturation":
        return saturation_order(acts)
    if by == "index":
        return np.arange(acts.shape[1])
    raise FeatureError(f"unknown unit order {by!r}; one of {', '.join(UNIT_ORDERS)}")
