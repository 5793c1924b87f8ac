"""The inspector's influence panel: which earlier characters the prediction at the cursor uses (the text
before the cursor shaded, and the sentence), beside the model's effective context (the curve, reach90).

The Inspect screen computes both in thread workers (rnntui.core.analysis.influence / context) and hands
this widget plain data: CursorShares and ContextShares hold str, int, float and lists, never a tensor or
an array, so nothing here imports torch or numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from rnntui.core.textsafe import visible
from rnntui.ui.renderables.influence import INFLUENCE_HELP, ContextCurve, ShadedContext, reach_words
from rnntui.ui.widgets.hidden import RAMP_CLASSES, theme_ramp

CURVE_WIDTH = 36  # columns of the effective-context curve: 9 distances x 4
NARROW = 100  # below this many columns the sentence may take two lines
HELP_SECTIONS = (("influence of past characters and effective context", INFLUENCE_HELP),)


@dataclass(frozen=True)
class CursorShares:
    """The influence on the prediction after the character at `cursor` (a text position)."""

    cursor: int  # text position of the last character read
    chars: str  # the text attributed, ending at the cursor (characters outside the vocabulary included, at 0)
    shares: tuple[float, ...]  # one share per character of chars, summing to 1 (all 0: no influence)
    target: str  # the next character whose log-probability is explained (the model's likeliest)
    summary: str  # "90% of the influence lies within the last 23 characters; the strongest is ..."
    method: str  # rnntui.core.analysis.influence.METHODS


@dataclass(frozen=True)
class ContextShares:
    """The model's effective context over held-out text."""

    curve: tuple[float, ...]  # index d: mean share d characters back ([0] = 0)
    reach90: int | None  # median characters back holding 90% of a prediction's influence
    positions: int  # predictions averaged
    source: str  # what it was measured on ("validation split", "this text")


class InfluencePanel(Widget):
    """The influence at the cursor (left) and the effective context (right)."""

    BORDER_TITLE = "influence on next char"
    COMPONENT_CLASSES = set(RAMP_CLASSES)  # the shading's scale, from the theme (rnntui.tcss)

    at: reactive[CursorShares | None] = reactive(None, init=False)
    context: reactive[ContextShares | None] = reactive(None, init=False)
    pending: reactive[bool] = reactive(False, init=False)  # a newer cursor is being computed

    def watch_at(self, at: CursorShares | None) -> None:
        self._title()

    def watch_context(self, context: ContextShares | None) -> None:
        self._title()

    def _title(self) -> None:
        """What is explained, and how, and the effective context: on the top border, which the compact
        layout keeps (it drops the bottom one)."""
        at, ctx = self.at, self.context
        title = "influence on next char"
        if at is not None:
            title += f" {visible(repr(at.target))} ({at.method.replace('-', ' ')})"
        if ctx is not None:  # where it was measured: the curve's own line, and the help
            title += f" · looks back: {reach_words(ctx.reach90)}"
        self.border_title = title

    def render(self) -> RenderableType:
        # the sentence first: one line, or two below NARROW columns (where it would be cut)
        narrow = self.content_size.width < NARROW
        rows = max(1, self.content_size.height - (2 if narrow else 1))
        at, ctx = self.at, self.context
        if at is None:
            words = Text("measuring which characters the prediction uses…", style="dim")
            shaded: RenderableType = Text("")
        else:
            words = Text(
                visible(at.summary), no_wrap=not narrow, overflow="ellipsis", style="dim" if self.pending else ""
            )
            shaded = ShadedContext(at.chars, at.shares, rows=rows, ramp=theme_ramp(self))
        grid = Table.grid(expand=True, padding=(0, 1))
        grid.add_column(ratio=1, no_wrap=True)
        wide = self.content_size.width >= 2 * CURVE_WIDTH
        if wide:
            grid.add_column(width=CURVE_WIDTH, no_wrap=True)
            curve: RenderableType = (
                ContextCurve(ctx.curve, ctx.reach90, ctx.positions, show_reach=rows >= 3)
                if ctx is not None
                else Text("effective context: measuring…", style="dim")
            )
            grid.add_row(shaded, curve)
        else:
            grid.add_row(shaded)
        return Group(words, grid)
