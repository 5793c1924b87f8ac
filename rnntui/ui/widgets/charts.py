"""The dashboard's chart panels: loss, gradient flow over the BPTT window, and the global gradient norm.

Each widget keeps the last snapshot it was given and redraws only when a new one differs by identity;
the renderables downsample to the panel's width, so drawing cost does not grow with the run. What the user
chooses to see (smoothing, log scale, the layer, the probe's stamp) is in reactive attributes that the
screen sets; their watchers retitle the panel, and a change repaints it.

The data itself comes through show(): a reactive compares the old value with the new one on every set, and
the data is long tuples or a snapshot of numpy arrays (which do not compare to a bool), where identity is
the test that is both right and cheap.
"""

from __future__ import annotations

from rich.console import RenderableType
from textual.reactive import reactive, var
from textual.widget import Widget

from rnntui.core.analysis.horizon import Horizon
from rnntui.core.events import ProbeSnapshot
from rnntui.ui.renderables.axes import Waiting
from rnntui.ui.renderables.gradflow import BAR_STYLE, MARK_STYLE, TOTAL_STYLE, VERDICT_STYLES, GradFlow
from rnntui.ui.renderables.traincharts import (
    CLIP_STYLE,
    EMA_STYLE,
    NORM_STYLE,
    RAW_STYLE,
    REF_STYLE,
    VAL_STYLE,
    LossChart,
    NormChart,
)
from rnntui.ui.widgets.theme_styles import component_styles

# the charts' colours: component classes whose values (theme-aware) are in rnntui.tcss, in parameter order
LOSS_CLASSES = ("loss--raw", "loss--ema", "loss--val", "loss--ref")
NORM_CLASSES = ("norm--line", "norm--clip")
VERDICTS = tuple(VERDICT_STYLES)  # vanishing, healthy, exploding
GRADFLOW_CLASSES = ("gradflow--last", "gradflow--total", "gradflow--mark", *(f"gradflow--{w}" for w in VERDICTS))


class LossPanel(Widget):
    """Training loss (raw and EMA-smoothed) and validation points against step, with the corpus's baselines
    (best n-gram, unigram, uniform) as labelled reference lines once they are known."""

    COMPONENT_CLASSES = set(LOSS_CLASSES)  # the curves' colours, from the theme

    smoothing: reactive[float] = reactive(0.9)  # EMA factor of the smoothed curve, 0-0.995; [ and ] change it
    log_y: reactive[bool] = reactive(False)  # log-scale y axis; l toggles it

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data: tuple | None = None  # (train_steps, train_loss, val_steps, val_loss), tuples
        # the corpus's baselines, best first: (("5-gram", 1.93), ...) nats/char; the screen sets them before show()
        self.refs: tuple[tuple[str, float], ...] = ()

    def show(self, data: tuple) -> None:
        self.data = data
        self.refresh()

    def validate_smoothing(self, smoothing: float) -> float:
        return min(0.995, max(0.0, smoothing))

    def watch_smoothing(self) -> None:  # also at mount (init): the subtitle is there from the start
        self._subtitle()

    def watch_log_y(self) -> None:
        self._subtitle()

    def _subtitle(self) -> None:
        self.border_subtitle = f"smoothing {self.smoothing:.2f} [ ]  ·  {'log' if self.log_y else 'linear'} l"

    def render(self) -> RenderableType:
        if not self.data or not self.data[0]:
            return Waiting("loss appears after the first logged steps")
        steps, loss, vsteps, vloss = self.data
        raw, ema, val, ref = component_styles(self, LOSS_CLASSES, (RAW_STYLE, EMA_STYLE, VAL_STYLE, REF_STYLE))
        return LossChart(
            steps,
            loss,
            vsteps,
            vloss,
            smoothing=self.smoothing,
            log_y=self.log_y,
            height=max(3, self.content_size.height),
            raw_style=raw,
            ema_style=ema,
            val_style=val,
            refs=self.refs,
            ref_style=ref,
        )


