"""What the Compare view needs beyond rnntui.core.analysis.compare: each run's data as it grows, and the numbers at
a chosen point in the runs' history.

The figures themselves (gradient kept k steps back, the final numbers, the learner's sentence) and the
runs' labels come from rnntui.core.analysis.compare, the same functions `rnntui compare` prints with. numpy and
the stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rnntui.core.analysis import compare
from rnntui.core.runs.info import RunInfo
from rnntui.core.runs.runlog import RunLog
from rnntui.core.textsafe import visible

KEPT_AT = compare.KEPT_BACK  # the table's "gradient kept k steps back" columns


@dataclass
class RunData:
    """One compared run: where it is, what run.json says, and its log so far."""

    path: Path  # the run folder
    info: RunInfo | None  # None: no run.json (yet)
    log: RunLog  # grows as a live run's log is followed
    label: str = ""  # the short name shown in legends (see labels())
    ngram: float | None = None  # the corpus's best n-gram val loss on the run's split (ngram_loss); None: unknown


# -----------------------------------------------------------------------------
# labels


def labels(runs: list[RunData]) -> list[str]:
    """core.compare.run_labels of the runs: named by what differs between them, else by their folders.
    Shown as they are (textsafe.visible): they come from run folders."""
    return [
        visible(x)
        for x in compare.run_labels(
            [r.info.config if r.info is not None else None for r in runs], [r.path.name for r in runs]
        )
    ]


def ngram_loss(info: RunInfo | None) -> float | None:
    """The validation loss of the run's corpus's best n-gram on the run's split, from the baselines' cache
    only (as `rnntui runs` reads it: never computed here); None while not computed, or without run.json."""
    from rnntui.core.analysis.ngram.baselines import cached

    if info is None:
        return None
    b = cached(info.corpus_fingerprint, info.train_config.val_frac)
    return b.best[1] if b is not None else None


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
        numbers = compare.compare_row(r.label, upto(r.log, step), ngram=r.ngram)
        f = compare.run_facts(r.info.config if r.info is not None else None)
        cell = f"{f['kind']} {f['layers']}x{f['hidden']}" if f["kind"] else "?"
        chars = max(r.log.chars_seen[-1] if r.log.chars_seen else 0, r.info.chars_seen if r.info else 0)
        state = r.info.live_state() if r.info is not None else "?"
        if r.log.end is not None:
            state = str(r.log.end.get("reason", state))
        out.append(Row(numbers, visible(cell), chars, visible(state)))  # read from the run's files
    return out


def sentence(table: list[Row], step: int | None = None) -> str:
    """core.compare's sentence, saying which probes it reads."""
    where = "the latest probes" if step is None else f"the probes up to step {step:,}"
    return compare.sentence([r.numbers for r in table], note=f"geometric mean over layers, {where}")
