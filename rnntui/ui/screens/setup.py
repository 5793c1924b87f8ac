"""Setup screen: pick a corpus and a model, or open a checkpoint; invalid values are refused at the field.

Corpus statistics, the device list and checkpoints load in thread workers (they import torch), so the
screen paints at once and fills in. The form's fields, the values they show, path completion and the
experiment block are in setup_form.py. What the user asks for beyond the form (train, generate, inspect,
run an experiment) goes to the app as the messages declared below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Select, Static

from rnntui.core.config import ConfigError, TrainConfig, config_from_dict, suggested_model
from rnntui.core.runs.folder import continue_in
from rnntui.core.textsafe import visible
from rnntui.ui.screens.forms import all_valid
from rnntui.ui.screens.setup_form import (
    BUILTIN_LABELS,
    FIELDS,
    checkpoint_block,
    checkpoint_line,
    config_from_form,
    corpus_block,
    experiment_block,
    model_block,
    model_values,
)
from rnntui.ui.widgets.header import AppHeader


class SetupScreen(Screen):
    BINDINGS = [
        Binding("ctrl+s", "start", "Start training", priority=True),
        Binding("ctrl+o", "focus_checkpoint", "Open checkpoint"),
    ]

    # ---- what the screen asks the app for -----------------------------------------------------------

    @dataclass
    class TrainRequested(Message):
        """Start training: the form's settings, or continue the opened checkpoint with them."""

        config: TrainConfig
        resume: str | None = None  # the checkpoint to continue from

    @dataclass
    class CheckpointOpened(Message):
        """A checkpoint was loaded here: the app keeps it for Generate and Inspect."""

        path: str
        checkpoint: dict  # the checkpoint file's dict, for the workers that sample or inspect it

    @dataclass
    class GenerateRequested(Message):
        """The Generate button: the generation panel on the opened checkpoint."""

    @dataclass
    class InspectRequested(Message):
        """The Inspect button: the inspector on the opened checkpoint."""

    @dataclass
    class ExperimentRequested(Message):
        """Run experiment: several runs of the form's settings, trained together."""

        name: str  # the preset's name, for titles
        configs: list[TrainConfig]  # one per run

    def __init__(
        self,
        corpus: str | None = None,
        checkpoint: str | None = None,
        previous: TrainConfig | None = None,
        checkpoint_open: bool = False,
    ) -> None:
        super().__init__()
        if previous is not None:
            corpus = previous.corpus  # `n` on the dashboard: the form comes back as the last run had it
        self.corpus = corpus  # preselected corpus (a built-in name or a path) from the command line
        self.checkpoint = checkpoint  # preselected checkpoint path from the command line
        self.previous = previous  # the last run's settings, to fill the form with
        # a checkpoint is open (here, or before in the app): its architecture stays in the form, a GPU found
        # meanwhile does not replace it with a bigger suggestion
        self.checkpoint_open = checkpoint_open
        self.ckpt_path: str | None = None  # the checkpoint this screen opened (Continue training resumes it)
        self.corpus_error: str | None = None  # why the shown corpus cannot be used; start refuses then
        # the built-in corpus Select's value as last seen, to tell a real change from its first report
        self.builtin_shown = corpus if corpus in BUILTIN_LABELS else "python"

    # ---- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        defaults = self.previous or TrainConfig(model=suggested_model("cpu"))
        builtin = self.builtin_shown
        path = "" if self.corpus in BUILTIN_LABELS or self.corpus is None else self.corpus
        yield AppHeader()
        with VerticalScroll(id="setup"):
            yield Button("Start training  (ctrl+s)", id="start", variant="primary")
            with Horizontal(id="setup-cols"):
                yield from corpus_block(builtin, path)
                yield from model_block(defaults)
            yield from checkpoint_block(self.checkpoint or "")
            yield from experiment_block()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#start", Button).focus()
        self.load_corpus_info(self.corpus_name())
        self.find_devices()
        if self.checkpoint:
            self.load_ckpt(self.checkpoint)

    # ---- corpus --------------------------------------------------------------------------------

    def corpus_name(self) -> str:
        path = self.query_one("#corpus-path", Input).value.strip()
        return os.path.expanduser(path) if path else str(self.query_one("#corpus-builtin", Select).value)

    @on(Select.Changed, "#corpus-builtin")
    def _builtin_changed(self, event: Select.Changed) -> None:
        # The Select also reports its initial value once mounted; only a real change of built-in corpus
        # clears the path, or a file named on the command line would be dropped before the user sees it.
        if event.value == self.builtin_shown:
            return
        self.builtin_shown = str(event.value)  # allow_blank=False: always a corpus's name
        self.query_one("#corpus-path", Input).value = ""
        self.load_corpus_info(self.corpus_name())

    @on(Input.Submitted, "#corpus-path")
    def _path_submitted(self) -> None:
        self.load_corpus_info(self.corpus_name())

    @work(thread=True, exclusive=True, group="corpus-info", exit_on_error=False)
    def load_corpus_info(self, name: str) -> None:
        from textual.worker import get_current_worker

        from rnntui.core.config import RnntuiError
        from rnntui.core.data.corpus import corpus_info

        worker, shown = get_current_worker(), [-1]

        def progress(done: int, total: int) -> None:  # a large file's first load: say how far it is
            pct = 100 * done // max(total, 1)
            if pct != shown[0] and not worker.is_cancelled:
                shown[0] = pct
                self.app.call_from_thread(self._show_corpus, f"loading {name}… {pct}%", "")

        self.app.call_from_thread(self._show_corpus, f"loading {name}…", "")
        try:
            c = corpus_info(name, progress=progress)  # bounded memory; instant once cached
        except RnntuiError as e:
            self.app.call_from_thread(self._show_corpus, f"cannot use this corpus: {e}", "", str(e))
            return
        if worker.is_cancelled:
            return
        info = f"{c.chars:,} chars · vocabulary {c.vocab} · {c.n_train:,} train / {c.n_val:,} val"
        self.app.call_from_thread(self._show_corpus, info, c.preview)

    def _show_corpus(self, info: str, preview: str, error: str | None = None) -> None:
        self.corpus_error = error
        self.query_one("#corpus-info", Static).update(Text(visible(info)))  # it may name the file
        self.query_one("#corpus-preview", Static).update(Text(visible(preview, multiline=True)))

    # ---- devices -------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="devices", exit_on_error=False)
    def find_devices(self) -> None:
        from rnntui.core.model.devices import available_devices

        self.app.call_from_thread(self._show_devices, available_devices())

    def _show_devices(self, devices: list[str]) -> None:
        select = self.query_one("#device", Select)
        select.set_options([(f"auto ({devices[0]})", "auto")] + [(d, d) for d in devices])
        want = self.previous.device if self.previous is not None and self.previous.device in devices else "auto"
        with select.prevent(Select.Changed):  # re-select so the shown label is the new one, not the stale
            select.value = devices[-1] if want == "auto" else "auto"
            select.value = want
        if devices[0] != "cpu" and not self.checkpoint_open and self.previous is None:  # a GPU affords a bigger network
            for key, value in model_values(suggested_model(devices[0])).items():
                self.query_one(f"#{key}", Input).value = value

    # ---- validation ----------------------------------------------------------------------------

    @on(Input.Changed)
    def _show_reason(self, event: Input.Changed) -> None:
        if event.input.id in FIELDS:
            why = self.query_one(f"#{event.input.id}-why", Static)
            result = event.validation_result
            why.update("" if result is None or result.is_valid else "↳ " + result.failure_descriptions[0])

    def read_config(self) -> TrainConfig | None:
        """The form as a TrainConfig, or None after pointing the user at the first refused field (or
        saying why the corpus cannot be used)."""
        if self.corpus_error is not None:
            self.notify(f"cannot use this corpus: {self.corpus_error}", title="not started", severity="error")
            self.query_one("#corpus-path", Input).focus()
            return None
        if not all_valid(self, FIELDS):
            return None
        cfg = config_from_form(
            {key: self.query_one(f"#{key}", Input).value.strip() for key in FIELDS},
            kind=str(self.query_one("#kind", Select).value),
            corpus=self.corpus_name(),
            device=str(self.query_one("#device", Select).value),
            previous=self.previous,
        )
        try:
            cfg.validate()
        except ConfigError as e:
            self.notify(str(e), severity="error")
            return None
        return cfg

    # ---- checkpoints ---------------------------------------------------------------------------

    def action_focus_checkpoint(self) -> None:
        self.query_one("#ckpt-path", Input).focus()

    @on(Input.Submitted, "#ckpt-path")
    def _ckpt_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.load_ckpt(os.path.expanduser(event.value.strip()))

    @work(thread=True, exclusive=True, group="ckpt", exit_on_error=False)
    def load_ckpt(self, path: str) -> None:
        from rnntui.core.config import RnntuiError
        from rnntui.ui.workers.engine import load_checkpoint

        self.app.call_from_thread(self.query_one("#ckpt-info", Static).update, f"loading {path}…")
        try:
            ckpt = load_checkpoint(path)
        except RnntuiError as e:
            self.app.call_from_thread(self._ckpt_failed, str(e))
            return
        self.app.call_from_thread(self._ckpt_loaded, path, ckpt)

    def _ckpt_failed(self, message: str) -> None:
        self.query_one("#ckpt-info", Static).update(Text(visible(f"cannot open: {message}")))
        self.notify(message, severity="error")

    def _ckpt_loaded(self, path: str, ckpt: dict) -> None:
        self.ckpt_path, self.checkpoint_open = path, True
        self.post_message(self.CheckpointOpened(path, ckpt))
        cfg = config_from_dict(ckpt["config"])
        m = cfg.model
        self.query_one("#ckpt-info", Static).update(Text(visible(checkpoint_line(ckpt, cfg))))
        for key, value in model_values(m).items():  # continuing keeps the checkpoint's architecture
            self.query_one(f"#{key}", Input).value = value
        self.query_one("#kind", Select).value = m.kind
        if cfg.corpus in BUILTIN_LABELS:
            self.builtin_shown = cfg.corpus  # set here, so the Select's report of it is not a user's change
            self.query_one("#corpus-builtin", Select).value = cfg.corpus
            self.query_one("#corpus-path", Input).value = ""
        else:
            self.query_one("#corpus-path", Input).value = cfg.corpus
        self.load_corpus_info(self.corpus_name())
        for button in self.query("#ckpt-buttons Button"):
            button.disabled = False
        self.query_one("#resume", Button).focus()

    # ---- actions -------------------------------------------------------------------------------

    def action_start(self) -> None:
        cfg = self.read_config()
        if cfg is not None:
            self.post_message(self.TrainRequested(cfg))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self.action_start()
        elif event.button.id == "resume":
            cfg = self.read_config()
            if cfg is not None and self.ckpt_path is not None:
                self.post_message(self.TrainRequested(continue_in(cfg, self.ckpt_path), resume=self.ckpt_path))
        elif event.button.id == "generate":
            self.post_message(self.GenerateRequested())
        elif event.button.id == "inspect":
            self.post_message(self.InspectRequested())

    # ---- experiments (experiment_block, in setup_form.py) ----------------------------------------

    @on(Button.Pressed, "#exp-start")
    def _experiment_pressed(self) -> None:
        from rnntui.core.train.experiments import PRESETS, experiment_configs

        cfg = self.read_config()
        if cfg is None:
            return
        key = str(self.query_one("#exp-preset", Select).value)
        try:
            cfgs = experiment_configs(key, cfg)
        except ConfigError as e:
            self.notify(str(e), severity="error")
            return
        self.post_message(self.ExperimentRequested(PRESETS[key].name, cfgs))
