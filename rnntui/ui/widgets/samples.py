"""Samples generated during training, newest first, each stamped with the step it came from."""
from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from rnntui.core.events import Sample


class SamplesPanel(Widget):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.samples: tuple[Sample, ...] = ()  # oldest first, as received

    def show(self, samples: tuple[Sample, ...]) -> None:
        if samples != self.samples:
            self.samples = samples
            self.refresh()

    def render(self) -> RenderableType:
        if not self.samples:
            return Text("samples appear every few seconds during training", style="dim italic")
        out = Text()
        for s in reversed(self.samples[-8:]):  # newest first: it is the one to compare against
            out.append(f"step {s.step:,} · T {s.temperature:g}\n", style="bold reverse")
            out.append(s.text.rstrip("\n") + "\n")
        return out
