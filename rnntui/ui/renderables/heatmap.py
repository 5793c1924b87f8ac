"""Hidden-state heatmap (units x characters) and the Karpathy-style coloured text of one unit.

Each cell is a space on a background colour from the shared diverging scale. The probe text runs along
the top, one character per column, so a column reads "the state after this character". Whatever does
not fit is windowed, never dropped silently: the footer names the unit and character ranges shown.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text

from rnntui.core.units import visible_char
from rnntui.ui.renderables.axes import DIM, waiting
from rnntui.ui.renderables.colors import LEVELS, NAN_LEVEL, cell_style, quantize, swatch_style, text_style

_PLAIN = Style.null()
_CURSOR = Style(bold=True, reverse=True)
_CELLS: dict[tuple[int, int], Segment] = {}  # (level, run length) -> Segment: segments are immutable


def _cells(level: int, n: int) -> Segment:
    """A run of n cells of one colour level, cached: a render reuses a few hundred distinct runs, and
    building a Segment costs more than looking one up."""
    seg = _CELLS[level, n] = Segment(" " * n, cell_style(level))
    return seg


def _fmt_bound(v: float) -> str:
    return "0" if v == 0 else f"{v:+g}"


def color_legend(vmin: float = -1.0, vmax: float = 1.0, swatches: int = 4) -> Text:
    """"-1 ████ 0 ████ +1": the colour scale with its end and middle values."""
    text = Text().append(_fmt_bound(vmin) + " ", DIM)
    half = LEVELS // 2
    for a, b in ((0, half), (half, LEVELS - 1)):
        for lv in np.linspace(a, b, swatches).round().astype(int):
            text.append("█", swatch_style(int(lv)))
        if a == 0:
            text.append(f" {_fmt_bound((vmin + vmax) / 2)} ", DIM)
    return text.append(" " + _fmt_bound(vmax), DIM)


# -----------------------------------------------------------------------------
# the heatmap


class Heatmap:
    """Units (rows) x characters (columns) with the text on top, unit labels left and a footer.

    Rows: max_rows, or what options.height leaves after the text row and the footer (all units when
    the console gives no height), starting at row_offset. Columns: the width left after the labels,
    starting at col_offset, moved just enough to keep `cursor` in view. Offsets are clamped, so a caller
    can page past the end without blanking the map.
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
    ) -> None:
        self.values = np.atleast_2d(np.asarray(values, dtype=np.float64))  # (U, T)
        self.text, self.row_offset, self.col_offset, self.max_rows = text, row_offset, col_offset, max_rows
        self.cursor, self.row_labels, self.vmin, self.vmax = cursor, row_labels, vmin, vmax

    def window(self, width: int, height: int | None, footer: int = 1) -> tuple[int, int, int, int, int]:
        """(first row, rows, first column, columns, label width) of what fits in width x height with
        the text row and `footer` lines."""
        U, T = self.values.shape
        rows = U if height is None else max(1, height - 1 - footer)
        rows = min(U, rows, self.max_rows if self.max_rows is not None else U)
        r0 = min(max(0, self.row_offset), max(0, U - rows))
        labels = self._labels(range(r0, r0 + rows))
        lw = max((cell_len(s) for s in labels), default=0) + 1
        cols = max(0, min(T, width - lw))
        c0 = min(max(0, self.col_offset), max(0, T - cols))
        if self.cursor is not None and 0 <= self.cursor < T and cols:
            c0 = min(max(c0, self.cursor - cols + 1), self.cursor)  # keep the cursor in view
        return r0, rows, c0, cols, lw

    def _labels(self, units: range) -> list[str]:
        if self.row_labels is not None:
            return [self.row_labels[u] if u < len(self.row_labels) else f"u{u}" for u in units]
        return [f"u{u}" for u in units]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        U, T = self.values.shape
        if self.values.size == 0:
            yield from waiting(width, options.height or 3, "no hidden states yet")
            return
        r0, rows, c0, cols, lw = self.window(width, options.height)
        footer = self._footer(console, r0, rows, c0, cols, width)
        if len(footer) > 1 and options.height is not None and 1 + rows + len(footer) > options.height:
            r0, rows, c0, cols, lw = self.window(width, options.height, footer=len(footer))
            footer = self._footer(console, r0, rows, c0, cols, width)
        cur = self.cursor - c0 if self.cursor is not None and c0 <= self.cursor < c0 + cols else -1
        lines: list[list[Segment]] = [[Segment(" " * lw), *self._text_row(c0, cols, cur)]]
        levels = quantize(self.values[r0:r0 + rows, c0:c0 + cols], self.vmin, self.vmax)  # (rows, cols)
        for label, row in zip(self._labels(range(r0, r0 + rows)), levels):
            line = [Segment(" " * (lw - 1 - cell_len(label)) + label + " ", DIM)]
            cuts = [0, *(np.flatnonzero(row[1:] != row[:-1]) + 1).tolist(), cols]
            if cur >= 0:  # the cursor column is its own run, drawn as a thin bar in a contrasting colour
                cuts = sorted(set(cuts) | {cur, cur + 1})
            row_levels = row.tolist()
            for a, b in zip(cuts, cuts[1:]):
                lv = row_levels[a]
                if a == cur:
                    line.append(Segment("│", text_style(lv) if lv != NAN_LEVEL else _CURSOR))
                else:
                    line.append(_CELLS.get((lv, b - a)) or _cells(lv, b - a))
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
        glyphs = [visible_char(ch) for ch in self.text[c0:c0 + cols]]
        glyphs += [(" ", False)] * (cols - len(glyphs))  # text shorter than the values: blank columns
        out: list[Segment] = []
        for i, (g, marker) in enumerate(glyphs):
            style = _CURSOR if i == cur else DIM if marker else _PLAIN
            if out and out[-1].style is style:
                out[-1] = Segment(out[-1].text + g, style)
            else:
                out.append(Segment(g, style))
        return out

    def _footer(
        self, console: Console, r0: int, rows: int, c0: int, cols: int, width: int
    ) -> list[list[Segment]]:
        """"units 0-23 of 256 (PgUp/PgDn)  chars 0-79 of 96 (←/→)" and the colour legend (1 or 2 lines)."""
        U, T = self.values.shape
        units = f"units {r0}-{r0 + rows - 1} of {U}" + (" (PgUp/PgDn)" if rows < U else "")
        chars = f"chars {c0}-{c0 + max(cols, 1) - 1} of {T}" + (" (←/→)" if cols < T else "")
        legend = color_legend(self.vmin, self.vmax)
        # Styles go in spans: Text.render drops the base style of a Text that has no spans.
        one = Text().append(f"{units}  {chars}  ", DIM).append_text(legend)
        if one.cell_len <= width:
            return [list(one.render(console, end=""))]
        first = Text().append(f"{units}  {chars}", DIM)
        return [list(first.render(console, end="")), list(legend.render(console, end=""))]


# -----------------------------------------------------------------------------
# one unit over the text


def colored_text(
    text: str,
    activations: np.ndarray,
    vmin: float = -1.0,
    vmax: float = 1.0,
    cursor: int | None = None,
) -> Text:
    """The text with each character's background coloured by one unit's activation after it, (T,).

    Newlines stay line breaks, so the text keeps its shape; characters past the activations are plain.
    `cursor` reverses one character (the inspector's time cursor).
    """
    acts = np.asarray(activations, dtype=np.float64).ravel()[: len(text)]
    levels = quantize(acts, vmin, vmax)
    cuts = [0, *(np.flatnonzero(levels[1:] != levels[:-1]) + 1).tolist(), len(levels)]
    spans = [Span(a, b, text_style(int(levels[a]))) for a, b in zip(cuts, cuts[1:]) if levels[a] != NAN_LEVEL]
    if cursor is not None and 0 <= cursor < len(text):
        spans.append(Span(cursor, cursor + 1, _CURSOR))
    return Text(text, spans=spans)
