"""The generation panel's output widgets: a text pane (colouring, copy marks, beams), the colouring's
legend and the step chart.

All are thin: a GenPane keeps what one pane generated and redraws it through the confidence renderable;
StepCandidates (step mode's chart) draws CandidateBars and turns keys into messages for the screen, which
owns the Stepper. Their colours come from the theme (component classes in rnntui.tcss).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.containers import VerticalScroll
from textual.message import Message
from textual.reactive import reactive, var
from textual.widget import Widget
from textual.widgets import Static

from rnntui.ui.renderables.bars import CHOSEN_STYLE, MODEL_STYLE, CandidateBars
from rnntui.ui.renderables.confidence import BAND_STYLES, bits_per_char, generated_text, legend
from rnntui.ui.widgets.theme_styles import component_styles

if TYPE_CHECKING:  # the core stepper pulls in the corpus module, which imports torch
    from rnntui.core.generate.stepping import StepView


# the confidence bands' colours, p < .1 (1) .. p >= .9 (5): component classes of the panes and the legend
BAND_CLASSES = tuple(f"confidence--{i + 1}" for i in range(len(BAND_STYLES)))
BAR_CLASSES = ("bars--model", "bars--chosen")  # the step chart's bars at T 1 and at the chosen settings


# -----------------------------------------------------------------------------
# one output pane


class GenPane(VerticalScroll):
    """One stream's text: the seed (dim), the continuation, its probabilities, its copy check, its settings."""

    COMPONENT_CLASSES = set(BAND_CLASSES)

    # colour by confidence; the screen sets it from the "colour" checkbox. init=False: the text child is not
    # there before mount, and an empty pane has nothing to colour
    colour: var[bool] = var(False, init=False)

    def __init__(self, index: int, **kwargs) -> None:
        super().__init__(Static("", classes="gen-text", id=f"gen-text-{index}"), id=f"gen-pane-{index}",
                         classes="gen-pane", **kwargs)
        self.index = index
        self.seed_text = ""  # the known characters of the seed text
        self.text = ""  # what was generated (with beams: the best beam)
        self.probs: list[float] = []  # the model's probability of each character of text
        self.beams: tuple = ()  # BeamResult tuple when this pane shows a beam search
        self.report = None  # CopyReport, or a one-line reason the check could not run
        self.settings: dict[str, object] = {}  # what produced it, for the saved file

    def watch_colour(self) -> None:
        self.redraw()

    def reset(self, title: str, seed_text: str, settings: dict[str, object]) -> None:
        self.border_title = title
        self.seed_text, self.text, self.probs, self.beams, self.report = seed_text, "", [], (), None
        self.settings = settings
        self.redraw()

    def add(self, text: str, probs: tuple[float, ...]) -> None:
        self.text += text
        self.probs.extend(probs)
        self.redraw()
        self.to_end()

    def to_end(self) -> None:
        """Scroll to the end once the new text is laid out: the Static's new height is known only after a
        refresh, and scroll_end waits one refresh itself, so it is asked after the next one (asked at once,
        it sometimes stopped a line short of the end)."""
        self.call_after_refresh(self.scroll_end, animate=False)

    def set_text(self, text: str, probs: list[float]) -> None:
        self.text, self.probs = text, list(probs)
        self.redraw()
        if self.beams:
            self.scroll_home(animate=False)  # the best beam is the first
        else:
            self.to_end()

    def copied_spans(self) -> tuple[tuple[int, int], ...]:
        return getattr(self.report, "spans", ())

    def on_mount(self) -> None:
        # the text is built here, not at render time, so a theme change (new band colours) rebuilds it
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.redraw())

    def redraw(self) -> None:
        styles = component_styles(self, BAND_CLASSES, BAND_STYLES)
        if self.beams:
            out = Text()
            for i, b in enumerate(self.beams):
                out.append(f"beam {i + 1} · log-prob {b.logprob:.2f} · {b.bits_per_char:.3f} bits/char\n",
                           style="bold reverse" if i == 0 else "bold")
                spans = self.copied_spans() if i == 0 else ()
                out.append_text(generated_text(self.seed_text, b.text, b.probs, self.colour, spans, styles))
                out.append("\n\n")
        else:
            out = generated_text(self.seed_text, self.text, self.probs, self.colour, self.copied_spans(), styles)
        self.query_one(Static).update(out)
        self.border_subtitle = self.subtitle()

    def subtitle(self) -> str:
        parts = []
        bpc = bits_per_char(self.probs)
        if bpc is not None and self.text:
            parts.append(f"{bpc:.2f} bits/char")
        if isinstance(self.report, str):
            parts.append("no copy check")
        elif self.report is not None:
            r = self.report
            parts.append(f"copied {r.share:.0%} of {r.n}-grams" +
                         (f", longest {r.longest} chars (line {r.corpus_line:,})" if r.longest else ""))
        return " · ".join(parts)

    def saved_block(self) -> str:
        """This pane for the saved file: its settings, then its text (all beams for a beam search)."""
        head = [f"# {k}: {v!r}" if isinstance(v, str) else f"# {k}: {v}" for k, v in self.settings.items()]
        if self.subtitle():
            head.append(f"# {self.subtitle()}")
        if isinstance(self.report, str):
            head.append(f"# {self.report}")
        elif self.report is not None:
            head.append(f"# {self.report.summary()}")
        if self.beams:
            body = "\n".join(f"## beam {i + 1}: log-prob {b.logprob:.3f}, {b.bits_per_char:.3f} bits/char\n"
                             f"{self.seed_text}{b.text}\n" for i, b in enumerate(self.beams))
        else:
            body = self.seed_text + self.text + "\n"
        return "\n".join(head) + "\n" + body


class ConfidenceLegend(Widget):
    """The colouring's legend: a swatch per confidence band, in the panes' colours, and what the underline
    of copied spans means."""

    COMPONENT_CLASSES = set(BAND_CLASSES)

    def render(self) -> Text:
        return legend(True, component_styles(self, BAND_CLASSES, BAND_STYLES))


# -----------------------------------------------------------------------------
# the step chart


class StepCandidates(Widget, can_focus=True):
    """The candidates of the next character; keys become Take / Undo messages for the screen."""

    COMPONENT_CLASSES = set(BAR_CLASSES)  # the bars' colours, from the theme

    class Take(Message):
        def __init__(self, char: str) -> None:
            super().__init__()
            self.char = char  # the character to append: chosen from the list or typed

    class Undo(Message):
        pass

    selected: reactive[int] = reactive(0)  # highlighted row: up/down move it, and it repaints

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.view: StepView | None = None  # the stepper's state, from the screen (show)
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

    def on_key(self, event: events.Key) -> None:
        if self.view is None or event.key in ("escape", "tab", "shift+tab") or event.key.startswith("ctrl+"):
            return  # the screen's keys
        event.stop()
        event.prevent_default()
        cands = self.view.candidates
        if self.literal:
            self.literal = False
            self.post_message(self.Take("\n" if event.key == "enter" else event.character or ""))
        elif event.key == "enter":
            self.post_message(self.Take(cands[self.selected].char))
        elif event.key in ("up", "down"):
            self.selected = (self.selected + (1 if event.key == "down" else -1)) % len(cands)
        elif event.key == "backspace":
            self.post_message(self.Undo())
        elif event.character == "\\":
            self.literal = True
        elif event.character is not None and event.character.isdigit() and len(event.character) == 1:
            i = (int(event.character) - 1) % 10
            if i < len(cands):
                self.post_message(self.Take(cands[i].char))
        elif event.character and event.is_printable:
            self.post_message(self.Take(event.character))
