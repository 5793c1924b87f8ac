"""Samples generated during training, newest first, each stamped with the step it came from.

The whole kept history (see state.MAX_SAMPLES) is in a scrolling panel: the newest sample is on top, and
the mouse wheel goes back to earlier ones to see how the text improved.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import var
from textual.widgets import Static

from rnntui.core.events import Sample
from rnntui.core.textsafe import visible

EMPTY = Text("samples appear every few seconds during training", style="dim italic")


class SamplesPanel(VerticalScroll, can_focus=False):  # not focusable: the dashboard's keys stay the screen's
    # oldest first, as received; the screen sets it on every redraw. Comparing is cheap (a few dozen small
    # frozen dataclasses) and the watcher rebuilds the text only on a change. A var: the Static child is
    # what repaints. init=False: the child shows EMPTY from compose, and does not exist before mount
    samples: var[tuple[Sample, ...]] = var((), init=False)

    def compose(self) -> ComposeResult:
        yield Static(EMPTY, id="samples-text")

    def watch_samples(self) -> None:
        self.query_one("#samples-text", Static).update(self.content())

    def content(self) -> Text:
        if not self.samples:
            return EMPTY
        out = Text()
        for s in reversed(self.samples):  # newest first: it is the one to compare against
            out.append(f"step {s.step:,} · T {s.temperature:g}\n", style="bold reverse")
            out.append(visible(s.text.rstrip("\n"), multiline=True) + "\n")  # shown, not obeyed
        return out
