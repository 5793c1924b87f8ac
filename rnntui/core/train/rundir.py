"""The run folder a Trainer writes: its own, named and claimed before the first step (rank 0 only).

    claimed = claim_run_dir(cfg, ckpt, resume, resume_id, fingerprint, overwrite, force_corpus)

A resume continues in the checkpoint's own folder when the config names that folder; anything else starts
a run in a folder of its own (a fresh name unless overwrite). Either way the folder is claimed under its
lock (rnntui.core.runs.placement), never one another run or another process writes, and the config comes
back naming the folder used. A checkpoint trained on other text is refused unless force_corpus.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rnntui.core.config import TrainConfig
from rnntui.core.runs.checkpoints import Checkpoint, CheckpointError
from rnntui.core.runs.folder import RunDir, check_name
from rnntui.core.runs.lock import RunLock
from rnntui.core.runs.placement import new_run_dir, resume_run_dir


@dataclass(frozen=True)
class Claimed:
    run: RunDir  # the folder the run writes (not yet prepared: RunDir.prepare)
    lock: RunLock  # held until the run's last write; the caller releases it
    notice: str  # one line for the start of the run, "" when there is nothing to say
    cfg: TrainConfig  # the config, out_dir and run_name naming the folder used


def claim_run_dir(
    cfg: TrainConfig,
    ckpt: Checkpoint | None,
    resume: str | None,
    resume_id: tuple[int, ...] | None,
    fingerprint: str,
    overwrite: bool,
    force_corpus: bool,
) -> Claimed:
    """The folder a run writes, and its lock (placement.py): its own, never another run's, and never one
    that another process writes. `resume`: the checkpoint's path, `resume_id` its placement.file_id before
    it was loaded; `fingerprint`: the corpus's, checked against the checkpoint's."""
    check_name(cfg.run_name)
    run = RunDir.of_config(cfg)
    if ckpt is not None and ckpt.corpus_fingerprint and ckpt.corpus_fingerprint != fingerprint:
        if not force_corpus:
            raise CheckpointError(
                f"{resume}: trained on {ckpt.corpus!r}, and {cfg.corpus!r} is other text; "
                "use --force-corpus to continue on it anyway"
            )
    if ckpt is not None and resume is not None and RunDir.of_checkpoint(resume).path == run.path.resolve():
        run, lock, notice = resume_run_dir(run, resume, resume_id, ckpt.config.run_name, ckpt.corpus_fingerprint)
    else:
        run, lock, notice = new_run_dir(run, overwrite)
    if run.path != RunDir.of_config(cfg).path:  # a fresh name, or a new folder for a resumed run
        cfg = replace(cfg, out_dir=str(run.out_dir), run_name=run.name)
    return Claimed(run, lock, notice, cfg)
