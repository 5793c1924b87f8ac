"""The runs under a folder, one summary each (a RunSummary, summary.py): what `rnntui runs` prints and the
app's Runs screen lists.

    list_runs(Path("checkpoints"))   -> [RunSummary, ...]   newest first
    summary_of(Path("checkpoints/gru-2x256-tiny")) -> RunSummary | None

A summary comes from the run's run.json (cheap: no torch), else from its metrics.jsonl, else, for a folder
made before run logs existed, from its checkpoint (that needs torch, imported only then). Files and
folders that hold no run are skipped silently; a folder whose run files cannot be used (a run.json that
is not JSON or has a field of the wrong type, a FIFO or a device where a file should be) is one row in
state "bad" saying why, and never stops the listing.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from rnntui.core.config import RnntuiError
from rnntui.core.runs.files import RunDirError, open_regular, unusable
from rnntui.core.runs.folder import METRICS, RunDir
from rnntui.core.runs.info import RunInfo
from rnntui.core.runs.runlog import parse_lines, read_records
from rnntui.core.runs.summary import RunSummary
from rnntui.core.units import bits_per_char
from rnntui.core.units import finite_number as _finite

# -----------------------------------------------------------------------------
# one folder


def summary_of(path: str | os.PathLike) -> RunSummary | None:
    """The summary of one run folder, or None when the folder holds no run. A folder with a run file
    that cannot be used (a run.json that is not JSON or has a field of the wrong type; a FIFO, a device
    or a dangling link where a file should be) is a row in state "bad", its message saying why, filled
    in from whatever can be read."""
    run = RunDir(Path(path))
    if not run.path.is_dir() or not run.is_run():
        return None
    try:
        info, problem = run.load_info(), ""
    except RunDirError as e:
        info, problem = None, str(e)
    problem = problem or unusable(run.metrics, appended=True) or unusable(run.latest) or unusable(run.best)
    row: RunSummary | None
    if info is not None:
        row = _from_info(run, info)
    else:
        row = _from_log(run) or (_from_checkpoint(run) if run.checkpoint() is not None else None)
    if problem:  # what could be read is shown; the state says the folder needs a look, the message why
        row = replace(row or _bad(run, ""), state="bad", message=problem)
    return row or _bad(run, f"{run.path}: no run.json, no record in {METRICS} and no checkpoint")


def _bad(run: RunDir, message: str) -> RunSummary:
    """A row for a folder that holds a run that cannot be read: what it is, and why not."""
    return RunSummary(
        name=run.name,
        path=run.path,
        model="",
        hidden=0,
        layers=0,
        corpus="",
        steps=0,
        chars_seen=0,
        best_val_loss=None,
        best_val_bpc=None,
        wall_s=0.0,
        state="bad",
        updated=_mtime(run.path),
        has_log=run.metrics.is_file(),
        checkpoint=run.checkpoint(),
        message=message,
    )


def _from_info(run: RunDir, info: RunInfo) -> RunSummary:
    m = info.train_config.model  # checked when run.json was read
    best = _finite(info.best_val_loss)
    state = run.live_state(info)  # a "running" run whose lock no process holds: "killed"
    if state in ("running", "killed"):  # run.json lags the log by up to 10 s; a killed run's never caught up
        last = _last_step(run.metrics)
        if last is not None and last["step"] > info.steps:
            info = replace(
                info,
                steps=last["step"],
                chars_seen=last.get("chars_seen", info.chars_seen),
                wall_s=float(last.get("wall_s", info.wall_s)),
                updated=max(info.updated, _mtime(run.metrics)),
            )
    row = RunSummary(
        name=run.name,
        path=run.path,
        model=m.kind,
        hidden=m.hidden,
        layers=m.layers,
        corpus=info.corpus,
        steps=info.steps,
        chars_seen=info.chars_seen,
        best_val_loss=best,
        best_val_bpc=_bpc(best),
        wall_s=info.wall_s,
        state=state,
        updated=info.updated,
        has_log=run.metrics.is_file(),
        created=info.created,
        final_val_loss=_finite(info.final_val_loss),
        n_params=info.n_params,
        checkpoint=run.checkpoint(),
        message=info.message,
    )
    return _with_baselines(row, info.corpus_fingerprint, info.train_config.val_frac)


TAIL_BYTES = 65536  # enough for the last step record behind the largest probe records


def _last_step(path: Path) -> dict[str, Any] | None:
    """The last step record of a log, read from its tail only (a day-long log is a few MB)."""
    try:
        with open_regular(path) as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - TAIL_BYTES))
            lines = f.read(TAIL_BYTES).decode("utf-8", errors="replace").split("\n")[1:]  # the first may be cut
    except (OSError, RunDirError):
        return None
    steps = [r for r in parse_lines(lines) if r["type"] == "step"]
    return steps[-1] if steps else None


def _from_log(run: RunDir) -> RunSummary | None:
    """run.json missing or unreadable, the log intact: what the records say (the model stays unknown)."""
    steps = chars = 0
    wall, best, final = 0.0, None, None
    seen = False
    for r in read_records(run.metrics):
        seen = True
        steps = max(steps, r["step"])
        if r["type"] == "step":  # the fields are checked (record_schema): no conversion needed
            chars = r.get("chars_seen", chars)
            wall = float(r.get("wall_s", wall))
        elif r["type"] == "eval" and (v := _finite(r.get("val_loss"))) is not None:
            best = v if best is None else min(best, v)
            final = v
    if not seen:
        return None
    return RunSummary(
        name=run.name,
        path=run.path,
        model="",
        hidden=0,
        layers=0,
        corpus="",
        steps=steps,
        chars_seen=chars,
        best_val_loss=best,
        best_val_bpc=_bpc(best),
        wall_s=wall,
        state="unknown",
        updated=_mtime(run.metrics),
        has_log=True,
        final_val_loss=final,
        checkpoint=run.checkpoint(),
        message="run.json is missing",
    )


def _from_checkpoint(run: RunDir) -> RunSummary:
    """A run from before run logs existed: its checkpoint says what it is (loading it needs torch)."""
    ckpt_path = run.checkpoint()
    assert ckpt_path is not None
    from rnntui.core.runs.checkpoints import Checkpoint, load_checkpoint  # torch: only for folders without run.json

    try:
        ck = Checkpoint.from_dict(load_checkpoint(ckpt_path, fits=False))  # read, not built: no memory check
    except RnntuiError as e:
        return RunSummary(
            name=run.name,
            path=run.path,
            model="",
            hidden=0,
            layers=0,
            corpus="",
            steps=0,
            chars_seen=0,
            best_val_loss=None,
            best_val_bpc=None,
            wall_s=0.0,
            state="unknown",
            updated=_mtime(ckpt_path),
            has_log=run.metrics.is_file(),
            checkpoint=ckpt_path,
            message=str(e),
        )
    m = ck.config.model
    best = _finite(ck.best_val_loss)
    n_params = sum(v.numel() for v in ck.snapshot.weights.values())
    row = RunSummary(
        name=run.name,
        path=run.path,
        model=m.kind,
        hidden=m.hidden,
        layers=m.layers,
        corpus=ck.corpus or ck.config.corpus,
        steps=ck.step,
        chars_seen=ck.chars_seen,
        best_val_loss=best,
        best_val_bpc=_bpc(best),
        wall_s=ck.wall_s,
        state="unknown",
        updated=max(_mtime(p) for p in (run.latest, run.best) if p.is_file()),
        has_log=run.metrics.is_file(),
        n_params=n_params,
        checkpoint=ckpt_path,
        message="no run.json (a run from before run logs)",
    )
    return _with_baselines(row, ck.corpus_fingerprint, ck.config.val_frac)


def _bpc(loss: float | None) -> float | None:
    return bits_per_char(loss) if loss is not None else None


def _with_baselines(row: RunSummary, fingerprint: str, val_frac: float) -> RunSummary:
    """The corpus's n-gram baselines on the run's split, from their cache only (json, never computed here:
    `rnntui train` or the app computes them), found by the corpus fingerprint the run recorded."""
    from rnntui.core.analysis.ngram.baselines import cached

    b = cached(fingerprint, val_frac)
    if b is None:
        return row
    order, loss = b.best
    return replace(row, ngram_order=order, ngram_val_loss=loss, unigram_val_loss=b.unigram)


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


# -----------------------------------------------------------------------------
# a folder of runs


def list_runs(root: str | os.PathLike) -> list[RunSummary]:
    """Every run folder directly under `root`, newest first; `root` itself when it is a run folder.

    A folder that holds run folders is a folder of runs, never one run itself: its own run-like files
    (a `--metrics checkpoints/metrics.jsonl` log, a checkpoint copied there) are not listed, and never
    hide the runs under it. A missing root lists nothing; anything that is not a run is skipped silently."""
    root = Path(root)
    try:
        children = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError:
        children = []
    found = [s for p in children if (s := _safe_summary(p)) is not None]
    if not found:
        own = _safe_summary(root)
        return [own] if own is not None else []
    return sorted(found, key=lambda s: (s.updated, s.name), reverse=True)


def _safe_summary(p: Path) -> RunSummary | None:
    try:
        return summary_of(p)
    except OSError:  # a folder we may not read, or one deleted while listing
        return None
    except RnntuiError as e:  # one folder that cannot be read is one bad row, never the whole listing
        return _bad(RunDir(p), str(e))
