"""Generated text coloured by the probability the model gave each character, and the legend of that scale.

Five bands rather than a continuous ramp: a reader can tell "the model was sure" from "it hesitated" at a
glance, and the legend names each band. Copied spans (the memorisation check) are underlined, so both
marks can be on at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.style import Style
from rich.text import Text

from rnntui.core.textsafe import visible

# (upper bound of p, default colour, legend label): hesitant (red) .. confident (green). The colours are for
# text drawn standalone (tests, the saved file's preview); the widgets pass the theme's, from their
# confidence--1 .. confidence--5 component classes in rnntui.tcss (a darker set on a light theme)
BANDS = (  # colours of the xterm 256 palette, so a 256-colour terminal (tmux) shows them unchanged
    (0.1, "#d75f5f", "<.1"),
    (0.3, "#d78700", ".1-.3"),
    (0.6, "#afaf00", ".3-.6"),
    (0.9, "#5faf5f", ".6-.9"),
    (1.01, "#00af87", ">.9"),
)
BAND_STYLES: tuple[Style | str, ...] = tuple(colour for _, colour, _ in BANDS)  # one style per band
COPIED = "underline"  # style added to copied spans


def band(p: float) -> int:
    """The band index of a probability (NaN, unknown: the middle band)."""
    if math.isnan(p):
        return 2
    for i, (hi, _, _) in enumerate(BANDS):
        if p < hi:
            return i
    return len(BANDS) - 1


def generated_text(
    prefix: str,
    text: str,
    probs: Sequence[float] = (),
    colour: bool = False,
    copied: Sequence[tuple[int, int]] = (),
    styles: Sequence[Style | str] = BAND_STYLES,
) -> Text:
    """prefix (the seed, dim) + text; with colour each character is coloured by its probability, in
    styles[band] (one style per band of BANDS).

    Runs of characters in the same band share one span, so a long text stays a handful of spans. overflow
    "fold" only splits a word longer than the whole line: lines wrap at spaces, not mid-identifier.
    """
    out = Text(overflow="fold")
    # control characters are shown, not obeyed; visible() maps one character to one, so the offsets of
    # probs and copied spans still hold. The seed is a dim span, not the Text's base style (that would
    # dim the whole text)
    out.append(visible(prefix, multiline=True), style="dim")
    start = len(prefix)
    out.append(visible(text, multiline=True))
    if colour and probs:
        bands = [band(p) for p in probs[: len(text)]]
        i = 0
        while i < len(bands):
            j = i
            while j < len(bands) and bands[j] == bands[i]:
                j += 1
            out.stylize(styles[bands[i]], start + i, start + j)
            i = j
    for a, b in copied:
        out.stylize(COPIED, start + a, start + b)
    return out


def legend(copy_marks: bool = False, styles: Sequence[Style | str] = BAND_STYLES) -> Text:
    """One line: "p(char)" and a swatch per band, in styles[band]; with copy_marks, what the underline
    means."""
    out = Text()
    out.append("p(char) ", style="dim")
    for (_, _, label), style in zip(BANDS, styles):
        out.append("█", style=style)
        out.append(f"{label} ")
    if copy_marks:
        out.append(" copied", style=COPIED)
    return out


def bits_per_char(probs: Sequence[float]) -> float | None:
    """-mean log2 p over the characters: the text's cost under the model (None: no probabilities)."""
    ps = [p for p in probs if not math.isnan(p) and p > 0]
    return -sum(math.log2(p) for p in ps) / len(ps) if ps else None
