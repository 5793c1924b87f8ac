"""Gradient flow over one BPTT window: per-timestep gradient norms on a log scale, one panel per layer.

Columns are timesteps with the last one, t, on the right, so reading leftwards is reading "further back in
time". Bars show how much of the window's last loss reaches each earlier hidden state,
||d loss_T / dh_t||: the curve that collapses for a plain tanh RNN (vanishing gradients) and stays up for
an LSTM. Dots show the total gradient ||dL/dh_t|| that the optimiser actually receives at each step.
"""
from __future__ import annotations

import math

import numpy as np
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from rnntui.ui.renderables.axes import DIM, parse_style, style_runs, waiting

BAR_STYLE = "#f0883e"  # last-step gradient ||d loss_T / dh_t||
DOT_STYLE = "bold #58a6ff"  # total gradient ||dL/dh_t||
VERDICT_STYLES = {"vanishing": "bold #58a6ff", "healthy": "bold #3fb950", "exploding": "bold #f85149"}
LOOK_BACK = 20  # the summary compares the gradient this many steps back with the one at t
VANISHING_BELOW = 1e-2  # ratio (k steps back / at t) under which the gradient has vanished: x0.79/step
EXPLODING_ABOVE = 10.0  # ratio over which it grows going back: x1.12/step sustained over 20 steps
MAX_DECADES = 8  # smaller values than this many decades below the largest are drawn as empty
_EIGHTHS = " ▁▂▃▄▅▆▇█"


def _fmt_ratio(r: float) -> str:
    if r == 0:
        return "0"
    if r < 0.01 or r >= 100:
        m, e = f"{r:.0e}".split("e")
        return f"{m}e{int(e)}"
    return f"{r:.2g}"


def verdict(grad_last: np.ndarray, look_back: int = LOOK_BACK) -> tuple[int, float, str]:
    """(k, ratio, word) for one layer's (T,) last-step gradients: the value k steps back over the value
    at t, and "vanishing" / "healthy" / "exploding" ("" with a NaN ratio when it cannot be decided)."""
    g = np.asarray(grad_last, dtype=np.float64).ravel()
    k = min(look_back, len(g) - 1)
    if k < 1 or not (math.isfinite(g[-1]) and g[-1] > 0) or not math.isfinite(g[-1 - k]):
        return k, math.nan, ""
    r = max(g[-1 - k], 0.0) / g[-1]
    return k, r, "vanishing" if r < VANISHING_BELOW else "exploding" if r > EXPLODING_ABOVE else "healthy"


def summary(layer: int, grad_last: np.ndarray, width: int) -> Text:
    """The panel's headline, e.g. "layer 1: last-step gradient 20 steps back is 4e-5× of t (vanishing,
    ×0.60/step)", shortened to fit the width while keeping the verdict."""
    k, r, word = verdict(grad_last)
    if not word:
        return Text().append(f"layer {layer + 1}: ", "bold").append("no gradient at t to compare with")
    per_step = f", ×{r ** (1 / k):.2f}/step" if r > 0 else ""
    for body, extra in ((f"last-step gradient {k} steps back is {_fmt_ratio(r)}× of t", per_step),
                        (f"last-step gradient {k} steps back is {_fmt_ratio(r)}× of t", ""),
                        (f"{k} steps back: {_fmt_ratio(r)}× of t", "")):
        text = Text().append(f"layer {layer + 1}: ", "bold").append(body + " (")
        text.append(word, parse_style(VERDICT_STYLES[word])).append(extra + ")")
        if text.cell_len <= width:
            break
    return text


