"""Memory horizon: how many steps back the last step's gradient still reaches, per layer.

The probes give, for one BPTT window, grad_last[l, t] = ||d loss_T / dh_t||: how much of the window's
last loss reaches back to the hidden state of step t. Its value at t (the right end) is the direct
gradient; going left it shrinks (a tanh RNN, geometrically) or survives (an LSTM's or GRU's gates). The
horizon is the number of steps back over which it stays above THRESHOLD of its value at t.

A single probe is noisy (a few streams, one batch), so verdicts use curves averaged over the last few
probes in log space (a geometric mean: the ratios that matter span many decades, and an arithmetic mean
would let one large probe decide). Numpy only.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from dataclasses import dataclass

import numpy as np

# Why a millionth: a tanh RNN's gradient shrinks by a steady factor per step, a gated cell's falls fast over
# the first steps (the direct path) and then flattens, so the cells differ in the tail. On tiny runs
# (benchmarks/bench_horizon.py --tiny, 1x32, 5 seeds) 1e-3 put the rnn and the lstm within 0-4 steps of
# each other (13-16 vs 15-18); on the default 2x256 on brackets (5 seeds) the order holds at 1e-3 too but
# closer (layer 2: rnn 5-6, lstm 7-15) and at 1e-6 with room (README, "Reading the numbers").
THRESHOLD = 1e-6  # the gradient "still reaches" step t-k while it is above this fraction of its value at t
WINDOW = 8  # probes averaged by HorizonSmoother
VANISHING_BELOW = 32  # horizon (steps) under which the verdict says "vanishing": a fall faster than x0.65/step
EXPLODING_ABOVE = 100.0  # the gradient "explodes" when some earlier step gets this many times its value at t
_FLOOR = 1e-30  # zero norms are read as this before the log: "nothing reaches", not -inf


# -----------------------------------------------------------------------------
# the statistic


@dataclass(frozen=True)
class Horizon:
    layer: int  # 0-based layer index (shown 1-based)
    steps: int | None  # steps back the gradient stays above threshold of its value at t; None: undecidable
    window: int  # T, the timesteps of the BPTT window: the horizon is at most window - 1
    at_least: bool  # it never dropped below within the window: the true horizon may be longer
    peak: float  # the largest ratio (value k steps back / value at t) over the window, >= 1
    threshold: float = THRESHOLD

    @property
    def word(self) -> str:
        """ "vanishing", "healthy" or "exploding" ("" when undecidable)."""
        if self.steps is None:
            return ""
        if self.peak >= EXPLODING_ABOVE:
            return "exploding"
        if self.steps < VANISHING_BELOW and not self.at_least:
            return "vanishing"
        return "healthy"


def layer_horizon(curve: np.ndarray, layer: int = 0, threshold: float = THRESHOLD) -> Horizon:
    """The horizon of one layer's (T,) last-step gradient curve, t (the last entry) on the right."""
    g = np.asarray(curve, dtype=np.float64).ravel()  # (T,)
    T = len(g)
    ref = g[-1] if T else math.nan
    if T < 2 or not (math.isfinite(ref) and ref > 0):
        return Horizon(layer, None, T, False, math.nan, threshold)
    back = np.where(np.isfinite(g), np.maximum(g, 0.0), 0.0)[::-1] / ref  # (T,) ratio k steps back, k = 0..T-1
    below = np.flatnonzero(back[1:] < threshold)  # index i means k = i + 1
    steps = int(below[0]) if len(below) else T - 1  # the first k below, less one: the last k above
    return Horizon(layer, steps, T, not len(below), float(back.max()), threshold)


def horizons(grad_last: np.ndarray, threshold: float = THRESHOLD) -> list[Horizon]:
    """One Horizon per layer of a (layers, T) grad_last array (any number of layers and timesteps)."""
    g = np.atleast_2d(np.asarray(grad_last, dtype=np.float64))  # (L, T)
    return [layer_horizon(row, i, threshold) for i, row in enumerate(g)]


# -----------------------------------------------------------------------------
# smoothing over recent probes


class HorizonSmoother:
    """Keeps the last `window` grad_last arrays and averages them in log space.

    add() takes a ProbeSnapshot-like object (anything with .grad_last and .step) or a bare (L, T) array.
    A snapshot of another shape (a new run, another model) starts the average over.
    """

    def __init__(self, window: int = WINDOW) -> None:
        self.window = max(1, window)
        self._logs: deque[np.ndarray] = deque(maxlen=self.window)  # each (L, T) log10 norms, NaN: unknown
        self.last_step: int | None = None  # step of the newest snapshot added

    def __len__(self) -> int:
        return len(self._logs)

    def add(self, snapshot: object, step: int | None = None) -> None:
        g = np.atleast_2d(np.asarray(getattr(snapshot, "grad_last", snapshot), dtype=np.float64))  # (L, T)
        if self._logs and self._logs[-1].shape != g.shape:
            self._logs.clear()
        with np.errstate(divide="ignore", invalid="ignore"):
            lg = np.where(np.isfinite(g), np.log10(np.maximum(g, _FLOOR)), np.nan)
        self._logs.append(lg)
        self.last_step = getattr(snapshot, "step", step)

    def curve(self) -> np.ndarray:
        """(L, T) geometric mean of the kept curves; an empty (0, 0) array before the first add."""
        if not self._logs:
            return np.zeros((0, 0))
        stack = np.stack(self._logs)  # (N, L, T)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a column NaN in every probe stays NaN
            mean = np.nanmean(stack, axis=0)
        return np.where(np.isfinite(mean), 10.0**mean, np.nan)

    def horizons(self, threshold: float = THRESHOLD) -> list[Horizon]:
        return horizons(self.curve(), threshold) if self._logs else []


# -----------------------------------------------------------------------------
# wording


def fmt_threshold(x: float) -> str:
    """1e-3 rather than 0.001: thresholds are read as decades."""
    m, e = f"{x:.0e}".split("e")
    return f"{m}e{int(e)}" if m != "1" else f"1e{int(e)}"


def verdict_line(h: Horizon, short: bool = False) -> str:
    """ "layer 1: gradient stays above 1e-3 of its value at t for 37 steps (memory horizon 37, healthy)".

    `short` gives the compact form for a one-line layer summary: "layer 1: horizon 37 steps (healthy)".
    """
    name = f"layer {h.layer + 1}"
    if h.steps is None:
        return f"{name}: no gradient at t to compare with"
    n = f"at least {h.steps}" if h.at_least else f"{h.steps}"
    unit = "step" if h.steps == 1 and not h.at_least else "steps"
    extra = f", up to {h.peak:.0f}x" if h.word == "exploding" else ""
    if short:
        return f"{name}: horizon {n} {unit} ({h.word}{extra})"
    return (
        f"{name}: gradient stays above {fmt_threshold(h.threshold)} of its value at t for {n} {unit} "
        f"(memory horizon {n}, {h.word}{extra})"
    )
