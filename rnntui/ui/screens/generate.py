"""Generation panel: seed text, temperature slider, length, top-k, RNG seed, argmax; output streams in.

Each Generate builds a sampler from a fresh snapshot in a thread worker (during training: a consistent copy
of the current weights), so the text always reflects the model as it is now. With "side by side" the same
seed is continued at 0.5 / 1.0 / 1.5 so the effect of temperature is visible at a glance.
"""
from __future__ import annotations

import threading
from functools import partial
from typing import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.validation import Integer
from textual.widgets import Button, Checkbox, Footer, Header, Input, Label, Static

from rnntui.ui.forms import all_valid
from rnntui.ui.messages import GenChunk
from rnntui.ui.widgets.temperature import TemperatureSlider
from rnntui.ui.worker import GenRequest, generate

SIDE_BY_SIDE = (0.5, 1.0, 1.5)


class GenerateScreen(Screen):
    BINDINGS = [
        Binding("ctrl+r", "generate", "Generate", priority=True),
        Binding("escape", "cancel_or_back", "Cancel/back", priority=True),
        Binding("ctrl+b", "toggle_compare", "Side by side", priority=True),
    ]

    def __init__(self, source: Callable[[], dict | None], vocab: str, title: str) -> None:
        super().__init__()
        self.source = source  # called in the worker: a checkpoint-format dict of the weights to sample
        self.vocab = set(vocab)  # to flag seed characters the model has never seen
        self.title_text = title  # where the weights come from, e.g. "live weights, step 1,200"
        self.run_id = 0  # bumped per generation; chunks of older runs are dropped
        self.stop = threading.Event()  # set to cancel the current generation
        self.texts: list[str] = []  # output so far, one per pane
        self.seed_text = ""  # the known characters of the seed, shown dim ahead of each continuation
        self.running = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="gen"):
            with VerticalScroll(id="gen-controls") as box:
                box.border_title = "settings"
                yield Label("seed text")
                yield Input("", placeholder="text to continue (empty: a new line)", id="prime")
                yield Static("", id="unknown")
                yield Label("temperature  (←/→ when focused)")
                yield TemperatureSlider(1.0, id="temp")
                for key, label, value, lo, hi in (("length", "length", "400", 1, 100_000),
                                                  ("topk", "top-k (0: off)", "0", 0, 100_000),
                                                  ("seed", "RNG seed", "0", 0, 2**31 - 1)):
                    yield Label(label)
                    yield Input(value, type="integer", id=key,
                                validators=[Integer(lo, hi, f"{label}: a whole number {lo}-{hi:,}")])
                yield Checkbox("argmax (greedy)", id="argmax")
                yield Checkbox("side by side 0.5 / 1.0 / 1.5", id="compare")
                with Horizontal(id="gen-buttons"):
                    yield Button("Generate", id="go", variant="primary")
                    yield Button("Cancel", id="cancel", disabled=True)
            yield Horizontal(id="gen-out")
        yield Footer()

    async def on_mount(self) -> None:
        self.sub_title = self.title_text
        await self._layout(1)
        self.query_one("#prime").focus()

    # ---- panes -----------------------------------------------------------------------------------

    async def _layout(self, panes: int) -> None:
        out = self.query_one("#gen-out")
        if len(out.children) != panes:
            await out.remove_children()
            await out.mount_all(VerticalScroll(Static("", id=f"gen-text-{i}"), id=f"gen-pane-{i}",
                                               classes="gen-pane") for i in range(panes))
        self.texts = [""] * panes

    # ---- inputs ----------------------------------------------------------------------------------

    @on(Input.Changed, "#prime")
    def _flag_unknown(self, event: Input.Changed) -> None:
        bad = "".join(dict.fromkeys(c for c in event.value if c not in self.vocab))
        self.query_one("#unknown", Static).update(
            Text(f"not in the vocabulary, skipped: {bad!r}", style="bold") if bad else "")

    def request(self) -> GenRequest | None:
        if not all_valid(self, ("length", "topk", "seed")):
            return None
        compare = self.query_one("#compare", Checkbox).value
        argmax = self.query_one("#argmax", Checkbox).value
        temps = SIDE_BY_SIDE if compare and not argmax else (self.query_one(TemperatureSlider).value,)
        value = lambda key: int(self.query_one(f"#{key}", Input).value)  # noqa: E731
        return GenRequest(prime=self.query_one("#prime", Input).value, temperatures=temps,
                          length=value("length"), top_k=value("topk"), seed=value("seed"), argmax=argmax)

    # ---- actions ---------------------------------------------------------------------------------

    async def action_generate(self) -> None:
        req = self.request()
        if req is None:
            return
        self.stop.set()  # a regeneration replaces the stream in progress
        self.stop = threading.Event()
        self.run_id += 1
        await self._layout(len(req.temperatures))
        self.seed_text = "".join(c for c in req.prime if c in self.vocab)  # what the sampler primes with
        for i, t in enumerate(req.temperatures):
            self.query_one(f"#gen-pane-{i}").border_title = "argmax" if req.argmax else f"T {t:.2f}"
            self.query_one(f"#gen-text-{i}", Static).update(self._pane_text(""))
        self._set_running(True)
        body = partial(generate, self.post_message, self.source, req, self.run_id, self.stop,
                       self.app.sampler_factory)
        self.run_worker(body, thread=True, group="generate", name="generate", exit_on_error=False)

    def action_cancel_or_back(self) -> None:
        if self.running:
            self.stop.set()
            self._set_running(False)
            self.notify("generation cancelled", timeout=2)
        else:
            self.dismiss()

    def action_toggle_compare(self) -> None:
        box = self.query_one("#compare", Checkbox)
        box.value = not box.value

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.query_one("#cancel", Button).disabled = not running

    @on(Button.Pressed, "#go")
    async def _go(self) -> None:
        await self.action_generate()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel_or_back()

    @on(Input.Submitted)
    async def _submitted(self) -> None:
        await self.action_generate()

    def on_gen_chunk(self, msg: GenChunk) -> None:
        if msg.run != self.run_id or msg.pane >= len(self.texts):
            return
        self.texts[msg.pane] += msg.text
        self.query_one(f"#gen-text-{msg.pane}", Static).update(self._pane_text(self.texts[msg.pane]))
        self.query_one(f"#gen-pane-{msg.pane}").scroll_end(animate=False)
        if msg.done and msg.pane == len(self.texts) - 1:
            self._set_running(False)

    def _pane_text(self, generated: str) -> Text:
        return Text.assemble((self.seed_text, "dim"), generated)

    def on_worker_state_changed(self, event) -> None:
        if event.worker.group == "generate" and event.worker.is_finished:  # errors: the app notifies
            self._set_running(False)

    def on_screen_resume(self) -> None:
        self.query_one("#prime").focus()
