"""What the charts share: cached styles, compact number labels, axis ticks, and braille rasterising.

Each terminal cell holds a 2x4 grid of braille dots, so a 60x15 chart has 120x60 pixels. A series is
reduced to min / max / first / last per pixel column before drawing, so 100,000 points cost about what
100 do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rich.segment import Segment
from rich.style import Style

_BRAILLE_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]])  # (4 rows, 2 cols)
DIM = Style(dim=True)  # axes, labels and placeholder messages


def parse_style(style: Style | str) -> Style:
    """A Style as is (the theme's, from a widget's component class), or a style string parsed: Style.parse
    is slow relative to a render and styles repeat across frames, so strings are cached."""
    return style if isinstance(style, Style) else _parse(style)


@lru_cache(maxsize=256)
def _parse(style: str) -> Style:
    return Style.parse(style)


# -----------------------------------------------------------------------------
# number formatting and ticks


def fmt_compact(v: float, decimals: int | None = None) -> str:
    """Short labels: 12500 -> "12.5k", 3e6 -> "3M", 0.0004 -> "4e-4", 1.5 (decimals=2) -> "1.50"."""
    if not math.isfinite(v):
        return str(v)
    a = abs(float(f"{v:.3g}"))  # after rounding, so 999.7 reads "1k", not "1e+03"
    if a >= 1e4 or (a >= 1000 and decimals is None):
        for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if a >= div:
                return f"{v / div:.3g}{suffix}"
    if decimals is not None:
        return f"{v:.{decimals}f}"
    if a == 0:
        return "0"
    if a < 1e-3:
        m, e = f"{v:.0e}".split("e")
        return f"{m}e{int(e)}"
    return f"{v:.3g}"


def _nice_step(span: float, n: int) -> float:
    """A step of 1, 2 or 5 x 10^k giving about n intervals over span."""
    raw = span / max(n, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    return next((m * mag for m in (1, 2, 5) if m * mag >= raw), 10 * mag)


def _linear_ticks(lo: float, hi: float, n: int) -> tuple[list[float], int]:
    """Nice tick values inside [lo, hi] and the decimals needed to tell them apart."""
    for m in (n, 2 * n, 4 * n):  # a narrow range may hold only one tick of the first step: refine
        step = _nice_step(hi - lo, m)
        first = math.ceil(lo / step - 1e-9)
        ticks = [k * step for k in range(first, int(math.floor(hi / step + 1e-9)) + 1)]
        if len(ticks) >= 2:
            break
    return ticks, max(0, -math.floor(math.log10(step) + 1e-9))


def y_ticks(lo: float, hi: float, log_y: bool, rows: int) -> list[tuple[float, str]]:
    """(position in axis units, label) pairs. On a log axis lo / hi are log10 values."""
    n = max(2, min(5, rows // 2))
    if not log_y:
        ticks, dec = _linear_ticks(lo, hi, n)
        return [(t, fmt_compact(t, dec if abs(t) < 1e4 else None)) for t in ticks]
    decades = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
    if len(decades) >= 2:
        stride = math.ceil(len(decades) / n)
        return [(float(d), fmt_compact(10.0**d)) for d in decades[::-1][::stride]]
    # Less than a decade shown: nice linear values, placed on the log axis.
    ticks, dec = _linear_ticks(10.0**lo, 10.0**hi, n)
    return [(math.log10(t), fmt_compact(t, dec if t < 1e4 else None)) for t in ticks if t > 0]


# -----------------------------------------------------------------------------
# rasterising


@dataclass(frozen=True)
class Frame:
    """Maps data to braille pixels: x to columns 0..w2-1, y to rows 0 (top)..h4-1."""

    x_lo: float  # data x at the left edge
    x_span: float  # data x from the left to the right edge (> 0)
    y_lo: float  # axis y at the bottom edge (log10 of the value on a log axis)
    y_hi: float  # axis y at the top edge
    w2: int  # pixel columns, 2 per cell
    h4: int  # pixel rows, 4 per cell
    log_y: bool = False  # y values are positive data mapped through log10

    def px(self, x: np.ndarray | float) -> np.ndarray:
        return (np.asarray(x) - self.x_lo) / self.x_span * (self.w2 - 1)

    def py(self, y: np.ndarray | float) -> np.ndarray:
        """Pixel rows of data values (taking the log here, after any reduction, costs per column)."""
        axis = np.log10(y) if self.log_y else np.asarray(y)
        return (self.y_hi - axis) / (self.y_hi - self.y_lo) * (self.h4 - 1)


def line_pixels(x: np.ndarray, y: np.ndarray, f: Frame) -> np.ndarray:
    """Bool (h4, w2) pixels of the polyline through (x, y): finite data (positive on a log axis),
    sorted by x.

    Points are split into pixel columns by a binary search on x, and reduced per column to min, max,
    first and last before anything is scaled, so the cost beyond O(N) reductions is per column.
    """
    edges = f.x_lo + (np.arange(1, f.w2) - 0.5) / (f.w2 - 1) * f.x_span  # where columns 1.. begin
    bounds = np.r_[0, np.searchsorted(x, edges), len(x)]  # (w2 + 1,) point index ranges per column
    cols = np.flatnonzero(bounds[1:] > bounds[:-1])  # occupied pixel columns, increasing
    starts, ends = bounds[cols], bounds[cols + 1] - 1
    # In pixel rows y grows downwards: the column's largest value is its topmost (smallest) row.
    agg = [f.py(np.maximum.reduceat(y, starts)), f.py(np.minimum.reduceat(y, starts))]  # lo, hi rows
    agg += [f.py(y[starts]), f.py(y[ends])]  # first, last
    full = np.arange(cols[0], cols[-1] + 1)
    if len(full) > len(cols):  # sparse data: interpolate the empty columns between points
        xp = np.stack([cols - 0.25, cols + 0.25], 1).ravel()
        val = np.interp(full, xp, np.stack([agg[2], agg[3]], 1).ravel())
        idx = full.searchsorted(cols)
        for k, a in enumerate(agg):
            agg[k] = val.copy()
            agg[k][idx] = a
    lo, hi, first, last = agg
    # Join neighbouring columns at the midpoint of the step between them, so the line is unbroken.
    mid = (last[:-1] + first[1:]) / 2
    lo[1:], hi[1:] = np.minimum(lo[1:], mid), np.maximum(hi[1:], mid)
    lo[:-1], hi[:-1] = np.minimum(lo[:-1], mid), np.maximum(hi[:-1], mid)
    rows = np.arange(f.h4)[:, None]
    pix = np.zeros((f.h4, f.w2), dtype=bool)
    pix[:, full] = (rows >= np.rint(lo)) & (rows <= np.rint(hi))
    return pix


def braille(pix: np.ndarray) -> np.ndarray:
    """(4H, 2W) bool pixels -> (H, W) braille bit patterns (0 = empty cell)."""
    h4, w2 = pix.shape
    cells = pix.reshape(h4 // 4, 4, w2 // 2, 2)
    return np.einsum("hrwc,rc->hw", cells.astype(np.int64), _BRAILLE_BITS)


def style_runs(chars: str, owner: np.ndarray, styles: Sequence[Style | None]) -> list[Segment]:
    """One Segment per run of equal owner (style index; -1 = unstyled)."""
    cuts = [0, *(np.flatnonzero(owner[1:] != owner[:-1]) + 1).tolist(), len(chars)]
    return [Segment(chars[a:b], styles[owner[a]] if owner[a] >= 0 else None) for a, b in zip(cuts, cuts[1:])]


def waiting(width: int, height: int, message: str = "waiting for data") -> list[Segment]:
    """Blank lines of the given size with a dim message centred: the look of an empty chart."""
    out: list[Segment] = []
    for r in range(height):
        text = message.center(width)[:width] if r == (height - 1) // 2 else " " * width
        out += [Segment(text, DIM), Segment.line()]
    return out


class Waiting:
    """A renderable empty chart: blank at the size it is given, with a dim message centred (waiting())."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __rich_console__(self, console, options):
        yield from waiting(options.max_width, options.height or 3, self.message)


def x_labels(lo: float, hi: float, w: int) -> str:
    """First, middle and last x value under a plot of w columns (the middle only when it fits)."""
    a = fmt_compact(lo)
    if hi <= lo:
        return a.ljust(w)[:w]
    mid = (lo + hi) / 2
    b, m = fmt_compact(hi), fmt_compact(round(mid) if hi - lo >= 10 else mid)
    out = list(a.ljust(w)[:w])
    if len(a) + len(b) + 1 <= w:
        out[w - len(b) :] = b
    start = w // 2 - len(m) // 2
    if start > len(a) + 1 and start + len(m) < w - len(b) - 1:
        out[start : start + len(m)] = m
    return "".join(out)
