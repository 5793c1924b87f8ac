"""Generation panel: sampling (one temperature or three side by side), beam search and step mode.

Each Generate / Beam / Step builds its sampler from a fresh snapshot in a thread worker (during training:
a consistent copy of the current weights), so the text reflects the model as it is now. Every pane can be
coloured by the probability the model gave each character, is checked for text copied from the training
corpus once it is complete, and can be copied to the clipboard or saved with its settings (those three:
generate_output.py; step mode: generate_step.py). The settings live in the app's GenPanelState, so they
survive closing and reopening the panel; the workers receive core GenerationSettings, as `rnntui sample` uses.
"""
from __future__ import annotations

import random
import threading
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.worker import WorkerState
from textual.widgets import Button, Checkbox, Footer, Input, Static

from rnntui.core.units import unknown_chars
from rnntui.ui import gen_worker as gw
from rnntui.ui.forms import all_valid
from rnntui.ui.screens.generate_step import StepMode
from rnntui.ui.screens.generate_output import GeneratedText
from rnntui.core.generate.settings import GenerationSettings
from rnntui.ui.widgets.gen_controls import FIELDS, GenControls, GenPanelState
from rnntui.ui.widgets.gen_panes import ConfidenceLegend, GenPane, StepCandidates
from rnntui.ui.widgets.temperature import TemperatureSlider
from rnntui.ui.widgets.header import AppHeader

SIDE_BY_SIDE = (0.5, 1.0, 1.5)


