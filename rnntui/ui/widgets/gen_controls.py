"""The generation panel's settings column, and GenSettings: the values it edits, kept by the app.

The app owns one GenSettings and hands it to every GenerateScreen it opens, so the seed text, the
temperature and the rest survive closing and reopening the panel (no module globals).
"""
from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.validation import Integer
from textual.widgets import Button, Checkbox, Input, Label, Static

from rnntui.ui.widgets.temperature import TemperatureSlider

MAX_SEED = 2**31 - 1


@dataclass
class GenSettings:
    """The panel's settings (numbers as typed, so a half-typed value survives too)."""

    prime: str = ""  # seed text
    temperature: float = 1.0  # slider value
    length: str = "400"  # characters per pane
    topk: str = "0"  # top-k, 0: off
    seed: str = "0"  # RNG seed
    last_seed: int | None = None  # the seed the last run used: the same seed again draws a new one
    argmax: bool = False  # greedy sampling
    compare: bool = False  # side by side 0.5 / 1.0 / 1.5
    colour: bool = True  # colour characters by probability
    beam: str = "8"  # beam width
    length_norm: bool = False  # rank ended beams per character
    beam_newline: bool = False  # beams end at a newline
    ngram: str = "8"  # n of the copy check


# (settings field / widget id, label, lowest, highest)
FIELDS = (("length", "length", 1, 100_000), ("topk", "top-k (0: off)", 0, 100_000),
          ("seed", "RNG seed (new each run)", 0, MAX_SEED),
          ("beam", "beam width (ctrl+e)", 1, 32), ("ngram", "copy check n-gram", 1, 64))
CHECKS = (("argmax", "argmax (greedy)"), ("compare", "side by side 0.5 / 1.0 / 1.5"),
          ("colour", "colour by probability"), ("length_norm", "beams: length-normalised"),
          ("beam_newline", "beams end at a newline"))


class GenControls(VerticalScroll):
    def __init__(self, settings: GenSettings, **kwargs) -> None:
        super().__init__(**kwargs)
        self.settings = settings  # initial values; sync() writes the widgets' values back

    def compose(self) -> ComposeResult:
        s = self.settings
        yield Label("seed text")
        yield Input(s.prime, placeholder="text to continue (empty: a new line)", id="prime")
        yield Static("", id="unknown")
        yield Label("temperature  (←/→ when focused)")
        yield TemperatureSlider(s.temperature, id="temp")
        for key, label, lo, hi in FIELDS:
            yield Label(label)
            yield Input(getattr(s, key), type="integer", id=key,
                        validators=[Integer(lo, hi, f"{label}: a whole number {lo}-{hi:,}")])
        for key, label in CHECKS:
            yield Checkbox(label, getattr(s, key), id=key)
        with Horizontal(id="gen-buttons"):
            yield Button("Generate", id="go", variant="primary")
            yield Button("Cancel", id="cancel", disabled=True)

    def sync(self) -> GenSettings:
        """Read every control into the settings (Changed messages may still be on their way)."""
        s = self.settings
        s.prime = self.query_one("#prime", Input).value
        s.temperature = self.query_one(TemperatureSlider).value
        for key, *_ in FIELDS:
            setattr(s, key, self.query_one(f"#{key}", Input).value)
        for key, _ in CHECKS:
            setattr(s, key, self.query_one(f"#{key}", Checkbox).value)
        return s

    def value(self, key: str) -> int:
        """A validated integer field (callers check forms.all_valid first)."""
        return int(self.query_one(f"#{key}", Input).value)
