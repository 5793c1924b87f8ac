"""Runs side by side: how far back each keeps its gradient, a table of final numbers, one sentence.

    rows = [compare_row(label, log) for label, log in ...]      RunLog (runlog.py) -> CompareRow
    format_table(rows)      the table `rnntui compare` prints
    run_labels(configs, names)  ["rnn", "lstm"], ["clip 1", "clip off"]: what differs between the runs
    sentence(rows)          "32 steps back, rnn keeps 1e-11 of the gradient, lstm 1e-4, gru 1e-2."

"Gradient kept k steps back" reads a probe's last-step gradient curve, grad_last[l, t] = ||d loss_T / dh_t||
for layer l over one BPTT window of T steps: grad_last[l, T-1-k] / grad_last[l, T-1] is how much of the last
loss's gradient still reaches the hidden state k steps earlier. One probe is noisy (one batch), so the ratio
is averaged in log space over the last few probes; a run's single figure is the log-space mean over its
layers too (a geometric mean). Pure functions of logs: no torch.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnntui.core.runs.runlog import RunLog
from rnntui.core.units import bits_per_char, finite_number

KEPT_BACK = (16, 32)  # the table's "gradient kept k steps back" columns
RECENT_PROBES = 5  # probes averaged (in log space) for the kept figures
FLOOR = 1e-30  # a ratio of exactly 0 (underflow) counts as this, so its log stays finite


# -----------------------------------------------------------------------------
# gradient reaching back


def reach_back(grad_last: np.ndarray) -> np.ndarray:
    """(layers, T) last-step gradient norms -> (layers, T) ratios indexed by steps back: [l, k] is
    grad_last[l, T-1-k] / grad_last[l, T-1] (1 at k = 0; NaN where the value at t is 0 or unknown)."""
    g = np.asarray(grad_last, dtype=np.float64)  # (L, T), t on the right
    at_t = g[:, -1:]  # (L, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(at_t > 0, g / np.where(at_t > 0, at_t, 1.0), np.nan)
    return r[:, ::-1]  # (L, T): column k is k steps back


def gradient_kept(log: RunLog, k: int, probes: int = RECENT_PROBES) -> np.ndarray | None:
    """(layers,) fraction of the gradient kept k steps back, log-averaged over the last `probes` probes.

    None when the log has no probe whose window reaches k steps back (T <= k). A layer's entry is NaN when
    none of those probes gives it a finite ratio."""
    usable = [p for p in log.probes if p[2].shape[1] > k][-probes:]
    if not usable:
        return None
    logs = np.stack([np.log10(np.maximum(reach_back(last)[:, k], FLOOR)) for _, _, last in usable])  # (P, L)
    with warnings.catch_warnings():  # an all-NaN layer is reported as NaN, on purpose
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(logs, axis=0)  # (L,)
    return 10.0**mean


def run_kept(log: RunLog, k: int, probes: int = RECENT_PROBES) -> float | None:
    """One figure per run: the geometric mean over layers of gradient_kept (None when unknown)."""
    per_layer = gradient_kept(log, k, probes)
    if per_layer is None or not np.isfinite(per_layer).any():
        return None
    return float(10.0 ** np.nanmean(np.log10(per_layer)))


def reach_curves(log: RunLog, step: int | None = None) -> tuple[int, np.ndarray] | None:
    """(probe step, (layers, T) reach_back ratios) of the probe at or before `step` (None: the latest),
    for charts that overlay each run's gradient reaching back."""
    p = log.probe_near(step)
    if p is None:
        return None
    return p[0], reach_back(p[2])


# -----------------------------------------------------------------------------
# labels: name each run by what differs between them


def run_facts(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The settings a label may name, from a run's config dict (run.json's "config"; None: unknown)."""
    c = config or {}
    m = c.get("model", {}) if isinstance(c.get("model"), dict) else {}
    return {
        "kind": m.get("kind"),
        "layers": m.get("layers"),
        "hidden": m.get("hidden"),
        "clip": c.get("clip"),
        "lr": c.get("lr"),
        "seq_len": c.get("seq_len"),
        "batch": c.get("batch_size"),
        "corpus": c.get("corpus"),
        "seed": c.get("seed"),
    }


def _word(key: str, v: Any) -> str:
    if key == "kind":
        return str(v)
    if key == "layers":
        return f"{v} layer{'s' if v != 1 else ''}"
    if key == "clip":
        return "clip off" if not v else f"clip {v:g}"
    if key == "corpus":
        return Path(str(v)).stem
    return f"{key} {v:g}" if isinstance(v, (int, float)) else f"{key} {v}"


def run_labels(configs: Sequence[Mapping[str, Any] | None], names: Sequence[str]) -> list[str]:
    """Short names from the settings that differ: "rnn" / "lstm" (a vanishing-gradients experiment),
    "clip 1" / "clip off", "1 layer" / "2 layers"; the run names when nothing or too much differs, when a
    config is unknown, or when two runs would read the same."""
    facts = [run_facts(c) for c in configs]
    keys = [k for k in facts[0] if len({repr(f[k]) for f in facts}) > 1] if facts else []
    if 1 <= len(keys) <= 2 and all(f[k] is not None for f in facts for k in keys):
        out = [" ".join(_word(k, f[k]) for k in keys) for f in facts]
        if len(set(out)) == len(out):
            return out
    return list(names)


# -----------------------------------------------------------------------------
# the table


@dataclass(frozen=True)
class CompareRow:
    label: str  # what the table and the sentence call the run: its cell, or its name when cells repeat
    steps: int  # optimiser steps in the log
    val_loss: float | None  # the final validation loss (nats per char): the end record's, else the last eval
    val_bpc: float | None  # the same in bits per char
    best_val_loss: float | None  # the lowest validation loss in the log
    chars_per_s: float | None  # median training throughput over the step records
    kept16: float | None  # gradient kept 16 steps back (run_kept)
    kept32: float | None  # gradient kept 32 steps back
    wall_s: float = 0.0  # training wall time at the last step record
    ngram_val_loss: float | None = None  # the corpus's best n-gram baseline (analysis/ngram), None: unknown
    reach90: int | None = None  # effective context: median characters back holding 90% of the influence over
    #                             held-out predictions (context.py; measured on the checkpoint, not in the log)

    def kept(self, k: int) -> float | None:
        return {16: self.kept16, 32: self.kept32}[k]

    @property
    def vs_ngram(self) -> float | None:
        """The final validation loss minus the best n-gram's: negative when the network predicts better."""
        return None if self.val_loss is None or self.ngram_val_loss is None else self.val_loss - self.ngram_val_loss


