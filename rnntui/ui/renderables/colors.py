"""The shared diverging colour scale: a value in [vmin, vmax] -> a cached Rich Style.

Blue for negative, near-black for zero, red for positive. The dark middle keeps a mostly-quiet hidden
state quiet on a dark theme, and saturated cells still stand out on a light one. Values are quantised to
a fixed number of levels so each render reuses a handful of Style objects (building a Style per cell is
what made a naive heatmap ten times slower) and runs of equal level merge into one Segment.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from rich.color import Color
from rich.style import Style

LEVELS = 21  # quantised colour levels; odd, so value 0 of a symmetric range has its own level
NAN_LEVEL = -1  # the level of NaN / missing values: drawn without colour

# -----------------------------------------------------------------------------
# colour ramp

_NEG = (58, 134, 255)  # vmin: bright azure
_MID = (38, 38, 44)  # the middle of the range: near-black, slightly blue
_POS = (255, 78, 78)  # vmax: bright red


def level_rgb(level: int, levels: int = LEVELS) -> tuple[int, int, int]:
    """The RGB colour of one quantised level, 0 (vmin) .. levels-1 (vmax)."""
    f = 2.0 * level / (levels - 1) - 1.0  # -1 .. +1
    end = _POS if f >= 0 else _NEG
    a = abs(f) ** 0.8  # a slight lift so small activations are already visible against the middle
    return tuple(round(m + (e - m) * a) for m, e in zip(_MID, end))  # type: ignore[return-value]


def _contrast_fg(rgb: tuple[int, int, int]) -> Color:
    """Black or white, whichever reads better on a background of this colour (WCAG luminance)."""
    lin = [(c / 255) / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return Color.from_rgb(0, 0, 0) if lum > 0.22 else Color.from_rgb(240, 240, 240)


# -----------------------------------------------------------------------------
# cached styles


@lru_cache(maxsize=None)
def cell_style(level: int, levels: int = LEVELS) -> Style:
    """Background-only style of a heatmap cell (NAN_LEVEL: no colour)."""
    if level == NAN_LEVEL:
        return Style.null()
    return Style(bgcolor=Color.from_rgb(*level_rgb(level, levels)))


@lru_cache(maxsize=None)
def text_style(level: int, levels: int = LEVELS) -> Style:
    """Background plus a contrasting foreground, for characters drawn on a coloured cell."""
    if level == NAN_LEVEL:
        return Style.null()
    rgb = level_rgb(level, levels)
    return Style(color=_contrast_fg(rgb), bgcolor=Color.from_rgb(*rgb))


@lru_cache(maxsize=None)
def swatch_style(level: int, levels: int = LEVELS) -> Style:
    """Foreground-only style, for legend swatches drawn with block characters."""
    return Style(color=Color.from_rgb(*level_rgb(level, levels)))


# -----------------------------------------------------------------------------
# quantisation


def quantize(values: np.ndarray, vmin: float = -1.0, vmax: float = 1.0, levels: int = LEVELS) -> np.ndarray:
    """Map values to integer levels 0..levels-1 (clipped); NaN and inf map to NAN_LEVEL. Same shape."""
    v = np.asarray(values, dtype=np.float64)
    span = vmax - vmin if vmax > vmin else 1.0
    finite = np.isfinite(v)
    scaled = np.rint((np.where(finite, v, vmin) - vmin) / span * (levels - 1))
    out = np.clip(scaled, 0, levels - 1).astype(np.int64)
    out[~finite] = NAN_LEVEL
    return out
