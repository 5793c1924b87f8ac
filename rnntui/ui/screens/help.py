"""Help: every key of the screen underneath (read from its bindings so it never drifts from them), and a
short "what am I looking at" for each dashboard panel (ui/panels.py), opened at that panel from the panel
itself; other screens with charts to explain list them in HELP_SECTIONS ((title, text) pairs)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from rnntui.ui.panels import PANEL_IDS, PANELS
from rnntui.ui.screens.train import REDRAW_S


def about() -> str:
    per_s = 1 / REDRAW_S
    return (
        f"Training runs in a background thread; the dashboard redraws at most every {REDRAW_S:g} s "
        f"(about {per_s:.0f} times a second), however fast the engine logs. ctrl+p opens the command "
        "palette (every command below, themes, a screenshot saved where e exports). ctrl+q quits (it "
        "asks first while training)."
    )


def key_name(binding: Binding, app) -> str:
    return ", ".join(app.get_key_display(Binding(k.strip(), "")) for k in binding.key.split(","))


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,question_mark,f1,q", "dismiss", "Close")]

    def __init__(self, screen: Screen, topic: str | None = None) -> None:
        super().__init__()
        self.under = screen  # whose keys to list
        self.topic = topic if topic in PANEL_IDS else None  # a dashboard panel to open the help at

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
            box.border_title = "help"
            box.border_subtitle = "escape closes"
            yield Static(self.key_table())
            yield Static(about(), id="help-about")
            if type(self.under).__name__ == "TrainScreen":
                yield Static(
                    Text(
                        "the panels (its key brings one up; h on it, or a click on its title, opens its part)",
                        style="bold",
                    ),
                    classes="help-head",
                )
                for panel in PANELS:
                    yield Static(
                        Text(f"{panel.key}  {panel.name}", style="bold"), id=f"help-{panel.id}", classes="help-title"
                    )
                    yield Static(panel.help, classes="help-panel", markup=False)
            for title, body in getattr(self.under, "HELP_SECTIONS", ()):  # a screen's own charts (generation)
                yield Static(Text(title, style="bold"), classes="help-title")
                yield Static(body, classes="help-panel", markup=False)

    def on_mount(self) -> None:
        if self.topic is not None:
            target = self.query_one(f"#help-{self.topic}")
            target.add_class("-topic")
            self.call_after_refresh(
                self.query_one("#help", VerticalScroll).scroll_to_widget, target, top=True, animate=False
            )
