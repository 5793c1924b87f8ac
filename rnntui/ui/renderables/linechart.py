"""Braille line charts: a general multi-series LineChart (the training charts built on it are in traincharts.py)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from rnntui.ui.renderables.axes import (
    DIM,
    Frame,
    braille,
    line_pixels,
    parse_style,
    style_runs,
    waiting,
    x_labels,
    y_ticks,
)


@dataclass(frozen=True, eq=False)
class Series:
    x: np.ndarray  # (N,) positions along x, e.g. steps; need not be sorted
    y: np.ndarray  # (N,) values; NaN / inf (and values <= 0 on a log axis) are skipped
    style: Style | str  # Rich style of the curve, e.g. "bold #3a96dd", or the theme's Style
    name: str  # legend label
    points: bool = False  # draw each point as a distinct marker (validation points) instead of a line


@dataclass(frozen=True)
class HLine:
    y: float  # where the line sits, in data units
    style: Style | str  # Rich style of the dashed line
    label: str  # legend label, e.g. "clip 1.0"
    extend: bool = True  # widen the y range to show it; False: drawn only when the data's range reaches it


# -----------------------------------------------------------------------------
# the chart


class LineChart:
    """Several series against a shared x axis; y ticks on the left, optional derived labels on the right.

    Lines: a legend, the plot rows, and the x labels (first / middle / last). The chart fills
    options.max_width and options.height (or `height` lines when the console gives no height).
    """

    def __init__(
        self,
        series: Sequence[Series],
        height: int = 12,
        log_y: bool = False,
        y_label: str = "",
        x_label: str = "step",
        hlines: Sequence[HLine] = (),
        right_axis: Callable[[float], str] | None = None,
        *,
        right_label: str = "",  # unit of the right-hand labels, shown at the end of the legend line
        legend: Text | None = None,  # replaces the default legend (series names in their styles)
        marker: str = "●",  # the glyph of points=True series
    ) -> None:
        self.series, self.hlines = tuple(series), tuple(hlines)
        self.height, self.log_y, self.y_label, self.x_label = height, log_y, y_label, x_label
        self.right_axis, self.right_label, self.legend, self.marker = right_axis, right_label, legend, marker

    def _data(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per series, the finite points (positive ones on a log axis) sorted by x."""
        out = []
        for s in self.series:
            x, y = np.asarray(s.x).ravel(), np.asarray(s.y).ravel()  # float32 / int stay as they are: cheaper
            x, y = (v if v.dtype.kind in "fiu" else v.astype(np.float64) for v in (x, y))
            n = min(len(x), len(y))
            x, y = x[:n], y[:n]
            keep = np.isfinite(x) & np.isfinite(y) & ((y > 0) if self.log_y else True)
            if not keep.all():  # copying 100k points costs more than the check
                x, y = x[keep], y[keep]
            if len(x) > 1 and np.any(x[1:] < x[:-1]):
                order = np.argsort(x, kind="stable")
                x, y = x[order], y[order]
            out.append((x, y))
        return out

    def _legend(self, data: list[tuple[np.ndarray, np.ndarray]]) -> Text:
        if self.legend is not None:
            return self.legend
        text = Text()
        for s, (x, _) in zip(self.series, data):
            if s.name and len(x):
                text.append(self.marker if s.points else "━━", parse_style(s.style)).append(f" {s.name}  ")
        for h in self.hlines:
            text.append("┄┄", parse_style(h.style)).append(f" {h.label}  ")
        return text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width, total = options.max_width, options.height or self.height
        data = self._data()
        if not any(len(x) for x, _ in data):
            yield from waiting(width, total)
            return
        show_legend, show_x = total >= 5, total >= 3
        rows = max(1, total - show_legend - show_x)
        h4 = rows * 4

        # ranges: y follows the data (and the threshold lines) with a little padding
        x_lo, x_hi = min(x[0] for x, _ in data if len(x)), max(x[-1] for x, _ in data if len(x))
        ys = [float(v) for x, y in data if len(x) for v in (y.min(), y.max())]
        ys = [math.log10(v) for v in ys] if self.log_y else ys
        hys = [
            (j, math.log10(h.y) if self.log_y else h.y)
            for j, h in enumerate(self.hlines)
            if math.isfinite(h.y) and (h.y > 0 or not self.log_y)
        ]  # (index, axis y) of drawable lines
        ys += [v for j, v in hys if self.hlines[j].extend]
        y_lo, y_hi = min(ys), max(ys)
        # a flat range (one point; or a series and its EMA a rounding error apart) gets a fixed pad
        flat = y_hi - y_lo <= 1e-9 * max(1.0, abs(y_hi))
        pad = (0.5 if self.log_y else max(abs(y_hi) * 0.1, 0.5)) if flat else (y_hi - y_lo) * 0.06
        y_lo, y_hi = y_lo - pad, y_hi + pad
        hys = [(j, v) for j, v in hys if self.hlines[j].extend or y_lo <= v <= y_hi]  # the rest: off the chart
        x_span = (x_hi - x_lo) or 1.0

        def pixel_row(v: float | np.ndarray) -> np.ndarray:
            return np.rint((y_hi - np.asarray(v)) / (y_hi - y_lo) * (h4 - 1)).astype(np.int64)

        # axis labels: the gutters' widths decide the plot's width
        left: dict[int, str] = {}
        right: dict[int, tuple[str, Style]] = {}  # row -> (label, style)
        for t, label in y_ticks(y_lo, y_hi, self.log_y, rows):
            r = int(pixel_row(t)) // 4
            if 0 <= r < rows and r not in left:
                left[r] = label
                if self.right_axis is not None:
                    right[r] = (self.right_axis(10.0**t if self.log_y else t), DIM)
        for j, hy in hys:  # name each threshold at its row, so it reads even where data covers it
            r = int(pixel_row(hy)) // 4
            if 0 <= r < rows:
                right[r] = (self.hlines[j].label, parse_style(self.hlines[j].style))
        lw = max(len(v) for v in [*left.values(), self.y_label if len(self.y_label) <= 6 else ""])
        rw = max((len(v) + 1 for v, _ in right.values()), default=0)
        w = max(1, width - lw - 1 - rw)
        w2 = w * 2
        frame = Frame(x_lo, x_span, y_lo, y_hi, w2, h4, self.log_y)

        # rasterise: each line series replaces the cells it touches, markers go on top
        cp = np.full((rows, w), 0x20, dtype=np.int64)  # code points
        owner = np.full((rows, w), -1, dtype=np.int64)  # index into styles
        markers = []
        for i, (s, (x, y)) in enumerate(zip(self.series, data)):
            if not len(x):
                continue
            if s.points:
                markers.append(
                    (
                        i,
                        np.clip(np.rint(frame.py(y)).astype(np.int64) // 4, 0, rows - 1),
                        np.clip(np.rint(frame.px(x)).astype(np.int64) // 2, 0, w - 1),
                    )
                )
                continue
            bits = braille(line_pixels(x, y, frame))
            hit = bits > 0
            cp[hit], owner[hit] = 0x2800 + bits[hit], i
        for j, hy in hys:
            pr = int(pixel_row(hy))
            if 0 <= pr < h4:  # a dashed braille line at its exact pixel row, drawn over the data
                dash = np.zeros((h4, w2), dtype=bool)
                dash[pr, (np.arange(w2) // 2) % 3 != 2] = True
                bits = braille(dash)
                on = bits > 0
                old = np.where(cp[on] >= 0x2800, cp[on] - 0x2800, 0)
                cp[on], owner[on] = 0x2800 + (old | bits[on]), len(self.series) + j
        for i, r, c in markers:
            cp[r, c], owner[r, c] = ord(self.marker), i
        styles = [parse_style(s.style) for s in self.series] + [parse_style(h.style) for h in self.hlines]

        # compose the lines
        lines: list[list[Segment]] = []
        if show_legend:
            head = Text().append(self.y_label.ljust(lw + 1), DIM)
            head.append_text(self._legend(data))
            room = width - len(self.right_label) - 1 if self.right_label else width
            head.truncate(max(room, 0), overflow="ellipsis", pad=True)
            if self.right_label:
                head.append(" " + self.right_label, DIM)
            lines.append(list(head.render(console, end="")))
        for r in range(rows):
            tick = left.get(r)
            line = [Segment((tick or "").rjust(lw) + ("┤" if tick else "│"), DIM)]
            line += style_runs("".join(map(chr, cp[r])), owner[r], styles)
            if rw:
                label, style = right.get(r, ("", DIM))
                line.append(Segment((" " + label).ljust(rw), style))
            lines.append(line)
        if show_x:
            xlab = self.x_label.rjust(lw) + " " if len(self.x_label) <= lw else " " * (lw + 1)
            lines.append([Segment(xlab + x_labels(x_lo, x_hi, w) + " " * rw, DIM)])
        for line in lines:
            yield from Segment.adjust_line_length(line, width)
            yield Segment.line()
