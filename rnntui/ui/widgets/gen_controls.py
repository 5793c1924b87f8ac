"""The generation panel's settings column, and GenPanelState: what the app keeps of the panel.

GenControls writes every edit into the GenPanelState it is handed as it happens (the Changed messages of
its inputs pass on to the screen, which acts on the few that change what it shows).

The generation settings are core's GenerationSettings, the same ones `rnntui sample` builds from its flags and
the thread workers receive; the panel adds what only it has: side by side, colouring, the copy check's
n-gram, the seed its last run used, and a number box's text while it is not a number yet. The app owns one
GenPanelState and hands it to every GenerateScreen it opens, so the seed text, the temperature and the rest
survive closing and reopening the panel (no module globals).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.validation import Integer
from textual.widgets import Button, Checkbox, Input, Label, Static

from rnntui.core.generate.settings import MAX_BEAM_WIDTH, GenerationSettings
from rnntui.core.units import unknown_chars
from rnntui.ui.widgets.temperature import TemperatureSlider

MAX_SEED = 2**31 - 1  # the seed box's bound (the core takes up to 2**63; a box of ten digits is plenty)

# (number box id, label, lowest, highest): the boxes' bounds, narrower than the core's where a text box
# makes no sense of a value (a length of 0, a top-k of a million)
FIELDS = (
    ("length", "length", 1, 100_000),
    ("topk", "top-k (0: off)", 0, 100_000),
    ("seed", "RNG seed (new each run)", 0, MAX_SEED),
    ("beam", "beam width (ctrl+e)", 1, MAX_BEAM_WIDTH),
    ("ngram", "copy check n-gram", 1, 64),
)
CHECKS = (
    ("argmax", "argmax (greedy)"),
    ("compare", "side by side 0.5 / 1.0 / 1.5"),
    ("colour", "colour by probability"),
    ("length_norm", "beams: length-normalised"),
    ("beam_newline", "beams end at a newline"),
)
# control id -> its GenerationSettings field; the other controls (compare, colour, ngram) are the panel's own
SETTING = {
    "prime": "prime",
    "temp": "temperature",
    "length": "length",
    "topk": "top_k",
    "seed": "seed",
    "beam": "beam_width",
    "argmax": "argmax",
    "length_norm": "length_norm",
}


@dataclass
class GenPanelState:
    """The panel between openings: the generation settings, and the panel's own switches."""

    gen: GenerationSettings = field(default_factory=lambda: GenerationSettings(length=400, seed=0))
    typed: dict[str, str] = field(default_factory=dict)  # box id -> its text, where not its value as written
    ngram: int = 8  # n of the copy check
    compare: bool = False  # side by side 0.5 / 1.0 / 1.5
    colour: bool = True  # colour characters by probability
    last_seed: int | None = None  # the seed the last run used: the same seed again draws a new one

    def get(self, key: str) -> Any:  # a control's value: its type is the control's
        """The value of a control (by its id): a generation setting or the panel's own."""
        if key == "beam_newline":  # the panel offers one stop text: the end of a line
            return self.gen.beam_stop == "\n"
        return getattr(self.gen, SETTING[key]) if key in SETTING else getattr(self, key)

    def set(self, key: str, value: Any) -> None:
        if key == "beam_newline":
            self.gen = replace(self.gen, beam_stop="\n" if value else "")
        elif key in SETTING:
            self.gen = replace(self.gen, **{SETTING[key]: value})
        else:
            setattr(self, key, value)

    def text(self, key: str) -> str:
        """What a number box shows: its text as typed (half-typed, or "007"), else its value."""
        return self.typed.get(key, str(self.get(key)))

    def put_text(self, key: str, text: str, valid: bool) -> None:
        """A number box's text: a valid number becomes the setting; the text is kept as typed."""
        if valid:
            self.set(key, int(text))
        if valid and text == str(self.get(key)):
            self.typed.pop(key, None)
        else:
            self.typed[key] = text


class GenControls(VerticalScroll):
    def __init__(self, state: GenPanelState, vocab: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.state = state  # the app's: the controls start from it and write every edit into it
        self.vocab = set(vocab)  # the model's characters: seed text outside them is flagged

    def compose(self) -> ComposeResult:
        s = self.state
        yield Label("seed text")
        yield Input(s.gen.prime, placeholder="text to continue (empty: a new line)", id="prime")
        yield Static("", id="unknown")
        yield Label("temperature  (←/→ when focused)")
        yield TemperatureSlider(s.gen.temperature, id="temp")
        for key, label, lo, hi in FIELDS:
            yield Label(label)
            yield Input(
                s.text(key),
                type="integer",
                id=key,
                validators=[Integer(lo, hi, f"{label}: a whole number {lo}-{hi:,}")],
            )
        for key, label in CHECKS:
            yield Checkbox(label, s.get(key), id=key)
        with Horizontal(id="gen-buttons"):
            yield Button("Generate", id="go", variant="primary")
            yield Button("Cancel", id="cancel", disabled=True)

    # ---- every edit is kept in the state ---------------------------------------------------------

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "prime":
            self.state.set("prime", event.value)
            bad = unknown_chars(self.vocab, event.value)
            self.query_one("#unknown", Static).update(
                Text(f"not in the vocabulary, skipped: {bad!r}", style="bold") if bad else ""
            )
        elif event.input.id in {k for k, *_ in FIELDS}:
            valid = event.validation_result is None or event.validation_result.is_valid
            self.state.put_text(event.input.id, event.value, valid)

    @on(Checkbox.Changed)
    def _check_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id is not None:  # each of CHECKS has one
            self.state.set(event.checkbox.id, event.value)

    @on(TemperatureSlider.Changed)
    def _temp_changed(self, event: TemperatureSlider.Changed) -> None:
        self.state.set("temp", event.value)

    def next_seed(self) -> int:
        """The typed seed, unless it is the one the last Generate used: then a new one, shown in the field."""
        seed = self.value("seed")
        if self.state.last_seed is not None and seed == self.state.last_seed:
            seed = random.randrange(100_000)  # short: easy to read off and type again
            self.query_one("#seed", Input).value = str(seed)
            self.state.put_text("seed", str(seed), True)
        self.state.last_seed = seed
        return seed

    # ---- reading the controls ----------------------------------------------------------------------

    def sync(self) -> GenerationSettings:
        """Read every control into the state (Changed messages may still be on their way); its settings.

        A box whose text is not a valid number keeps the setting's last value: the callers check the
        boxes they read (forms.all_valid) first."""
        s = self.state
        s.gen = replace(
            s.gen, prime=self.query_one("#prime", Input).value, temperature=self.query_one(TemperatureSlider).value
        )
        for key, *_ in FIELDS:
            box = self.query_one(f"#{key}", Input)  # (the validators themselves: Input.validate restyles the box)
            s.put_text(key, box.value, all(v.validate(box.value).is_valid for v in box.validators))
        for key, _ in CHECKS:
            s.set(key, self.query_one(f"#{key}", Checkbox).value)
        return s.gen

    def value(self, key: str) -> int:
        """A validated integer field (callers check forms.all_valid first)."""
        return int(self.query_one(f"#{key}", Input).value)
