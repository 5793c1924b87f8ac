"""What the app does with run folders: open one on the dashboard (replayed or watched), continue it,
generate or inspect from its checkpoint, browse and compare runs, and run experiments.

A mixin of RnntuiApp, so app.py keeps only the routing: it holds `view` (the RunView on the dashboard
when it shows a run folder rather than a run trained here) and `runs_root` (where run folders live).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rnntui.core.runs.folder import RunDir

if TYPE_CHECKING:
    from rnntui.ui.replay import RunView

WATCH_POLL_S = 0.5  # a watched run's log is read this often


class RunActions:
    view: "RunView | None"
    runs_root: str

    # ---- the Runs and Compare screens -----------------------------------------------------------

    def action_runs(self) -> None:
        from rnntui.ui.screens.runs import RunsScreen

        if not isinstance(self.screen, RunsScreen):
            self.push_screen(RunsScreen(self.runs_root))

    # ---- one run on the dashboard ------------------------------------------------------------------

    def open_run(self, path: str, live: bool = False) -> None:
        """Show a run folder on the dashboard: replayed from its log, or followed while it trains."""
        if self.running:
            self.notify("a run is training here: stop it first (x), or compare runs instead",
                        severity="warning", timeout=4)
            return
        if not RunDir(Path(path)).metrics.is_file():
            self.notify(f"{Path(path).name} has no metrics.jsonl (a run from before the log): open its "
                        "checkpoint with g or i instead", severity="warning", timeout=5)
            return

        def body() -> None:
            from rnntui.ui.replay import RunView

            view = RunView.open(path, live=live)  # reads the whole log: off the UI thread
            self.call_from_thread(self._show_view, view)

        self.run_worker(body, thread=True, group="open-run", exclusive=True, exit_on_error=False)

    def _show_view(self, view: "RunView") -> None:
        from rnntui.ui.screens.runs import RunsScreen
        from rnntui.ui.screens.train import TrainScreen

        self.session, self.view, self.state = None, view, view.state
        self.ckpt = self.ckpt_path = None
        while isinstance(self.screen, RunsScreen) or type(self.screen).__name__ == "CompareScreen":
            self.pop_screen()
        self.switch_screen(TrainScreen())
        if view.live and not view.ended:
            self.notify(f"watching {view.run.path}: it trains in another process", timeout=4)
            self._ensure_watch_timer()
        self.call_after_refresh(self.show_probe_position)

    def _ensure_watch_timer(self) -> None:
        if getattr(self, "_watch_timer", None) is None:
            self._watch_polling = False
            self._watch_timer = self.set_interval(WATCH_POLL_S, self.poll_view)

    def poll_view(self) -> None:
        """Read what the watched run appended (in a thread worker: a slow disk never blocks the UI)."""
        view = self.view
        if view is None or not view.live or self._watch_polling:
            return
        self._watch_polling = True

        def body() -> None:
            try:
                records, info = view.poll()
                self.call_from_thread(self._apply_view, view, records, info)
            finally:
                self._watch_polling = False

        self.run_worker(body, thread=True, group="watch", exit_on_error=False)

    def _apply_view(self, view: "RunView", records: list, info) -> None:
        if view is not self.view:
            return
        view.apply(records, info)
        if records:
            self.show_probe_position()
        if view.ended and not view.ended_told:
            view.ended_told = True
            fin = view.state.finished
            what = fin.message if fin is not None and fin.message else view.phase()
            self.notify(f"the watched run ended: {what}", title=f"run {view.phase()}", timeout=10)
        elif not view.alive() and not view.ended_told and info is not None and info.state == "running":
            view.ended_told = True
            self.notify("the process training this run is gone (killed?): its log stops here",
                        title="run ended", severity="warning", timeout=10)

    # ---- the gradient-flow history of a shown run --------------------------------------------------

    def action_probe_history(self, delta: int) -> None:
        if self.view is None:
            return
        if self.view.step_probe(delta) is None:
            self.notify("no gradient probes in this run's log", timeout=2)
        self.show_probe_position()

    def show_probe_position(self) -> None:
        from rnntui.ui.screens.train import TrainScreen

        if self.view is not None and isinstance(self.screen, TrainScreen):
            for panel in self.screen.query("#gradflow"):
                panel.history = self.view.probe_position()

    # ---- continue, generate, inspect a run folder --------------------------------------------------

    def continue_run(self, path: str | None = None) -> None:
        """Train a run further from its latest checkpoint, in its own folder."""
        run = RunDir(Path(path)) if path else self.view.run if self.view is not None else None
        if run is None:
            return
        info, ckpt = run.read_info(), run.checkpoint()
        if (who := run.owner()) is not None:  # its lock: a process here or elsewhere trains it
            self.notify(f"{run.name} is being trained by {who}: stop it there first", severity="warning",
                        timeout=5, markup=False)
            return
        if ckpt is None:
            self.notify(f"{run.name} has no checkpoint to continue from", severity="warning")
            return
        if self.running:
            self.notify("a run is already going: stop it first (x)", severity="warning")
            return
        from rnntui.core.config import TrainConfig

        cfg = info.train_config if info is not None else TrainConfig()
        cfg = replace(cfg, out_dir=str(run.out_dir), run_name=run.name)
        if info is not None and cfg.steps is not None and info.steps >= cfg.steps:
            cfg = replace(cfg, steps=info.steps + cfg.steps)  # a completed budget: train as long again
            self.notify(f"continuing {run.name} to step {cfg.steps:,}", timeout=4)
        from rnntui.ui.screens.runs import RunsScreen

        while isinstance(self.screen, RunsScreen):
            self.pop_screen()
        self.view = None
        self.start_run(cfg, resume=str(ckpt))

    def run_weights(self, path: str | None, then: str) -> None:
        """Load the run's checkpoint (reloaded at every open: a watched run keeps saving) and open the
        generation ("generate") or inspection ("inspect") screen on it."""
        run = RunDir(Path(path)) if path else self.view.run
        ckpt_path = run.checkpoint()
        if ckpt_path is None:
            self.notify(f"{run.name} has no checkpoint yet", severity="warning")
            return

        def body() -> None:
            from rnntui.ui.worker import load_checkpoint

            ckpt = load_checkpoint(str(ckpt_path))  # a CheckpointError is reported by the app
            self.call_from_thread(self._weights_loaded, str(ckpt_path), ckpt, then)

        self.run_worker(body, thread=True, group="load", exit_on_error=False)

    def _weights_loaded(self, path: str, ckpt: dict, then: str) -> None:
        self.ckpt, self.ckpt_path = ckpt, path
        if then == "generate":
            self.open_generate(from_ckpt=True)
        else:
            self.open_inspect(ckpt)

    # ---- experiments -------------------------------------------------------------------------------

    def start_experiment(self, name: str, cfgs: list) -> None:
        """Train several runs interleaved in one worker and show them in Compare as they learn."""
        from functools import partial

        from rnntui.ui.messages import ExperimentEvent
        from rnntui.ui.state import RunState
        from rnntui.ui.worker import ExperimentSession

        if self.running and isinstance(self.session, ExperimentSession):
            self.notify("an experiment is already going: showing it (x stops it)", timeout=3)
            self.show_experiment(self.session)
            return
        if self.running:
            self.notify("a run is already going: stop it first (x)", severity="warning")
            return
        session = ExperimentSession(name, cfgs, self.trainer_factory)
        self.session, self.view, self.state = session, None, RunState()
        post = lambda i, event: self.post_message(ExperimentEvent(i, event))  # noqa: E731  (thread-safe)
        session.worker = self.run_worker(partial(session.run, post), thread=True, group="train",
                                         name="experiment", exit_on_error=False)
        self.show_experiment(session)

    def show_experiment(self, session) -> None:
        from rnntui.ui.screens.compare import CompareScreen

        self.push_screen(CompareScreen(lambda: list(session.run_dirs), title=f"experiment: {session.name}",
                                       status=session.describe))

    def on_experiment_event(self, message) -> None:
        from rnntui.core.events import RunFinished, RunStarted

        session, event = self.session, message.event
        if session is None or not hasattr(session, "run_dirs"):
            return
        session.seen(message.index, event)
        if isinstance(event, RunStarted) and event.notice:
            self.notify(event.notice, timeout=5)
        elif isinstance(event, RunFinished) and event.reason in ("diverged", "error"):
            self.notify(event.message, title=f"{session.label(message.index)} {event.reason}",
                        severity="warning", timeout=8)
