"""The rnntui Textual app: screens, key bindings, command palette, and routing of engine events.

What the app does beyond routing lives in its mixins, one concern each: run_actions.py (run folders, Runs
and Compare, experiments), model_actions.py (generate and inspect), exports.py (export and screenshots)
and shutdown.py (quitting, SIGTERM and SIGHUP).

Import cost matters here: this module imports Textual and the stdlib-only parts of rnntui.core (config,
events); torch loads later, inside thread workers, after the first frame is on screen.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.notifications import SeverityLevel
from textual.worker import Worker, WorkerState

from rnntui.core.config import RnntuiError, TrainConfig
from rnntui.core.events import CheckpointSaved, RunFinished, RunStarted
from rnntui.core.runs.folder import continue_in
from rnntui.core.textsafe import visible
from rnntui.ui.exports import Exports
from rnntui.ui.messages import EngineEvent
from rnntui.ui.model_actions import ModelActions
from rnntui.ui.run_actions import RunActions
from rnntui.ui.screens.generate import GenPanelState
from rnntui.ui.screens.help import HelpScreen
from rnntui.ui.screens.setup import SetupScreen
from rnntui.ui.screens.train import TrainScreen
from rnntui.ui.shutdown import Shutdown
from rnntui.ui.state import RunState
from rnntui.ui.gen_worker import SamplerFactory
from rnntui.ui.worker import TrainerFactory, TrainSession


class ScreenCommands(Provider):
    """The command palette lists every described key binding of the current screen and the app."""

    def _commands(self) -> list[tuple[str, object]]:
        seen, out = set(), []
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


class RnntuiApp(RunActions, ModelActions, Exports, Shutdown, App[int]):
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

    def __init__(self, corpus: str | None = None, checkpoint: str | None = None,
                 inspect_checkpoint: str | None = None, inspect_text: str | None = None,
                 trainer_factory: TrainerFactory | None = None, sampler_factory: SamplerFactory | None = None,
                 runs_root: str = "checkpoints", watch: str | None = None):
        super().__init__()
        self.corpus, self.checkpoint = corpus, checkpoint  # preselected on the setup screen
        self.inspect_checkpoint, self.inspect_text = inspect_checkpoint, inspect_text
        self.trainer_factory = trainer_factory  # None: the real engine (tests pass a fake)
        self.sampler_factory = sampler_factory  # None: the real Sampler
        self.session: TrainSession | None = None  # the current or last training run
        self.state = RunState()  # what the dashboard shows
        self.ckpt: dict | None = None  # a checkpoint opened on the setup screen
        self.ckpt_path: str | None = None
        self.gen_panel = GenPanelState()  # the generation panel's settings, kept between openings
        self.last_cfg: TrainConfig | None = None  # the settings of the last run started
        self.runs_root = runs_root  # where the Runs screen looks for run folders
        self.watch_dir = watch  # a run folder to follow from the start (rnntui watch)
        self.view = None  # RunView: the dashboard shows a run folder (replayed or watched), not a session

    def on_mount(self) -> None:
        if self.inspect_checkpoint:  # `rnntui inspect CKPT`: the inspector is the app; esc leaves it
            self.load_for_inspect(self.inspect_checkpoint)
        else:
            pushed = self.push_screen(SetupScreen(self.corpus, self.checkpoint))
            if self.watch_dir:  # once the setup screen is mounted, the dashboard replaces it

                async def watch_when_ready() -> None:
                    await pushed
                    self.open_run(self.watch_dir, live=True)

                self.run_worker(watch_when_ready(), group="watch-start")
        self._catch_stop_signals()

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
            self.session.stop.set()
            self.session.pause.clear()

    # ---- phase -----------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.session is not None and self.session.running

    @property
    def phase(self) -> str:
        st = self.state
        if self.view is not None:
            return self.view.phase()
        if self.session is None:
            return "idle"
        if st.finished is not None:
            return st.finished.reason
        if not self.running:
            return "failed" if self.session.worker and self.session.worker.state == WorkerState.ERROR else "idle"
        if self.session.stop.is_set():
            return "stopping"
        if st.started is None:
            return "loading"
        return "paused" if st.paused or self.session.pause.is_set() else "training"

    # ---- training --------------------------------------------------------------------------------

    def start_run(self, cfg: TrainConfig, resume: str | None = None) -> None:
        if self.running:
            self.notify("a run is already going: stop it first (x)", severity="warning")
            return
        self.session = TrainSession(cfg, resume, self.trainer_factory)
        self.last_cfg = cfg  # `n` (new run) brings the setup screen back with these settings
        self.state, self.view = RunState(), None
        post = lambda event: self.post_message(EngineEvent(event))  # noqa: E731  (thread-safe)
        self.session.worker = self.run_worker(partial(self.session.run, post), thread=True, group="train",
                                              name="train", exit_on_error=False)
        if not isinstance(self.screen, TrainScreen):
            self.switch_screen(TrainScreen())

    def on_engine_event(self, message: EngineEvent) -> None:
        event = message.event
        self.state.apply(event)
        if isinstance(event, RunFinished):
            if event.reason in ("diverged", "error"):
                self.notify(event.message, title=f"training {event.reason}", severity="error", timeout=15)
            else:
                where = f" · saved {event.latest_path}" if event.latest_path else ""
                self.notify(f"{event.message}{where}", title=f"training {event.reason}")
        elif isinstance(event, RunStarted) and event.notice:  # e.g. the run folder was taken: a fresh name
            self.notify(event.notice, timeout=10)
        elif isinstance(event, CheckpointSaved) and self.session and self.session.save_asked:
            self.session.save_asked = False
            self.notify(f"saved {event.path}", timeout=4)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker errors become notifications; the app keeps running."""
        if event.state != WorkerState.ERROR:
            return
        err = event.worker.error
        if isinstance(err, RnntuiError):
            text = str(err)
        elif isinstance(err, MemoryError):
            text = "out of memory: lower the batch size, the sequence length or the hidden size"
        else:
            first = str(err).strip().splitlines()[0] if str(err).strip() else ""
            text = f"{type(err).__name__}: {first}"[:300]
        title = {"train": "training failed", "generate": "generation failed"}.get(event.worker.group, "error")
        self.notify(text, title=title, severity="error", timeout=15, markup=False)

    def action_start(self) -> None:
        """Start again after a run ended: continue from its latest.pt when it saved one."""
        if self.running:
            self.notify("already training", timeout=2)
            return
        if self.view is not None:  # a run folder on the dashboard: continue it
            self.continue_run()
            return
        if self.session is None:
            self.action_setup()
            return
        latest = self.state.finished.latest_path if self.state.finished else None
        if latest and Path(latest).exists():
            self.start_run(continue_in(self.session.cfg, latest), resume=latest)
        else:
            self.start_run(self.session.cfg, self.session.resume)

    def action_pause(self) -> None:
        if not self.running:
            self.notify("not training", timeout=2)
        elif self.session.pause.is_set():
            self.session.pause.clear()
        else:
            self.session.pause.set()

    def action_stop(self) -> None:
        if self.running:
            self.session.stop.set()
            self.notify("stopping after this step (latest.pt is saved)", timeout=3)
        elif self.view is not None and self.view.alive():
            self.notify("this run trains in another process: the app only watches it (stop it there)", timeout=4)

    def action_save(self) -> None:
        if not self.running or self.session.trainer is None:
            self.notify("nothing to save: no run in progress", timeout=2)
            return
        self.session.save_asked = True
        self.session.trainer.request_save()
        self.notify("saving at the next step…", timeout=2)

    def action_setup(self) -> None:
        if self.running:
            self.notify("stop the run first (x)", severity="warning")
        elif not isinstance(self.screen, SetupScreen):
            self.switch_screen(SetupScreen(self.corpus, self.checkpoint, previous=self.last_cfg))

    # ---- theme and help --------------------------------------------------------------------------

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def action_help(self, topic: str | None = None) -> None:
        """The help screen; `topic` (a dashboard panel id) opens it at that panel's explanation."""
        if isinstance(self.screen, HelpScreen):
            return
        if topic is None:
            topic = getattr(self.screen, "help_topic", lambda: None)()
        self.push_screen(HelpScreen(self.screen, topic))

    # ---- text from outside -----------------------------------------------------------------------

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification (screens' and widgets' notify() come here) is plain text, never markup: the
        names, paths, typed text and errors it quotes are shown as they are, their control characters as
        symbols (textsafe.visible). `markup` is accepted for Textual's signature and ignored."""
        super().notify(visible(str(message), multiline=True), title=visible(str(title)), severity=severity,
                       timeout=timeout, markup=False)

    def format_title(self, title: str, sub_title: str) -> Content:
        """The header line (plain text in Textual): a run name or a path in it shows its control characters."""
        return super().format_title(visible(title), visible(sub_title))

    def action_help_quit(self) -> None:
        """Textual's hint for ctrl+c, in the plain text notify() takes here."""
        self.notify("press ctrl+q to quit the app", title="Do you want to quit?")



def run_tui(corpus: str | None = None, checkpoint: str | None = None, inspect_checkpoint: str | None = None,
            inspect_text: str | None = None, watch: str | None = None, runs_root: str | None = None) -> int:
    """Run the app; returns the process exit code. watch: a run folder to follow (rnntui watch)."""
    root = runs_root or (str(Path(watch).resolve().parent) if watch else "checkpoints")
    app = RnntuiApp(corpus, checkpoint, inspect_checkpoint, inspect_text, runs_root=root, watch=watch)
    result = app.run()
    return result if isinstance(result, int) else (app.return_code or 0)


if __name__ == "__main__":
    raise SystemExit(run_tui())
