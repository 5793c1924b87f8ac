"""The training charts, built on LineChart: the loss (raw, EMA-smoothed, validation points and the n-gram
baselines' lines) and the gradient norm against the clip threshold; and ema(), the smoothing they and the
Compare view's loss curves use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from rich.style import Style
from rich.text import Text

from rnntui.core.units import bits_per_char
from rnntui.ui.renderables.axes import parse_style
from rnntui.ui.renderables.linechart import HLine, LineChart, Series

# defaults for a chart drawn standalone (tests, exports); the panels pass the theme's, from their component
# classes in rnntui.tcss (loss--raw, loss--ema, loss--val, norm--line, norm--clip)
RAW_STYLE = "#7a8794"  # raw training loss: a quiet grey-blue band behind the smoothed curve
EMA_STYLE = "bold #3a96dd"
VAL_STYLE = "bold #e5a50a"
NORM_STYLE = "#b07cd8"
REF_STYLE = "#2aa198"  # the baselines' reference lines (best n-gram, unigram, uniform)
CLIP_STYLE = "#e05561"


def ema(y: np.ndarray, smoothing: float) -> np.ndarray:
    """Debiased exponential moving average, as TensorBoard smooths scalars (NaN / inf are skipped).

    s_t = w s_{t-1} + (1 - w) y_t, divided by 1 - w^t. A Python loop costs ~20 ms per 100k points, so
    this runs in chunks of length L, all at once: with S_k = cumsum(y_i w^-i) inside a chunk and c the
    state carried in from the previous chunk, s_k = w^k ((1 - w) S_k + w c). L is short enough that
    w^-L stays finite; only the carry is a loop, over chunks.
    """
    y = np.asarray(y).ravel()
    w = min(max(float(smoothing), 0.0), 0.999)
    finite = np.isfinite(y)
    v = y if finite.all() else y[finite]
    if w == 0.0 or len(v) == 0:
        return y.astype(np.float64)
    L = max(1, min(1024, int(200 / -math.log10(w))))
    n_chunks = -(-len(v) // L)
    s: np.ndarray = np.zeros(n_chunks * L)
    s[: len(v)] = v
    s = s.reshape(n_chunks, L)  # (chunks, L), zero padded at the end
    pw = w ** np.arange(L)  # (L,)
    np.multiply(s, 1.0 / pw, out=s)
    np.cumsum(s, axis=1, out=s)  # S_k per chunk
    carry = np.empty(n_chunks)  # the state entering each chunk: a short scalar recurrence
    state, ends = 0.0, (1 - w) * w ** (L - 1) * s[:, -1]  # each chunk's own EMA at its end
    for j in range(n_chunks):
        carry[j], state = state, ends[j] + w**L * state
    s += (w / (1 - w)) * carry[:, None]
    s *= (1 - w) * pw
    out = s.ravel()[: len(v)]
    n_debias = min(len(v), int(math.log(1e-17) / math.log(w)) + 1)  # past this, 1 - w^t == 1.0
    out[:n_debias] /= 1.0 - w ** np.arange(1, n_debias + 1)
    if len(v) == len(y):
        return out
    full = np.full(len(y), np.nan)
    full[finite] = out
    return full


def _last(y: np.ndarray) -> float | None:
    """The last finite value (None if there is none); usually the very last one, so check that first."""
    y = np.asarray(y, dtype=np.float64).ravel()
    if len(y) and np.isfinite(y[-1]):
        return float(y[-1])
    idx = np.flatnonzero(np.isfinite(y))
    return float(y[idx[-1]]) if len(idx) else None


class LossChart(LineChart):
    """Training loss (raw and EMA-smoothed) and validation points; nats on the left, bits per char right."""

    def __init__(
        self,
        train_steps: np.ndarray,
        train_loss: np.ndarray,
        val_steps: np.ndarray,
        val_loss: np.ndarray,
        smoothing: float = 0.9,
        log_y: bool = False,
        height: int = 12,
        *,
        raw_style: Style | str = RAW_STYLE,  # the raw training loss behind the smoothed curve
        ema_style: Style | str = EMA_STYLE,  # the smoothed curve (the raw one when smoothing is 0)
        val_style: Style | str = VAL_STYLE,  # the validation points
        refs: Sequence[tuple[str, float]] = (),  # baselines, nats/char, best first: (("5-gram", 1.93), ...)
        ref_style: Style | str = REF_STYLE,  # their dashed lines and labels
    ) -> None:
        smooth = ema(train_loss, smoothing)
        smoothed = smoothing > 0
        steps = np.asarray(train_steps)
        series = [Series(steps, np.asarray(train_loss), raw_style if smoothed else ema_style, "train")]
        if smoothed:
            series.append(Series(steps, smooth, ema_style, "ema"))
        series.append(Series(np.asarray(val_steps), np.asarray(val_loss), val_style, "val", points=True))
        legend = Text()
        last, last_ema, last_val = _last(train_loss), _last(smooth), _last(val_loss)
        if last is not None:
            legend.append("━━ ", parse_style(series[0].style)).append(f"train {last:.2f}")
            if smoothed and last_ema is not None:
                legend.append(" (").append("ema", parse_style(ema_style)).append(f" {last_ema:.2f})")
            legend.append("  ")
        if last_val is not None:
            legend.append("● ", parse_style(val_style)).append(
                f"val {last_val:.2f} ({bits_per_char(last_val):.2f} bpc)"
            )
        # the baselines: the best n-gram always in view (the line to pass), the weaker ones (unigram, uniform)
        # only while the curve is up there, so they never squash the chart late in a run
        hlines = tuple(
            HLine(float(y), ref_style, f"{name} {y:.2f}", extend=(i == 0)) for i, (name, y) in enumerate(refs)
        )
        if refs:  # the line is labelled at its row; the legend says where val sits against it: negative
            name, y = refs[0]  # from the moment the network passes counting
            legend.append(" ┄┄ ", parse_style(ref_style))  # one space: it fits an 80-column terminal
            legend.append(f"vs {name} {last_val - y:+.2f}" if last_val is not None else f"{name} {y:.2f}")
        super().__init__(
            series,
            height=height,
            log_y=log_y,
            y_label="nats",
            x_label="step",
            hlines=hlines,
            right_axis=lambda v: f"{bits_per_char(v):.2f}",
            right_label="bpc",
            legend=legend,
        )


class NormChart(LineChart):
    """The global gradient norm before clipping over steps, log scale, with the clip threshold marked."""

    def __init__(
        self,
        steps: np.ndarray,
        norms: np.ndarray,
        clip: float,
        height: int = 6,
        *,
        norm_style: Style | str = NORM_STYLE,
        clip_style: Style | str = CLIP_STYLE,
    ) -> None:
        norms = np.asarray(norms, dtype=np.float64).ravel()
        hlines: tuple[HLine, ...] = ()
        legend = Text()
        last = _last(norms)
        if last is not None:
            legend.append("━━ ", parse_style(norm_style)).append(f"{last:.3g}  ")
        if clip > 0:
            label = f"clip {clip:g}" + ("" if any(ch in f"{clip:g}" for ch in ".e") else ".0")
            hlines = (HLine(float(clip), clip_style, label),)
            legend.append("┄┄ ", parse_style(clip_style)).append(label)
            finite = norms[np.isfinite(norms)]
            if len(finite):
                legend.append(f" · {np.mean(finite > clip):.0%} clipped")
        super().__init__(
            [Series(np.asarray(steps), norms, norm_style, "grad norm")],
            height=height,
            log_y=True,
            y_label="norm",
            x_label="step",
            hlines=hlines,
            legend=legend,
        )
