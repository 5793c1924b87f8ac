"""The training dashboard: loss, gradient flow, gradient norm, hidden states, status and samples.

Engine events land in the app's RunState (O(1) each); this screen redraws from it on a timer, so the
terminal is updated at a bounded rate however fast the engine logs. Below 100 columns the panels stack
in one scrolling column with the status first.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header

from rnntui.ui.widgets.charts import GradFlowPanel, LossPanel, NormPanel
from rnntui.ui.widgets.hidden import HeatmapPanel
from rnntui.ui.widgets.samples import SamplesPanel
from rnntui.ui.widgets.status import StatusPanel

REDRAW_S = 0.3  # ~3 Hz: smooth enough to watch, cheap enough to leave the cores to training


class TrainScreen(Screen):
    BINDINGS = [
        Binding("s", "app.start", "Start"),
        Binding("p,space", "app.pause", "Pause/resume"),
        Binding("x", "app.stop", "Stop"),
        Binding("w", "app.save", "Save"),
        Binding("g", "app.generate", "Generate"),
        Binding("i", "app.inspect", "Inspect"),
        Binding("e", "app.export", "Export"),
        Binding("n", "app.setup", "New run"),
        Binding("left_square_bracket", "smoothing(-0.05)", "less smoothing", show=False),
        Binding("right_square_bracket", "smoothing(0.05)", "more smoothing", show=False),
        Binding("l", "log_y", "log/linear loss", show=False),
        Binding("v", "layer", "next layer", show=False),
        Binding("c", "cell", "hidden h / cell c", show=False),
        Binding("pageup,comma", "page(-1)", "hidden units: previous page", show=False, priority=True),
        Binding("pagedown,full_stop", "page(1)", "hidden units: next page", show=False, priority=True),
        Binding("left", "chars(-1)", "hidden: earlier characters", show=False, priority=True),
        Binding("right", "chars(1)", "hidden: later characters", show=False, priority=True),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="dash"):
            with Horizontal(id="row-loss", classes="row"):
                yield StatusPanel(id="status", classes="panel")
                yield LossPanel(id="loss", classes="panel")
            with Horizontal(id="row-grad", classes="row"):
                yield GradFlowPanel(id="gradflow", classes="panel")
                yield NormPanel(id="norm", classes="panel")
            with Horizontal(id="row-hidden", classes="row"):
                yield HeatmapPanel(id="heatmap", classes="panel")
                yield SamplesPanel(id="samples", classes="panel")
        yield Footer()

    def on_mount(self) -> None:
        titles = {"status": "status", "loss": "loss (nats/char; bpc = nats/ln 2)",
                  "gradflow": "gradient reaching t steps back (log)", "norm": "gradient norm before clipping",
                  "heatmap": "hidden state", "samples": "samples during training"}
        for wid, title in titles.items():
            self.query_one(f"#{wid}").border_title = title
        self.query_one(LossPanel).set_view()
        self._seen = -1  # RunState.version last drawn
        self._keys: dict[str, object] = {}  # per-panel change keys, so a probe does not redraw the loss
        self.set_interval(REDRAW_S, self.redraw)
        self.redraw()
        self.query_one("#dash").focus()

    # ---- drawing ---------------------------------------------------------------------------------

    def _changed(self, panel: str, key: object) -> bool:
        if self._keys.get(panel) == key:
            return False
        self._keys[panel] = key
        return True

    def redraw(self) -> None:
        app = self.app
        st, phase = app.state, app.phase
        if st.version == self._seen and not self._changed("phase", phase):
            return
        self._seen = st.version
        self._keys["phase"] = phase
        self.query_one(StatusPanel).show(st, phase)
        if st.started is not None:
            self.sub_title = f"{st.started.config.run_name} · {phase}"
        n, nv = len(st.train_steps), len(st.val_steps)
        last = st.train_steps[-1] if n else None
        if self._changed("loss", (id(st), n, last, nv)):
            self.query_one(LossPanel).show((tuple(st.train_steps), tuple(st.train_loss),
                                            tuple(st.val_steps), tuple(st.val_loss)))
            clip = st.started.config.clip if st.started else 0.0
            self.query_one(NormPanel).show((tuple(st.train_steps), tuple(st.grad_norms), clip))
        self.query_one(GradFlowPanel).show(st.probe)
        self.query_one(HeatmapPanel).show(st.probe)
        self.query_one(SamplesPanel).show(tuple(st.samples))

    # ---- view keys -------------------------------------------------------------------------------

    def action_smoothing(self, delta: float) -> None:
        panel = self.query_one(LossPanel)
        panel.set_view(smoothing=round(panel.smoothing + delta, 3))

    def action_log_y(self) -> None:
        panel = self.query_one(LossPanel)
        panel.set_view(log_y=not panel.log_y)

    def action_layer(self) -> None:
        heat = self.query_one(HeatmapPanel)
        heat.next_layer()
        grad = self.query_one(GradFlowPanel)
        grad.layer_index = heat.layer_index if heat.probe is not None and heat.probe.hidden.shape[0] > 1 else None
        grad.refresh()

    def action_cell(self) -> None:
        if not self.query_one(HeatmapPanel).toggle_cell():
            self.notify("only an LSTM has a cell state c", timeout=2)

    def action_page(self, direction: int) -> None:
        self.query_one(HeatmapPanel).page(direction)

    def action_chars(self, direction: int) -> None:
        self.query_one(HeatmapPanel).scroll_chars(direction)
