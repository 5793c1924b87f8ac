"""The inspector's view snapshot: one finished Inspection plus what the user is looking at, and ViewWidget,
the base of every inspector widget, which draws one.

The Inspect screen builds a new View on every key press (dataclasses.replace) and sets it as the `view`
attribute of every inspector widget, so the widgets hold nothing mutable and redraw when the identity
changes. No torch here: the Inspection is numpy arrays only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rich.console import RenderableType
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

if TYPE_CHECKING:  # rnntui.core.analysis.inspect imports torch; the UI only needs the type
    from rnntui.core.analysis.inspect import Inspection


@dataclass(frozen=True, eq=False)
class View:
    ins: Inspection  # the model's run over the text
    cursor: int  # text position under the time cursor
    layer: int  # layer shown in the neuron view, heatmap and anatomy
    state: str  # "h" or "c" (LSTM cell state)
    unit: int  # selected unit: colours the text, highlighted in the list and heatmap
    order: np.ndarray  # (H,) unit indices in list/heatmap order
    scores: np.ndarray | None  # (H,) score of each unit under the current ranking, None when sorted by index
    ranking: str  # what the order means, shown as the list title ("variance", "r: inside quotes", ...)
    selection: tuple[int, int] | None = None  # marked text range [start, end), or None
    threshold: float = 0.5  # "on" threshold of the range selection score
    gain: np.ndarray | None = None  # (N,) the vs-n-gram mode (gain.py): colour the text by this instead
    gain_against: str = ""  # which n-gram the gain is against, "6-gram"

    @classmethod
    def first(cls, ins: Inspection) -> View:
        """The view of a new inspection: the cursor on the first character, layer 1's h, units by index."""
        return cls(ins=ins, cursor=0, layer=0, state="h", unit=0, order=np.arange(ins.hidden), scores=None, ranking="")

    @property
    def acts(self) -> np.ndarray:
        """(T, H) the activations shown: h or c of the current layer."""
        src = self.ins.c if self.state == "c" and self.ins.c is not None else self.ins.h
        return src[self.layer]

    @property
    def step(self) -> int:
        """Model step at the cursor: the last step at or before it (a skipped char shows the state before)."""
        s = int(self.ins.step_of[self.cursor])
        if s >= 0:
            return s
        return max(0, int(np.searchsorted(self.ins.pos_of, self.cursor)) - 1)

    @property
    def skipped(self) -> bool:
        """The character under the cursor is outside the vocabulary."""
        return int(self.ins.step_of[self.cursor]) < 0

    @property
    def scale(self) -> float:
        """Colour range of the shown state: +-1 for h (tanh), the unit's largest |c| for the cell state."""
        if self.state == "h":
            return 1.0
        return max(1.0, float(np.abs(self.acts[:, self.unit]).max()))

    @property
    def rank_index(self) -> int:
        """Position of the selected unit in the order."""
        return int(np.flatnonzero(self.order == self.unit)[0])


# -----------------------------------------------------------------------------
# the widgets' base


class ViewWidget(Widget):
    """Draws the screen's View: setting `view` repaints; build() turns it into a renderable."""

    # a View compares by identity (eq=False), so setting the same one again does nothing, a new one repaints.
    # init=False: nothing to show (and no watcher to run) until the screen sets the first View
    view: reactive[View | None] = reactive(None, init=False)

    def render(self) -> RenderableType:
        return self.build(self.view) if self.view is not None else Text("")

    def build(self, v: View) -> RenderableType:
        raise NotImplementedError
