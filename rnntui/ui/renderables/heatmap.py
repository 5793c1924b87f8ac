"""Hidden-state heatmap (units x characters) and the Karpathy-style coloured text of one unit.

Each cell is a space on a background colour from the shared diverging scale, or, in half mode, a "▀"
whose two halves show two units, so one terminal row holds two. The probe text runs along
the top, one character per column, so a column reads "the state after this character". Whatever does
not fit is windowed, never dropped silently: the footer names the unit and character ranges shown.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text

from rnntui.core.textsafe import visible_char
from rnntui.ui.renderables.axes import DIM, waiting
from rnntui.ui.renderables.colors import (
    DEFAULT_RAMP,
    LEVELS,
    NAN_LEVEL,
    Ramp,
    cell_style,
    half_style,
    quantize,
    swatch_style,
    text_style,
)

_PLAIN = Style.null()
_CURSOR = Style(bold=True, reverse=True)
_CELLS: dict[tuple, Segment] = {}  # (ramp, levels of the cell, run length) -> Segment: segments are immutable
_HALF = "▀"  # upper half in the foreground colour, lower half in the background colour


def _cells(ramp: Ramp, upper: int, lower: int | None, n: int) -> Segment:
    """A run of n cells of one colour (lower None) or of one pair of colours (half blocks), cached: a
    render reuses a few hundred distinct runs, and building a Segment costs more than looking one up."""
    key = (ramp, upper, lower, n)
    seg = _CELLS.get(key)
    if seg is None:
        if len(_CELLS) > 20_000:  # a long session with many themes: start over rather than grow
            _CELLS.clear()
        if lower is None:
            seg = Segment(" " * n, cell_style(upper, LEVELS, ramp))
        else:
            seg = Segment(_HALF * n, half_style(upper, lower, LEVELS, ramp))
        _CELLS[key] = seg
    return seg


def fmt_bound(v: float) -> str:
    """A colour-scale bound for a legend: "0", "+1", "-4.21" (three significant digits at most)."""
    return "0" if v == 0 else f"{v:+.3g}"


def color_legend(vmin: float = -1.0, vmax: float = 1.0, swatches: int = 4, ramp: Ramp = DEFAULT_RAMP) -> Text:
    """ "-1 ████ 0 ████ +1": the colour scale with its end and middle values."""
    text = Text().append(fmt_bound(vmin) + " ", DIM)
    half = LEVELS // 2
    for a, b in ((0, half), (half, LEVELS - 1)):
        for lv in np.linspace(a, b, swatches).round().astype(int):
            text.append("█", swatch_style(int(lv), LEVELS, ramp))
        if a == 0:
            text.append(f" {fmt_bound((vmin + vmax) / 2)} ", DIM)
    return text.append(" " + fmt_bound(vmax), DIM)


# -----------------------------------------------------------------------------
# the heatmap


class Heatmap:
    """Units (rows) x characters (columns) with the text on top, unit labels left and a footer.

    values' rows are drawn in the order given (the caller sorts them); `half` draws two units per
    terminal row with half blocks (the labels then read "upper,lower"). Rows: max_rows units, or what
    options.height leaves after the text row and the footer (all units when the console gives no
    height), starting at unit row_offset. Columns: the width left after the labels, starting at
    col_offset, moved just enough to keep `cursor` in view. Offsets are clamped, so a caller can page
    past the end without blanking the map. `order` names the row order in the footer ("" : by index).
    """

    def __init__(
        self,
        values: np.ndarray,
        text: str,
        row_offset: int = 0,
        col_offset: int = 0,
        max_rows: int | None = None,
        cursor: int | None = None,
        row_labels: Sequence[str] | None = None,
        vmin: float = -1.0,
        vmax: float = 1.0,
        half: bool = False,
        ramp: Ramp = DEFAULT_RAMP,
        order: str = "",
        hints: bool = True,
    ) -> None:
        self.values = np.atleast_2d(np.asarray(values, dtype=np.float64))  # (U, T)
        self.text, self.row_offset, self.col_offset, self.max_rows = text, row_offset, col_offset, max_rows
        self.cursor, self.row_labels, self.vmin, self.vmax = cursor, row_labels, vmin, vmax
        self.half, self.ramp, self.order = half, ramp, order
        self.hints = hints  # name the paging keys in the footer (a panel that names them elsewhere: False)

    def window(self, width: int, height: int | None) -> tuple[int, int, int, int, int]:
        """(first unit, units shown, first column, columns, label width) of what fits in width x height
        with the text row and the footer: the same numbers the render uses, so a caller paging by
        "units shown" never skips a unit."""
        for footer in (1, 2):
            r0, units, c0, cols, lw = self._window(width, height, footer)
            if footer == 2 or len(self._footer_texts(r0, units, c0, cols, width)) == 1:
                return r0, units, c0, cols, lw
        raise AssertionError("unreachable")

    def _window(self, width: int, height: int | None, footer: int) -> tuple[int, int, int, int, int]:
        U, T = self.values.shape
        per_row = 2 if self.half else 1
        units = U if height is None else max(1, height - 1 - footer) * per_row
        units = min(U, units, self.max_rows if self.max_rows is not None else U)
        r0 = min(max(0, self.row_offset), max(0, U - units))
        lw = max((cell_len(s) for s in self._row_labels(r0, units)), default=0) + 1
        cols = max(0, min(T, width - lw))
        c0 = min(max(0, self.col_offset), max(0, T - cols))
        if self.cursor is not None and 0 <= self.cursor < T and cols:
            c0 = min(max(c0, self.cursor - cols + 1), self.cursor)  # keep the cursor in view
        return r0, units, c0, cols, lw

    def _labels(self, units: range) -> list[str]:
        if self.row_labels is not None:
            return [self.row_labels[u] if u < len(self.row_labels) else f"u{u}" for u in units]
        return [f"u{u}" for u in units]

    def _row_labels(self, r0: int, units: int) -> list[str]:
        """One label per terminal row: a unit's, or "upper,lower" in half mode."""
        names = self._labels(range(r0, r0 + units))
        if not self.half:
            return names
        return [",".join(names[i : i + 2]) for i in range(0, len(names), 2)]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        if self.values.size == 0:
            yield from waiting(width, options.height or 3, "no hidden states yet")
            return
        r0, units, c0, cols, lw = self.window(width, options.height)
        footer = [list(t.render(console, end="")) for t in self._footer_texts(r0, units, c0, cols, width)]
        cur = self.cursor - c0 if self.cursor is not None and c0 <= self.cursor < c0 + cols else -1
        lines: list[list[Segment]] = [[Segment(" " * lw), *self._text_row(c0, cols, cur)]]
        levels = quantize(self.values[r0 : r0 + units, c0 : c0 + cols], self.vmin, self.vmax)  # (units, cols)
        labels = self._row_labels(r0, units)
        if self.half:
            if len(levels) % 2:  # an odd last unit: its lower half is empty
                levels = np.vstack([levels, np.full((1, cols), NAN_LEVEL)])
            pairs = levels.reshape(-1, 2, cols)  # (rows, 2, cols)
            for label, (up, low) in zip(labels, pairs):
                line = [Segment(" " * (lw - 1 - cell_len(label)) + label + " ", DIM)]
                key = (up + 1) * (LEVELS + 2) + low + 1  # one number per colour pair (NaN is -1), to find runs
                cuts = [0, *(np.flatnonzero(key[1:] != key[:-1]) + 1).tolist(), cols]
                ups, lows = up.tolist(), low.tolist()
                for a, b in zip(cuts, cuts[1:]):
                    line.append(_cells(self.ramp, ups[a], lows[a], b - a))
                lines.append(line)
        else:
            for label, row in zip(labels, levels):
                line = [Segment(" " * (lw - 1 - cell_len(label)) + label + " ", DIM)]
                cuts = [0, *(np.flatnonzero(row[1:] != row[:-1]) + 1).tolist(), cols]
                if cur >= 0:  # the cursor column is its own run, drawn as a thin bar in a contrasting colour
                    cuts = sorted(set(cuts) | {cur, cur + 1})
                row_levels = row.tolist()
                for a, b in zip(cuts, cuts[1:]):
                    lv = row_levels[a]
                    if a == cur:
                        line.append(Segment("│", text_style(lv, LEVELS, self.ramp) if lv != NAN_LEVEL else _CURSOR))
                    else:
                        line.append(_cells(self.ramp, lv, None, b - a))
                lines.append(line)
        # The text row and unit rows are lw + cols cells by construction (one-cell glyphs, padded
        # labels): pad them directly, as measuring thousands of cell segments costs more than drawing.
        pad = [Segment(" " * (width - lw - cols))] if width > lw + cols else []
        for line in lines:
            yield from line + pad if width >= lw + cols else Segment.adjust_line_length(line, width)
            yield Segment.line()
        for line in footer:
            yield from Segment.adjust_line_length(line, width)
            yield Segment.line()

    def _text_row(self, c0: int, cols: int, cur: int) -> list[Segment]:
        """The characters of the window, control characters made visible, the cursor reversed."""
        glyphs = [visible_char(ch) for ch in self.text[c0 : c0 + cols]]
        glyphs += [(" ", False)] * (cols - len(glyphs))  # text shorter than the values: blank columns
        out: list[Segment] = []
        for i, (g, marker) in enumerate(glyphs):
            style = _CURSOR if i == cur else DIM if marker else _PLAIN
            if out and out[-1].style is style:
                out[-1] = Segment(out[-1].text + g, style)
            else:
                out.append(Segment(g, style))
        return out

    def _footer_texts(self, r0: int, units: int, c0: int, cols: int, width: int) -> list[Text]:
        """ "units 0-23 of 256 (PgUp/PgDn)  chars 0-79 of 96 (←/→)" and the colour legend (1 or 2 lines).
        With an order: "#1-24 of 256 by variance" (ranks; the labels name the units); the order is left
        out when it does not fit on one line with the legend."""
        U, T = self.values.shape
        if self.order:
            shown = f"#{r0 + 1}-{r0 + units} of {U} by {self.order}"
        else:
            shown = f"units {r0}-{r0 + units - 1} of {U}"
        shown += " (PgUp/PgDn)" if units < U and self.hints else ""
        chars = f"chars {c0}-{c0 + max(cols, 1) - 1} of {T}" + (" (←/→)" if cols < T and self.hints else "")
        legend = color_legend(self.vmin, self.vmax, ramp=self.ramp)
        # Styles go in spans: Text.render drops the base style of a Text that has no spans.
        one = Text().append(f"{shown}  {chars}  ", DIM).append_text(legend)
        if one.cell_len <= width:
            return [one]
        if self.order:  # the title can name the order; one line more of units is worth more
            short = shown.replace(f" by {self.order}", "")
            one = Text().append(f"{short}  {chars}  ", DIM).append_text(legend)
            if one.cell_len <= width:
                return [one]
        return [Text().append(f"{shown}  {chars}", DIM), legend]


# -----------------------------------------------------------------------------
# one unit over the text


def colored_text(
    text: str,
    activations: np.ndarray,
    vmin: float = -1.0,
    vmax: float = 1.0,
    cursor: int | None = None,
    ramp: Ramp = DEFAULT_RAMP,
) -> Text:
    """The text with each character's background coloured by one unit's activation after it, (T,).

    Newlines stay line breaks, so the text keeps its shape; characters past the activations are plain.
    `cursor` reverses one character (the inspector's time cursor).
    """
    acts = np.asarray(activations, dtype=np.float64).ravel()[: len(text)]
    levels = quantize(acts, vmin, vmax)
    cuts = [0, *(np.flatnonzero(levels[1:] != levels[:-1]) + 1).tolist(), len(levels)]
    spans = [
        Span(a, b, text_style(int(levels[a]), LEVELS, ramp)) for a, b in zip(cuts, cuts[1:]) if levels[a] != NAN_LEVEL
    ]
    if cursor is not None and 0 <= cursor < len(text):
        spans.append(Span(cursor, cursor + 1, _CURSOR))
    return Text(text, spans=spans)
