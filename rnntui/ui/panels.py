"""The dashboard's panels, declared once: the id the train screen gives each widget (rnntui.tcss sizes it by
that id), the key that brings it up, its label on the tab strip, the row it sits in, the title on its
border, and its part of the help screen.

A new panel is one Panel here, its widget, and its two sizing rules in rnntui.tcss (`.-wide #id` and
`.-narrow #id`; a test checks that the ids here and there agree). The train screen composes from PANELS and
binds each key, the tab strip and the help screen are written from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.widget import Widget

from rnntui.core.analysis.horizon import EXPLODING_ABOVE, THRESHOLD, VANISHING_BELOW, WINDOW, fmt_threshold
from rnntui.ui.widgets.charts import GradFlowPanel, LossPanel, NormPanel
from rnntui.ui.widgets.hidden import HeatmapPanel
from rnntui.ui.widgets.samples import SamplesPanel
from rnntui.ui.widgets.status import StatusPanel


@dataclass(frozen=True)
class Panel:
    id: str  # the widget's id on the dashboard, the help's topic name, and #id in rnntui.tcss
    key: str  # the key that brings the panel up (and focuses it): one keystroke at any terminal size
    tab: str  # its label on the dashboard's tab strip: short, all six fit in 80 columns
    widget: type[Widget]  # the panel's widget class
    row: str  # the dashboard row it sits in (one of ROWS), left to right in the order of PANELS
    title: str  # its border title ("": the widget titles itself, with the step of its probe)
    name: str  # the heading of its part of the help
    help: str  # what the help says about it: in the app's own words, the numbers from the code


ROWS = ("row-loss", "row-grad", "row-hidden")  # top to bottom when all fit (>= 100x40); else the chosen one

PANELS: tuple[Panel, ...] = (
    Panel(
        "status",
        "1",
        "status",
        StatusPanel,
        "row-loss",
        "status",
        "status",
        (
            "Where the run stands: the step (optimiser updates) and epoch (passes over the training text), the "
            "share of the budget done, characters per second, and the last checkpoint written, with the step "
            "it holds. train is the latest training loss, val the latest validation loss, best the lowest "
            "validation loss so far (best.pt holds that model). "
            "speed also gives the arithmetic the run achieves: chars/s times the model's FLOPs per character "
            "(matrix multiplications only, 2 FLOPs per multiply-add, forward and backward: the backward pass "
            "costs twice the forward). mfu, model FLOPs utilisation as nanoGPT prints it, is that as a share "
            "of the device's peak (device row): the dense matmul throughput rnntui measured on this machine at "
            "the training dtype, a second or two of square matmuls before the first run, cached per machine "
            "and dtype (the border says how: size and samples taken). A small recurrent model spends its time "
            "in many small matmuls one timestep after another, so a few percent on a CPU is normal; a share "
            "that falls while chars/s falls means something else took the machine. A peak measured while other "
            "programs were busy is likely low: the border then says busy: low and it is measured again next "
            "run; a run that beats its peak measures it again at once, and >100% means it read low again."
        ),
    ),
    Panel(
        "loss",
        "2",
        "loss",
        LossPanel,
        "row-loss",
        "loss (nats/char)",
        "loss",
        (
            "Cross-entropy of the next character: how surprised the model is, on average, by what comes next, "
            "in nats (natural log). Bits per character (bpc) is the same number divided by ln 2 (0.693): the "
            "bits a compressor using this model would spend per character. A uniform guess over V characters "
            "costs ln V. The line is the training loss (smoothed: [ and ]), the dots the validation loss on "
            "held-out text; when training keeps falling while validation stalls or rises, the model is "
            "memorising rather than generalising. l switches to a log axis. "
            "The dashed lines are what counting alone achieves on the same validation text, computed once per "
            "corpus: uniform (ln V), unigram (each character's frequency) and the best n-gram (orders 2 to 6, "
            "predicting from the last 1 to 5 characters, Kneser-Ney smoothed), each labelled with its loss in "
            "nats. The legend's 'vs 6-gram -0.05' is the latest validation loss minus the best n-gram's: once the "
            "dots sit below that line the network predicts better than any table of recent characters, so it "
            "has learned something beyond the last few characters (a bracket opened long ago, the indentation "
            "of a block). The weaker lines appear only while the curve is up near them."
        ),
    ),
    Panel(
        "gradflow",
        "3",
        "gradient flow",
        GradFlowPanel,
        "row-grad",
        "",
        "gradient reaching back",
        (
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
            "step the probe was taken at; the panel dims and says 'stale' when probes fell far behind."
        ),
    ),
    Panel(
        "norm",
        "4",
        "grad norm",
        NormPanel,
        "row-grad",
        "grad norm before clipping",
        "grad norm before clipping",
        (
            "The length of the whole gradient (all parameters) at each logged step, before clipping, on a log "
            "axis. The dashed line is the clip threshold: a step whose norm is above it is scaled down to it, "
            "so one bad batch cannot throw the weights far. A few spikes are normal; most steps clipped means "
            "the learning rate is too high for this model."
        ),
    ),
    Panel(
        "heatmap",
        "5",
        "hidden state",
        HeatmapPanel,
        "row-hidden",
        "",
        "hidden state",
        (
            "The hidden state h_t after reading each character of a fixed probe text (one column per "
            "character). Each terminal row holds two units, one in the upper half of the cell and one in the "
            "lower half; the label names both. Colour: the theme's colour for -1, the panel's background for "
            "0, the other colour for +1 (the legend at the bottom). A unit near +-1 is saturated: tanh is flat "
            "there, so it passes almost no gradient back; a layer full of saturated units has stopped "
            "learning from the past. Units are ordered by variance over the probe text (the units that change "
            "most: the ones tracking something, such as quotes or bracket depth), by saturation, or by index: "
            "o cycles. PgUp/PgDn page through the units, left/right scroll the text, c shows an LSTM's cell "
            "state c, v the next layer."
        ),
    ),
    Panel(
        "samples",
        "6",
        "samples",
        SamplesPanel,
        "row-hidden",
        "samples",
        "samples",
        (
            "Text the model writes from its current weights during training, newest on top, at temperature "
            "0.8 (lower: safer and more repetitive; higher: more varied and more wrong). Watch it go from "
            "noise to words to structure. g opens generation with your own seed text and temperatures."
        ),
    ),
)

PANEL_IDS = tuple(p.id for p in PANELS)
# what the dashboard shows first, at any size: the gradient reaching back, the reason the app exists
DEFAULT_PANEL = "gradflow"
