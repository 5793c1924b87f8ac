"""What a training run leaves in its folder while it trains.

RunWriter writes every engine event to metrics.jsonl and keeps run.json current. The Trainer (engine.py)
uses it; the corpus a run reads and its fingerprint are corpus.py's.
"""

from __future__ import annotations

import time
from dataclasses import replace

from rnntui.core import events as ev
from rnntui.core.config import config_to_dict
from rnntui.core.runs.folder import RunDir, new_info
from rnntui.core.runs.records import MetricsLog, ProbeThinner
from rnntui.core.train.loop import TrainLoop

INFO_EVERY_S = 10.0  # run.json is rewritten at most this often while training (and at every save and the end)

# -----------------------------------------------------------------------------
# the run folder's log


class RunWriter:
    """Writes metrics.jsonl with every event and keeps run.json current."""

    def __init__(self, run: RunDir, loop: TrainLoop, resumed: bool):
        self.run, self.loop = run, loop  # the loop is read (its progress()), never written
        cfg, start = loop.cfg, loop.at_start
        old = run.read_info() if resumed else None
        info = new_info(
            run,
            config_to_dict(cfg),
            cfg.corpus,
            loop.fingerprint,
            loop.model.n_params(),
            str(loop.device),
            loop.dist.world_size,
        )
        if old is not None:
            info = replace(info, created=old.created)
        self.info = replace(
            info, steps=start.step, chars_seen=start.chars_seen, wall_s=start.wall_s, best_val_loss=start.best_val_loss
        )
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
        now = self.loop.progress()
        self.info = replace(
            self.info,
            updated=time.time(),
            steps=now.step,
            chars_seen=now.chars_seen,
            wall_s=now.wall_s,
            best_val_loss=now.best_val_loss,
            **changes,
        )
        self.run.write_info(self.info)

    def fail(self, message: str) -> None:
        try:
            if self.info.state == "running":
                self._update(state="failed", message=message)
        except Exception:  # the disk may be what failed: the original error is the one to report
            pass

    def close(self) -> None:
        self.log.close()
