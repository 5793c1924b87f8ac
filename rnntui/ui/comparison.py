"""What the Compare view computes from several runs' logs: labels, the gradient kept k steps back, the
final numbers and one sentence a learner can read. numpy and the stdlib only (no Rich, no Textual), so
the renderables stay drawing code and this stays testable on plain RunLogs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnntui.core.records import RunLog
from rnntui.core.runs import RunInfo

LN2 = math.log(2.0)
KEPT_AT = (16, 32)  # the table's "gradient kept k steps back" columns


@dataclass
class RunData:
    """One compared run: where it is, what run.json says, and its log so far."""

    path: Path  # the run folder
    info: RunInfo | None  # None: no run.json (yet)
    log: RunLog  # grows as a live run's log is followed
    label: str = ""  # the short name shown in legends (see labels())


# -----------------------------------------------------------------------------
# labels: name each run by what differs between them


def _facts(info: RunInfo | None) -> dict[str, Any]:
    c = info.config if info is not None else {}
    m = c.get("model", {}) if isinstance(c.get("model"), dict) else {}
    return {"kind": m.get("kind"), "layers": m.get("layers"), "hidden": m.get("hidden"), "clip": c.get("clip"),
            "lr": c.get("lr"), "seq_len": c.get("seq_len"), "batch": c.get("batch_size"), "corpus": c.get("corpus"),
            "seed": c.get("seed")}


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


def labels(runs: list[RunData]) -> list[str]:
    """Short names from the settings that differ ("rnn" / "lstm", "clip 1" / "clip off", "1 layer" / "2
    layers"); the folder names when nothing or too much differs, or two runs would read the same."""
    facts = [_facts(r.info) for r in runs]
    keys = [k for k in facts[0] if len({repr(f[k]) for f in facts}) > 1] if facts else []
    if 1 <= len(keys) <= 2 and all(f[k] is not None for f in facts for k in keys):
        out = [" ".join(_word(k, f[k]) for k in keys) for f in facts]
        if len(set(out)) == len(out):
            return out
    return [r.path.name for r in runs]


# -----------------------------------------------------------------------------
# the gradient kept k steps back


def kept(grad_last: np.ndarray, k: int) -> float | None:
    """The last-step gradient k steps back over its value at t, for one layer's (T,) curve (None when
    the window is shorter than k or the value at t is not positive)."""
    g = np.asarray(grad_last, dtype=np.float64).ravel()
    if k >= len(g) or not (math.isfinite(g[-1]) and g[-1] > 0) or not math.isfinite(g[-1 - k]):
        return None
    return max(float(g[-1 - k]), 0.0) / float(g[-1])


def probe_for(log: RunLog, step: int | None) -> tuple[int, np.ndarray, np.ndarray] | None:
    """The probe nearest `step` (None: the latest)."""
    if not log.probes:
        return None
    if step is None:
        return log.probes[-1]
    return min(log.probes, key=lambda p: abs(p[0] - step))


def fmt_kept(r: float | None) -> str:
    if r is None:
        return "–"
    if r == 0:
        return "0"
    if r < 0.01:
        m, e = f"{r:.0e}".split("e")
        return f"{m}e{int(e)}"
    return f"{r:.2g}"


def sentence(runs: list[RunData], layer: int = 0, k: int = 32, step: int | None = None) -> str:
    """e.g. "32 steps back, rnn keeps 1e-11 of the gradient, lstm 1e-4, gru 1e-2 (layer 1, latest probes)"."""
    parts = []
    k_used = k
    for r in runs:
        p = probe_for(r.log, step)
        if p is None or layer >= p[2].shape[0]:
            continue
        k_used = min(k, p[2].shape[1] - 1)
        parts.append((r.label, kept(p[2][layer], k_used)))
    parts = [(n, v) for n, v in parts if v is not None]
    if not parts:
        return "No gradient probes yet: the sentence appears with the first probe of each run."
    head = f"{k_used} steps back, {parts[0][0]} keeps {fmt_kept(parts[0][1])} of the gradient"
    rest = "".join(f", {n} {fmt_kept(v)}" for n, v in parts[1:])
    where = "latest probes" if step is None else f"probes nearest step {step:,}"
    return f"{head}{rest} (layer {layer + 1}, {where})."


# -----------------------------------------------------------------------------
# the final numbers


@dataclass(frozen=True)
class Row:
    label: str
    cell: str  # e.g. "lstm 2x64"
    steps: int
    chars_seen: int
    wall_s: float
    best_val: float | None  # nats per char
    chars_per_s: float | None
    kept: tuple[float | None, ...]  # one per KEPT_AT, for the shown layer
    state: str


def final_rows(runs: list[RunData], layer: int = 0) -> list[Row]:
    out = []
    for r in runs:
        info, log = r.info, r.log
        f = _facts(info)
        cell = f"{f['kind']} {f['layers']}x{f['hidden']}" if f["kind"] else "?"
        steps = max(log.steps[-1] if log.steps else 0, info.steps if info else 0)
        chars = max(log.chars_seen[-1] if log.chars_seen else 0, info.chars_seen if info else 0)
        wall = log.wall_s[-1] if log.wall_s and math.isfinite(log.wall_s[-1]) else (info.wall_s if info else 0.0)
        vals = [v for v in log.val_loss if math.isfinite(v)]
        best = info.best_val_loss if info is not None and info.best_val_loss is not None else (
            min(vals) if vals else None)  # run.json's best counts the closing validation too
        p = probe_for(log, None)
        ks = tuple(kept(p[2][layer], k) if p is not None and layer < p[2].shape[0] else None for k in KEPT_AT)
        state = info.state if info else "?"
        if log.end is not None:
            state = str(log.end.get("reason", state))
        out.append(Row(r.label, cell, steps, chars, wall, best, chars / wall if wall > 0 else None, ks, state))
    return out
