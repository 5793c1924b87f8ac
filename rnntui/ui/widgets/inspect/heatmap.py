"""The inspector's heatmap: units (in the current order) x characters around the time cursor.

Columns follow the cursor, rows follow the selected unit, so moving either scrolls the map; the cursor
column is highlighted by the shared Heatmap renderable and the selected unit's label is marked ▶.
"""

from __future__ import annotations

from rich.console import RenderableType

from rnntui.ui.renderables.heatmap import Heatmap
from rnntui.ui.widgets.hidden import RAMP_CLASSES, theme_ramp
from rnntui.ui.widgets.inspect.view import View, ViewWidget

LABEL = 7  # cells of the unit labels on the left ("▶u1234" and a space)


class InspectHeatmap(ViewWidget):
    BORDER_TITLE = "units x chars"
    COMPONENT_CLASSES = set(RAMP_CLASSES)  # the colour scale, from the theme (rnntui.tcss)

    def build(self, v: View) -> RenderableType:
        ins = v.ins
        width, height = self.content_size.width, self.content_size.height
        # the step window handed to the renderable: cursor in the middle, clamped to the text; a window,
        # not the whole text, so a render copies (H, width) values rather than (H, T)
        cols = max(4, width - LABEL)
        s0 = max(0, min(v.step - cols // 2, ins.steps - cols))
        s1 = min(ins.steps, s0 + cols)
        values = v.acts[s0:s1][:, v.order].T  # (H, W) rows in list order
        text = "".join(ins.text[p] for p in ins.pos_of[s0:s1])
        labels = [("▶" if u == v.unit else "") + f"u{u}" for u in v.order]
        hm = Heatmap(
            values, text, cursor=v.step - s0, row_labels=labels, vmin=-v.scale, vmax=v.scale, ramp=theme_ramp(self)
        )
        _, rows, *_ = hm.window(width, height)
        hm.row_offset = max(0, v.rank_index - rows // 2)  # keep the selected unit mid-map
        self.border_subtitle = f"steps {s0}-{s1 - 1} of {ins.steps} · ↑↓ unit ←→ cursor"
        return hm
