"""One row of the runs listing (RunSummary) and the table `rnntui runs` prints from the rows.

    row.size -> "2x256"   row.vs_ngram -> -0.41   row.to_json() -> what `rnntui runs --json` prints
    runs_table(rows)      the plain-text table, one line per run

listing.py fills the rows from the run folders; the app's Runs screen shows the same fields. A new column
starts here: a field of RunSummary, filled in listing.py, shown by runs_table (and the screen).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnntui.core.textsafe import visible
from rnntui.core.units import format_count, format_duration

# -----------------------------------------------------------------------------
# one row


@dataclass(frozen=True)
class RunSummary:
    name: str  # the run folder's name
    path: Path  # the run folder
    model: str  # recurrent cell: rnn, lstm or gru ("" when nothing says)
    hidden: int  # units per layer (0 when unknown)
    layers: int  # stacked layers (0 when unknown)
    corpus: str  # built-in name or the path the run trained on
    steps: int  # optimiser steps done
    chars_seen: int  # training characters consumed
    best_val_loss: float | None  # nats per character
    best_val_bpc: float | None  # the same in bits per character
    wall_s: float  # training wall time over all invocations
    state: str  # running, completed, stopped, diverged, failed; killed (a dead "running"); unknown (no run.json)
    updated: float  # time.time() of the run's last write
    has_log: bool  # metrics.jsonl exists (runs from before the log have only checkpoints)
    created: float = 0.0  # time.time() when the run began (0: unknown)
    final_val_loss: float | None = None  # the last closing validation
    n_params: int = 0  # trainable parameters (0: unknown)
    checkpoint: Path | None = None  # latest.pt, else best.pt, else None
    message: str = ""  # why it stopped, diverged or failed; or why the folder could not be read
    ngram_order: int | None = None  # order of the corpus's best n-gram baseline (None: not computed yet)
    ngram_val_loss: float | None = None  # its validation loss, nats per character, on the run's split
    unigram_val_loss: float | None = None  # the unigram baseline's, the same way

    @property
    def size(self) -> str:
        """'2x256', or '?' when the folder does not say."""
        return f"{self.layers}x{self.hidden}" if self.layers and self.hidden else "?"

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def vs_ngram(self) -> float | None:
        """Best validation loss minus the best n-gram's: negative when the network predicts better."""
        if self.best_val_loss is None or self.ngram_val_loss is None:
            return None
        return self.best_val_loss - self.ngram_val_loss

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (paths as strings; NaN never appears: unknown losses are null)."""
        return {
            "name": self.name,
            "path": str(self.path),
            "model": self.model,
            "hidden": self.hidden,
            "layers": self.layers,
            "corpus": self.corpus,
            "steps": self.steps,
            "chars_seen": self.chars_seen,
            "best_val_loss": self.best_val_loss,
            "best_val_bpc": self.best_val_bpc,
            "final_val_loss": self.final_val_loss,
            "wall_s": round(self.wall_s, 3),
            "state": self.state,
            "created": self.created,
            "updated": self.updated,
            "has_log": self.has_log,
            "n_params": self.n_params,
            "checkpoint": str(self.checkpoint) if self.checkpoint else None,
            "message": self.message,
            "ngram_order": self.ngram_order,
            "ngram_val_loss": self.ngram_val_loss,
            "unigram_val_loss": self.unigram_val_loss,
        }


# -----------------------------------------------------------------------------
# the CLI's table


def runs_table(runs: list[RunSummary]) -> str:
    """The plain-text table `rnntui runs` prints: one row per run, in the order given. "vs n-gram" is the
    best validation loss minus the corpus's best n-gram baseline (negative: the network predicts better)."""
    import time

    head = ("name", "model", "corpus", "steps", "chars", "best val", "bpc", "vs n-gram", "wall", "state", "updated")
    body = []
    for r in runs:
        corpus = Path(r.corpus).name if os.sep in r.corpus or "/" in r.corpus else r.corpus
        body.append(
            tuple(
                visible(cell)
                for cell in (  # a name or a corpus file may hold control characters
                    r.name,
                    f"{r.model or '?'} {r.size}",
                    corpus or "?",
                    f"{r.steps:,}",
                    format_count(r.chars_seen),
                    f"{r.best_val_loss:.4f}" if r.best_val_loss is not None else "-",
                    f"{r.best_val_bpc:.3f}" if r.best_val_bpc is not None else "-",
                    f"{r.vs_ngram:+.2f}" if r.vs_ngram is not None else "-",  # "-": the baselines are not computed yet
                    format_duration(r.wall_s, words=True),
                    r.state,
                    time.strftime("%Y-%m-%d %H:%M", time.localtime(r.updated)) if r.updated else "-",
                )
            )
        )
    right = {3, 4, 5, 6, 7, 8}  # numbers line up on the right
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
    lines = [
        "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
        for row in (head, *body)
    ]
    return "\n".join(lines)
