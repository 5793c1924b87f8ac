"""Help: every key of the screen underneath, read from its bindings so it never drifts from them."""
from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

ABOUT = ("Training runs in a background thread; panels redraw 4 times a second. Loss is in nats per "
         "character (bits per char = nats / ln 2). Gradient flow shows how much gradient reaches t steps "
         "back through the recurrence. ctrl+p opens the command palette (commands and themes).")


def key_name(binding: Binding, app) -> str:
    return ", ".join(app.get_key_display(Binding(k.strip(), "")) for k in binding.key.split(","))


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,question_mark,f1,q", "dismiss", "Close")]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.under = screen  # whose keys to list

    def key_table(self) -> Table:
        table = Table(box=None, show_header=False, padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for node in (self.under, self.app):
            for b in node.BINDINGS:
                b = b if isinstance(b, Binding) else Binding(*b)
                if b.description:
                    table.add_row(key_name(b, self.app), b.description)
        return table

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as box:
            box.border_title = "keys"
            box.border_subtitle = "escape closes"
            yield Static(self.key_table())
            yield Static(ABOUT, id="help-about")
