"""Where a run writes, decided under the run folder's lock (lock.py): a new run's own folder, a
resumed run's folder, --overwrite, and deleting a run.

    run, lock, notice = new_run_dir(RunDir.of(out, name), overwrite=False)
    run, lock, notice = resume_run_dir(RunDir.of_checkpoint(ckpt_path), ckpt_path, seen, name, fingerprint)
    delete_run(path)

Each returns the folder together with its lock, held by the caller for the whole run, so no two
processes ever write one folder: parallel new runs each get a folder of their own, --overwrite and
delete refuse a run that is training, and of two resumes of one checkpoint one proceeds.
"""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

from rnntui.core.config import ConfigError
from rnntui.core.runs.files import RunDirError
from rnntui.core.runs.folder import RunDir, check_name
from rnntui.core.runs.lock import RunBusy, RunLock, busy


def own(run: RunDir) -> RunLock:
    """The lock of an existing run folder, or RunBusy. A run written by an rnntui from before run locks
    has no lock to hold: its run.json's live pid keeps it (RunDir.owner)."""
    who = run.owner()
    if who is not None:
        raise busy(run.path, who)
    return RunLock.take(run.path)


# -----------------------------------------------------------------------------
# a new run


def claim_fresh(out_dir: Path, name: str) -> tuple[RunDir, RunLock]:
    """`name`, or `name-2`, `name-3`, ...: the first folder this process creates, or finds empty of runs
    and locks first. mkdir without exist_ok makes creating atomic; the lock settles the one race left
    (a folder made by a process that has not locked it yet: whoever locks it first owns it)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)  # the folder of runs is shared by every run: exist_ok
    except OSError as e:
        raise RunDirError(f"{out_dir}: cannot write here ({e.strerror or e})") from None
    for n in itertools.count(1):
        run = RunDir.of(out_dir, name if n == 1 else f"{name}-{n}")
        try:
            run.path.mkdir()
        except FileExistsError:
            if not run.path.is_dir() or run.is_run() or run.holds_runs():
                continue
        except OSError as e:
            raise RunDirError(f"{run.path}: cannot write here ({e.strerror or e})") from None
        lock = RunLock.try_take(run.path)
        if lock is None:
            continue  # another run has just made it and owns it
        if run.is_run():  # a run ended there between the check and the lock
            lock.release()
            continue
        return run, lock
    raise AssertionError("unreachable")


def new_run_dir(run: RunDir, overwrite: bool) -> tuple[RunDir, RunLock, str]:
    """The folder of a new run: `run` itself when it holds no run, with --overwrite the run there
    deleted first (refused while that run trains), else the next free name (said in the notice)."""
    if overwrite:
        try:
            run.path.mkdir(parents=True, exist_ok=True)  # this exact folder: its lock decides, not mkdir
        except OSError as e:
            raise RunDirError(f"{run.path}: cannot write here ({e.strerror or e})") from None
        try:
            lock = own(run)
        except RunBusy as e:
            raise RunBusy(f"--overwrite refused: {e}") from None
        for p in (run.latest, run.best, run.info_path, run.metrics):
            p.unlink(missing_ok=True)
        return run, lock, lock.note
    got, lock = claim_fresh(run.out_dir, run.name)
    notice = (
        "" if got.path == run.path else f"{run.path} holds another run: writing to {got.path} (--overwrite replaces it)"
    )
    return got, lock, "; ".join(n for n in (notice, lock.note) if n)


# -----------------------------------------------------------------------------
# a resumed run


def file_id(path: str | os.PathLike) -> tuple[int, ...] | None:
    """Identifies one version of a file: a save replaces the file (a new inode), so it changes."""
    try:
        s = os.stat(path)
    except OSError:
        return None
    return (s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns)


def belongs(run: RunDir, name: str, fingerprint: str) -> bool:
    """The folder holds the run that saved a checkpoint (that run's name and corpus fingerprint), so
    resuming continues it there. A folder without run.json is a run from before run logs only when it
    has no log either and holds no run folders."""
    if not os.path.lexists(run.info_path):
        return not os.path.lexists(run.metrics) and not run.holds_runs()
    info = run.read_info()
    if info is None:
        return False  # an unreadable run.json: never written over
    same_name = not name or info.name == name
    same_text = not fingerprint or not info.corpus_fingerprint or info.corpus_fingerprint == fingerprint
    return same_name and same_text


def resume_run_dir(
    run: RunDir, checkpoint: str, seen: tuple[int, ...] | None, name: str, fingerprint: str
) -> tuple[RunDir, RunLock, str]:
    """Continue the run that saved `checkpoint` (its run name and corpus fingerprint given) in `run`,
    the folder holding it. `seen`: file_id(checkpoint) before it was loaded: if a save replaced it
    since (another process resumed it first and trained on), the loaded one is stale and refused.

    A checkpoint in a folder that is not its run's (copied into another run's folder, or into the
    folder of runs) starts a new run folder named after its run instead, and says so."""
    if not belongs(run, name, fingerprint):
        parent = run.path if run.holds_runs() else run.out_dir
        try:
            check_name(name)  # the checkpoint's own word: a plain folder name, or this folder's name
        except ConfigError:
            name = run.name
        got, lock = claim_fresh(parent, name)
        notice = (
            f"continuing {checkpoint} in a new folder {got.path}: {run.path} is not its run's folder (left as it was)"
        )
        return got, lock, "; ".join(n for n in (notice, lock.note) if n)
    lock = own(run)
    if file_id(checkpoint) != seen:
        lock.release()
        raise RunBusy(
            f"{checkpoint}: replaced while this run was starting (another process resumed "
            f"{run.path} and saved); resume again to continue from the new checkpoint"
        )
    return run, lock, lock.note


# -----------------------------------------------------------------------------
# deleting a run


def delete_run(path: str | os.PathLike) -> None:
    """Delete a run folder, holding its lock meanwhile: refused (RunBusy) while a process trains it,
    whatever path it was given by, and refused (RunDirError) for a folder that holds run folders."""
    run = RunDir(Path(path))
    if not run.path.is_dir():
        raise RunDirError(f"{run.path}: no such run folder")
    if run.holds_runs():
        raise RunDirError(f"{run.path}: holds run folders, not one run: delete those one by one")
    lock = own(run)  # RunBusy while it trains
    try:
        shutil.rmtree(run.path)
    except OSError as e:
        raise RunDirError(f"{run.path}: cannot delete ({e.strerror or e})") from None
    finally:
        lock.release()
