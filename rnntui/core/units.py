"""Small shared facts about how numbers and characters are shown: bits per character, finite numbers,
durations and counts, and the characters of a text a vocabulary lacks. How a control character is shown
lives in textsafe.py.

Stdlib only: the CLI, the engine and every screen use these, and none of them should pay for torch.
"""

from __future__ import annotations

import math
from collections.abc import Container
from typing import Any

LN2 = math.log(2.0)  # nats per bit: a loss in nats divided by LN2 is in bits (the one definition)


def bits_per_char(nats: float) -> float:
    """A loss in nats per character as bits per character (bpc), the unit char-RNN papers report."""
    return nats / LN2


def finite_number(x: Any) -> float | None:
    """x as a float when it is a finite number, else None: how a loss read from a log or run.json that
    may be missing (None), unknown (NaN, inf) or of the wrong type is kept."""
    return float(x) if isinstance(x, (int, float)) and math.isfinite(x) else None


# -----------------------------------------------------------------------------
# durations and counts


def format_duration(seconds: float | None, missing: str = "–", words: bool = False) -> str:
    """Whole seconds as a clock, m:ss or h:mm:ss from an hour on (a ticking time or an ETA); `missing` for
    None, nan and inf (an unknown ETA).

    words=True: the two largest units instead, '45s', '12m 05s', '3h 20m', '2d 4h', for a run's total wall
    time in a table, where a clock would read as a time of day and days matter."""
    if seconds is None or not math.isfinite(seconds):
        return missing
    s = max(0, int(seconds))
    if not words:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m {s:02d}s"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h}h {m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d {h}h"


def format_count(n: int) -> str:
    """'950', '12.3k', '4.56M', '1.2G': a count of characters at a glance."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            v = n / size
            return f"{v:.3g}{unit}" if v < 1000 else f"{v:.0f}{unit}"
    return str(n)


# -----------------------------------------------------------------------------
# characters (how one is shown: textsafe.py)


def unknown_chars(vocab: Container[str], text: str) -> str:
    """The distinct characters of text that vocab lacks, in order of first appearance ('' if none)."""
    return "".join(dict.fromkeys(ch for ch in text if ch not in vocab))
