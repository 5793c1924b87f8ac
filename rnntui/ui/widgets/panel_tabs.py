"""The dashboard's tab strip: each panel's key and label on one line ("1 status  2 loss  3 gradient flow
..."), the chosen panel marked. It says which key brings up which panel where the panels themselves are out
of sight (a small terminal shows one panel, or one row); a click on a label chooses that panel as its key
does. The labels and keys come from ui/panels.py, through the screen; the colours from rnntui.tcss.
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget


class PanelTabs(Widget):
    COMPONENT_CLASSES = {"panel-tabs--key", "panel-tabs--chosen"}

    chosen: reactive[str] = reactive("")  # the id of the panel shown (and focused); the screen sets it

    def __init__(self, tabs: tuple[tuple[str, str, str], ...], **kwargs) -> None:
        super().__init__(**kwargs)
        self.tabs = tabs  # (panel id, key, label) per panel, in the order of the keys

    def render(self) -> Content:
        key_style = self.get_visual_style("panel-tabs--key", partial=True)
        chosen_style = self.get_visual_style("panel-tabs--chosen", partial=True)
        parts: list[Content] = []
        for pid, key, label in self.tabs:
            tab = Content.assemble(" ", (key, key_style), f" {label} ")
            if pid == self.chosen:
                tab = tab.stylize(chosen_style)
            # the click runs the same action as the key (the screen's `choose`)
            parts.append(tab.stylize(f"@click=screen.choose('{pid}')"))
        return Content("").join(parts)  # (each tab has its own space either side)
