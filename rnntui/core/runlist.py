"""The runs under a folder, one summary each: what `rnntui runs` prints and the app's Runs screen lists.

Read from each run folder's run.json (a run from before the log existed is listed from its checkpoint's
folder name alone: no torch is imported to list runs). Stdlib only.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from rnntui.core.runs import RunDir

LN2 = math.log(2.0)


@dataclass(frozen=True)
class RunSummary:
    name: str  # the run folder's name
    path: str  # the run folder
    model: str  # the cell: rnn, lstm or gru ("" when unknown)
    hidden: int  # units per layer (0 when unknown)
    layers: int  # recurrent layers (0 when unknown)
    corpus: str  # built-in name or path the run trained on
    steps: int  # optimiser steps done
    chars_seen: int  # training characters consumed
    best_val_loss: float | None  # nats per char
    best_val_bpc: float | None  # the same in bits per char
    wall_s: float  # training wall time
    state: str  # running / completed / stopped / diverged / failed, or "unknown" for an old run
    updated: float  # time.time() of the last write (the checkpoint's mtime for an old run)


def summarise(run: RunDir) -> RunSummary | None:
    """One run folder's summary, or None when the folder holds no run."""
    info = run.read_info()
    if info is not None:
        model = info.config.get("model", {}) if isinstance(info.config.get("model"), dict) else {}
        best = info.best_val_loss
        state = info.state
        if state == "running" and not info.alive():
            state = "stopped"  # its process is gone (killed): nothing trains it any more
        return RunSummary(info.name or run.name, str(run.path), str(model.get("kind", "")),
                          int(model.get("hidden", 0) or 0), int(model.get("layers", 0) or 0), info.corpus,
                          info.steps, info.chars_seen, best, None if best is None else best / LN2,
                          info.wall_s, state, info.updated)
    ckpt = run.checkpoint()
    if ckpt is None:
        return None
    return RunSummary(run.name, str(run.path), "", 0, 0, "", 0, 0, None, None, 0.0, "unknown",
                      ckpt.stat().st_mtime)


def list_runs(root: str | os.PathLike) -> list[RunSummary]:
    """The runs directly under root, newest first; junk files and empty folders are skipped."""
    root = Path(root)
    try:
        entries = sorted(p for p in root.iterdir() if p.is_dir())
    except OSError:
        return []
    out = [s for p in entries if (s := summarise(RunDir(p))) is not None]
    return sorted(out, key=lambda s: s.updated, reverse=True)
