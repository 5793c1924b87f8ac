"""Hidden-state heatmap panel: units x characters of the probe text, two units per row, paged through.

Units are ordered by what is interesting (variance over the probe text by default, or saturation, or
index: o cycles) and the order is named in the title. Units that do not fit are reached by paging
(PgUp/PgDn or , and .), a page at a time by exactly the units shown, never skipping one; the characters
scroll with left/right; c switches between h and the LSTM cell state c. The colour scale comes from the
theme (the heatmap--* component classes in rnntui.tcss).

The layer, h/c and the order are reactive attributes the screen sets; their watchers re-clamp the window and
retitle the panel. Paging and scrolling stay methods: they move by what fits the panel's size.
"""

from __future__ import annotations

import numpy as np
from rich.console import RenderableType
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from rnntui.core.analysis.features import UNIT_ORDERS, unit_order
from rnntui.core.events import ProbeSnapshot
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
    rgbs = [(*c.get_truecolor(),) for c in colours if c is not None]  # plain (r, g, b) tuples
    return (rgbs[0], rgbs[1], rgbs[2]) if len(rgbs) == len(RAMP_CLASSES) else DEFAULT_RAMP


class HeatmapPanel(ProbePanel):
    COMPONENT_CLASSES = set(RAMP_CLASSES)
    TITLE = "hidden"

    layer_index: reactive[int] = reactive(0)  # which recurrent layer is shown; the screen owns the choice (v)
    cell: reactive[bool] = reactive(False)  # show the LSTM cell state c instead of h (c); False without one
    order_by: reactive[str] = reactive(UNIT_ORDERS[0])  # how the units are ordered (o cycles UNIT_ORDERS)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.row_offset = 0  # first unit shown, as a position in the order
        self.col_offset = 0  # first character shown
        self._order: tuple[object, np.ndarray] | None = None  # (key, unit order) cached per probe and view

    def show(self, probe: ProbeSnapshot | None) -> None:
        if probe is not self.probe:
            self.probe = probe
            if probe is not None and probe.cell is None:
                self.cell = False  # a new run without a cell state
            self._clamp()
            self.retitle()  # the layer count is in the title, the keys in the subtitle
            self.resubtitle()
            self.refresh()

    def validate_cell(self, cell: bool) -> bool:
        return cell and self.probe is not None and self.probe.cell is not None

    def watch_layer_index(self) -> None:
        self._clamp()
        self.retitle()

    def watch_cell(self) -> None:
        self._clamp()
        self.retitle()

    def watch_order_by(self) -> None:
        self.row_offset = 0  # a new order starts from its top
        self._clamp()
        self.retitle()

    # ---- what is shown ---------------------------------------------------------------------------

    def drawn_layer(self) -> int:
        """The layer drawn: the screen's choice, wrapped for the moment between a new probe with fewer layers
        and the screen's next choice (it wraps its choice on every redraw)."""
        return self.layer_index % self._shown().hidden.shape[0]

    def _shown(self) -> ProbeSnapshot:
        """The probe drawn; asked for only once one came (the callers check self.probe)."""
        assert self.probe is not None
        return self.probe

    def states(self) -> np.ndarray:
        """(T, H) the activations shown: h or c of the current layer."""
        probe = self._shown()
        src = probe.cell if self.cell and probe.cell is not None else probe.hidden
        return src[self.drawn_layer()]

    def order(self) -> np.ndarray:
        key = (id(self.probe), self.drawn_layer(), self.cell, self.order_by)
        if self._order is None or self._order[0] != key:
            self._order = (key, unit_order(self.states(), self.order_by))
        return self._order[1]

    def heatmap(self) -> Heatmap:
        acts = self.states()  # (T, H)
        order = self.order()
        # h is a tanh output in [-1, 1]; the LSTM's cell state is unbounded: scale by its largest |c|
        scale = 1.0 if not self.cell else max(1.0, float(np.abs(acts).max()))
        return Heatmap(
            acts[:, order].T,
            self._shown().text,
            row_offset=self.row_offset,  # (H, T) in order
            col_offset=self.col_offset,
            row_labels=[str(u) for u in order],
            vmin=-scale,
            vmax=scale,
            half=True,
            ramp=theme_ramp(self),
            order="" if self.order_by == "index" else self.order_by,
            hints=False,
        )  # the keys are in the subtitle

    def _window(self) -> tuple[int, int, int, int, int]:
        """(first unit, units shown, first char, chars shown, label width) at the panel's size."""
        size = self.content_size
        return self.heatmap().window(size.width, size.height)

    def _clamp(self) -> None:
        if self.probe is None:
            return
        self.row_offset, _, self.col_offset, _, _ = self._window()  # the renderable clamps offsets

    def title_extra(self) -> str:
        """ " h · layer 1/2 · by variance": what the map shows, for the title before the step stamp."""
        if self.probe is None:
            return ""
        which = "c" if self.cell else "h"
        return f" {which} · layer {self.drawn_layer() + 1}/{self.probe.hidden.shape[0]} · by {self.order_by}"

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

    def on_resize(self) -> None:
        self._clamp()

    # ---- drawing --------------------------------------------------------------------------------

    def render(self) -> RenderableType:
        if self.probe is None:
            return Text("hidden states appear with the first probe", style="dim italic")
        return self.heatmap()
