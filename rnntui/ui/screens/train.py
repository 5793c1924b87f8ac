"""The training dashboard: loss, gradient flow, gradient norm, hidden states, status and samples.

The app hands the screen what it shows (`shown`: a run trained here or a run folder, see state.Shown);
engine events land in its RunState (O(1) each), and this screen redraws from it on a timer (every
REDRAW_S = 0.3 s, about 3 times a second), so the terminal is updated at a bounded rate however fast the
engine logs. Attributes go down: the view keys set the panels' reactive attributes (smoothing, log_y,
layer_index, cell, order_by), whose watchers retitle and repaint them. The panels themselves are declared in
ui/panels.py.

What is on screen is the chosen panel (its key, 1-6, or a click on the tab strip; the gradient flow at
first) and as much around it as fits, so every panel is one keystroke away at any size from 80x24 up:
  >= 100 columns and >= 40 rows   all three rows; the chosen panel is focused (h explains it)
  >= 100 columns, fewer rows      the chosen panel's row, side by side
  < 100 columns, >= 40 rows       the chosen panel's row, stacked
  < 100 columns, fewer rows       the chosen panel alone
(the screen classes -wide/-narrow and -tall/-short; the rules are in rnntui.tcss). The app keeps the choice
for the next dashboard (a new run, a run folder): the screen tells it with PanelChosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen

from rnntui.core.analysis.features import UNIT_ORDERS
from rnntui.ui.panels import DEFAULT_PANEL, PANEL_IDS, PANELS, ROWS
from rnntui.ui.state import Shown
from rnntui.ui.widgets.charts import GradFlowPanel, LossPanel, NormPanel
from rnntui.ui.widgets.footer import FittingFooter
from rnntui.ui.widgets.header import AppHeader
from rnntui.ui.widgets.hidden import HeatmapPanel
from rnntui.ui.widgets.panel_tabs import PanelTabs
from rnntui.ui.widgets.samples import SamplesPanel
from rnntui.ui.widgets.status import StatusPanel

REDRAW_S = 0.3  # about 3.3 Hz: smooth enough to watch, cheap enough to leave the cores to training (help quotes it)
ALL_ROWS_FROM = 40  # terminal rows from which (at >= 100 columns) all three rows of panels show at once
PANEL_KEYS = Binding.Group("panel", compact=True)  # one footer entry for the panels' keys: "123456 panel"


class TrainScreen(Screen):
    VERTICAL_BREAKPOINTS = [(0, "-short"), (ALL_ROWS_FROM, "-tall")]  # with the app's -narrow/-wide
    # Footer order is priority order: at 80 columns the last ones are left out (the help stays).
    BINDINGS = [
        *(Binding(p.key, f"choose('{p.id}')", f"panel: {p.tab}", group=PANEL_KEYS) for p in PANELS),
        Binding("p,space", "app.pause", "Pause"),
        Binding("s", "app.start", "Start"),
        Binding("x", "app.stop", "Stop"),
        Binding("n", "app.setup", "New run"),
        Binding("g", "app.generate", "Generate"),
        Binding("i", "app.inspect", "Inspect"),
        Binding("w", "app.save", "Save", show=False),
        Binding("e", "app.export", "Export", show=False),
        Binding("h", "explain", "what is this panel?", show=False),
        Binding("left_square_bracket", "smoothing(-0.05)", "less smoothing", show=False),
        Binding("right_square_bracket", "smoothing(0.05)", "more smoothing", show=False),
        Binding("l", "log_y", "log/linear loss", show=False),
        Binding("v", "layer", "next layer (gradient and hidden)", show=False),
        Binding("o", "order", "hidden units: next order", show=False),
        Binding("c", "cell", "hidden h / cell c", show=False),
        Binding("pageup,comma", "page(-1)", "hidden units: previous page", show=False, priority=True),
        Binding("pagedown,full_stop", "page(1)", "hidden units: next page", show=False, priority=True),
        Binding("left", "chars(-1)", "hidden: earlier characters", show=False, priority=True),
        Binding("right", "chars(1)", "hidden: later characters", show=False, priority=True),
    ]

    @dataclass
    class HelpRequested(Message):
        """h on a panel, or a click on its title: the help screen, opened at that panel's explanation."""

        topic: str  # a panel id (ui/panels.py)

    @dataclass
    class PanelChosen(Message):
        """A panel was chosen (its key, the tab strip, a click or Tab onto it): the app remembers it."""

        panel: str  # a panel id (ui/panels.py)

    # the layer the gradient and hidden panels show (v): the screen owns the choice, the watcher hands it
    # down. init=False: the panels start at layer 0 too
    shown_layer: var[int] = var(0, init=False)
    # where the gradient panel's probe sits in a run folder's history (the app sets it: < and > step it)
    probe_history: var[str] = var("", init=False)
    # the panel on screen whatever the size (and focused): a panel id. init=False: on_mount shows it
    chosen: var[str] = var(DEFAULT_PANEL, init=False)

    def __init__(self, shown: Shown, panel: str = DEFAULT_PANEL) -> None:
        super().__init__()
        self.shown = shown  # what the dashboard draws; the app hands down a new one when a run starts
        self.set_reactive(TrainScreen.chosen, panel if panel in PANEL_IDS else DEFAULT_PANEL)  # the app's last

    def watch_probe_history(self, where: str) -> None:
        for panel in self.query(GradFlowPanel):  # (none before the screen is composed)
            panel.history = where

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield PanelTabs(tuple((p.id, p.key, p.tab) for p in PANELS))
        with VerticalScroll(id="dash"):
            for row in ROWS:
                with Horizontal(id=row, classes="row"):
                    for panel in PANELS:
                        if panel.row == row:
                            yield panel.widget(id=panel.id, classes="panel")
        yield FittingFooter(compact=True)

    def on_mount(self) -> None:
        for panel in PANELS:
            if panel.title:  # (the probe panels title themselves, with their probe's step)
                self.query_one(f"#{panel.id}").border_title = panel.title
        self._seen: tuple[int, int] | None = None  # (id, version) of the RunState last drawn: a new run's differs
        self._keys: dict[str, object] = {}  # per-panel change keys, so a probe does not redraw the loss
        for pid in PANEL_IDS:  # focusable, so h (and a second click) can explain the panel the user is on
            self.query_one(f"#{pid}").can_focus = True
        self.set_interval(REDRAW_S, self.redraw)
        self.redraw()
        self.show_chosen(self.chosen)

    # ---- drawing ---------------------------------------------------------------------------------

    def _changed(self, panel: str, key: object) -> bool:
        if self._keys.get(panel) == key:
            return False
        self._keys[panel] = key
        return True

    def redraw(self) -> None:
        st, phase = self.shown.state, self.shown.phase()
        if (id(st), st.version) == self._seen and not self._changed("phase", phase):
            return
        self._seen = (id(st), st.version)
        self._keys["phase"] = phase
        status = self.query_one(StatusPanel)
        status.phase = phase
        status.show(st)
        if st.started is not None:
            self.sub_title = f"{st.started.config.run_name} · {phase}"
        n, nv = len(st.train_steps), len(st.val_steps)
        last = st.train_steps[-1] if n else None
        if self._changed("loss", (id(st), n, last, nv, len(st.norm_steps), id(st.baselines))):
            loss = self.query_one(LossPanel)
            loss.refs = st.baseline_refs  # the n-gram baselines' reference lines, once computed
            loss.show((tuple(st.train_steps), tuple(st.train_loss), tuple(st.val_steps), tuple(st.val_loss)))
            clip = st.started.config.clip if st.started else 0.0
            self.query_one(NormPanel).show((tuple(st.norm_steps), tuple(st.grad_norms), clip))
        grad, heat = self.query_one(GradFlowPanel), self.query_one(HeatmapPanel)
        grad.show(st.probe, st.horizons.horizons() if st.probe is not None else None)
        heat.show(st.probe)
        if st.probe is not None:  # a new run may have fewer layers
            self.shown_layer %= st.probe.grad_last.shape[0]
        behind, stale = st.probe_lag()
        for panel in (grad, heat):  # the watchers retitle a panel only when its stamp changes
            panel.probe_step = st.probe.step if st.probe is not None else None
            panel.behind, panel.stale = behind, stale
        self.query_one(SamplesPanel).samples = tuple(st.samples)

    # ---- which panel: the keys 1-6, the tab strip, focus --------------------------------------------

    def action_choose(self, panel: str) -> None:
        self.chosen = panel

    def watch_chosen(self, panel: str) -> None:
        self.show_chosen(panel)
        self.post_message(self.PanelChosen(panel))

    def show_chosen(self, panel: str) -> None:
        """Mark the chosen panel and its row (the stylesheet shows what fits around them) and focus it."""
        row = next(p.row for p in PANELS if p.id == panel)
        for r in ROWS:
            self.query_one(f"#{r}").set_class(r == row, "-chosen")
        for pid in PANEL_IDS:
            self.query_one(f"#{pid}").set_class(pid == panel, "-chosen")
        self.query_one(PanelTabs).chosen = panel
        widget = self.query_one(f"#{panel}")
        if self.focused is not widget:  # after the refresh: a panel that was hidden cannot take focus yet
            self.call_after_refresh(widget.focus, scroll_visible=False)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """A panel focused by a click or Tab becomes the chosen one (h explains it; a smaller terminal keeps
        it on screen)."""
        if event.widget.id in PANEL_IDS:
            self.chosen = event.widget.id

    # ---- view keys -------------------------------------------------------------------------------

    def action_smoothing(self, delta: float) -> None:
        panel = self.query_one(LossPanel)
        panel.smoothing = round(panel.smoothing + delta, 3)  # the panel keeps it in 0-0.995

    def action_log_y(self) -> None:
        panel = self.query_one(LossPanel)
        panel.log_y = not panel.log_y

    def action_layer(self) -> None:
        probe = self.shown.state.probe
        layers = probe.grad_last.shape[0] if probe is not None else 1
        if layers < 2:
            self.notify("this model has one layer", timeout=2)
            return
        self.shown_layer = (self.shown_layer + 1) % layers

    def watch_shown_layer(self, layer: int) -> None:
        self.query_one(GradFlowPanel).layer_index = layer
        self.query_one(HeatmapPanel).layer_index = layer

    def action_order(self) -> None:
        heat = self.query_one(HeatmapPanel)
        if heat.probe is not None:
            heat.order_by = UNIT_ORDERS[(UNIT_ORDERS.index(heat.order_by) + 1) % len(UNIT_ORDERS)]

    def action_cell(self) -> None:
        heat = self.query_one(HeatmapPanel)
        if heat.probe is None or heat.probe.cell is None:
            self.notify("only an LSTM has a cell state c", timeout=2)
        else:
            heat.cell = not heat.cell

    def action_page(self, direction: int) -> None:
        self.query_one(HeatmapPanel).page(direction)

    def action_chars(self, direction: int) -> None:
        self.query_one(HeatmapPanel).scroll_chars(direction)

    # ---- help about a panel -----------------------------------------------------------------------

    def action_explain(self) -> None:
        """h: the help at the chosen panel, the one focused (a click or Tab onto a panel chooses it). f1 opens
        the help at its top, the keys, now that a panel is always focused."""
        self.post_message(self.HelpRequested(self.chosen))

    def on_click(self, event) -> None:
        """A click on a panel focuses it (Textual does that); a click on its title opens its explanation."""
        widget = event.widget
        while widget is not None and getattr(widget, "id", None) not in PANEL_IDS:
            widget = widget.parent
        if widget is not None and event.screen_y == widget.region.y:  # the top border, where the title is
            self.post_message(self.HelpRequested(widget.id))