def compare_row(label: str, log: RunLog, probes: int = RECENT_PROBES, ngram: float | None = None) -> CompareRow:
    """The final numbers of one run's log; `ngram`: the best n-gram's validation loss on the same split."""
    val = None
    if log.end is not None:
        val = finite_number(log.end.get("val_loss"))
    if val is None:
        finite = [v for v in log.val_loss if math.isfinite(v)]
        val = finite[-1] if finite else None
    vals = [v for v in log.val_loss if math.isfinite(v)]
    speeds = [s for s in log.chars_per_s if math.isfinite(s) and s > 0]
    walls = [w for w in log.wall_s if math.isfinite(w)]
    steps = max([*log.steps, *log.val_steps, *(p[0] for p in log.probes), 0])
    return CompareRow(
        label=label,
        steps=steps,
        val_loss=val,
        val_bpc=bits_per_char(val) if val is not None else None,
        best_val_loss=min(vals) if vals else None,
        chars_per_s=float(np.median(speeds)) if speeds else None,
        kept16=run_kept(log, 16, probes),
        kept32=run_kept(log, 32, probes),
        wall_s=walls[-1] if walls else 0.0,
        ngram_val_loss=ngram,
    )


def fmt_kept(x: float | None) -> str:
    """One significant digit, the way a learner reads orders of magnitude: 1e-11, 3e-4, 0.2, 1."""
    if x is None or not math.isfinite(x):
        return "-"
    if x >= 0.1:
        return f"{x:.1g}"
    mant, exp = f"{x:.0e}".split("e")
    return f"{mant}e{int(exp)}"


def fmt_vs_ngram(x: float | None) -> str:
    """The val loss against the best n-gram's, signed, nats/char: "-0.41" (0.41 better than counting); "-"
    while the baselines are not computed."""
    return f"{x:+.2f}" if x is not None else "-"


def format_table(rows: Sequence[CompareRow]) -> str:
    """A plain-text table: run, steps, val loss, bpc, chars/s, gradient kept 16 and 32 steps back, how far
    back the model looks (reach90, characters), and the val loss against the best n-gram's ("-0.41": 0.41
    nats/char better than counting)."""
    head = ("run", "steps", "val loss", "val bpc", "chars/s", "kept@16", "kept@32", "reach90", "vs n-gram")
    body = [
        (
            r.label,
            f"{r.steps:,}",
            _num(r.val_loss, 4),
            _num(r.val_bpc, 3),
            f"{r.chars_per_s:,.0f}" if r.chars_per_s is not None else "-",
            fmt_kept(r.kept16),
            fmt_kept(r.kept32),
            str(r.reach90) if r.reach90 is not None else "-",
            fmt_vs_ngram(r.vs_ngram),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
    lines = []
    for row in (head, *body):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _num(x: float | None, digits: int) -> str:
    return f"{x:.{digits}f}" if x is not None else "-"


# -----------------------------------------------------------------------------
# the sentence


@dataclass(frozen=True)
class KeptSummary:
    k: int  # steps back the figures are for: the k asked, or a shorter one when no window reaches it
    kept: tuple[tuple[str, float], ...]  # (label, gradient kept k steps back) of each run that has one, in order
    missing: tuple[str, ...]  # labels of the runs with no probe reaching k steps back


NO_PROBES = "No gradient probes in these runs' logs yet: the gradient kept cannot be compared."


def kept_summary(rows: Sequence[CompareRow], k: int = 32) -> KeptSummary | None:
    """The figures the sentence reads, at k steps back (one of KEPT_BACK), falling back to 16 when no run's
    window reaches 32 (--seq-len < 33). None when no run has a probe yet."""
    for kk in [k] + [b for b in sorted(KEPT_BACK, reverse=True) if b < k]:
        known = tuple((r.label, v) for r in rows if (v := r.kept(kk)) is not None)
        if known:
            return KeptSummary(kk, known, tuple(r.label for r in rows if r.kept(kk) is None))
    return None


def sentence(rows: Sequence[CompareRow], k: int = 32, note: str = "") -> str:
    """One line a learner can read: "32 steps back, rnn keeps 1e-11 of the gradient, lstm 1e-4, gru 1e-2."

    `note` is added in brackets before the full stop (the Compare view says which probes it read); "" for
    no rows, NO_PROBES when none has a probe yet."""
    if not rows:
        return ""
    summary = kept_summary(rows, k)
    if summary is None:
        return NO_PROBES
    (first, v0), rest = summary.kept[0], summary.kept[1:]
    text = f"{summary.k} steps back, {first} keeps {fmt_kept(v0)} of the gradient"
    text += "".join(f", {label} {fmt_kept(v)}" for label, v in rest)
    if summary.missing:
        text += f" ({', '.join(summary.missing)}: no probe reaching that far)"
    if note:
        text += f" ({note})"
    return text + "."
