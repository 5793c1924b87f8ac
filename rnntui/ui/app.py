"""The rnntui Textual app: one App class that holds what the screens show and does what they ask.

Attributes go down, messages go up. The app hands each screen what it draws: the dashboard (TrainScreen)
gets what it shows (a TrainSession training here, or a RunView of a run folder: state.Shown), the
generation panel gets the weights and the GenPanelState that survives it. A screen asks for anything
beyond itself by posting a message declared on its own class (SetupScreen.TrainRequested,
RunsScreen.OpenRequested, TrainScreen.HelpRequested, ...); the app answers in an @on handler below, next to
the code that does it. Thread workers report the same way (workers/: EngineEvent, ExperimentEvent).

A new screen: a module in screens/ whose requests are Message classes nested in the screen; here, an @on
handler for each and whatever opens the screen. A new dashboard panel needs nothing here (ui/panels.py).

What the app holds: the session (a TrainSession or an ExperimentSession, workers/), the run folder on the
dashboard (view), a checkpoint opened on the setup screen or from a run folder (ckpt, ckpt_path), the
generation panel's settings, and a Shutdown (shutdown.py: SIGTERM and a closed terminal).

Import cost matters here: this module imports Textual and the stdlib-only parts of rnntui.core (config,
events, the run folder); torch loads later, inside thread workers, after the first frame is on screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.notifications import SeverityLevel
from textual.timer import Timer
from textual.worker import Worker, WorkerFailed, WorkerState

from rnntui.core.config import TrainConfig
from rnntui.core.events import CheckpointSaved, RunFinished, RunStarted
from rnntui.core.runs.folder import RunDir
from rnntui.core.textsafe import visible
from rnntui.ui.panels import DEFAULT_PANEL
from rnntui.ui.screens.dialogs import QuitDialog
from rnntui.ui.screens.generate import GenerateScreen
from rnntui.ui.screens.help import HelpScreen
from rnntui.ui.screens.runs import RunsScreen
from rnntui.ui.screens.setup import SetupScreen
from rnntui.ui.screens.train import TrainScreen
from rnntui.ui.shutdown import Shutdown
from rnntui.ui.state import RunState, Shown
from rnntui.ui.widgets.gen_controls import GenPanelState
from rnntui.ui.workers.engine import TrainerFactory, error_text, load_checkpoint
from rnntui.ui.workers.experiment import ExperimentEvent, ExperimentSession
from rnntui.ui.workers.generation import SamplerFactory
from rnntui.ui.workers.session import Session
from rnntui.ui.workers.training import EngineEvent, TrainSession, continue_config

if TYPE_CHECKING:
    from rnntui.ui.workers.replay import RunView

WATCH_POLL_S = 0.5  # a watched run's log is read this often


class ScreenCommands(Provider):
    """The command palette lists every described key binding of the current screen and the app."""

    def _commands(self) -> list[tuple[str, Callable[[], object]]]:
        seen: set[str] = set()
        out: list[tuple[str, Callable[[], object]]] = []
        for active in self.screen.active_bindings.values():
            b = active.binding
            if b.description and b.action not in seen and not b.system and b.action != "command_palette":
                seen.add(b.action)
                out.append((b.description, partial(self.app.run_action, b.action, active.node)))
        return out

    async def discover(self) -> Hits:
        for name, callback in self._commands():
            yield DiscoveryHit(name, callback)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback in self._commands():
            if (score := matcher.match(name)) > 0:
                yield Hit(score, matcher.highlight(name), callback)


class RnntuiApp(App[int]):
    CSS_PATH = "rnntui.tcss"
    TITLE = "rnntui"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # screen classes: stacked panels below 100 cols
    COMMANDS = App.COMMANDS | {ScreenCommands}
    BINDINGS = [
        Binding("ctrl+r", "runs", "Runs"),  # the Runs screen, from the setup screen and the dashboard
        Binding("f1,question_mark", "help", "Help"),
        Binding("ctrl+t", "toggle_theme", "Dark/light", show=False),  # in the help and the palette
        Binding("ctrl+q", "quit", "Quit", show=False),
        Binding("less_than_sign", "probe_history(-1)", "< > probe history"),  # a shown run's gradient flow
        Binding("greater_than_sign", "probe_history(1)", "later probe", show=False),
    ]

    def __init__(
        self,
        corpus: str | None = None,
        checkpoint: str | None = None,
        inspect_checkpoint: str | None = None,
        inspect_text: str | None = None,
        trainer_factory: TrainerFactory | None = None,
        sampler_factory: SamplerFactory | None = None,
        runs_root: str = "checkpoints",
        watch: str | None = None,
    ):
        super().__init__()
        self.corpus, self.checkpoint = corpus, checkpoint  # preselected on the setup screen
        self.inspect_checkpoint, self.inspect_text = inspect_checkpoint, inspect_text
        self.trainer_factory = trainer_factory  # None: the real engine (tests pass a fake)
        self.sampler_factory = sampler_factory  # None: the real Sampler
        self.session: Session | None = None  # the current or last training run or experiment
        self.view: RunView | None = None  # the run folder on the dashboard (replayed or watched), not a session
        self.ckpt: dict | None = None  # a checkpoint opened on the setup screen or from a run folder
        self.ckpt_path: str | None = None
        self.gen_panel = GenPanelState()  # the generation panel's settings, kept between openings
        self.dash_panel = DEFAULT_PANEL  # the dashboard panel last chosen (1-6), kept for the next dashboard
        self.last_cfg: TrainConfig | None = None  # the settings of the last run started
        self.runs_root = runs_root  # where the Runs screen looks for run folders
        self.watch_dir = watch  # a run folder to follow from the start (rnntui watch)
        self.shutdown = Shutdown(lambda: self.session, self.on_stop_signal)  # SIGTERM, a closed terminal
        self._nothing = RunState()  # what the dashboard knows when it shows no run
        self._watch_timer: Timer | None = None  # polls a watched run's log, once one is shown
        self._watch_polling = False  # a poll is still reading (a slow disk): the next tick skips

    def on_mount(self) -> None:
        if self.inspect_checkpoint:  # `rnntui inspect CKPT`: the inspector is the app; esc leaves it
            self.load_for_inspect(self.inspect_checkpoint)
        else:
            pushed = self.push_screen(SetupScreen(self.corpus, self.checkpoint))
            if watch_dir := self.watch_dir:  # once the setup screen is mounted, the dashboard replaces it

                async def watch_when_ready() -> None:
                    await pushed
                    self.open_run(watch_dir, live=True)

                self.run_worker(watch_when_ready(), group="watch-start")
        self.shutdown.install(headless=self.is_headless)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """The Runs key on the setup screen and the dashboard; probe history only on a shown run."""
        if action == "runs":
            return isinstance(self.screen, (SetupScreen, TrainScreen))
        if action == "probe_history":
            return self.view is not None and isinstance(self.screen, TrainScreen)
        return True

    def on_unmount(self) -> None:
        """However the app ends, the training thread must end too (threads cannot be killed)."""
        if self.session is not None:
            self.session.halt()

    # ---- what the dashboard shows ----------------------------------------------------------------

    @property
    def shown(self) -> Shown | None:
        """A run folder, else the run trained here (an experiment's runs show in Compare, not here)."""
        if self.view is not None:
            return self.view
        return self.session if isinstance(self.session, TrainSession) else None

    @property
    def state(self) -> RunState:
        shown = self.shown
        return shown.state if shown is not None else self._nothing

    @property
    def phase(self) -> str:
        shown = self.shown
        if shown is not None:
            return shown.phase()
        return self.session.phase() if self.session is not None else "idle"

    @property
    def running(self) -> bool:
        return self.session is not None and self.session.running

    # ---- training --------------------------------------------------------------------------------

    def start_run(self, cfg: TrainConfig, resume: str | None = None) -> None:
        if self.running:
            self.notify("a run is already going: stop it first (x)", severity="warning")
            return
        session = TrainSession(cfg, resume, self.trainer_factory)
        self.session, self.view = session, None
        self.last_cfg = cfg  # `n` (new run) brings the setup screen back with these settings
        post = lambda event: self.post_message(EngineEvent(event))  # thread-safe
        session.worker = self.run_worker(
            partial(session.run, post), thread=True, group="train", name="train", exit_on_error=False
        )
        if isinstance(self.screen, TrainScreen):  # `s` on the dashboard: the new run, on the same screen
            self.screen.shown = session
        else:
            self.switch_screen(TrainScreen(session, self.dash_panel))

    @on(EngineEvent)
    def _engine_event(self, message: EngineEvent) -> None:
        event, session = message.event, self.session
        if isinstance(session, TrainSession):
            session.state.apply(event)
        if isinstance(event, RunFinished):
            if event.reason in ("diverged", "error"):
                self.notify(event.message, title=f"training {event.reason}", severity="error", timeout=15)
            else:
                where = f" · saved {event.latest_path}" if event.latest_path else ""
                self.notify(f"{event.message}{where}", title=f"training {event.reason}")
        elif isinstance(event, RunStarted) and event.notice:  # e.g. the run folder was taken: a fresh name
            self.notify(event.notice, timeout=10)
        elif isinstance(event, CheckpointSaved) and isinstance(session, TrainSession) and session.save_asked:
            session.save_asked = False
            self.notify(f"saved {event.path}", timeout=4)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place the app's worker errors become notifications; the app keeps running. (A screen's
        workers report to the screen.)"""
        if event.state != WorkerState.ERROR:
            return
        title = {"train": "training failed", "generate": "generation failed"}.get(event.worker.group, "error")
        self.notify(error_text(event.worker.error), title=title, severity="error", timeout=15, markup=False)

    def action_start(self) -> None:
        """Start again after a run ended: continue from its latest.pt when it saved one."""
        if self.running:
            self.notify("already training", timeout=2)
        elif self.view is not None:  # a run folder on the dashboard: continue it
            self.continue_run(self.view.run)
        elif isinstance(self.session, TrainSession):
            self.start_run(*self.session.again())
        else:
            self.action_setup()

    def action_pause(self) -> None:
        if self.session is not None and self.session.running:
            self.session.toggle_pause()
        else:
            self.notify("not training", timeout=2)

    def action_stop(self) -> None:
        if self.session is not None and self.session.running:
            self.session.stop.set()
            self.notify("stopping after this step (latest.pt is saved)", timeout=3)
        elif self.view is not None and self.view.alive():
            self.notify("this run trains in another process: the app only watches it (stop it there)", timeout=4)

    def action_save(self) -> None:
        if self.running and isinstance(self.session, TrainSession) and self.session.request_save():
            self.notify("saving at the next step…", timeout=2)
        else:
            self.notify("nothing to save: no run in progress", timeout=2)

    def action_setup(self) -> None:
        if self.running:
            self.notify("stop the run first (x)", severity="warning")
        elif not isinstance(self.screen, SetupScreen):
            self.switch_screen(
                SetupScreen(self.corpus, self.checkpoint, previous=self.last_cfg, checkpoint_open=self.ckpt is not None)
            )

    # ---- the setup screen's requests --------------------------------------------------------------

    @on(SetupScreen.TrainRequested)
    def _train_requested(self, message: SetupScreen.TrainRequested) -> None:
        self.start_run(message.config, message.resume)

    @on(SetupScreen.CheckpointOpened)
    def _checkpoint_opened(self, message: SetupScreen.CheckpointOpened) -> None:
        self.ckpt, self.ckpt_path = message.checkpoint, message.path

    @on(SetupScreen.GenerateRequested)
    def _generate_requested(self) -> None:
        self.open_generate()

    @on(SetupScreen.InspectRequested)
    def _inspect_requested(self) -> None:
        self.open_inspect()

    @on(SetupScreen.ExperimentRequested)
    def _experiment_requested(self, message: SetupScreen.ExperimentRequested) -> None:
        self.start_experiment(message.name, message.configs)

    # ---- the Runs screen and its requests ---------------------------------------------------------

    def action_runs(self) -> None:
        if not isinstance(self.screen, RunsScreen):
            self.push_screen(RunsScreen(self.runs_root))

    @on(RunsScreen.OpenRequested)
    def _open_requested(self, message: RunsScreen.OpenRequested) -> None:
        self.open_run(str(message.path), live=message.live)

    @on(RunsScreen.ContinueRequested)
    def _continue_requested(self, message: RunsScreen.ContinueRequested) -> None:
        self.continue_run(RunDir(message.path))

    @on(RunsScreen.GenerateRequested)
    def _run_generate_requested(self, message: RunsScreen.GenerateRequested) -> None:
        self.run_weights(RunDir(message.path), "generate")

    @on(RunsScreen.InspectRequested)
    def _run_inspect_requested(self, message: RunsScreen.InspectRequested) -> None:
        self.run_weights(RunDir(message.path), "inspect")

    # ---- a run folder on the dashboard: replayed, or watched while another process trains it -------

    def open_run(self, path: str, live: bool = False) -> None:
        """Show a run folder on the dashboard: replayed from its log, or followed while it trains."""
        if self.running:
            self.notify(
                "a run is training here: stop it first (x), or compare runs instead", severity="warning", timeout=4
            )
            return
        if not RunDir(Path(path)).metrics.is_file():
            self.notify(
                f"{Path(path).name} has no metrics.jsonl (a run from before the log): open its "
                "checkpoint with g or i instead",
                severity="warning",
                timeout=5,
            )
            return

        def body() -> None:
            from rnntui.ui.workers.replay import RunView

            view = RunView.open(path, live=live)  # reads the whole log: off the UI thread
            self.call_from_thread(self._show_view, view)

        self.run_worker(body, thread=True, group="open-run", exclusive=True, exit_on_error=False)

    def _show_view(self, view: RunView) -> None:
        self.session, self.view = None, view
        self.ckpt = self.ckpt_path = None
        while isinstance(self.screen, RunsScreen) or type(self.screen).__name__ == "CompareScreen":
            self.pop_screen()
        self.switch_screen(TrainScreen(view, self.dash_panel))
        if view.live and not view.ended:
            self.notify(f"watching {view.run.path}: it trains in another process", timeout=4)
            if self._watch_timer is None:
                self._watch_timer = self.set_interval(WATCH_POLL_S, self.poll_view)
        self.call_after_refresh(self.show_probe_position)

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

    def _apply_view(self, view: RunView, records: list, info) -> None:
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
            self.notify(
                "the process training this run is gone (killed?): its log stops here",
                title="run ended",
                severity="warning",
                timeout=10,
            )

    def action_probe_history(self, delta: int) -> None:
        """< and >: the gradient-flow panel steps through the probes the run's log kept."""
        if self.view is None:
            return
        if self.view.step_probe(delta) is None:
            self.notify("no gradient probes in this run's log", timeout=2)
        self.show_probe_position()

    def show_probe_position(self) -> None:
        if self.view is not None and isinstance(self.screen, TrainScreen):
            self.screen.probe_history = self.view.probe_position()

    # ---- continue, generate, inspect: a run folder's checkpoint, an opened one, or the live weights --

    def continue_run(self, run: RunDir) -> None:
        """Train a run further from its latest checkpoint, in its own folder."""
        info, ckpt = run.read_info(), run.checkpoint()
        if (who := run.owner()) is not None:  # its lock: a process here or elsewhere trains it
            self.notify(
                f"{run.name} is being trained by {who}: stop it there first",
                severity="warning",
                timeout=5,
                markup=False,
            )
            return
        if ckpt is None:
            self.notify(f"{run.name} has no checkpoint to continue from", severity="warning")
            return
        if self.running:
            self.notify("a run is already going: stop it first (x)", severity="warning")
            return
        cfg, extended = continue_config(run, info)
        if extended:  # a completed budget: train as long again
            self.notify(f"continuing {run.name} to step {cfg.steps:,}", timeout=4)
        while isinstance(self.screen, RunsScreen):
            self.pop_screen()
        self.view = None
        self.start_run(cfg, resume=str(ckpt))

    def run_weights(self, run: RunDir, then: str) -> None:
        """Load the run's checkpoint (reloaded at every open: a watched run keeps saving) and open the
        generation ("generate") or inspection ("inspect") screen on it."""
        ckpt_path = run.checkpoint()
        if ckpt_path is None:
            self.notify(f"{run.name} has no checkpoint yet", severity="warning")
            return

        def body() -> None:
            ckpt = load_checkpoint(str(ckpt_path))  # a CheckpointError is reported by on_worker_state_changed
            self.call_from_thread(self._weights_loaded, str(ckpt_path), ckpt, then)

        self.run_worker(body, thread=True, group="load", exit_on_error=False)

    def _weights_loaded(self, path: str, ckpt: dict, then: str) -> None:
        self.ckpt, self.ckpt_path = ckpt, path
        if then == "generate":
            self.open_generate(from_ckpt=True)
        else:
            self.open_inspect(ckpt)

    def action_generate(self) -> None:
        if self.view is not None:  # a run folder: its latest checkpoint, reloaded each time
            self.run_weights(self.view.run, "generate")
        else:
            self.open_generate()

    def open_generate(self, from_ckpt: bool = False) -> None:
        """The generation panel on the live weights of the run training here, else the opened checkpoint.
        Weights are never copied on the UI thread: the panel calls its source in a worker."""
        session = self.session
        live = not from_ckpt and isinstance(session, TrainSession) and session.live
        if live and isinstance(session, TrainSession) and session.state.started is not None:  # live says both
            source = (
                session.snapshot,
                session.state.started.vocab,
                "live weights: each Generate copies the current step",
            )
        elif self.ckpt is not None:
            ckpt = self.ckpt
            source = ((lambda: ckpt), ckpt["vocab"], f"{self.ckpt_path} (step {ckpt.get('step', 0):,})")
        else:
            self.notify("no model yet: start training or open a checkpoint", severity="warning")
            return
        if not isinstance(self.screen, GenerateScreen):
            where = str(self.state.run_dir) if live or not self.ckpt_path else str(Path(self.ckpt_path).parent)
            what = f"live weights of {where}" if live else str(self.ckpt_path)
            self.push_screen(
                GenerateScreen(
                    *source, panel=self.gen_panel, checkpoint=what, save_dir=where, sampler_factory=self.sampler_factory
                )
            )

    def action_inspect(self) -> None:
        if self.view is not None:
            self.run_weights(self.view.run, "inspect")
        else:
            self.open_inspect()

    def open_inspect(self, ckpt: dict | None = None, text: str | None = None) -> None:
        from rnntui.ui.screens.inspect import InspectScreen  # the inspector pulls in its own widgets

        source: dict | Callable[[], Any] | None = ckpt
        if source is None and isinstance(self.session, TrainSession) and self.session.trainer is not None:
            # live weights: copied inside the inspector's worker, never on the UI thread under the
            # trainer's lock (a large model on a GPU would freeze the screen)
            source = self.session.snapshot
        source = source or self.ckpt
        if source is None:
            self.notify("no model yet: start training or open a checkpoint", severity="warning")
            return
        self.push_screen(InspectScreen(source, text))

    def load_for_inspect(self, path: str) -> None:
        """`rnntui inspect CKPT`: the inspector is the whole app, so leaving it (esc) ends the app."""
        from rnntui.ui.screens.inspect import InspectScreen

        def body() -> None:
            ckpt = load_checkpoint(path)  # a CheckpointError is reported by on_worker_state_changed
            self.call_from_thread(loaded, ckpt)

        def loaded(ckpt: dict) -> None:
            self.ckpt, self.ckpt_path = ckpt, path
            self.push_screen(InspectScreen(ckpt, self.inspect_text), lambda _: self.exit(0))

        self.notify(f"loading {path}…", timeout=2)
        self.run_worker(body, thread=True, group="load", name="load", exit_on_error=False)

    # ---- experiments: several runs trained together, shown in Compare -----------------------------

    def start_experiment(self, name: str, cfgs: list[TrainConfig]) -> None:
        """Train several runs interleaved in one worker and show them in Compare as they learn."""
        if self.running and isinstance(self.session, ExperimentSession):
            self.notify("an experiment is already going: showing it (x stops it)", timeout=3)
            self.show_experiment(self.session)
            return
        if self.running:
            self.notify("a run is already going: stop it first (x)", severity="warning")
            return
        session = ExperimentSession(name, cfgs, self.trainer_factory)
        self.session, self.view = session, None
        post = lambda i, event: self.post_message(ExperimentEvent(i, event))  # thread-safe
        session.worker = self.run_worker(
            partial(session.run, post), thread=True, group="train", name="experiment", exit_on_error=False
        )
        self.show_experiment(session)

    def show_experiment(self, session: ExperimentSession) -> None:
        from rnntui.ui.screens.compare import CompareScreen

        self.push_screen(
            CompareScreen(lambda: list(session.run_dirs), title=f"experiment: {session.name}", status=session.describe)
        )

    @on(ExperimentEvent)
    def _experiment_event(self, message: ExperimentEvent) -> None:
        session, event = self.session, message.event
        if not isinstance(session, ExperimentSession):
            return
        session.seen(message.index, event)
        if isinstance(event, RunStarted) and event.notice:
            self.notify(event.notice, timeout=5)
        elif isinstance(event, RunFinished) and event.reason in ("diverged", "error"):
            self.notify(
                event.message, title=f"{session.label(message.index)} {event.reason}", severity="warning", timeout=8
            )

    # ---- theme and help ---------------------------------------------------------------------------

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def action_help(self, topic: str | None = None) -> None:
        """The help screen; `topic` (a dashboard panel id, from h or a panel's title) opens it at that panel's
        explanation, else at the keys."""
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen, topic))

    @on(TrainScreen.HelpRequested)
    def _help_requested(self, message: TrainScreen.HelpRequested) -> None:
        self.action_help(message.topic)

    @on(TrainScreen.PanelChosen)
    def _panel_chosen(self, message: TrainScreen.PanelChosen) -> None:
        self.dash_panel = message.panel  # for this session: the app keeps no preferences on disk

    # ---- text from outside -------------------------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification (screens' and widgets' notify() come here) is plain text, never markup: the
        names, paths, typed text and errors it quotes are shown as they are, their control characters as
        symbols (textsafe.visible). `markup` is accepted for Textual's signature and ignored."""
        super().notify(
            visible(str(message), multiline=True),
            title=visible(str(title)),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def format_title(self, title: str, sub_title: str) -> Content:
        """The header line (plain text in Textual): a run name or a path in it shows its control characters."""
        return super().format_title(visible(title), visible(sub_title))

    def action_help_quit(self) -> None:
        """Textual's hint for ctrl+c, in the plain text notify() takes here."""
        self.notify("press ctrl+q to quit the app", title="Do you want to quit?")

    # ---- exports and screenshots: written to the run folder, else the working directory -------------
    # (never to a Downloads folder that may not exist)

    def export_folder(self) -> Path:
        """Where exports and screenshots go: the run folder when the run saves, else the working directory."""
        folder = self.state.run_dir
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def action_export(self) -> None:
        """e: the dashboard as SVG, with its metrics as JSONL and CSV."""
        folder = self.export_folder()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        svg = self.save_screenshot(f"dashboard-{stamp}.svg", str(folder))
        self.state.write_jsonl(folder / f"metrics-{stamp}.jsonl")
        self.state.write_csv(folder / f"metrics-{stamp}.csv")
        self.notify(f"exported {Path(svg).name} and metrics-{stamp}.jsonl/.csv to {folder}", timeout=8)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """The palette's Screenshot saves where e (export) does."""
        self.save_and_report_screenshot(filename, path)

    def save_and_report_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        try:
            folder = Path(path) if path else self.export_folder()
            screen = type(self.screen).__name__.removesuffix("Screen").lower()
            name = filename or f"{screen}-{time.strftime('%Y%m%d-%H%M%S')}.svg"
            svg = self.save_screenshot(name, str(folder))
        except OSError as e:
            self.notify(f"cannot save the screenshot: {e.strerror or e}", severity="error")
            return
        self.notify(f"saved {svg}", title="screenshot", timeout=6)

    def get_system_commands(self, screen):
        for command in super().get_system_commands(screen):
            if command.title == "Screenshot":  # Textual's default writes to ~/Downloads
                command = command._replace(callback=lambda: self.set_timer(0.1, self.save_and_report_screenshot))
            yield command

    # ---- quitting: q asks while training; SIGTERM stops and saves (a closed terminal: shutdown.py) ---

    async def action_quit(self) -> None:
        if not self.running:
            self.exit(0)
            return

        def chosen(save: bool | None) -> None:
            if save:  # waiting happens in an async worker so the screen keeps repainting meanwhile
                self.run_worker(self.stop_and_exit(), group="quit", exit_on_error=False)

        self.push_screen(QuitDialog(), chosen)

    def on_stop_signal(self, signum: int) -> None:
        if self.running:
            self.run_worker(self.stop_and_exit(128 + signum), group="quit", exit_on_error=False)
        else:
            self.exit(128 + signum)

    async def stop_and_exit(self, code: int = 0) -> None:
        """Stop the run, wait for the worker (the engine validates and writes latest.pt), then exit."""
        self.notify("stopping: validating and saving latest.pt…", timeout=60)
        session = self.session
        assert session is not None and session.worker is not None  # called while a run is going
        session.halt()
        try:
            await session.worker.wait()
        except WorkerFailed:
            pass  # already reported by on_worker_state_changed
        self.exit(code)


def run_tui(
    corpus: str | None = None,
    checkpoint: str | None = None,
    inspect_checkpoint: str | None = None,
    inspect_text: str | None = None,
    watch: str | None = None,
    runs_root: str | None = None,
) -> int:
    """Run the app; returns the process exit code. watch: a run folder to follow (rnntui watch)."""
    root = runs_root or (str(Path(watch).resolve().parent) if watch else "checkpoints")
    app = RnntuiApp(corpus, checkpoint, inspect_checkpoint, inspect_text, runs_root=root, watch=watch)
    result = app.run()
    return result if isinstance(result, int) else (app.return_code or 0)


if __name__ == "__main__":
    raise SystemExit(run_tui())
