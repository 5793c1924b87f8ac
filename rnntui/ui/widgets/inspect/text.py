"""The inspector's text: each character on the colour of the selected unit's activation (Karpathy's
neuron view), the time cursor, the marked range, characters outside the vocabulary marked, and under every
text row the prediction strip: how surprised the model was by each character.

Only the rows on screen are built; the row layout of the text is cached per width, so a 20,000-character
text costs the same per frame as a short one.
"""

from __future__ import annotations

import math

import numpy as np
from rich.cells import cell_len
from rich.console import RenderableType
from rich.style import Style
from rich.text import Text

from rnntui.core.textsafe import visible_char
from rnntui.ui.renderables.colors import LEVELS, NAN_LEVEL, quantize, text_style
from rnntui.ui.widgets.hidden import RAMP_CLASSES, theme_ramp
from rnntui.ui.widgets.inspect.gain import GAIN_NATS, gain_values
from rnntui.ui.widgets.inspect.view import View, ViewWidget

CURSOR = Style(reverse=True, bold=True, underline=True)
MARKED = Style(underline=True, italic=True)
OOV = Style(color="black", bgcolor="yellow", bold=True)  # a character the model skipped
OOV_STRIP = Style(color="yellow", bold=True)
BARS = " ▁▂▃▄▅▆▇█"
SURPRISE_BITS = 8.0  # -log2 p at which a strip bar is full height
STRIP_STYLES = (Style(color="green"), Style(color="yellow"), Style(color="red", bold=True))


def shown_char(ch: str) -> str:
    """A printable stand-in for whitespace and control characters, from the shared glyph map. Spaces
    and wide characters stay themselves: this is running text, not a one-column-per-character grid."""
    if ch == " " or (ch.isprintable() and not ch.isspace()):
        return ch
    return visible_char(ch)[0]


def row_starts(text: str, width: int) -> np.ndarray:
    """Start position of each display row: lines (with their newline) hard-wrapped at width chars."""
    starts: list[int] = []
    pos = 0
    for line in text.split("\n"):
        end = min(pos + len(line) + 1, len(text))  # the newline ends its row
        if end <= pos:
            break
        starts.extend(range(pos, end, width))
        pos = end
    return np.array(starts or [0], dtype=np.int64)


def strip_cell(p: float) -> tuple[str, Style]:
    """Bar height from the surprise -log2 p; colour green (expected) to red (surprising)."""
    if not math.isfinite(p):
        return " ", Style.null()
    bits = -math.log2(max(p, 1e-12))
    bar = BARS[min(len(BARS) - 1, 1 + int(bits / SURPRISE_BITS * (len(BARS) - 2)))]
    return bar, STRIP_STYLES[0 if p >= 0.5 else 1 if p >= 0.1 else 2]


class InspectText(ViewWidget):
    """The text, coloured by one unit, with the cursor and the prediction strip under each row."""

    BORDER_TITLE = "text"  # until the first View: then what the colours show
    COMPONENT_CLASSES = set(RAMP_CLASSES)  # the colour scale, from the theme (rnntui.tcss)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.top = 0  # first display row on screen; follows the cursor
        self._layout: tuple[int, int, np.ndarray] | None = None  # (id of text, width, row starts)

    def watch_view(self, view: View) -> None:
        if view.gain is not None:  # the vs-n-gram mode
            self.border_title = (
                f"text · colour: network ln p − {view.gain_against} ln p, ±{GAIN_NATS:g} nats · strip: surprise"
            )
            return
        self.border_title = (
            f"text · unit u{view.unit} layer {view.layer + 1} {view.state} · "
            f"colour -{view.scale:.3g}..+{view.scale:.3g} · strip: surprise"
        )

    def _rows(self, text: str, width: int) -> np.ndarray:
        if self._layout is None or self._layout[:2] != (id(text), width):
            self._layout = (id(text), width, row_starts(text, width))
        return self._layout[2]

    def build(self, v: View) -> RenderableType:
        ins = v.ins
        width = max(8, self.content_size.width)
        starts = self._rows(ins.text, width)
        visible = max(1, self.content_size.height // 2)  # each text row has its strip row under it
        crow = int(np.searchsorted(starts, v.cursor, side="right")) - 1
        if crow < self.top:
            self.top = crow
        elif crow >= self.top + visible:
            self.top = crow - visible + 1
        self.top = max(0, min(self.top, len(starts) - 1))
        last = min(len(starts), self.top + visible)
        a = int(starts[self.top])
        b = int(starts[last]) if last < len(starts) else len(ins.text)
        steps = ins.step_of[a:b]  # (n,) -1 where skipped
        known = steps >= 0
        if v.gain is not None:  # the vs-n-gram mode: the network's gain over counting, per character
            vals = gain_values(v.gain, a, b)
        else:
            vals = np.where(known, v.acts[np.maximum(steps, 0), v.unit], np.nan) / v.scale
        levels = quantize(vals, -1.0, 1.0)
        sel = v.selection or (0, 0)
        ramp = theme_ramp(self)
        out = Text(no_wrap=True, overflow="crop", end="")
        for r in range(self.top, last):
            r0 = int(starts[r]) - a
            r1 = (int(starts[r + 1]) if r + 1 < len(starts) else len(ins.text)) - a
            chars, strip = [], []  # (glyph, style) per character of the row, and under it
            for i in range(r0, r1):
                pos = a + i
                ch = shown_char(ins.text[pos])
                pad = " " * (cell_len(ch) - 1) if not ch.isascii() else ""
                if known[i]:
                    style = text_style(int(levels[i]), LEVELS, ramp) if levels[i] != NAN_LEVEL else Style.null()
                    bar, bstyle = strip_cell(float(ins.p_char[steps[i]]))
                else:
                    style, (bar, bstyle) = OOV, ("×", OOV_STRIP)
                if sel[0] <= pos < sel[1]:
                    style = style + MARKED
                if pos == v.cursor:
                    style = style + CURSOR
                chars.append((ch, style))
                strip.append((bar + pad, bstyle))
            append_runs(out, chars)
            out.append("\n")
            append_runs(out, strip)
            if r + 1 < last:
                out.append("\n")
        return out


def append_runs(out: Text, cells: list[tuple[str, Style]]) -> None:
    """Append glyphs, one append per run of equal style (the cached styles compare by identity first)."""
    i = 0
    while i < len(cells):
        j, style = i + 1, cells[i][1]
        while j < len(cells) and cells[j][1] == style:
            j += 1
        out.append("".join(g for g, _ in cells[i:j]), style)
        i = j
