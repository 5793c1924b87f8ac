"""The shared diverging colour scale: a value in [vmin, vmax] -> a cached Rich Style.

A Ramp gives the colours of vmin, of the middle and of vmax. The widgets build theirs from the Textual
theme (component classes, see rnntui.tcss), so zero is the panel's own background: near-black on a dark
theme, near-white on a light one, and a quiet hidden state stays quiet on both. DEFAULT_RAMP (blue,
near-black, red) is for renderables drawn without a theme (tests, exports). Values are quantised to
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

RGB = tuple[int, int, int]
Ramp = tuple[RGB, RGB, RGB]  # (colour of vmin, of the middle, of vmax)
DEFAULT_RAMP: Ramp = ((58, 134, 255), (38, 38, 44), (255, 78, 78))  # azure, near-black, red


def level_rgb(level: int, levels: int = LEVELS, ramp: Ramp = DEFAULT_RAMP) -> RGB:
    """The RGB colour of one quantised level, 0 (vmin) .. levels-1 (vmax)."""
    neg, mid, pos = ramp
    f = 2.0 * level / (levels - 1) - 1.0  # -1 .. +1
    end = pos if f >= 0 else neg
    a = abs(f) ** 0.8  # a slight lift so small activations are already visible against the middle
    return tuple(round(m + (e - m) * a) for m, e in zip(mid, end))


def _contrast_fg(rgb: tuple[int, int, int]) -> Color:
    """Black or white, whichever reads better on a background of this colour (WCAG luminance)."""
    lin = [(c / 255) / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return Color.from_rgb(0, 0, 0) if lum > 0.22 else Color.from_rgb(240, 240, 240)


# -----------------------------------------------------------------------------
# cached styles


@lru_cache(maxsize=4096)
def cell_style(level: int, levels: int = LEVELS, ramp: Ramp = DEFAULT_RAMP) -> Style:
    """Background-only style of a heatmap cell (NAN_LEVEL: no colour)."""
    if level == NAN_LEVEL:
        return Style.null()
    return Style(bgcolor=Color.from_rgb(*level_rgb(level, levels, ramp)))


@lru_cache(maxsize=4096)
def half_style(upper: int, lower: int, levels: int = LEVELS, ramp: Ramp = DEFAULT_RAMP) -> Style:
    """Style of a "▀" cell showing two values: the upper one as foreground, the lower as background."""
    fg = None if upper == NAN_LEVEL else Color.from_rgb(*level_rgb(upper, levels, ramp))
    bg = None if lower == NAN_LEVEL else Color.from_rgb(*level_rgb(lower, levels, ramp))
    return Style(color=fg, bgcolor=bg)


@lru_cache(maxsize=4096)
def text_style(level: int, levels: int = LEVELS, ramp: Ramp = DEFAULT_RAMP) -> Style:
    """Background plus a contrasting foreground, for characters drawn on a coloured cell."""
    if level == NAN_LEVEL:
        return Style.null()
    rgb = level_rgb(level, levels, ramp)
    return Style(color=_contrast_fg(rgb), bgcolor=Color.from_rgb(*rgb))


@lru_cache(maxsize=4096)
def swatch_style(level: int, levels: int = LEVELS, ramp: Ramp = DEFAULT_RAMP) -> Style:
    """Foreground-only style, for legend swatches drawn with block characters."""
    return Style(color=Color.from_rgb(*level_rgb(level, levels, ramp)))


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
