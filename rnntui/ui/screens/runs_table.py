"""The Runs screen's table (runs.py): its columns, how each sorts, and the cells of one run's row.

Pure: RunSummary in (rnntui.core.runs.listing, the same summaries `rnntui runs` prints), Rich Text out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text

from rnntui.core.runs.summary import RunSummary
from rnntui.core.textsafe import visible
from rnntui.core.units import format_count, format_duration

# column key -> (header, sort key); the same columns as `rnntui runs`
COLUMNS: dict[str, tuple[str, Callable[[RunSummary, set[str]], Any]]] = {
    "mark": ("", lambda s, m: (str(s.path) not in m,)),
    "name": ("name", lambda s, m: s.name.lower()),
    "cell": ("cell", lambda s, m: (s.model, s.layers, s.hidden)),
    "corpus": ("corpus", lambda s, m: Path(s.corpus).name.lower()),
    "steps": ("steps", lambda s, m: s.steps),
    "chars": ("chars", lambda s, m: s.chars_seen),
    "val": ("best val", lambda s, m: s.best_val_loss if s.best_val_loss is not None else float("inf")),
    "bpc": ("bpc", lambda s, m: s.best_val_bpc if s.best_val_bpc is not None else float("inf")),
    "wall": ("wall", lambda s, m: s.wall_s),
    "state": ("state", lambda s, m: s.state),
    # after state, unlike `rnntui runs`: at 80 columns the state (running, killed) must stay in view
    "ngram": ("vs n-gram", lambda s, m: s.vs_ngram if s.vs_ngram is not None else float("inf")),
    "updated": ("updated", lambda s, m: s.updated),
}
SORTABLE = [k for k in COLUMNS if k != "mark"]
DESCENDING = ("steps", "chars", "wall", "updated")  # sorted largest / newest first; the rest A-Z, best first
STATE_STYLES = {
    "running": "bold green",
    "completed": "",
    "stopped": "yellow",
    "diverged": "bold red",
    "failed": "bold red",
    "killed": "bold red",
    "unknown": "dim",
    "bad": "bold red",
}


def _when(t: float) -> str:
    if t <= 0:
        return "–"
    fmt = "%H:%M" if time.time() - t < 86400 else "%Y-%m-%d"
    return time.strftime(fmt, time.localtime(t))


def row_cells(s: RunSummary, marked: bool) -> list[Text]:
    """The table row of a run: Text cells (a str cell would be read as markup), every one through visible,
    since a name, a corpus file or a state read from run.json may hold any character."""
    cell = f"{s.model} {s.layers}x{s.hidden}" if s.model else "?"
    state = Text(visible(("● " if s.state == "running" else "") + s.state), STATE_STYLES.get(s.state, ""))
    return [
        Text("✓" if marked else " ", "bold"),
        *(
            Text(visible(c))
            for c in (
                s.name,
                cell,
                Path(s.corpus).name or "?",
                f"{s.steps:,}",
                format_count(s.chars_seen),
                "–" if s.best_val_loss is None else f"{s.best_val_loss:.3f}",
                "–" if s.best_val_bpc is None else f"{s.best_val_bpc:.2f}",
                format_duration(s.wall_s, words=True) if s.wall_s else "–",
            )
        ),
        state,
        Text("–" if s.vs_ngram is None else f"{s.vs_ngram:+.2f}"),  # "–": baselines not computed yet
        Text(_when(s.updated)),
    ]
