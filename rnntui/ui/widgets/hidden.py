"""Hidden-state heatmap panel: units x characters of the probe text, two units per row, paged through.

Units are ordered by what is interesting (variance over the probe text by default, or saturation, or
index: o cycles) and the order is named in the title. Units that do not fit are reached by paging
(PgUp/PgDn or , and .), a page at a time by exactly the units shown, never skipping one; the characters
scroll with left/right; c switches between h and the LSTM cell state c. The colour scale comes from the
theme (the heatmap--* component classes in rnntui.tcss).
"""
from __future__ import annotations

import numpy as np
from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from rnntui.core.events import ProbeSnapshot
from rnntui.core.features import UNIT_ORDERS, unit_order
from rnntui.ui.renderables.colors import DEFAULT_RAMP, Ramp
from rnntui.ui.renderables.heatmap import Heatmap
from rnntui.ui.widgets.charts import ProbePanel

RAMP_CLASSES = ("heatmap--negative", "heatmap--zero", "heatmap--positive")


def theme_ramp(widget: Widget) -> Ramp:
    """The diverging scale (negative, zero, positive) from the widget's heatmap--* component classes,
    whose backgrounds are theme variables, so the light theme gets a light zero."""
    try:
        colours = [widget.get_component_rich_style(name).bgcolor for name in RAMP_CLASSES]
    except (KeyError, AttributeError):  # a widget without the classes, or not mounted yet
        return DEFAULT_RAMP
    if any(c is None for c in colours):
        return DEFAULT_RAMP
    return tuple(tuple(c.get_truecolor()) for c in colours)  # type: ignore[return-value]


class HeatmapPanel(ProbePanel):
    COMPONENT_CLASSES = set(RAMP_CLASSES)
    TITLE = "hidden"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.layer_index = 0  # which recurrent layer is shown (the screen sets it: v)
        self.cell = False  # show the LSTM cell state c instead of h
        self.order_by = UNIT_ORDERS[0]  # how the units are ordered: o cycles
        self.row_offset = 0  # first unit shown, as a position in the order
        self.col_offset = 0  # first character shown
        self._order: tuple[object, np.ndarray] | None = None  # (key, unit order) cached per probe and view

    def show(self, probe: ProbeSnapshot | None, layer: int | None = None) -> None:
        if probe is not self.probe or (layer is not None and layer != self.layer_index):
            self.probe = probe
            if layer is not None:
                self.layer_index = layer
            self._clamp()
            self.refresh()

    # ---- what is shown ---------------------------------------------------------------------------

    def states(self) -> np.ndarray:
        """(T, H) the activations shown: h or c of the current layer."""
        src = self.probe.cell if self.cell and self.probe.cell is not None else self.probe.hidden
        return src[self.layer_index]

    def order(self) -> np.ndarray:
        key = (id(self.probe), self.layer_index, self.cell, self.order_by)
        if self._order is None or self._order[0] != key:
            self._order = (key, unit_order(self.states(), self.order_by))
        return self._order[1]

    def heatmap(self) -> Heatmap:
        acts = self.states()  # (T, H)
        order = self.order()
        # h is a tanh output in [-1, 1]; the LSTM's cell state is unbounded: scale by its largest |c|
        scale = 1.0 if not self.cell else max(1.0, float(np.abs(acts).max()))
        return Heatmap(acts[:, order].T, self.probe.text, row_offset=self.row_offset,  # (H, T) in order
                       col_offset=self.col_offset, row_labels=[str(u) for u in order], vmin=-scale, vmax=scale,
                       half=True, ramp=theme_ramp(self), order="" if self.order_by == "index" else self.order_by,
                       hints=False)  # the keys are in the subtitle

    def _window(self) -> tuple[int, int, int, int, int]:
        """(first unit, units shown, first char, chars shown, label width) at the panel's size."""
        size = self.content_size
        return self.heatmap().window(size.width, size.height)

    def _clamp(self) -> None:
        if self.probe is None:
            return
        self.layer_index %= self.probe.hidden.shape[0]
        if self.probe.cell is None:
            self.cell = False
        self.row_offset, _, self.col_offset, _, _ = self._window()  # the renderable clamps offsets

    def title_extra(self) -> str:
        """" h · layer 1/2 · by variance": what the map shows, for the title before the step stamp."""
        if self.probe is None:
            return ""
        which = "c" if self.cell else "h"
        return f" {which} · layer {self.layer_index + 1}/{self.probe.hidden.shape[0]} · by {self.order_by}"

    def hint(self) -> str:
        keys = ["o order", "v layer"] if self.probe is None or self.probe.hidden.shape[0] > 1 else ["o order"]
        if self.probe is not None and self.probe.cell is not None:
            keys.append("c h/c")
        return " · ".join(keys + ["PgDn units", "←→ text", "h help"])

    # ---- view controls -------------------------------------------------------------------------

    def page(self, direction: int) -> None:
        if self.probe is not None:
            self.row_offset += direction * self._window()[1]  # exactly the units shown: none skipped
            self._clamp()
            self.refresh()

    def scroll_chars(self, direction: int) -> None:
        if self.probe is not None:
            self.col_offset += direction * max(1, self._window()[3] // 2)
            self._clamp()
            self.refresh()

    def next_order(self) -> str:
        self.order_by = UNIT_ORDERS[(UNIT_ORDERS.index(self.order_by) + 1) % len(UNIT_ORDERS)]
        self.row_offset = 0  # a new order starts from its top
        self._clamp()
        self.refresh()
        return self.order_by

    def toggle_cell(self) -> bool:
        """Switch h/c; False when the model has no cell state (not an LSTM)."""
        if self.probe is None or self.probe.cell is None:
            return False
        self.cell = not self.cell
        self._clamp()
        self.refresh()
        return True

    def on_resize(self) -> None:
        self._clamp()

    # ---- drawing --------------------------------------------------------------------------------

    def render(self) -> RenderableType:
        if self.probe is None:
            return Text("hidden states appear with the first probe", style="dim italic")
        return self.heatmap()