class GenerateScreen(StepMode, GeneratedText, Screen):
    BINDINGS = [
        Binding("ctrl+r", "generate", "Generate", priority=True),
        Binding("ctrl+e", "beam", "Beam", priority=True),
        Binding("ctrl+n", "step_mode", "Step", priority=True),
        Binding("ctrl+o", "toggle_compare", "Side by side", priority=True),
        Binding("ctrl+k", "toggle_colour", "Colour", priority=True),
        Binding("ctrl+y", "copy_pane", "Copy", priority=True),
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel_or_back", "Back", priority=True),
    ]

    def __init__(self, source: Callable[[], dict | None], vocab: str, title: str,
                 panel: GenPanelState | None = None, checkpoint: str = "", save_dir: str = "") -> None:
        super().__init__()
        self.source = source  # called in the worker: a checkpoint-format dict of the weights to sample
        self.vocab = set(vocab)  # to flag seed characters the model has never seen
        self.title_text = title  # where the weights come from, e.g. "live weights, step 1,200"
        self.panel = panel or GenPanelState()  # the app's: written as the user edits
        self.checkpoint = checkpoint or title  # recorded in saved files
        self.save_dir = Path(save_dir) if save_dir else Path.cwd()
        self.run_id = 0  # bumped per generation; messages of older runs are dropped
        self.stop = threading.Event()  # set to cancel the current generation
        self.origin: gw.Origin | None = None  # step and corpus of the weights behind the panes
        self.running = False
        self.stepper = None  # core Stepper while in step mode

    @property
    def texts(self) -> list[str]:
        return [p.text for p in self.query(GenPane)]

    def compose(self) -> ComposeResult:
        yield AppHeader()
        with Horizontal(id="gen"):
            yield GenControls(self.panel, id="gen-controls")
            with Vertical(id="gen-right"):
                yield ConfidenceLegend(id="gen-legend")
                yield Horizontal(id="gen-out")
                yield StepCandidates(id="gen-step")
        yield Footer()

    async def on_mount(self) -> None:
        self.sub_title = self.title_text
        self.query_one("#gen-controls").border_title = "settings"
        await self._layout(1)
        self.query_one("#gen-legend").display = self.panel.colour
        self.query_one("#gen-step").display = False
        self.query_one("#prime").focus()

    # ---- panes -----------------------------------------------------------------------------------

    async def _layout(self, panes: int) -> list[GenPane]:
        out = self.query_one("#gen-out")
        if len(out.children) != panes:
            await out.remove_children()
            await out.mount_all(GenPane(i) for i in range(panes))
        result = list(self.query(GenPane))
        for p in result:
            p.colour = self.panel.colour
        return result

    def _new_run(self) -> int:
        self.stop.set()  # a new generation replaces the one in progress
        self.stop = threading.Event()
        self.run_id += 1
        self.origin = None
        return self.run_id

    def _settings_dict(self, **extra) -> dict[str, object]:
        return {"checkpoint": self.checkpoint, "seed text": self.panel.gen.prime, **extra}

    # ---- inputs: every edit is kept in the app's settings ----------------------------------------

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "prime":
            self.panel.set("prime", event.value)
            bad = unknown_chars(self.vocab, event.value)
            self.query_one("#unknown", Static).update(
                Text(f"not in the vocabulary, skipped: {bad!r}", style="bold") if bad else "")
        elif event.input.id in {k for k, *_ in FIELDS}:
            valid = event.validation_result is None or event.validation_result.is_valid
            self.panel.put_text(event.input.id, event.value, valid)
            if event.input.id == "topk" and self.stepper is not None and valid:
                self._restep()  # the chart shows the new top-k at once

    @on(Checkbox.Changed)
    def _check_changed(self, event: Checkbox.Changed) -> None:
        self.panel.set(event.checkbox.id, event.value)
        if event.checkbox.id == "colour":
            self.query_one("#gen-legend").display = event.value
            for p in self.query(GenPane):
                p.colour = event.value  # the pane's watcher redraws it

    @on(TemperatureSlider.Changed)
    def _temp_changed(self, event: TemperatureSlider.Changed) -> None:
        self.panel.set("temp", event.value)
        if self.stepper is not None:
            self._restep()

    def _sync(self) -> GenerationSettings:
        return self.query_one(GenControls).sync()

    def _value(self, key: str) -> int:
        return self.query_one(GenControls).value(key)

    def _next_seed(self) -> int:
        """The typed seed, unless it is the one the last Generate used: then a new one, shown in the field."""
        seed = self._value("seed")
        if self.panel.last_seed is not None and seed == self.panel.last_seed:
            seed = random.randrange(100_000)  # short: easy to read off and type again
            self.query_one("#seed", Input).value = str(seed)
            self.panel.put_text("seed", str(seed), True)
        self.panel.last_seed = seed
        return seed

    # ---- sampling --------------------------------------------------------------------------------

    async def action_generate(self) -> None:
        if not all_valid(self, ("length", "topk", "seed", "ngram")):
            return
        await self._leave_step_mode(check=False)
        s = self._sync()
        s = replace(s, seed=self._next_seed())
        temps = SIDE_BY_SIDE if self.panel.compare and not s.argmax else (s.temperature,)
        req = gw.GenRequest(s, temps)
        run = self._new_run()
        seed_text = "".join(c for c in s.prime if c in self.vocab)  # what the sampler primes with
        for pane, t in zip(await self._layout(len(temps)), temps):
            mode = "argmax" if s.argmax else f"T {t:.2f}" + (f" · top-k {s.top_k}" if s.top_k else "")
            pane.reset(f"{mode} · seed {s.seed}", seed_text, self._settings_dict(
                mode="argmax" if s.argmax else "sample", temperature=t, top_k=s.top_k, seed=s.seed,
                length=s.length))
        self._set_running(True)
        body = partial(gw.generate, self.post_message, self.source, req, run, self.stop, self.app.sampler_factory)
        self.run_worker(body, thread=True, group="generate", name="generate", exit_on_error=False)

    async def action_beam(self) -> None:
        if not all_valid(self, ("length", "beam", "ngram")):
            return
        await self._leave_step_mode(check=False)
        s = self._sync()
        run = self._new_run()
        (pane,) = await self._layout(1)
        pane.reset(f"beam search · width {s.beam_width}" + (" · per char" if s.length_norm else ""),
                   "".join(c for c in s.prime if c in self.vocab),
                   self._settings_dict(mode="beam", width=s.beam_width, length=s.length, length_norm=s.length_norm,
                                       ends_at_newline=s.beam_stop == "\n"))
        pane.query_one(Static).update(_searching(s.beam_width))
        self._set_running(True)
        body = partial(gw.beam, self.post_message, self.source, s, run, self.stop)
        self.run_worker(body, thread=True, group="generate", name="beam", exit_on_error=False)

    def on_gen_started(self, msg: gw.GenStarted) -> None:
        if msg.run == self.run_id:
            self.origin = msg.origin
            for p in self.query(GenPane):
                p.settings["step"] = msg.origin.step

    def on_gen_chunk(self, msg: gw.GenChunk) -> None:
        panes = list(self.query(GenPane))
        if msg.run != self.run_id or msg.pane >= len(panes):
            return
        panes[msg.pane].add(msg.text, msg.probs)
        if msg.done and msg.pane == len(panes) - 1:
            self._set_running(False)
            self._copy_check()

    def on_beam_progress(self, msg: gw.BeamProgress) -> None:
        if msg.run == self.run_id and self.running:
            self.query_one(GenPane).query_one(Static).update(_searching(msg.width, msg.done, msg.total))

    def on_beam_done(self, msg: gw.BeamDone) -> None:
        if msg.run != self.run_id:
            return
        pane = self.query_one(GenPane)
        pane.beams = msg.beams
        pane.set_text(msg.beams[0].text, list(msg.beams[0].probs))
        self._set_running(False)
        self._copy_check()

    # ---- actions ---------------------------------------------------------------------------------

    async def action_cancel_or_back(self) -> None:
        if self.has_class("-stepping"):
            await self._leave_step_mode()
        elif self.running:
            self.stop.set()
            self._set_running(False)
            self.notify("generation cancelled", timeout=2)
        else:
            self._sync()
            self.dismiss()

    async def action_toggle_compare(self) -> None:
        box = self.query_one("#compare", Checkbox)
        box.value = not box.value
        self.panel.compare = box.value
        await self.action_generate()  # one key: toggling shows the result

    def action_toggle_colour(self) -> None:
        box = self.query_one("#colour", Checkbox)
        box.value = not box.value

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.query_one("#cancel", Button).disabled = not running

    @on(Button.Pressed, "#go")
    async def _go(self) -> None:
        await self.action_generate()

    @on(Button.Pressed, "#cancel")
    async def _cancel(self) -> None:
        await self.action_cancel_or_back()

    @on(Input.Submitted)
    async def _submitted(self) -> None:
        await self.action_generate()

    async def on_worker_state_changed(self, event) -> None:
        if event.worker.group == "generate" and event.worker.is_finished:
            self._set_running(False)
            if event.worker.state == WorkerState.ERROR:  # a screen's worker: its errors stop here, not at the app
                self.app.on_worker_state_changed(event)
            if event.worker.name == "stepper" and event.worker.state == WorkerState.ERROR:
                await self._leave_step_mode(check=False)  # no weights: no step mode (the app says why)

    def on_screen_resume(self) -> None:
        self.query_one("#prime").focus()

    def on_unmount(self) -> None:
        self.stop.set()  # a stream still running has no screen to go to


def _searching(width: int, done: int = 0, total: int = 0) -> Text:
    """What a beam search's pane shows until its beams come back."""
    count = f" {done:,} of {total:,} characters" if total else ""
    return Text(f"searching {width} beams…{count}", style="dim italic")
