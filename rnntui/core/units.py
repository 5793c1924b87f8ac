"""Small shared facts about how numbers and characters are shown: bits per character, durations, and
the characters of a text a vocabulary lacks. How a control character is shown lives in textsafe.py.

Stdlib only: the CLI, the engine and every screen use these, and none of them should pay for torch.
"""
from __future__ import annotations

import math
from typing import Container

LN2 = math.log(2.0)


def bits_per_char(nats: float) -> float:
    """A loss in nats per character as bits per character (bpc), the unit char-RNN papers report."""
    return nats / LN2


# -----------------------------------------------------------------------------
# durations


def format_duration(seconds: float | None, missing: str = "–") -> str:
    """Whole seconds as m:ss, or h:mm:ss from an hour on; `missing` for None, nan and inf (an unknown ETA)."""
    if seconds is None or not math.isfinite(seconds):
        return missing
    s = max(0, int(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


# -----------------------------------------------------------------------------
# characters (how one is shown: textsafe.py)


def unknown_chars(vocab: Container[str], text: str) -> str:
    """The distinct characters of text that vocab lacks, in order of first appearance ('' if none)."""
    return "".join(dict.fromkeys(ch for ch in text if ch not in vocab))
