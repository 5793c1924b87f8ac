"""Text from outside shown, never obeyed: the one home of how a character that a terminal would act on
(or that cannot be shown) is drawn instead.

A corpus, a sample, a run name, a path or a log line may hold bytes a terminal treats as commands: ESC
starts a sequence that recolours, clears the screen or sets the window title, BEL rings, CR returns to
the start of the line, a C1 character (U+0080-U+009F, CSI is U+009B) does what ESC does on some
terminals, and the bidi overrides reorder what is drawn. Everything rnntui shows from outside passes
through `visible` (running text: samples, the corpus preview, names, paths, messages) or `visible_char`
(grids of one cell per character: the heatmap and the inspector), which put a symbol in its place:

    control pictures   ␀ ␁ … ␛ … ␟ for C0 (U+0000-U+001F), ␡ for DEL; ⏎ for a newline and → for a tab
                       on one line (kept as they are in running text of several lines)
    OTHER  ␦           a C1 control or a bidi override / isolate
    UNDECODABLE  �     a byte that was not UTF-8 (a lone surrogate: how Python carries such a byte of a
                       file name or argument), which a strict UTF-8 stream could not even encode

Each character becomes exactly one character, so offsets into the text (per-character probabilities,
copied spans) stay valid. Stdlib only and no rich: the CLI, the engine and the app all use it.
"""

from __future__ import annotations

import re
import unicodedata

# -----------------------------------------------------------------------------
# the stand-ins

OTHER = "␦"  # a C1 control character or a bidi control (no control picture of its own)
UNDECODABLE = "\ufffd"  # a lone surrogate: a byte that was not UTF-8 (os.fsdecode's surrogateescape)
BIDI = (
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"  # marks, embeddings, overrides, isolates
)

# What a terminal would obey: C0, DEL, C1, the bidi controls and lone surrogates.
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{BIDI}\ud800-\udfff]")


def _picture(ch: str) -> str:
    """The stand-in of one character _UNSAFE matches."""
    c = ord(ch)
    if c < 0x20:
        return chr(0x2400 + c)  # the Unicode "control pictures" block: ␀ ␁ … ␛ … ␟
    if c == 0x7F:
        return "␡"
    if 0xD800 <= c <= 0xDFFF:
        return UNDECODABLE
    return OTHER


_ONE_LINE = {"\n": "⏎", "\t": "→"}  # on one line (names, paths, table cells) these show too
_KEPT = ("\n", "\t")  # running text of several lines (samples, the corpus preview) keeps its layout


def visible(text: str, multiline: bool = False) -> str:
    """text with every character a terminal would act on replaced by a visible symbol (one for one).

    multiline: newlines and tabs stay (samples, the corpus preview, a message of several lines);
    otherwise they show as ⏎ and → too, so a name or a path stays on its one line."""
    if not _UNSAFE.search(text):
        return text  # the common case, checked at C speed
    if multiline:
        return _UNSAFE.sub(lambda m: m[0] if m[0] in _KEPT else _picture(m[0]), text)
    return _UNSAFE.sub(lambda m: _ONE_LINE.get(m[0]) or _picture(m[0]), text)


# -----------------------------------------------------------------------------
# one cell per character (the heatmap, the inspector)

# The grid's glyph map: whitespace too is shown there, each character in one cell.
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
    if _UNSAFE.match(ch):
        return _picture(ch), True
    if (
        not ch.isprintable()
        or unicodedata.combining(ch)
        or unicodedata.east_asian_width(ch) in ("W", "F")
        or unicodedata.category(ch) in ("Mn", "Me", "Mc", "Cf")
    ):
        return WIDE, True
    return ch, False
