"""One training run in a thread worker: the TrainSession, and the EngineEvent message its worker posts.

The engine knows nothing of Textual: it takes threading Events and yields dataclasses. The session's run()
is the worker's body: it builds the trainer there (torch loads in the worker, never on the UI thread) and
forwards every event through post_message, which is thread-safe. On the UI thread the app feeds each event
to the session's RunState, which the dashboard draws.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.message import Message

from rnntui.core.analysis.ngram.figures import Baselines
from rnntui.core.config import TrainConfig
from rnntui.core.events import Event, RunStarted
from rnntui.core.runs.folder import RunDir, continue_in
from rnntui.core.runs.info import RunInfo
from rnntui.ui.state import RunState
from rnntui.ui.workers.engine import TrainerFactory, TrainerLike
from rnntui.ui.workers.session import Session


class EngineEvent(Message):
    """One event from Trainer.run, posted by the training worker (or the corpus's baselines, from its side thread)."""

    def __init__(self, event: Event | Baselines) -> None:
        super().__init__()
        self.event = event  # the engine's frozen dataclass, never a tensor


def baselines_thread(corpus: Any, post: Callable[[Baselines], object]) -> threading.Thread | None:
    """Compute the corpus's n-gram baselines (cache, else ~0.3-1.5 s of numpy) in a daemon thread beside the
    training worker, and post the frozen Baselines (plain floats) when done. Not in the worker itself: the
    first steps should not wait, and a daemon thread never holds up quitting. A failure only leaves the
    chart without its reference lines. None when there is no corpus (a stand-in engine)."""
    if corpus is None:
        return None

    def body() -> None:
        from rnntui.core.analysis.ngram.baselines import baselines_for  # numpy only

        try:
            post(baselines_for(corpus))
        except (MemoryError, ValueError, OSError):
            pass

    t = threading.Thread(target=body, name="rnntui-baselines", daemon=True)
    t.start()
    return t


class TrainSession(Session):
    """One run: its configuration, its trainer once the worker built it, and what the dashboard knows of it."""

    def __init__(self, cfg: TrainConfig, resume: str | None = None, factory: TrainerFactory | None = None):
        super().__init__(factory)
        self.cfg = cfg  # the configuration from the setup screen
        self.resume = resume  # checkpoint path to continue from, or None
        self.state = RunState()  # what the dashboard shows of this run, fed on the UI thread
        self.save_asked = False  # the user pressed save: announce the next CheckpointSaved (UI thread)

    @property
    def trainer(self) -> TrainerLike | None:
        """The run's trainer, once the worker has built it."""
        return self.trainers[0] if self.trainers else None

    def run(self, post: Callable[[Event | Baselines], object]) -> None:
        """Thread body: build the trainer (torch loads here) and forward every event to the UI. Once the
        corpus is loaded, its n-gram baselines are computed beside the run (baselines_thread)."""
        try:
            trainer = self.factory(self.cfg, resume=self.resume)
            self.trainers.append(trainer)
            asked = False
            for event in trainer.run(stop=self.stop, pause=self.pause):
                post(event)
                if isinstance(event, RunStarted) and not asked:
                    asked = baselines_thread(getattr(trainer, "corpus", None), post) is not None
        finally:
            self.done.set()

    def snapshot(self) -> Any:
        """A consistent copy of the current weights (a WeightsSnapshot), or None before the model exists.
        Call it in a worker: it copies every weight under the trainer's lock."""
        trainer = self.trainer
        return trainer.snapshot() if trainer is not None else None

    @property
    def live(self) -> bool:
        """The model exists and the run has started: its weights can be sampled and inspected."""
        return self.trainer is not None and self.state.started is not None

    def request_save(self) -> bool:
        """Ask the trainer to save at its next step; False while there is no trainer to ask."""
        trainer = self.trainer
        if trainer is None:
            return False
        self.save_asked = True
        trainer.request_save()
        return True

    def phase(self) -> str:
        """Session.phase, told apart by what the engine reported: how the run ended, still loading (no
        RunStarted yet), or idling (the engine said Paused)."""
        st = self.state
        if st.finished is not None:
            return st.finished.reason
        phase = super().phase()
        if phase in ("paused", "training") and st.started is None:
            return "loading"
        return "paused" if phase == "training" and st.paused else phase

    def again(self) -> tuple[TrainConfig, str | None]:
        """(config, resume) to start this run again: from its latest.pt when it saved one, else as it began."""
        latest = self.state.finished.latest_path if self.state.finished else None
        if latest and Path(latest).exists():
            return continue_in(self.cfg, latest), latest
        return self.cfg, self.resume


def continue_config(run: RunDir, info: RunInfo | None) -> tuple[TrainConfig, bool]:
    """The settings to train a run folder further: its own (run.json), in its own folder; and whether its
    step budget was used up, so that it gets as many steps again."""
    cfg = info.train_config if info is not None else TrainConfig()
    cfg = replace(cfg, out_dir=str(run.out_dir), run_name=run.name)
    if info is not None and cfg.steps is not None and info.steps >= cfg.steps:
        return replace(cfg, steps=info.steps + cfg.steps), True
    return cfg, False
