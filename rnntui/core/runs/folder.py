"""A run folder: one run's checkpoints, run.json and metrics.jsonl, as one typed contract.

    checkpoints/gru-2x256-tiny/      RunDir
        latest.pt  best.pt           checkpoints (rnntui.core.runs.checkpoints)
        run.json                     RunInfo (rnntui.core.runs.info): what the run is and where it stands
        metrics.jsonl                one record per event (records.py writes, runlog.py reads), append-only
        .lock                        held by the one process writing the run (rnntui.core.runs.lock)

The CLI, the app, `runs`, `compare` and `watch` all go through this module: none of them builds a path or
reads a run.json key by hand. Stdlib only, so listing runs never imports torch.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnntui.core.config import ConfigError, TrainConfig
from rnntui.core.runs.fields import FieldError
from rnntui.core.runs.files import (
    MAX_INFO_BYTES,
    RunDirError,
    atomic_write_bytes,
    read_regular,
    remove_stale_temps,
)
from rnntui.core.runs.info import RunInfo
from rnntui.core.runs.lock import has_lock_file, lock_holder

LATEST, BEST, INFO, METRICS = "latest.pt", "best.pt", "run.json", "metrics.jsonl"


def run_name_for(cfg: TrainConfig) -> str:
    """The default folder name: cell, size and corpus, e.g. gru-2x256-tinyshakespeare."""
    stem = Path(cfg.corpus).stem or "corpus"
    m = cfg.model
    return f"{m.kind}-{m.layers}x{m.hidden}-{stem}"


# -----------------------------------------------------------------------------
# the folder


@dataclass(frozen=True)
class RunDir:
    path: Path  # the run's folder: <out_dir>/<run_name>

    @classmethod
    def of(cls, out_dir: str | os.PathLike, name: str) -> RunDir:
        return cls(Path(out_dir) / name)

    @classmethod
    def of_config(cls, cfg: TrainConfig) -> RunDir:
        return cls.of(cfg.out_dir, cfg.run_name or run_name_for(cfg))

    @classmethod
    def of_checkpoint(cls, path: str | os.PathLike) -> RunDir:
        """The run folder holding a checkpoint file."""
        return cls(Path(path).resolve().parent)

    # ---- paths

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def out_dir(self) -> Path:
        return self.path.parent

    @property
    def latest(self) -> Path:
        return self.path / LATEST

    @property
    def best(self) -> Path:
        return self.path / BEST

    @property
    def info_path(self) -> Path:
        return self.path / INFO

    @property
    def metrics(self) -> Path:
        return self.path / METRICS

    def checkpoint(self) -> Path | None:
        """The checkpoint to continue, generate or inspect from: latest.pt, else best.pt."""
        for p in (self.latest, self.best):
            if p.is_file():
                return p
        return None

    def is_run(self) -> bool:
        """The folder holds a run (a log or a checkpoint): a new run must not write into it. Whatever is
        there counts, a FIFO or a dangling link too: such a folder is listed as bad, never taken over."""
        return any(os.path.lexists(p) for p in (self.info_path, self.latest, self.best, self.metrics))

    def holds_runs(self) -> bool:
        """The folder holds run folders: it is a folder of runs (its own stray files, a `--metrics` log or a
        copied checkpoint, do not make it one run), never resumed into, listed as one row or deleted."""
        try:
            return any(p.is_dir() and not p.name.startswith(".") and RunDir(p).is_run() for p in self.path.iterdir())
        except OSError:
            return False

    # ---- who trains it

    def owner(self) -> str | None:
        """ "process PID on HOST" while a process trains this run, else None. Reads only (`watch`).

        The folder's lock says (lock.py). A folder without a lock file (written by an rnntui from before
        run locks), or a run.json naming another machine (whose lock this one may not see), falls back on
        run.json's pid and host."""
        who = lock_holder(self.path)
        if who is not None:
            return who
        info = self.read_info()
        if info is None or info.state != "running":
            return None
        if has_lock_file(self.path) and info.host in ("", socket.gethostname()):
            return None  # the lock is free: its process is gone, even if its pid was reused since
        return f"process {info.pid} on {info.host}" if info.alive() else None

    def live_state(self, info: RunInfo) -> str:
        """info.state to show: a "running" run that no process trains reads "killed" (SIGKILL, a crash, a
        lost machine), since nothing will ever update its run.json again."""
        return "killed" if info.state == "running" and self.owner() is None else info.state

    # ---- run.json

    def read_info(self) -> RunInfo | None:
        """run.json, or None when it is missing or unusable (see load_info for why)."""
        try:
            return self.load_info()
        except RunDirError:
            return None

    def load_info(self) -> RunInfo | None:
        """run.json; None when there is none; RunDirError, one line naming the file, when it cannot be
        used: not a regular file (a FIFO would hang the reader), larger than any run.json, not JSON, or
        a field of the wrong type or out of range."""
        if not os.path.lexists(self.info_path):
            return None
        try:
            data = read_regular(self.info_path, MAX_INFO_BYTES)
            return RunInfo.from_dict(json.loads(data.decode("utf-8")))
        except FieldError as e:
            raise RunDirError(f"{self.info_path}: {e}") from None
        except (ValueError, RecursionError) as e:  # not UTF-8, not JSON, nested too deep
            why = "nested too deeply" if isinstance(e, RecursionError) else "not valid JSON"
            raise RunDirError(f"{self.info_path}: {why}") from None

    def write_info(self, info: RunInfo) -> None:
        """Atomically: temp file, fsync, rename, fsync the folder."""
        atomic_write_bytes(self.info_path, (json.dumps(info.to_dict(), indent=1) + "\n").encode())

    # ---- before a run writes here

    def prepare(self) -> None:
        """Prove the folder is writable, and remove temp files left by killed saves.

        Called before the first step, so an unwritable --out-dir is found in a second, not after the
        training. The folder exists already: placement.py creates it, under its lock."""
        try:
            probe = self.path / f".write-test{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as e:
            raise RunDirError(f"{self.path}: cannot write here ({e.strerror or e})") from None
        remove_stale_temps(self.path)


# -----------------------------------------------------------------------------
# naming a run and its folder (placement.py creates and claims the folder)


def continue_in(cfg: TrainConfig, checkpoint: str | os.PathLike) -> TrainConfig:
    """cfg set to write into the run folder holding `checkpoint` (continuing a run, not starting one)."""
    from dataclasses import replace

    folder = RunDir.of_checkpoint(checkpoint)
    return replace(cfg, out_dir=str(folder.out_dir), run_name=folder.name)


def check_name(name: str) -> None:
    if not name or name in (".", "..") or "/" in name or os.sep in name or "\0" in name:
        raise ConfigError(f"run name {name!r} must be a plain folder name")


def new_info(
    run: RunDir,
    cfg_dict: dict[str, Any],
    corpus: str,
    fingerprint: str,
    n_params: int,
    device: str,
    world_size: int = 1,
) -> RunInfo:
    now = time.time()
    return RunInfo(
        name=run.name,
        config=cfg_dict,
        corpus=corpus,
        corpus_fingerprint=fingerprint,
        created=now,
        updated=now,
        state="running",
        steps=0,
        chars_seen=0,
        wall_s=0.0,
        n_params=n_params,
        device=device,
        pid=os.getpid(),
        host=socket.gethostname(),
        world_size=world_size,
    )
