"""What the Compare view needs beyond rnntui.core.compare: each run's data as it grows, labels that
name runs by what differs between them, and the numbers at a chosen point in the runs' history.

The figures themselves (gradient kept k steps back, the final numbers, the learner's sentence) come
from rnntui.core.compare, the same functions `rnntui compare` prints with. numpy and the stdlib only.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rnntui.core import compare
from rnntui.core.records import RunLog
from rnntui.core.runs import RunInfo
from rnntui.core.textsafe import visible

KEPT_AT = compare.KEPT_BACK  # the table's "gradient kept k steps back" columns


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
    """Short names from the settings that differ: "rnn" / "lstm" (a vanishing-gradients experiment),
    "clip 1" / "clip off", "1 layer" / "2 layers"; the folder names when nothing or too much differs,
    or when two runs would read the same. Shown as they are (textsafe.visible): they come from run folders."""
    facts = [_facts(r.info) for r in runs]
    keys = [k for k in facts[0] if len({repr(f[k]) for f in facts}) > 1] if facts else []
    if 1 <= len(keys) <= 2 and all(f[k] is not None for f in facts for k in keys):
        out = [" ".join(_word(k, f[k]) for k in keys) for f in facts]
        if len(set(out)) == len(out):
            return [visible(x) for x in out]
    return [visible(r.path.name) for r in runs]


# -----------------------------------------------------------------------------
# the runs as they were at a chosen step


def upto(log: RunLog, step: int | None) -> RunLog:
    """The log as it stood at `step` for the gradient figures: its probes up to that step (None: all)."""
    if step is None:
        return log
    probes = [p for p in log.probes if p[0] <= step] or log.probes[:1]
    return replace(log, probes=probes)


def probe_for(log: RunLog, step: int | None) -> tuple[int, np.ndarray, np.ndarray] | None:
    """The probe at or before `step` (None: the latest)."""
    return log.probe_near(step)


@dataclass(frozen=True)
class Row:
    """One line of the Compare view's table: core.compare's figures plus what the view adds."""

    numbers: compare.CompareRow  # steps, validation, chars/s, gradient kept 16 / 32 steps back
    cell: str  # e.g. "lstm 2x64"
    chars_seen: int  # training characters consumed
    state: str  # running / completed / ... as run.json or the end record says


def rows(runs: list[RunData], step: int | None = None) -> list[Row]:
    out = []
    for r in runs:
        numbers = compare.compare_row(r.label, upto(r.log, step))
        f = _facts(r.info)
        cell = f"{f['kind']} {f['layers']}x{f['hidden']}" if f["kind"] else "?"
        chars = max(r.log.chars_seen[-1] if r.log.chars_seen else 0, r.info.chars_seen if r.info else 0)
        state = r.info.live_state() if r.info is not None else "?"
        if r.log.end is not None:
            state = str(r.log.end.get("reason", state))
        out.append(Row(numbers, visible(cell), chars, visible(state)))  # read from the run's files
    return out


def sentence(table: list[Row], step: int | None = None) -> str:
    """core.compare's sentence, saying which probes it reads."""
    said = compare.sentence([r.numbers for r in table])
    if not table or said.startswith("No gradient"):
        return said
    where = "the latest probes" if step is None else f"the probes up to step {step:,}"
    return f"{said[:-1]} (geometric mean over layers, {where})."
