"""The novelty chart of the generation panel: for each substring length 1..64 of a generated text, the share
of its substrings found nowhere in the training text (core/generate/novelty.py), as columns of eighth blocks
on a fixed 0-100% scale, one band of rows per output pane.

Takes plain floats (NoveltyLine), no arrays. Fills options.max_width and options.height (or `height`):
a header line (what is measured, where each curve crosses 50%), the bands, and a length axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from rnntui.ui.renderables.axes import DIM, parse_style

BLOCKS = " ▁▂▃▄▅▆▇█"  # 0..8 eighths of a cell
TICKS = (1, 8, 16, 24, 32, 48, 64)  # lengths labelled on the axis, where they fit
# defaults for the chart drawn standalone (tests); the panel passes the theme's, from its novelty--copied and
# novelty--novel component classes in rnntui.tcss
COPIED_STYLE = "#6c8ebf"  # columns where fewer than half the substrings are novel (they occur in the corpus)
NOVEL_STYLE = "#e08e3c"  # columns where half or more are novel


@dataclass(frozen=True)
class NoveltyLine:
    label: str  # which pane, e.g. "T 0.50" ("" for a lone pane)
    fractions: tuple[float, ...]  # [L-1]: share of the length-L substrings that are novel, L = 1..len


def half_length(fractions: Sequence[float]) -> int | None:
    """The shortest length at which half or more of the substrings are novel (as NoveltyCurve.half)."""
    return next((L for L, f in enumerate(fractions, 1) if f >= 0.5), None)


def crossing(line: NoveltyLine) -> str:
    """Where the curve crosses 50%, in words."""
    half = half_length(line.fractions)
    if half is None:
        return f"under half novel up to length {len(line.fractions)}"
    return f"half novel from length {half}"


def column_lengths(width: int, longest: int) -> list[int]:
    """The substring length each plot column shows: one column per length when they fit, else spread."""
    if longest <= width:
        return list(range(1, longest + 1))
    if width <= 1:
        return [1][:width]
    return [1 + round(c * (longest - 1) / (width - 1)) for c in range(width)]


def bar_cells(fraction: float, rows: int) -> list[str]:
    """One column of a bar, top row first: fraction 0..1 of `rows` cells in eighths; any share above
    zero shows at least one eighth, so "a few" never reads as "none"."""
    eighths = round(max(0.0, min(1.0, fraction)) * rows * 8)
    if fraction > 0 and eighths == 0:
        eighths = 1
    return [BLOCKS[max(0, min(8, eighths - 8 * r))] for r in reversed(range(rows))]


class NoveltyChart:
    """One band per line, all on the same length axis; `message` is shown while there is no curve."""

    def __init__(
        self,
        lines: Sequence[NoveltyLine],
        height: int = 5,
        message: str = "",
        copied_style: Style | str = COPIED_STYLE,
        novel_style: Style | str = NOVEL_STYLE,
    ) -> None:
        self.lines = tuple(line for line in lines if line.fractions)
        self.height, self.message = height, message
        self.copied_style, self.novel_style = parse_style(copied_style), parse_style(novel_style)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width, total = options.max_width, options.height or self.height
        out: list[list[Segment]] = []
        head = Text("novel substrings by length", style="bold")
        if not self.lines:
            head.append(" · " + (self.message or "measured as the text is generated"), style=DIM)
        if len(self.lines) == 1:
            head.append(" · ", style=DIM).append(crossing(self.lines[0]))
        elif self.lines:  # one number per pane: the header stays one line at 80 columns
            head.append(" · half novel from:", style=DIM)
            for i, line in enumerate(self.lines):
                half = half_length(line.fractions)
                head.append((" · " if i else " ") + f"{line.label} ", style=DIM).append(str(half) if half else "none")
        head.truncate(width, overflow="ellipsis", pad=True)
        out.append(list(head.render(console, end="")))
        if self.lines and total >= 3:
            out += self._plot(width, total - 2)
        for row in out[:total]:
            yield from Segment.adjust_line_length(row, width)
            yield Segment.line()
        for _ in range(total - len(out[:total])):
            yield Segment(" " * width)
            yield Segment.line()

    def _plot(self, width: int, rows: int) -> list[list[Segment]]:
        """The bands (rows // number of lines rows each, at least one) and the axis line."""
        each = max(1, rows // len(self.lines))
        lines = self.lines[: max(1, rows // each)]  # more panes than rows: the first ones
        labels = {0: "100%", each - 1: "0%"} if len(lines) == 1 and each > 1 else {}
        gutter = max([len(v) for v in labels.values()] + [min(8, len(line.label)) for line in lines] + [1])
        w = max(1, width - gutter - 1)
        longest = max(len(line.fractions) for line in lines)
        lengths = column_lengths(w, longest)
        out: list[list[Segment]] = []
        for line in lines:
            cols = [
                bar_cells(line.fractions[L - 1], each) if L <= len(line.fractions) else [" "] * each for L in lengths
            ]
            styles = [
                self.novel_style if L <= len(line.fractions) and line.fractions[L - 1] >= 0.5 else self.copied_style
                for L in lengths
            ]
            for r in range(each):
                label = labels.get(r, "") if labels else (line.label[:8] if r == 0 else "")
                row = [Segment(label.rjust(gutter) + "│", DIM)]
                row += [Segment(col[r], st) for col, st in zip(cols, styles)]
                out.append(row)
        axis = [" "] * w
        for t in TICKS:  # a tick label starts at its length's column, where it does not run into another
            if t > longest or t not in lengths:
                continue
            c, s = lengths.index(t), str(t)
            if c + len(s) <= w and all(ch == " " for ch in axis[max(0, c - 1) : c + len(s) + 1]):
                axis[c : c + len(s)] = s
        tail = " length"
        text = "".join(axis).rstrip()
        if len(text) + len(tail) <= w:
            text += tail
        out.append([Segment(" " * gutter + "└" + text, DIM)])
        return out