class ProbePanel(Widget):
    """A panel drawn from a probe snapshot: its title says which step it shows, and it dims itself and
    says how far behind it is when the probe is old (the engine could not probe for a while).

    The screen sets the stamp on every redraw; the watchers touch the title and subtitle only on a change.
    """

    TITLE = ""  # the panel's name; what title_extra() says and the step stamp are appended

    probe_step: var[int | None] = var(None)  # step of the probe shown: "<name> @ step 1,240"
    behind: var[int] = var(0)  # steps the run is past that probe: the subtitle counts them while stale
    stale: var[bool] = var(False, toggle_class="-stale")  # far behind: dimmed (.-stale in rnntui.tcss)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.probe: ProbeSnapshot | None = None

    def watch_probe_step(self) -> None:  # also at mount (init): the panel is named before the first probe
        self.retitle()

    def watch_behind(self) -> None:
        self.resubtitle()

    def watch_stale(self) -> None:
        self.resubtitle()

    def retitle(self) -> None:
        at = f" @ step {self.probe_step:,}" if self.probe_step is not None else ""
        self.border_title = f"{self.TITLE}{self.title_extra()}{at}"

    def resubtitle(self) -> None:
        self.border_subtitle = f"stale: {self.behind:,} steps behind" if self.stale else self.hint()

    def title_extra(self) -> str:
        """What the panel shows, between its name and the step stamp."""
        return ""

    def hint(self) -> str:
        """The subtitle when fresh: the panel's keys."""
        return ""


class GradFlowPanel(ProbePanel):
    """Per-timestep gradient norms over the BPTT window: the selected layer large, the others summarised."""

    TITLE = "gradient reaching back"
    COMPONENT_CLASSES = set(GRADFLOW_CLASSES)  # the curves', the horizon mark's and the verdicts' colours

    layer_index: reactive[int] = reactive(0)  # the layer drawn large; the screen owns the choice (v)
    history: var[str] = var("")  # on a reopened run: which kept probe is shown, "probe @ step 60 (3/5)"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.horizons: list[Horizon] | None = None  # smoothed verdicts over recent probes

    def show(self, probe: ProbeSnapshot | None, horizons: list[Horizon] | None = None) -> None:
        if probe is not self.probe:
            self.probe, self.horizons = probe, horizons
            self.resubtitle()  # the keys depend on the number of layers
            self.refresh()

    def watch_history(self) -> None:
        self.resubtitle()

    def hint(self) -> str:
        layers = self.probe.grad_last.shape[0] if self.probe is not None else 1
        keys = ("v layer · " if layers > 1 else "") + "h help"
        return f"{self.history} · {keys}" if self.history else keys

    def render(self) -> RenderableType:
        if self.probe is None:
            return Waiting("gradient flow appears with the first probe")
        bar, total, mark, *verdicts = component_styles(
            self, GRADFLOW_CLASSES, (BAR_STYLE, TOTAL_STYLE, MARK_STYLE, *VERDICT_STYLES.values())
        )
        return GradFlow(
            self.probe.grad_total,
            self.probe.grad_last,
            height=max(3, self.content_size.height),
            layer=self.layer_index,
            horizons=self.horizons,
            bar_style=bar,
            total_style=total,
            mark_style=mark,
            verdict_styles=dict(zip(VERDICTS, verdicts)),
        )


class NormPanel(Widget):
    """The global gradient norm before clipping over time, with the clip threshold drawn."""

    COMPONENT_CLASSES = set(NORM_CLASSES)  # the curve's and the clip line's colours, from the theme

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data: tuple | None = None  # (steps, norms, clip)

    def show(self, data: tuple) -> None:
        self.data = data
        self.refresh()

    def render(self) -> RenderableType:
        if not self.data or not self.data[0]:
            return Waiting("gradient norm appears after the first logged steps")
        steps, norms, clip = self.data
        line, clip_line = component_styles(self, NORM_CLASSES, (NORM_STYLE, CLIP_STYLE))
        return NormChart(
            steps, norms, clip, height=max(3, self.content_size.height), norm_style=line, clip_style=clip_line
        )
