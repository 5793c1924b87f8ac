"""Help: every key of the screen underneath (read from its bindings so it never drifts from them), and a
short "what am I looking at" for each dashboard panel, opened at that panel from the panel itself."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from rnntui.core.horizon import EXPLODING_ABOVE, THRESHOLD, VANISHING_BELOW, WINDOW, fmt_threshold
from rnntui.ui.screens.train import REDRAW_S


def about() -> str:
    per_s = 1 / REDRAW_S
    return (f"Training runs in a background thread; the dashboard redraws at most every {REDRAW_S:g} s "
            f"(about {per_s:.0f} times a second), however fast the engine logs. ctrl+p opens the command "
            "palette (every command below, themes, a screenshot saved where e exports). ctrl+q quits (it "
            "asks first while training).")


# panel id -> (title, explanation). In the app's own words; the numbers come from the code.
PANELS: dict[str, tuple[str, str]] = {
    "status": ("status", (
        "Where the run stands: the step (optimiser updates) and epoch (passes over the training text), the "
        "share of the budget done, characters per second, and the last checkpoint written, with the step "
        "it holds. train is the latest training loss, val the latest validation loss, best the lowest "
        "validation loss so far (best.pt holds that model).")),
    "loss": ("loss", (
        "Cross-entropy of the next character: how surprised the model is, on average, by what comes next, "
        "in nats (natural log). Bits per character (bpc) is the same number divided by ln 2 (0.693): the "
        "bits a compressor using this model would spend per character. A uniform guess over V characters "
        "costs ln V. The line is the training loss (smoothed: [ and ]), the dots the validation loss on "
        "held-out text; when training keeps falling while validation stalls or rises, the model is "
        "memorising rather than generalising. l switches to a log axis.")),
    "gradflow": ("gradient reaching back", (
        "Each bar is ||dloss_T/dh_t||: how much the loss at the last step T of one training window would "
        "change if the hidden state h_t of an earlier step t were nudged, in other words how far back "
        "that prediction can learn from. Reading leftwards is reading further into the past (t-1, t-2, "
        "...), on a log scale. Backpropagation reaches h_t by multiplying once per step by the recurrent "
        "Jacobian dh_(t+1)/dh_t. For a tanh RNN that is diag(1 - h^2) W_hh: tanh's slope 1 - h^2 is at "
        "most 1 and near 0 for saturated units, so the product usually shrinks geometrically and the "
        "bars fall off a cliff (vanishing gradients). An LSTM adds c_t = f*c_(t-1) + i*g: through its "
        "forget gate f (near 1 when it chooses to remember) the gradient passes almost unchanged; a GRU's "
        "update gate does the same. "
        f"The verdict line is the memory horizon: the number of steps back for which the bar stays above "
        f"{fmt_threshold(THRESHOLD)} of its value at t (the ▲ on the axis), from the last {WINDOW} probes "
        f"averaged in log space so one noisy probe cannot flip it. Under {VANISHING_BELOW} steps it says "
        f"vanishing; exploding when some earlier step gets {EXPLODING_ABOVE:.0f}x the gradient of t; "
        "\"at least\" means it never fell below within the window (seq len). The 'total' strip is "
        "||dL/dh_t|| for the window's mean loss on its own scale: what the optimiser receives at each step. "
        "v shows the next layer large; the others stay as one-line summaries. The title's '@ step' is the "
        "step the probe was taken at; the panel dims and says 'stale' when probes fell far behind.")),
    "norm": ("grad norm before clipping", (
        "The length of the whole gradient (all parameters) at each logged step, before clipping, on a log "
        "axis. The dashed line is the clip threshold: a step whose norm is above it is scaled down to it, "
        "so one bad batch cannot throw the weights far. A few spikes are normal; most steps clipped means "
        "the learning rate is too high for this model.")),
    "heatmap": ("hidden state", (
        "The hidden state h_t after reading each character of a fixed probe text (one column per "
        "character). Each terminal row holds two units, one in the upper half of the cell and one in the "
        "lower half; the label names both. Colour: the theme's colour for -1, the panel's background for "
        "0, the other colour for +1 (the legend at the bottom). A unit near +-1 is saturated: tanh is flat "
        "there, so it passes almost no gradient back; a layer full of saturated units has stopped "
        "learning from the past. Units are ordered by variance over the probe text (the units that change "
        "most: the ones tracking something, such as quotes or bracket depth), by saturation, or by index: "
        "o cycles. PgUp/PgDn page through the units, left/right scroll the text, c shows an LSTM's cell "
        "state c, v the next layer.")),
    "samples": ("samples", (
        "Text the model writes from its current weights during training, newest on top, at temperature "
        "0.8 (lower: safer and more repetitive; higher: more varied and more wrong). Watch it go from "
        "noise to words to structure. g opens generation with your own seed text and temperatures.")),
}


def key_name(binding: Binding, app) -> str:
    return ", ".join(app.get_key_display(Binding(k.strip(), "")) for k in binding.key.split(","))


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,question_mark,f1,q", "dismiss", "Close")]

    def __init__(self, screen: Screen, topic: str | None = None) -> None:
        super().__init__()
        self.under = screen  # whose keys to list
        self.topic = topic if topic in PANELS else None  # a dashboard panel to open the help at

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
                yield Static(Text("the panels (h on a focused panel, or a click on its title, opens its part)",
                                  style="bold"), classes="help-head")
                for pid, (title, body) in PANELS.items():
                    yield Static(Text(title, style="bold"), id=f"help-{pid}", classes="help-title")
                    yield Static(body, classes="help-panel", markup=False)

    def on_mount(self) -> None:
        if self.topic is not None:
            target = self.query_one(f"#help-{self.topic}")
            target.add_class("-topic")
            self.call_after_refresh(self.query_one("#help", VerticalScroll).scroll_to_widget, target, top=True,
                                    animate=False)
