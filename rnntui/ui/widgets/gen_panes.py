"""The generation panel's output widgets: a text pane (colouring, copy marks, beams), the colouring's
legend, and GenOutput, the column that holds them with the novelty chart (gen_novelty.py) and step mode's
chart (gen_step.py).

All are thin: a GenPane keeps what one pane generated and redraws it through the confidence renderable;
GenOutput lays the panes out, checks them for text copied from the training corpus once they are complete,
and copies or saves them. Their colours come from the theme (component
classes in rnntui.tcss).
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import var
from textual.widget import Widget
from textual.widgets import Static

from rnntui.ui.renderables.confidence import BAND_STYLES, bits_per_char, generated_text, legend
from rnntui.ui.widgets.gen_novelty import NoveltyView
from rnntui.ui.widgets.gen_step import StepCandidates
from rnntui.ui.widgets.theme_styles import component_styles
from rnntui.ui.workers import generation as gw

# the confidence bands' colours, p < .1 (1) .. p >= .9 (5): component classes of the panes and the legend
BAND_CLASSES = tuple(f"confidence--{i + 1}" for i in range(len(BAND_STYLES)))


# -----------------------------------------------------------------------------
# one output pane


class GenPane(VerticalScroll):
    """One stream's text: the seed (dim), the continuation, its probabilities, its copy check, its settings."""

    COMPONENT_CLASSES = set(BAND_CLASSES)

    # colour by confidence; the screen sets it from the "colour" checkbox. init=False: the text child is not
    # there before mount, and an empty pane has nothing to colour
    colour: var[bool] = var(False, init=False)

    def __init__(self, index: int, **kwargs) -> None:
        super().__init__(
            Static("", classes="gen-text", id=f"gen-text-{index}"), id=f"gen-pane-{index}", classes="gen-pane", **kwargs
        )
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

    def show_beams(self, beams: tuple[gw.BeamResult, ...]) -> None:
        """A beam search's result: every beam, the best first (the pane's text is the best one's)."""
        self.beams = beams
        self.set_text(beams[0].text, list(beams[0].probs))

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
                out.append(
                    f"beam {i + 1} · log-prob {b.logprob:.2f} · {b.bits_per_char:.3f} bits/char\n",
                    style="bold reverse" if i == 0 else "bold",
                )
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
            parts.append(
                f"copied {r.share:.0%} of {r.n}-grams"
                + (f", longest {r.longest} chars (line {r.corpus_line:,})" if r.longest else "")
            )
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
            body = "\n".join(
                f"## beam {i + 1}: log-prob {b.logprob:.3f}, {b.bits_per_char:.3f} bits/char\n"
                f"{self.seed_text}{b.text}\n"
                for i, b in enumerate(self.beams)
            )
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
# the output column


class GenOutput(Vertical):
    """The legend, one GenPane per stream (side by side), their novelty chart, and step mode's chart (shown
    only in step mode)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.checking = 0  # which copy check the panes show: older reports are dropped (lay_out starts anew)

    def compose(self) -> ComposeResult:
        yield ConfidenceLegend(id="gen-legend")
        yield Horizontal(id="gen-out")
        yield NoveltyView(id="gen-novelty")
        yield StepCandidates(id="gen-step")

    @property
    def panes(self) -> list[GenPane]:
        return list(self.query(GenPane))

    async def lay_out(self, panes: int, colour: bool) -> list[GenPane]:
        """`panes` empty-or-kept panes side by side (the same panes when their number is unchanged)."""
        self.checking += 1  # new text: a copy check still running is for the old one
        self.query_one(NoveltyView).reset()
        self.query_one(NoveltyView).set_class(panes > 1, "-many")  # a band per pane: a line more when narrow
        out = self.query_one("#gen-out")
        if len(out.children) != panes:
            await out.remove_children()
            await out.mount_all(GenPane(i) for i in range(panes))
        result = self.panes
        for p in result:
            p.colour = colour
        return result

    def check_copies(self, origin: gw.Origin, n: int) -> None:
        """Check the panes for passages of n characters copied from the training corpus, in a worker (it may
        build the corpus's n-gram index first); each pane's result comes back as a CopyChecked."""
        self.checking += 1
        body = partial(gw.copy_check, self.post_message, origin, n, [p.text for p in self.panes], self.checking)
        self.run_worker(body, thread=True, group="copycheck", name="copycheck", exit_on_error=False)

    def on_copy_checked(self, msg: gw.CopyChecked) -> None:
        panes = self.panes
        if msg.run == self.checking and msg.pane < len(panes):
            panes[msg.pane].report = msg.report
            panes[msg.pane].redraw()
            if isinstance(msg.report, str) and msg.pane == 0:
                self.notify(msg.report, timeout=4, markup=False)
                self.query_one(NoveltyView).note("not measured: " + msg.report.removeprefix("copy check: "))
            curve = getattr(msg.report, "novelty", None)  # the complete text's curve (beams, step mode too)
            if curve is not None:
                self.show_novelty(msg.pane, tuple(f for _, f in curve.points()))

    def show_novelty(self, pane: int, fractions: tuple[float, ...]) -> None:
        """A pane's novelty curve to the chart, named as its pane is ("T 0.50 · seed 7" -> "T 0.50")."""
        panes = self.panes
        if pane < len(panes):
            label = str(panes[pane].border_title or "").split(" · ")[0]
            self.query_one(NoveltyView).show(pane, label, fractions)

    def show_colour(self, colour: bool) -> None:
        """Colour by probability or not: the legend shows with it; each pane's watcher redraws it."""
        self.query_one(ConfidenceLegend).display = colour
        for p in self.panes:
            p.colour = colour

    def copy_focused(self) -> None:
        """The pane holding focus (else the first one), seed and text, to the clipboard."""
        focused = self.screen.focused
        while focused is not None and not isinstance(focused, GenPane):
            focused = focused.parent if isinstance(focused.parent, Widget) else None
        pane = focused or self.query_one(GenPane)
        if not pane.text:
            self.notify("nothing generated yet", timeout=2)
            return
        self.app.copy_to_clipboard(pane.seed_text + pane.text)
        self.notify(f"copied {len(pane.seed_text + pane.text):,} characters ({pane.border_title})", timeout=3)

    def save(self, folder: Path) -> None:
        """Every pane that holds text, with its settings, to a new file in `folder`."""
        panes = [p for p in self.panes if p.text]
        if not panes:
            self.notify("nothing generated yet", timeout=2)
            return
        path = folder / f"generated-{time.strftime('%Y%m%d-%H%M%S')}.txt"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(p.saved_block() for p in panes), encoding="utf-8")
        except OSError as e:
            self.notify(f"could not save: {e}", severity="error", timeout=6, markup=False)
            return
        self.notify(f"saved {len(panes)} pane(s) to {path}", timeout=6, markup=False)