def _layout(T: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How T timesteps share w plot columns, the last timestep in the last column.

    Returns idx (w,): the first timestep of each column (several per column when T > w; otherwise
    each timestep widened over w / T columns); gap (w,): blank separator columns, once bars are 3+
    columns wide; centre (T,): the middle column of each timestep's bar (for dots and labels).
    """
    idx = (np.arange(w) * T) // w
    gap = np.zeros(w, dtype=bool)
    if 3 * T <= w:
        gap[:-1] = idx[1:] != idx[:-1]
    if T > w:
        return idx, gap, np.minimum(np.arange(T) * w // T, w - 1)
    first = np.searchsorted(idx, np.arange(T))
    last = np.r_[first[1:] - 1, w - 1]
    return idx, gap, (first + last - gap[last]) // 2


class GradFlow:
    """Per-layer panels of last-step (bars) and total (dots) gradient norms against steps back from t."""

    def __init__(
        self, grad_total: np.ndarray, grad_last: np.ndarray, height: int = 8, layer: int | None = None
    ) -> None:
        total = np.atleast_2d(np.asarray(grad_total, dtype=np.float64))
        last = np.atleast_2d(np.asarray(grad_last, dtype=np.float64))
        n = min(len(total), len(last))
        layers = list(range(n)) if layer is None else [layer] if 0 <= layer < n else []
        self.layers = layers  # indices of the layers shown
        self.total = total[layers] if layers else np.zeros((0, 0))  # (L, T) ||dL/dh_t||
        self.last = last[layers] if layers else np.zeros((0, 0))  # (L, T) ||d loss_T / dh_t||
        self.height = height

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width, total_h = options.max_width, options.height or self.height
        n_layers, T = self.last.shape if self.last.size else (0, 0)
        # Zero, negative and non-finite norms draw nothing; they never reach a log.
        clean = [np.where(np.isfinite(a) & (a > 0), a, 0.0) for a in (self.last, self.total)]
        positive = np.concatenate([a[a > 0] for a in clean]) if T else np.zeros(0)
        if not len(positive):
            yield from waiting(width, total_h, "waiting for gradients" if not T else "all gradients are zero")
            return
        hi = math.ceil(math.log10(positive.max()) - 1e-9)
        lo = max(math.floor(math.log10(positive.min())), hi - MAX_DECADES)
        hi = max(hi, lo + 1)

        show_legend = total_h >= 2 * n_layers + 3
        rows = max(1, (total_h - show_legend - 1 - n_layers) // n_layers)
        labels: dict[int, str] = {}
        stride = max(1, math.ceil((hi - lo + 1) / max(1, (rows + 1) // 2)))
        for d in range(hi, lo - 1, -stride):
            r = min(rows - 1, rows - 1 - math.floor((d - lo) / (hi - lo) * rows - 1e-9))
            labels.setdefault(r, f"1e{d}")
        lw = max(len(v) for v in labels.values())
        w = max(1, width - lw - 1)
        lines: list[list[Segment]] = []
        if show_legend:
            legend = Text().append("█ ", parse_style(BAR_STYLE)).append("last-step ‖∂loss_T/∂h_t‖  ")
            legend.append("• ", parse_style(DOT_STYLE)).append("total ‖∂L/∂h_t‖  ")
            if legend.cell_len + 31 <= width:
                legend.append("log scale; x: steps back from t", DIM)
            lines.append(list(legend.render(console, end="")))
        for i, layer in enumerate(self.layers):
            head = summary(layer, self.last[i], width)
            head.truncate(width, overflow="ellipsis")
            lines.append(list(head.render(console, end="")))
            lines += self._panel(clean[0][i], clean[1][i], lo, hi, rows, w, labels, lw)
        lines.append([Segment(" " * (lw + 1) + _x_axis(T, w), DIM)])
        for line in lines:
            yield from Segment.adjust_line_length(line, width)
            yield Segment.line()

    def _panel(self, last: np.ndarray, total: np.ndarray, lo: int, hi: int, rows: int, w: int,
               labels: dict[int, str], lw: int) -> list[list[Segment]]:
        """The plot rows of one layer: bars in eighths of a cell, a dot per column for the total."""
        T = len(last)
        idx, gap, centre_of = _layout(T, w)
        if T > w:  # several timesteps per column: keep the largest, so spikes are not averaged away
            bar_v, dot_v = np.maximum.reduceat(last, idx), np.maximum.reduceat(total, idx)
        else:
            bar_v, dot_v = last[idx], total[idx]
        centre = np.ones(w, dtype=bool)
        if gap.any():  # bars wider than a column: one dot per bar, over its middle
            centre[:] = False
            centre[centre_of] = True
        scale = rows / (hi - lo)

        def level(v: np.ndarray) -> np.ndarray:  # height above the floor, in cells; -1 below the floor
            with np.errstate(divide="ignore"):
                h = (np.log10(np.maximum(v, 1e-300)) - lo) * scale
            return np.where(v >= 10.0**lo, np.clip(h, 0, rows), -1.0)

        eighths = np.rint(level(bar_v) * 8)
        eighths = np.where(eighths < 0, 0, np.maximum(eighths, 1))  # anything above the floor shows a stub
        dot_lv = level(dot_v)
        dot_row = np.where(dot_lv >= 0, np.minimum(np.floor(dot_lv), rows - 1), -1).astype(np.int64)
        # Owner per cell: 0 blank, 1 bar, 2 dot, 3 dot over a full bar (dot on the bar's colour).
        styles = [None, parse_style(BAR_STYLE), parse_style(DOT_STYLE)]
        styles.append(styles[2] + Style(bgcolor=styles[1].color))
        out = []
        for r in range(rows):
            from_bottom = rows - 1 - r
            fill = np.where(gap, 0, np.clip(eighths - 8 * from_bottom, 0, 8)).astype(np.int64)  # (w,)
            dot = (dot_row == from_bottom) & centre & ~gap
            owner = np.where(dot, np.where(fill == 8, 3, 2), np.where(fill > 0, 1, 0))  # (w,)
            chars = "".join("•" if d else _EIGHTHS[f] for d, f in zip(dot.tolist(), fill.tolist()))
            line = [Segment(labels.get(r, "").rjust(lw) + ("┤" if r in labels else "│"), DIM)]
            out.append(line + style_runs(chars, owner, styles))
        return out


def _x_axis(T: int, w: int) -> str:
    """Timestep labels "t-63 ... t" under a plot of w columns whose rightmost column is t."""
    if T == 0:
        return ""
    centre = _layout(T, w)[2]
    out = [" "] * w
    placed: list[tuple[int, int]] = []
    step = next(s for s in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024) if s >= T / 8 or s == 1024)
    for back in [T - 1, 0, *range(step * ((T - 1) // step), 0, -step)]:  # oldest, t, then the rest
        text = "t" if back == 0 else f"t-{back}"
        start = min(max(0, int(centre[T - 1 - back]) - len(text) // 2), w - len(text))
        end = start + len(text) - 1
        if start < 0 or any(start <= e + 1 and s <= end + 1 for s, e in placed):
            continue  # no room, or it would touch a label already placed
        out[start:end + 1] = text
        placed.append((start, end))
    return "".join(out)
