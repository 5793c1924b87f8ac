"""Gradient flow over one BPTT window: the selected layer large, the others as one-line summaries.

Columns are timesteps with the last one, t, on the right, so reading leftwards is reading "further back in
time". Bars (log scale, eighth-of-a-cell resolution) show how much of the window's last loss reaches each
earlier hidden state, ||d loss_T / dh_t||: the curve that collapses for a plain tanh RNN (vanishing
gradients) and stays up for an LSTM. A one-row strip under the plot shows, on its own log scale, the
total gradient ||dL/dh_t|| that the optimiser actually receives at each step. The first line is the
verdict of rnntui.core.analysis.horizon: the memory horizon, with its threshold stated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from rnntui.core.analysis.horizon import Horizon, fmt_threshold, verdict_line
from rnntui.core.analysis.horizon import horizons as horizons_of
from rnntui.ui.renderables.axes import DIM, parse_style, waiting

# defaults for a chart drawn standalone (tests, exports); the panel passes the theme's, from its gradflow--*
# component classes in rnntui.tcss
BAR_STYLE = "#f0883e"  # last-step gradient ||d loss_T / dh_t||
TOTAL_STYLE = "#58a6ff"  # total gradient ||dL/dh_t||, its own strip and scale
MARK_STYLE = "bold #e3b341"  # the horizon's column on the x axis
VERDICT_STYLES = {"vanishing": "bold #58a6ff", "healthy": "bold #3fb950", "exploding": "bold #f85149"}
MAX_DECADES = 8  # smaller values than this many decades below the largest are drawn as empty
_EIGHTHS = " ▁▂▃▄▅▆▇█"


def _layout(T: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """How T timesteps share w plot columns, the last timestep in the last column.

    Returns idx (w,): the first timestep of each column (several per column when T > w; otherwise each
    timestep widened over w / T columns), and centre (T,): the middle column of each timestep.
    """
    idx = (np.arange(w) * T) // w
    if T > w:
        return idx, np.minimum(np.arange(T) * w // T, w - 1)
    first = np.searchsorted(idx, np.arange(T))
    last = np.r_[first[1:] - 1, w - 1]
    return idx, (first + last) // 2


def _per_column(values: np.ndarray, w: int) -> np.ndarray:
    """(T,) -> (w,): the largest value of the timesteps in each column, so spikes are not averaged away."""
    idx, _ = _layout(len(values), w)
    return np.maximum.reduceat(values, idx) if len(values) > w else values[idx]


def _eighths(values: np.ndarray, lo: float, hi: float, rows: int) -> np.ndarray:
    """Bar heights in eighths of a cell for log10 positions between lo and hi; 0 below lo or for 0."""
    with np.errstate(divide="ignore"):
        lv = np.log10(np.maximum(values, 1e-300))
    h = np.rint(np.clip((lv - lo) / (hi - lo), 0, 1) * rows * 8)
    return np.where(values >= 10.0**lo, np.maximum(h, 1), 0).astype(np.int64)  # above the floor: a stub


def sparkline(values: np.ndarray, w: int, lo: float | None = None, hi: float | None = None) -> str:
    """One row of eighth blocks, log scale (lo/hi in log10; default: the values' own range)."""
    v = _per_column(np.where(np.isfinite(values) & (values > 0), values, 0.0), w)
    pos = v[v > 0]
    if not len(pos):
        return " " * w
    lo = math.log10(pos.min()) - 1e-9 if lo is None else lo
    hi = math.log10(pos.max()) if hi is None else hi
    hi = max(hi, lo + 1e-6)
    return "".join(_EIGHTHS[min(8, e)] for e in _eighths(v, lo, hi, 1).tolist())


class GradFlow:
    """The selected layer's last-step gradients as tall bars, the total gradient as a strip, the other
    layers as one-line summaries, and the verdict line on top.

    horizons: the verdicts to print (smoothed over recent probes by the caller); None computes them from
    this one snapshot. layer: the layer drawn large (the others are summarised).
    """

    def __init__(
        self,
        grad_total: np.ndarray,
        grad_last: np.ndarray,
        height: int = 8,
        layer: int = 0,
        horizons: Sequence[Horizon] | None = None,
        layer_key: str = "v",
        bar_style: Style | str = BAR_STYLE,
        total_style: Style | str = TOTAL_STYLE,
        mark_style: Style | str = MARK_STYLE,
        verdict_styles: dict[str, Style | str] | None = None,
    ) -> None:
        self.total = np.atleast_2d(np.asarray(grad_total, dtype=np.float64))  # (L, T) ||dL/dh_t||
        self.last = np.atleast_2d(np.asarray(grad_last, dtype=np.float64))  # (L, T) ||d loss_T / dh_t||
        n = min(len(self.total), len(self.last))
        self.total, self.last = self.total[:n], self.last[:n]
        self.layer = min(max(0, layer), max(0, n - 1))
        self.horizons = list(horizons) if horizons is not None and len(horizons) == n else horizons_of(self.last)
        self.height = height
        self.layer_key = layer_key  # the key that selects the next layer, shown in the key line
        # colours: the theme's, from the panel's component classes (rnntui.tcss); hex only standalone
        self.bar_style, self.total_style = parse_style(bar_style), parse_style(total_style)
        self.mark_style = parse_style(mark_style)
        words = {**VERDICT_STYLES, **(verdict_styles or {})}  # vanishing / healthy / exploding
        self.verdict_styles = {word: parse_style(style) for word, style in words.items()}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width, total_h = options.max_width, options.height or self.height
        L, T = self.last.shape
        clean = np.where(np.isfinite(self.last) & (self.last > 0), self.last, 0.0)  # (L, T)
        if T == 0 or L == 0 or not clean.any():
            yield from waiting(width, total_h, "waiting for gradients" if not T else "all gradients are zero")
            return
        sel = clean[self.layer]
        pos = clean[clean > 0]
        hi = math.ceil(math.log10(pos.max()) - 1e-9)  # one scale for every layer, so summaries compare
        lo = max(math.floor(math.log10(pos.min())), hi - MAX_DECADES)
        hi = max(hi, lo + 1)

        # rows: verdict, plot, axis, total strip, other layers, key line; the extras go first when short
        others = [i for i in range(L) if i != self.layer]
        fixed = 2  # verdict and x axis
        show_total = total_h - fixed >= 3 + len(others) + 1
        show_key = total_h - fixed - show_total >= 3 + len(others) + 1
        n_others = max(0, min(len(others), total_h - fixed - show_total - show_key - 2))
        rows = max(1, total_h - fixed - show_total - show_key - n_others)

        labels = self._labels(lo, hi, rows)
        lw = max(len(v) for v in labels.values())
        w = max(1, width - lw - 1)
        hz = self.horizons[self.layer]
        lines: list[list[Segment]] = [self._verdict(console, hz, width)]
        lines += self._plot(sel, lo, hi, rows, w, labels, lw)
        lines.append([Segment(" " * (lw + 1))] + self._axis(T, w, hz))
        if show_total:
            tot = np.where(np.isfinite(self.total[self.layer]), self.total[self.layer], 0.0)
            label = "total".rjust(lw)[:lw] if lw >= 5 else "tot".rjust(lw)
            lines.append([Segment(label + " ", DIM), Segment(sparkline(tot, w), self.total_style)])
        for i in others[:n_others]:
            lines.append(self._summary(console, i, clean[i], lo, hi, width))
        if show_key:
            lines.append(self._key(console, L, width))
        for line in lines[:total_h]:
            yield from Segment.adjust_line_length(line, width)
            yield Segment.line()

    # ---- pieces ----------------------------------------------------------------------------------

    @staticmethod
    def _labels(lo: int, hi: int, rows: int) -> dict[int, str]:
        """Decade labels by plot row (row 0 on top): each on the row its bar height falls in, one per row."""
        labels: dict[int, str] = {}
        for d in range(hi, lo - 1, -1):
            eighths = (d - lo) / (hi - lo) * rows * 8
            r = rows - 1 - min(rows - 1, int(eighths // 8))
            labels.setdefault(r, f"1e{d}")
        return labels

    def _verdict(self, console: Console, hz: Horizon, width: int) -> list[Segment]:
        text = Text()
        long = verdict_line(hz)
        medium = long.replace("gradient stays above", "stays above").replace("memory horizon", "horizon")
        for line in (long, medium, verdict_line(hz, short=True)):
            head, _, rest = line.partition(": ")
            text = Text().append(head + ": ", "bold")
            if hz.word:
                before, _, after = rest.rpartition(hz.word)
                text.append(before).append(hz.word, self.verdict_styles[hz.word]).append(after)
            else:
                text.append(rest)
            if text.cell_len <= width:
                break
        text.truncate(width, overflow="ellipsis")
        return list(text.render(console, end=""))

    def _plot(
        self, values: np.ndarray, lo: int, hi: int, rows: int, w: int, labels: dict[int, str], lw: int
    ) -> list[list[Segment]]:
        """The bars, rows * 8 levels high, the label column on the left."""
        eighths = _eighths(_per_column(values, w), lo, hi, rows)  # (w,)
        style = self.bar_style
        out = []
        for r in range(rows):
            fill = np.clip(eighths - 8 * (rows - 1 - r), 0, 8)
            chars = "".join(_EIGHTHS[f] for f in fill.tolist())
            axis = labels.get(r, "").rjust(lw) + ("┤" if r in labels else "│")
            out.append([Segment(axis, DIM), Segment(chars, style)])
        return out

    def _axis(self, T: int, w: int, hz: Horizon) -> list[Segment]:
        """ "t-63 ... t" under the plot, and a ▲ under the column where the horizon ends (over a label
        there, that label is highlighted instead)."""
        axis = _x_axis(T, w)
        if hz.steps is None or hz.at_least or not 0 < hz.steps < T:
            return [Segment(axis, DIM)]
        col = int(_layout(T, w)[1][T - 1 - hz.steps])
        a = b = col
        if axis[col] == " ":
            axis = axis[:col] + "▲" + axis[col + 1 :]
        else:
            while a > 0 and axis[a - 1] != " ":
                a -= 1
            while b < w - 1 and axis[b + 1] != " ":
                b += 1
        return [Segment(axis[:a], DIM), Segment(axis[a : b + 1], self.mark_style), Segment(axis[b + 1 :], DIM)]

    def _summary(self, console: Console, i: int, values: np.ndarray, lo: int, hi: int, width: int) -> list[Segment]:
        """ "layer 2: horizon 12 steps (vanishing) ▁▂▃▅▇" on the shared scale."""
        hz = self.horizons[i]
        text = Text(verdict_line(hz, short=True), style="dim")
        if hz.word:
            start = text.plain.rfind(hz.word)
            text.stylize(self.verdict_styles[hz.word], start, start + len(hz.word))
        room = width - text.cell_len - 1
        if room >= 8:
            text.append(" ").append(sparkline(values, min(room, 64), lo, hi), self.bar_style)
        text.truncate(width, overflow="ellipsis")
        return list(text.render(console, end=""))

    def _key(self, console: Console, layers: int, width: int) -> list[Segment]:
        key = Text()
        key.append("█ ", self.bar_style).append("‖∂loss_T/∂h_t‖  ")
        key.append("▅ ", self.total_style).append("total (own scale)  ")
        if layers > 1:
            key.append(f"{self.layer_key}", "bold").append(f" layer {self.layer + 1}/{layers}  ")
        key.append(f"▲ horizon ({fmt_threshold(self.horizons[self.layer].threshold)})", DIM)
        if key.cell_len > width:  # the short form keeps the layer key, which is how to see the others
            key = Text().append("█ ", self.bar_style).append("last ")
            key.append("▅ ", self.total_style).append("total ")
            if layers > 1:
                key.append(self.layer_key, "bold").append(f" layer {self.layer + 1}/{layers}")
        key.truncate(width, overflow="ellipsis")
        return list(key.render(console, end=""))


def _x_axis(T: int, w: int) -> str:
    """Timestep labels "t-63 ... t" under a plot of w columns whose rightmost column is t."""
    if T == 0:
        return " " * w
    centre = _layout(T, w)[1]
    out = [" "] * w
    placed: list[tuple[int, int]] = []
    step = next(s for s in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024) if s >= T / 8 or s == 1024)
    for back in [T - 1, 0, *range(step * ((T - 1) // step), 0, -step)]:  # oldest, t, then the rest
        text = "t" if back == 0 else f"t-{back}"
        start = min(max(0, int(centre[T - 1 - back]) - len(text) // 2), w - len(text))
        end = start + len(text) - 1
        if start < 0 or any(start <= e + 1 and s <= end + 1 for s, e in placed):
            continue  # no room, or it would touch a label already placed
        out[start : end + 1] = text
        placed.append((start, end))
    return "".join(out)
