"""Hidden-state heatmap panel: units x characters of the probe text, paged through the units.

Units that do not fit are reached by paging (PgUp/PgDn or , and .), never dropped; the characters scroll
with left/right; v cycles the layer and c switches between h and the LSTM cell state c.
"""
from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from rnntui.core.events import ProbeSnapshot
from rnntui.ui.renderables.heatmap import Heatmap


class HeatmapPanel(Widget):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.probe: ProbeSnapshot | None = None
        self.layer_index = 0  # which recurrent layer is shown
        self.cell = False  # show the LSTM cell state c instead of h
        self.row_offset = 0  # first unit shown
        self.col_offset = 0  # first character shown

    def show(self, probe: ProbeSnapshot | None) -> None:
        if probe is not self.probe:
            self.probe = probe
            self._clamp()
            self.refresh()

    # ---- view controls -------------------------------------------------------------------------

    def heatmap(self) -> Heatmap:
        states = self.probe.cell if self.cell else self.probe.hidden  # (L, T, H)
        return Heatmap(states[self.layer_index].T, self.probe.text,  # (H, T): one row per unit
                       row_offset=self.row_offset, col_offset=self.col_offset)

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
        which = "c (cell)" if self.cell else "h"
        self.border_title = f"hidden {which} · layer {self.layer_index + 1}/{self.probe.hidden.shape[0]}"
        self.border_subtitle = "v layer" + (" · c h/c" if self.probe.cell is not None else "")

    def page(self, direction: int) -> None:
        if self.probe is not None:
            self.row_offset += direction * self._window()[1]
            self._clamp()
            self.refresh()

    def scroll_chars(self, direction: int) -> None:
        if self.probe is not None:
            self.col_offset += direction * max(1, self._window()[3] // 2)
            self._clamp()
            self.refresh()

    def next_layer(self) -> None:
        self.layer_index += 1
        self._clamp()
        self.refresh()

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
