"""Small shared facts about how numbers and characters are shown: bits per character, finite numbers,
durations, a visible stand-in for whitespace and control characters, and the characters of a text a
vocabulary lacks.

Stdlib only: the CLI, the engine and every screen use these, and none of them should pay for torch.
"""
from __future__ import annotations

import math
import unicodedata
from typing import Any, Container

LN2 = math.log(2.0)  # nats per bit: a loss in nats divided by LN2 is in bits (the one definition)


def bits_per_char(nats: float) -> float:
    """A loss in nats per character as bits per character (bpc), the unit char-RNN papers report."""
    return nats / LN2


def finite_number(x: Any) -> float | None:
    """x as a float when it is a finite number, else None: how a loss read from a log or run.json that
    may be missing (None), unknown (NaN, inf) or of the wrong type is kept."""
    return float(x) if isinstance(x, (int, float)) and math.isfinite(x) else None


# -----------------------------------------------------------------------------
# durations


def format_duration(seconds: float | None, missing: str = "–") -> str:
    """Whole seconds as m:ss, or h:mm:ss from an hour on; `missing` for None, nan and inf (an unknown ETA)."""
    if seconds is None or not math.isfinite(seconds):
        return missing
    s = max(0, int(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


# -----------------------------------------------------------------------------
# characters


# The one glyph map: whitespace and control characters shown in one cell each, everywhere text from a
# corpus or a model is laid out character by character (heatmap, inspector).
VISIBLE = {"\n": "⏎", "\t": "→", " ": "·", "\r": "␍", "\x7f": "␡"}
WIDE = "□"  # stand-in for a character that does not take exactly one terminal cell


def visible_char(ch: str) -> tuple[str, bool]:
    """(one-cell glyph, is_marker): control characters, spaces and wide characters made visible.

    is_marker is True when the glyph stands in for the character (draw it dim), False when it is the
    character itself. Width comes from unicodedata: East Asian wide/full-width, combining and format
    characters, and anything unprintable get WIDE, so a grid of one column per character stays aligned.
    """
    if ch in VISIBLE:
        return VISIBLE[ch], True
    if ord(ch) < 32:
        return chr(0x2400 + ord(ch)), True  # the Unicode "control pictures" block: ␀ ␁ ...
    if (not ch.isprintable() or unicodedata.combining(ch) or unicodedata.east_asian_width(ch) in ("W", "F")
            or unicodedata.category(ch) in ("Mn", "Me", "Mc", "Cf")):
        return WIDE, True
    return ch, False


def unknown_chars(vocab: Container[str], text: str) -> str:
    """The distinct characters of text that vocab lacks, in order of first appearance ('' if none)."""
    return "".join(dict.fromkeys(ch for ch in text if ch not in vocab))
