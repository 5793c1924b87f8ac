"""The dashboard's chart panels: loss, gradient flow over the BPTT window, and the global gradient norm.

Each widget keeps the last snapshot it was given and redraws only when a new one differs by identity;
the renderables downsample to the panel's width, so drawing cost does not grow with the run.
"""
from __future__ import annotations

from rich.console import RenderableType
from textual.widget import Widget

from rnntui.core.events import ProbeSnapshot
from rnntui.core.horizon import Horizon
from rnntui.ui.renderables.axes import Waiting
from rnntui.ui.renderables.gradflow import BAR_STYLE, MARK_STYLE, TOTAL_STYLE, VERDICT_STYLES, GradFlow
from rnntui.ui.renderables.linechart import CLIP_STYLE, EMA_STYLE, NORM_STYLE, RAW_STYLE, VAL_STYLE, LossChart, NormChart
from rnntui.ui.widgets.theme_styles import component_styles

# the charts' colours: component classes whose values (theme-aware) are in rnntui.tcss, in parameter order
LOSS_CLASSES = ("loss--raw", "loss--ema", "loss--val")
NORM_CLASSES = ("norm--line", "norm--clip")
VERDICTS = tuple(VERDICT_STYLES)  # vanishing, healthy, exploding
GRADFLOW_CLASSES = ("gradflow--last", "gradflow--total", "gradflow--mark", *(f"gradflow--{w}" for w in VERDICTS))


class LossPanel(Widget):
    """Training loss (raw and EMA-smoothed) and validation points against step."""

    COMPONENT_CLASSES = set(LOSS_CLASSES)  # the curves' colours, from the theme

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data: tuple | None = None  # (train_steps, train_loss, val_steps, val_loss), tuples
        self.smoothing = 0.9  # EMA factor of the smoothed curve; [ and ] change it
        self.log_y = False  # log-scale y axis; l toggles it

    def show(self, data: tuple) -> None:
        self.data = data
        self.refresh()

    def set_view(self, smoothing: float | None = None, log_y: bool | None = None) -> None:
        if smoothing is not None:
            self.smoothing = min(0.995, max(0.0, smoothing))
        if log_y is not None:
            self.log_y = log_y
        self.border_subtitle = f"smoothing {self.smoothing:.2f} [ ]  ·  {'log' if self.log_y else 'linear'} l"
        self.refresh()

    def render(self) -> RenderableType:
        if not self.data or not self.data[0]:
            return Waiting("loss appears after the first logged steps")
        steps, loss, vsteps, vloss = self.data
        raw, ema, val = component_styles(self, LOSS_CLASSES, (RAW_STYLE, EMA_STYLE, VAL_STYLE))
        return LossChart(steps, loss, vsteps, vloss, smoothing=self.smoothing, log_y=self.log_y,
                         height=max(3, self.content_size.height), raw_style=raw, ema_style=ema, val_style=val)


class ProbePanel(Widget):
    """A panel drawn from a probe snapshot: its title says which step it shows, and it dims itself and
    says how far behind it is when the probe is old (the engine could not probe for a while)."""

    TITLE = ""  # the panel's name; the step stamp is appended

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.probe: ProbeSnapshot | None = None
        self.stamp = ("", False)  # (title suffix, stale) last set, so the title is set only on a change

    def set_stamp(self, step: int | None, behind: int, stale: bool, extra: str = "") -> None:
        """Title "<name> @ step 1,240"; when stale, the "-stale" class and "stale: 600 steps behind"."""
        at = f" @ step {step:,}" if step is not None else ""
        key = (at + extra, stale)
        if key != self.stamp:
            self.stamp = key
            self.border_title = f"{self.TITLE}{extra}{at}"
            self.set_class(stale, "-stale")
        # the subtitle keeps counting while stale
        self.border_subtitle = f"stale: {behind:,} steps behind" if stale else self.hint()

    def hint(self) -> str:
        """The subtitle when fresh: the panel's keys."""
        return ""


class GradFlowPanel(ProbePanel):
    """Per-timestep gradient norms over the BPTT window: the selected layer large, the others summarised."""

    TITLE = "gradient reaching back"
    COMPONENT_CLASSES = set(GRADFLOW_CLASSES)  # the curves', the horizon mark's and the verdicts' colours

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.layer_index = 0  # the layer drawn large; the screen owns the choice (v)
        self.horizons: list[Horizon] | None = None  # smoothed verdicts over recent probes
        self.history = ""  # on a reopened run: which kept probe is shown, e.g. "probe @ step 60 (3/5)"

    def show(self, probe: ProbeSnapshot | None, horizons: list[Horizon] | None = None,
             layer: int | None = None) -> None:
        if probe is not self.probe or (layer is not None and layer != self.layer_index):
            self.probe, self.horizons = probe, horizons
            if layer is not None:
                self.layer_index = layer
            self.refresh()

    def hint(self) -> str:
        layers = self.probe.grad_last.shape[0] if self.probe is not None else 1
        keys = ("v layer · " if layers > 1 else "") + "h help"
        return f"{self.history} · {keys}" if self.history else keys

    def show_history(self, position: str) -> None:
        self.history = position
        self.border_subtitle = self.hint()

    def render(self) -> RenderableType:
        if self.probe is None:
            return Waiting("gradient flow appears with the first probe")
        bar, total, mark, *verdicts = component_styles(
            self, GRADFLOW_CLASSES, (BAR_STYLE, TOTAL_STYLE, MARK_STYLE, *VERDICT_STYLES.values()))
        return GradFlow(self.probe.grad_total, self.probe.grad_last, height=max(3, self.content_size.height),
                        layer=self.layer_index, horizons=self.horizons, bar_style=bar, total_style=total,
                        mark_style=mark, verdict_styles=dict(zip(VERDICTS, verdicts)))


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
        return NormChart(steps, norms, clip, height=max(3, self.content_size.height), norm_style=line,
                         clip_style=clip_line)
