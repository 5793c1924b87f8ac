"""Several runs on one chart: loss curves overlaid, gradient reaching back overlaid, the final numbers.

Pure Rich renderables over plain arrays (built by the Compare screen from the runs' logs), drawn with
the general LineChart: one colour per run, the legend naming each run in its colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rich.console import Console, ConsoleOptions, JustifyMethod, RenderResult
from rich.style import Style
from rich.table import Table
from rich.text import Text

from rnntui.core.analysis.compare import fmt_kept, fmt_vs_ngram
from rnntui.core.units import bits_per_char, format_count, format_duration
from rnntui.ui.renderables.axes import parse_style
from rnntui.ui.renderables.linechart import LineChart, Series
from rnntui.ui.renderables.traincharts import ema

# one colour per run, distinct for the common colour blindnesses first. The defaults are for charts drawn
# standalone (tests); the Compare screen passes the theme's, from its compare--run-1 .. compare--run-6
# component classes in rnntui.tcss (a darker set on a light theme)
RUN_STYLES = ("bold #3a96dd", "bold #e5a50a", "bold #2fb344", "bold #d0508a", "bold #9b72e8", "bold #a0704a")
X_AXES = {"steps": "step", "chars": "chars", "wall": "wall s"}  # x axis key -> axis label


def run_style(i: int, styles: Sequence[Style | str] = RUN_STYLES) -> Style | str:
    """The colour of the i-th run (the styles repeat past their number)."""
    return styles[i % len(styles)]


@dataclass(frozen=True, eq=False)
class LossCurve:
    label: str  # legend name of the run
    x: np.ndarray  # (N,) training points along the chosen x axis
    loss: np.ndarray  # (N,) training loss, nats per char
    val_x: np.ndarray  # (M,) validation points along the same axis
    val_loss: np.ndarray  # (M,)


@dataclass(frozen=True, eq=False)
class ReachCurve:
    label: str  # legend name of the run
    grad_last: np.ndarray  # (T,) ||d loss_T / dh_t|| of one layer, t = T-1 last
    step: int  # the training step of the probe


def _last(y: np.ndarray) -> float | None:
    y = np.asarray(y, dtype=np.float64)
    y = y[np.isfinite(y)]
    return float(y[-1]) if len(y) else None


def _legend(items: Sequence[tuple[Style | str, str, str]]) -> Text:
    """(style, label, value) per run: "━━ rnn 1.52  ━━ lstm 1.31"."""
    text = Text()
    for style, label, value in items:
        text.append("━━ ", parse_style(style)).append(label, parse_style(style))
        if value:
            text.append(f" {value}")
        text.append("  ")
    return text


class CompareLoss(LineChart):
    """Each run's smoothed training loss as a line and its validation passes as dots, in its colour."""

    def __init__(
        self,
        curves: Sequence[LossCurve],
        x_axis: str = "steps",
        smoothing: float = 0.6,
        log_y: bool = False,
        height: int = 12,
        styles: Sequence[Style | str] = RUN_STYLES,
    ) -> None:
        series, legend = [], []
        for i, c in enumerate(curves):
            style = run_style(i, styles)
            y = ema(np.asarray(c.loss, dtype=np.float64), smoothing) if len(c.loss) else np.asarray(c.loss)
            series.append(Series(np.asarray(c.x), y, style, c.label))
            series.append(Series(np.asarray(c.val_x), np.asarray(c.val_loss), style, "", points=True))
            val = _last(c.val_loss)
            train = _last(y)
            legend.append(
                (style, c.label, f"val {val:.2f}" if val is not None else f"{train:.2f}" if train is not None else "")
            )
        super().__init__(
            series,
            height=height,
            log_y=log_y,
            y_label="nats",
            x_label=X_AXES.get(x_axis, x_axis),
            right_axis=lambda v: f"{bits_per_char(v):.2f}",
            right_label="bpc",
            legend=_legend(legend),
        )


class CompareReach(LineChart):
    """How much of the last loss reaches each earlier step, relative to its value at t, one line per run
    on a log axis: x is steps back (t-k), so a line that drops fast is a gradient that vanishes."""

    def __init__(
        self, curves: Sequence[ReachCurve], height: int = 10, styles: Sequence[Style | str] = RUN_STYLES
    ) -> None:
        series, legend = [], []
        for i, c in enumerate(curves):
            g = np.asarray(c.grad_last, dtype=np.float64).ravel()
            if not len(g) or not (math.isfinite(g[-1]) and g[-1] > 0):
                continue
            ratio = g / g[-1]  # (T,), 1 at t
            back = np.arange(len(g))[::-1]  # steps back of each column: T-1 ... 0
            style = run_style(i, styles)
            series.append(Series(-back.astype(np.float64), ratio, style, c.label))
            far = float(ratio[0])
            legend.append((style, c.label, f"{fmt_kept(far) if far > 0 else '0'} at t-{len(g) - 1} (@{c.step:,})"))
        super().__init__(series, height=height, log_y=True, y_label="× of t", x_label="t-k", legend=_legend(legend))


# -----------------------------------------------------------------------------
# the final numbers


class FinalTable:
    """One row per run: cell, steps, characters, wall time, final and best validation (nats and bpc),
    chars/s, the gradient kept 16 and 32 steps back, the effective context (reach90) and the final val loss
    against the best n-gram's (vs n-gram, as `rnntui compare` prints it). Takes comparison.Row objects; each
    run's name is in its colour, styles[i]."""

    def __init__(
        self, rows: Sequence, kept_at: Sequence[int] = (16, 32), styles: Sequence[Style | str] = RUN_STYLES
    ) -> None:
        self.rows, self.kept_at, self.styles = tuple(rows), tuple(kept_at), tuple(styles)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = Table(box=None, padding=(0, 1), header_style="bold", expand=False)
        columns: tuple[tuple[str, JustifyMethod], ...] = (
            ("run", "left"),
            ("cell", "left"),
            ("steps", "right"),
            ("chars", "right"),
            ("wall", "right"),
            ("val", "right"),
            ("bpc", "right"),
            ("best", "right"),
            ("chars/s", "right"),
        )
        for name, justify in columns:
            table.add_column(name, justify=justify, no_wrap=True)
        for k in self.kept_at:
            table.add_column(f"kept@{k}", justify="right", no_wrap=True)
        table.add_column("reach90", justify="right", no_wrap=True)  # how far back it looks, beside how far
        #                                                              the gradient reaches
        table.add_column("vs n-gram", justify="right", no_wrap=True)  # as `rnntui compare`: against counting
        table.add_column("state", no_wrap=True)
        for i, r in enumerate(self.rows):
            n = r.numbers
            # the label, cell and state come from run folders: Text, so a "[" in them is not markup
            table.add_row(
                Text(n.label, parse_style(run_style(i, self.styles))),
                Text(r.cell),
                f"{n.steps:,}",
                format_count(r.chars_seen),
                format_duration(n.wall_s),
                _num(n.val_loss, 3),
                _num(n.val_bpc, 2),
                _num(n.best_val_loss, 3),
                "–" if n.chars_per_s is None else f"{n.chars_per_s:,.0f}",
                *[fmt_kept(n.kept(k)) for k in self.kept_at],
                "–" if n.reach90 is None else str(n.reach90),
                fmt_vs_ngram(n.vs_ngram),
                Text(r.state),
            )
        yield table


def _num(x: float | None, digits: int) -> str:
    return "–" if x is None else f"{x:.{digits}f}"
