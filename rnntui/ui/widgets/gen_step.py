"""Step mode's chart: the model advances one character per key, the user chooses.

StepCandidates holds the core Stepper the screen hands it (built from a fresh snapshot in a worker), draws
its candidates for the next character as CandidateBars, and applies the keys: enter takes the highlighted
candidate, 1-9/0 pick one by number, any other key types that character, backspace undoes. After each
change it posts Stepped, and the screen redraws the pane's text. The Stepper's arithmetic is a few small
NumPy products per key, cheap enough for the UI thread. The bars' colours come from the theme.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from rnntui.core.config import RnntuiError
from rnntui.ui.renderables.bars import CHOSEN_STYLE, MODEL_STYLE, CandidateBars
from rnntui.ui.widgets.theme_styles import component_styles

if TYPE_CHECKING:  # the core stepper pulls in the corpus module, which imports torch
    from rnntui.core.generate.stepping import Stepper, StepView

BAR_CLASSES = ("bars--model", "bars--chosen")  # the step chart's bars at T 1 and at the chosen settings


class StepCandidates(Widget, can_focus=True):
    """The candidates of the next character, and the keys that choose one."""

    COMPONENT_CLASSES = set(BAR_CLASSES)  # the bars' colours, from the theme

    class Stepped(Message):
        """A character was taken or undone: the stepper's text changed."""

    selected: reactive[int] = reactive(0)  # highlighted row: up/down move it, and it repaints

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.stepper: Stepper | None = None  # from the screen once its worker built it; None: not stepping
        self.view: StepView | None = None  # the stepper's state, as drawn (show)
        # the previous key was "\": the next one is typed as is. Key handling only, never drawn: plain
        self.literal = False

    def show(self, view: StepView) -> None:
        self.view = view
        chars = [c.char for c in view.candidates]
        self.selected = chars.index(view.proposal) if view.proposal in chars else 0
        self.literal = False
        self.border_title = f"next character · {view.step} chosen so far"
        self.refresh()

    def render(self) -> CandidateBars | Text:
        if self.view is None:
            return Text("loading the weights…", style="dim italic")
        model, chosen = component_styles(self, BAR_CLASSES, (MODEL_STYLE, CHOSEN_STYLE))
        return CandidateBars(self.view, self.selected, model, chosen)

    # ---- step mode starting and ending ------------------------------------------------------------

    def begin(self) -> None:
        """Step mode starts: the chart shown and focused, "loading the weights…" until ready()."""
        self.stepper = self.view = None
        self.display = True
        self.focus()

    def ready(self, stepper: Stepper) -> None:
        """The screen's worker built the stepper: its candidates are shown."""
        self.stepper = stepper
        self.show(stepper.view())

    def end(self) -> None:
        self.stepper = None
        self.display = False

    # ---- changing the stepper ----------------------------------------------------------------------

    def set_sampling(self, temperature: float, top_k: int) -> None:
        """The screen's sampling settings, for the next proposal (a refused one is said, the old kept)."""
        if self.stepper is None:  # not stepping: nothing to set
            return
        try:
            self.stepper.set_sampling(temperature, top_k)
        except RnntuiError as e:
            self.notify(str(e), severity="warning", timeout=3)

    def take(self, char: str) -> None:
        if self.stepper is None or not char:
            return
        try:
            self.stepper.choose(char)
        except RnntuiError as e:  # e.g. a character the model has never seen
            self.notify(str(e), severity="warning", timeout=3)
            return
        self.post_message(self.Stepped())

    def undo(self) -> None:
        if self.stepper is not None and self.stepper.undo():
            self.post_message(self.Stepped())

    def on_key(self, event: events.Key) -> None:
        if self.view is None or event.key in ("escape", "tab", "shift+tab") or event.key.startswith("ctrl+"):
            return  # the screen's keys
        event.stop()
        event.prevent_default()
        cands = self.view.candidates
        if self.literal:
            self.literal = False
            self.take("\n" if event.key == "enter" else event.character or "")
        elif event.key == "enter":
            self.take(cands[self.selected].char)
        elif event.key in ("up", "down"):
            self.selected = (self.selected + (1 if event.key == "down" else -1)) % len(cands)
        elif event.key == "backspace":
            self.undo()
        elif event.character == "\\":
            self.literal = True
        elif event.character is not None and event.character.isdigit() and len(event.character) == 1:
            i = (int(event.character) - 1) % 10
            if i < len(cands):
                self.take(cands[i].char)
        elif event.character and event.is_printable:
            self.take(event.character)
