"""Generation panel: sampling (one temperature or three side by side), beam search and step mode.

Each Generate / Beam / Step builds its sampler from a fresh snapshot in a thread worker (during training:
a consistent copy of the current weights), so the text reflects the model as it is now; the worker bodies
and their messages are in workers/generation.py. Every pane can be coloured by the probability the model
gave each character, is checked for text copied from the training corpus once it is complete, and can be
copied to the clipboard or saved with its settings (GenOutput holds the panes). Under the panes, the
novelty chart: the share of each pane's substrings, by length, found nowhere in the training text,
measured as the text streams in (widgets/gen_novelty.py). In step mode the model
advances one character per key and the user chooses (widgets/gen_step.py). The settings live in the
GenPanelState the app hands down (GenControls writes every edit into it), so they survive closing and
reopening the panel; the workers receive core GenerationSettings, as `rnntui sample` uses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Input, Static
from textual.worker import Worker, WorkerState

from rnntui.core.generate.settings import GenerationSettings
from rnntui.ui.screens import generate_modes as modes
from rnntui.ui.screens.forms import all_valid
from rnntui.ui.widgets.gen_controls import GenControls, GenPanelState
from rnntui.ui.widgets.gen_novelty import NOVELTY_HELP
from rnntui.ui.widgets.gen_panes import GenOutput, GenPane
from rnntui.ui.widgets.gen_step import StepCandidates
from rnntui.ui.widgets.header import AppHeader
from rnntui.ui.widgets.temperature import TemperatureSlider
from rnntui.ui.workers import generation as gw
from rnntui.ui.workers.engine import error_text
from rnntui.ui.workers.novelty import NoveltyMeasured

if TYPE_CHECKING:  # the core stepper pulls in the corpus module, which imports torch
    from rnntui.core.generate.stepping import Stepper


class GenerateScreen(Screen):
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
    HELP_SECTIONS = (("the novelty chart (under the generated text)", NOVELTY_HELP),)  # in the help screen

    def __init__(
        self,
        source: Callable[[], dict | None],
        vocab: str,
        title: str,
        panel: GenPanelState | None = None,
        checkpoint: str = "",
        save_dir: str = "",
        sampler_factory: gw.SamplerFactory | None = None,
    ) -> None:
        super().__init__()
        self.source = source  # called in the worker: a checkpoint-format dict of the weights to sample
        self.vocab = vocab  # the model's characters: seed characters outside them are skipped
        self.title_text = title  # where the weights come from, e.g. "live weights, step 1,200"
        self.panel = panel or GenPanelState()  # the app's: written as the user edits
        self.checkpoint = checkpoint or title  # recorded in saved files
        self.save_dir = Path(save_dir) if save_dir else Path.cwd()
        self.sampler_factory = sampler_factory  # None: the real Sampler (tests pass a fake)
        self.run_id = 0  # bumped per generation; messages of older runs are dropped
        self.stop = threading.Event()  # set to cancel the current generation
        self.origin: gw.Origin | None = None  # step and corpus of the weights behind the panes
        self.running = False

    @property
    def stepper(self) -> Stepper | None:
        """The core Stepper while in step mode (the step chart holds it), else None."""
        charts = self.query(StepCandidates)
        return charts.first().stepper if charts else None

    @property
    def texts(self) -> list[str]:
        return [p.text for p in self.query(GenPane)]

    def compose(self) -> ComposeResult:
        yield AppHeader()
        with Horizontal(id="gen"):
            yield GenControls(self.panel, self.vocab, id="gen-controls")
            yield GenOutput(id="gen-right")
        yield Footer()

    async def on_mount(self) -> None:
        self.sub_title = self.title_text
        self.query_one("#gen-controls").border_title = "settings"
        await self._layout(1)
        self.query_one("#gen-legend").display = self.panel.colour
        self.query_one("#gen-step").display = False
        self.query_one("#prime").focus()

    # ---- panes and runs --------------------------------------------------------------------------

    async def _layout(self, panes: int) -> list[GenPane]:
        return await self.query_one(GenOutput).lay_out(panes, self.panel.colour)

    def _new_run(self) -> int:
        self.stop.set()  # a new generation replaces the one in progress
        self.stop = threading.Event()
        self.run_id += 1
        self.origin = None
        return self.run_id

    def _reset(self, pane: GenPane, s: GenerationSettings, header: modes.Header) -> None:
        """Empty the pane for a new text: its title, the seed text the sampler primes with (the characters
        of the vocabulary), the settings saved with the text."""
        title, saved = header
        seed_text = "".join(c for c in s.prime if c in self.vocab)
        pane.reset(title, seed_text, {"checkpoint": self.checkpoint, "seed text": self.panel.gen.prime, **saved})

    def _sync(self) -> GenerationSettings:
        return self.query_one(GenControls).sync()

    def _run(self, name: str, body: Callable[..., None], *args) -> None:
        """A worker body of workers/generation.py in a thread: body(post, source, *args)."""
        work = partial(body, self.post_message, self.source, *args)
        self.run_worker(work, thread=True, group="generate", name=name, exit_on_error=False)

    # ---- what the controls change here (GenControls keeps every edit in the panel's state) ----------

    @on(Input.Changed, "#topk")
    def _topk_changed(self, event: Input.Changed) -> None:
        if self.stepper is not None and (event.validation_result is None or event.validation_result.is_valid):
            self._restep()  # the chart shows the new top-k at once

    @on(Checkbox.Changed, "#colour")
    def _colour_changed(self, event: Checkbox.Changed) -> None:
        self.query_one(GenOutput).show_colour(event.value)

    @on(TemperatureSlider.Changed)
    def _temp_changed(self) -> None:
        if self.stepper is not None:
            self._restep()

    # ---- sampling and beams ----------------------------------------------------------------------

    async def action_generate(self) -> None:
        if not all_valid(self, ("length", "topk", "seed", "ngram")):
            return
        await self._leave_step_mode(check=False)
        s = replace(self._sync(), seed=self.query_one(GenControls).next_seed())
        temps = modes.temperatures(s, self.panel.compare)
        run = self._new_run()
        for pane, t in zip(await self._layout(len(temps)), temps):
            self._reset(pane, s, modes.sample_header(s, t))
        self._set_running(True)
        self._run("generate", gw.generate, gw.GenRequest(s, temps), run, self.stop, self.sampler_factory)

    async def action_beam(self) -> None:
        if not all_valid(self, ("length", "beam", "ngram")):
            return
        await self._leave_step_mode(check=False)
        s = self._sync()
        run = self._new_run()
        (pane,) = await self._layout(1)
        self._reset(pane, s, modes.beam_header(s))
        pane.query_one(Static).update(modes.searching(s.beam_width))
        self._set_running(True)
        self._run("beam", gw.beam, s, run, self.stop)

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

    def on_novelty_measured(self, msg: NoveltyMeasured) -> None:
        if msg.run == self.run_id:
            self.query_one(GenOutput).show_novelty(msg.pane, msg.fractions)

    def on_beam_progress(self, msg: gw.BeamProgress) -> None:
        if msg.run == self.run_id and self.running:
            self.query_one(GenPane).query_one(Static).update(modes.searching(msg.width, msg.done, msg.total))

    def on_beam_done(self, msg: gw.BeamDone) -> None:
        if msg.run != self.run_id:
            return
        self.query_one(GenPane).show_beams(msg.beams)
        self._set_running(False)
        self._copy_check()

    # ---- step mode: the model advances one character per key, the user chooses ---------------------

    async def action_step_mode(self) -> None:
        if self.stepper is not None or self.has_class("-stepping"):
            await self._leave_step_mode()
            return
        if not all_valid(self, ("topk", "seed")):
            return
        s = self._sync()
        run = self._new_run()
        (pane,) = await self._layout(1)
        s = replace(s, seed=self.query_one(GenControls).next_seed())
        self._reset(pane, s, modes.step_header(s))
        self.add_class("-stepping")
        self.query_one(StepCandidates).begin()
        self._run("stepper", gw.stepper, s, run)

    def on_stepper_ready(self, msg: gw.StepperReady) -> None:
        if msg.run == self.run_id and self.has_class("-stepping"):
            self.query_one(StepCandidates).ready(msg.stepper)

    @on(StepCandidates.Stepped)
    def _restep(self) -> None:
        """Show the stepper's state at the panel's settings: the text so far in the pane, the candidates
        in the chart."""
        chart = self.query_one(StepCandidates)
        if chart.stepper is None:  # a key's Stepped that arrived after step mode was left
            return
        chart.set_sampling(
            self.panel.gen.temperature, self.query_one(GenControls).value("topk") if all_valid(self, ("topk",)) else 0
        )
        self.query_one(GenPane).set_text(chart.stepper.text, chart.stepper.probs)
        chart.show(chart.stepper.view())

    async def _leave_step_mode(self, check: bool = True) -> None:
        if not self.has_class("-stepping"):
            return
        self.query_one(StepCandidates).end()
        self.remove_class("-stepping")
        self.query_one("#prime").focus()
        if check:
            self._copy_check()

    # ---- the finished text: copy check, clipboard, file --------------------------------------------

    def _copy_check(self) -> None:
        if self.origin is not None and any(self.texts) and all_valid(self, ("ngram",)):
            self.query_one(GenOutput).check_copies(self.origin, self.query_one(GenControls).value("ngram"))

    def action_copy_pane(self) -> None:
        self.query_one(GenOutput).copy_focused()

    def action_save(self) -> None:
        self.query_one(GenOutput).save(self.save_dir)

    # ---- keys and buttons ------------------------------------------------------------------------

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
    @on(Input.Submitted)
    async def _go(self) -> None:
        await self.action_generate()

    @on(Button.Pressed, "#cancel")
    async def _cancel(self) -> None:
        await self.action_cancel_or_back()

    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """This screen's workers: their errors stop here (a screen's worker does not report to the app)."""
        if event.worker.group == "generate" and event.worker.is_finished:
            self._set_running(False)
            if event.worker.state == WorkerState.ERROR:
                error = error_text(event.worker.error)
                self.notify(error, title="generation failed", severity="error", timeout=15, markup=False)
            if event.worker.name == "stepper" and event.worker.state == WorkerState.ERROR:
                await self._leave_step_mode(check=False)  # no weights: no step mode (the line above says why)

    def on_screen_resume(self) -> None:
        self.query_one("#prime").focus()

    def on_unmount(self) -> None:
        self.stop.set()  # a stream still running has no screen to go to
