"""What a training run leaves in its folder while it trains, and how its corpus is read and identified.

RunWriter writes every engine event to metrics.jsonl and keeps run.json current; corpus_fingerprint
identifies the text a run trained on (a resume on other text is refused); load_with_progress reads a
corpus in a helper thread and reports how far it got. The Trainer (engine.py) uses all three.
"""
from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import replace
from typing import Generator

import numpy as np

from rnntui.core import events as ev
from rnntui.core.checkpoints import Checkpoint
from rnntui.core.config import config_to_dict
from rnntui.core.corpus import Corpus, Vocab, load_corpus
from rnntui.core.loop import TrainLoop
from rnntui.core.records import MetricsLog, ProbeThinner
from rnntui.core.runs import RunDir, new_info

INFO_EVERY_S = 10.0  # run.json is rewritten at most this often while training (and at every save and the end)

# -----------------------------------------------------------------------------
# the corpus: its identity, and reading it with progress


def corpus_fingerprint(corpus: Corpus) -> str:
    """A content hash of the encoded corpus: its vocabulary, its length and 64 blocks spread over it.

    Cheap at any size (at most 256 KB are read), and it tells apart two texts that share a vocabulary."""
    ids = corpus.data
    h = hashlib.sha256(corpus.vocab.chars.encode("utf-8"))
    h.update(str(len(ids)).encode())
    for start in np.linspace(0, max(0, len(ids) - 4096), num=64, dtype=np.int64):
        h.update(np.ascontiguousarray(ids[start : start + 4096]).tobytes())
    return h.hexdigest()[:16]


LOADING_EVERY_S = 0.25  # progress events of a long corpus load


def load_with_progress(name: str, val_frac: float, vocab: Vocab | None) -> Generator[ev.Event, None, Corpus]:
    """load_corpus in a helper thread, yielding Loading(bytes done, bytes total) while it reads: a first
    load of a large file takes a while, a cached one none."""
    box: dict = {}
    seen = [0, 0]

    def body() -> None:
        try:
            box["corpus"] = load_corpus(name, val_frac, vocab=vocab, progress=lambda d, t: seen.__setitem__(slice(None), [d, t]))
        except BaseException as e:  # re-raised in the generator's thread
            box["error"] = e

    t = threading.Thread(target=body, name="rnntui-load", daemon=True)
    t.start()
    while t.is_alive():
        t.join(LOADING_EVERY_S)
        if t.is_alive() and seen[1]:
            yield ev.Loading(seen[0], seen[1])
    if "error" in box:
        raise box["error"]
    return box["corpus"]


# -----------------------------------------------------------------------------
# the run folder's log


class RunWriter:
    """Writes metrics.jsonl with every event and keeps run.json current."""

    def __init__(self, run: RunDir, loop: TrainLoop, ckpt: Checkpoint | None):
        self.run, self.loop = run, loop
        cfg = loop.cfg
        old = run.read_info() if ckpt is not None else None
        info = new_info(run, config_to_dict(cfg), cfg.corpus, loop.corpus_fingerprint, loop.model.n_params(),
                        str(loop.device), loop.dist.world_size)
        if old is not None:
            info = replace(info, created=old.created)
        self.info = replace(info, steps=loop.step, chars_seen=loop.chars0, wall_s=loop.wall0,
                            best_val_loss=None if math.isinf(loop.best) else loop.best)
        self.last_info = 0.0
        self.log = MetricsLog(run.metrics, ProbeThinner(loop.budget.total_steps, loop.budget.seconds), run_file=True)
        run.write_info(self.info)

    def write(self, event: ev.Event) -> None:
        self.log.write(event)
        if isinstance(event, (ev.StepMetrics, ev.CheckpointSaved, ev.EvalMetrics)):
            now = time.monotonic()
            if isinstance(event, ev.StepMetrics) and now - self.last_info < INFO_EVERY_S:
                return
            self.last_info = now
            self._update(state="running")
        elif isinstance(event, ev.RunFinished):
            self._update(state=event.reason, final_val_loss=event.val_loss, message=event.message)

    def _update(self, **changes) -> None:
        loop = self.loop
        self.info = replace(self.info, updated=time.time(), steps=loop.step, chars_seen=loop.chars_seen(),
                            wall_s=loop.wall0 + loop.elapsed(),
                            best_val_loss=None if math.isinf(loop.best) else loop.best, **changes)
        self.run.write_info(self.info)

    def fail(self, message: str) -> None:
        try:
            if self.info.state == "running":
                self._update(state="failed", message=message)
        except Exception:  # the disk may be what failed: the original error is the one to report
            pass

    def close(self) -> None:
        self.log.close()
