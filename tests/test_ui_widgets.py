"""The widgets' reactive attributes: what a screen sets is what the panel shows (its title, its subtitle, its
drawing), and the dashboard's keys set them. Small host apps, no engine: the dashboard reads a RunState
that the test fills with events."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from fake_engine import wait_for
from rich.console import Console
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from rnntui.core.config import ModelConfig, TrainConfig
from rnntui.core.events import ProbeSnapshot, RunStarted, Sample, StepMetrics, Throughput
from rnntui.ui.renderables.confidence import BAND_STYLES, generated_text
from rnntui.ui.screens.train import TrainScreen
from rnntui.ui.state import RunState
from rnntui.ui.widgets.charts import GradFlowPanel, LossPanel
from rnntui.ui.widgets.gen_panes import BAND_CLASSES, GenPane
from rnntui.ui.widgets.hidden import HeatmapPanel
from rnntui.ui.widgets.inspect import next_feature, next_sort
from rnntui.ui.widgets.samples import SamplesPanel
from rnntui.ui.widgets.status import StatusPanel
from rnntui.ui.widgets.theme_styles import component_styles

CSS = str(Path(__file__).resolve().parents[1] / "rnntui" / "ui" / "rnntui.tcss")
TEXT = "def f(x):\n    return [x, (x + 1)]\n"


def text_of(renderable, width: int = 70) -> str:
    console = Console(record=True, width=width, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def probe(step: int, layers: int = 2, cell: bool = True, hidden: int = 12, seed: int = 0) -> ProbeSnapshot:
    rng = np.random.default_rng(seed)
    T = 16
    last = np.stack([np.exp(-np.arange(T)[::-1] / (4 + 4 * i)) for i in range(layers)]).astype(np.float32)
    acts = lambda: np.tanh(rng.normal(size=(layers, len(TEXT), hidden)) * (1 + np.arange(hidden))).astype(np.float32)
    return ProbeSnapshot(
        step=step,
        grad_total=last + 0.1,
        grad_last=last,
        text=TEXT,
        hidden=acts(),
        cell=acts() * 3 if cell else None,
        clip=1.0,
    )


class Host(App):
    """One widget on a screen, with the app's stylesheet."""

    CSS_PATH = CSS

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


# -----------------------------------------------------------------------------
# one widget at a time


async def test_setting_log_y_or_smoothing_retitles_and_redraws_the_loss_chart():
    panel = LossPanel(classes="panel")
    async with Host(panel).run_test(size=(80, 20)) as pilot:
        steps = tuple(range(10, 310, 10))
        panel.show((steps, tuple(3.4 * np.exp(-s / 90) + 1.2 for s in steps), (), ()))
        await pilot.pause()
        assert str(panel.border_subtitle) == "smoothing 0.90 [ ]  ·  linear l"  # the watchers ran at mount
        linear = text_of(panel.render())
        panel.log_y = True
        await pilot.pause()
        assert str(panel.border_subtitle) == "smoothing 0.90 [ ]  ·  log l"
        assert text_of(panel.render()) != linear  # log ticks
        panel.smoothing = 5.0  # kept in range by the validator
        assert panel.smoothing == 0.995 and "smoothing 0.99 " in str(panel.border_subtitle)
        panel.smoothing = 0.0
        assert "smoothing 0.00 " in str(panel.border_subtitle)


async def test_the_status_panel_shows_flops_achieved_and_mfu_with_how_the_peak_was_measured():
    panel = StatusPanel(classes="panel")
    model = ModelConfig(kind="gru", hidden=64, layers=2, embed=16, vocab_size=40)
    cfg = TrainConfig(corpus="tiny", model=model, steps=300, bf16=False)
    state = RunState()
    state.apply(
        RunStarted(
            config=cfg,
            vocab="x" * 40,
            n_params=45_123,
            device="cpu",
            run_dir="",
            start_step=0,
            total_steps=300,
            steps_per_epoch=100,
            train_chars=9000,
            val_chars=1000,
        )
    )
    metrics = StepMetrics(
        step=10,
        epoch=0.1,
        loss=2.5,
        lr=5e-3,
        grad_norm=0.5,
        chars_per_s=20_000.0,
        elapsed_s=1.0,
        progress=0.03,
        eta_s=29.0,
    )
    # by hand: per layer 2*(I + H)*3*H, the head 2*H*V, times 3 for the backward pass
    per_char = 3 * (2 * (16 + 64) * 3 * 64 + 2 * (64 + 64) * 3 * 64 + 2 * 64 * 40)  # 254,976
    async with Host(panel).run_test(size=(80, 20)) as pilot:
        panel.phase = "training"
        state.apply(metrics)
        panel.show(state)  # no Throughput yet (a watched run folder): the count, no share
        await pilot.pause()
        shown = text_of(panel.render())
        assert "mfu   – · 255 kFLOP/char" in shown and "20,000 chars/s · 5.1 GFLOP/s" in shown
        assert str(panel.border_subtitle) == ""
        state.apply(Throughput(per_char, peak_dtype="fp32", measuring=True))
        panel.show(state)
        assert "mfu   measuring the peak…" in text_of(panel.render())
        state.apply(
            Throughput(per_char, 50e9, "fp32", "measured: 256x256 matmul, 2 threads, best of 10", "256² matmul ×10")
        )
        panel.show(state)  # 20,000 chars/s x 254,976 FLOP = 5.1 GFLOP/s of 50: 10%
        await pilot.pause()
        shown = text_of(panel.render())
        assert "mfu   10% · 255 kFLOP/char" in shown and "device cpu · peak 50 GFLOP/s" in shown
        assert str(panel.border_subtitle) == "peak: fp32 256² matmul ×10"
        state.apply(Throughput(per_char, 1e9, "fp32", "measured: ... likely low", "256² matmul ×10, busy: low"))
        panel.show(state)  # 5.1 GFLOP/s of a 1 GFLOP/s peak: the peak is wrong, no figure is shown
        await pilot.pause()
        shown = text_of(panel.render())
        assert "mfu   >100% · 255 kFLOP/char" in shown and "510%" not in shown
        assert str(panel.border_subtitle) == "peak: fp32 256² matmul ×10, busy: low"


async def test_the_probe_stamp_names_the_step_and_marks_a_stale_panel():
    panel = GradFlowPanel(classes="panel")
    async with Host(panel).run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        assert str(panel.border_title) == "gradient reaching back"  # named before the first probe too
        panel.show(probe(40))
        panel.probe_step = 40
        await pilot.pause()
        assert str(panel.border_title) == "gradient reaching back @ step 40"
        assert str(panel.border_subtitle) == "v layer · h help" and not panel.has_class("-stale")
        panel.behind, panel.stale = 600, True
        assert panel.has_class("-stale") and str(panel.border_subtitle) == "stale: 600 steps behind"
        panel.behind = 640  # the subtitle keeps counting
        assert str(panel.border_subtitle) == "stale: 640 steps behind"
        panel.history = "probe @ step 40 (1/3)"
        panel.stale = False
        assert not panel.has_class("-stale")
        assert str(panel.border_subtitle) == "probe @ step 40 (1/3) · v layer · h help"
        panel.layer_index = 1
        await pilot.pause()
        assert text_of(panel.render()).startswith("layer 2:")


async def test_the_heatmap_attributes_choose_what_it_shows_and_its_title_says_so():
    panel = HeatmapPanel(classes="panel")
    panel.styles.height = 8  # fewer rows than units: paging has somewhere to go
    async with Host(panel).run_test(size=(80, 16)) as pilot:
        p = probe(60)
        panel.show(p)
        panel.probe_step = 60
        await pilot.pause()
        assert str(panel.border_title) == "hidden h · layer 1/2 · by variance @ step 60"
        panel.layer_index = 1
        assert "layer 2/2" in str(panel.border_title)
        np.testing.assert_array_equal(panel.states(), p.hidden[1])
        panel.cell = True
        assert str(panel.border_title).startswith("hidden c · layer 2/2")
        np.testing.assert_array_equal(panel.states(), p.cell[1])
        panel.page(1)
        assert panel.row_offset > 0
        panel.order_by = "index"
        assert panel.row_offset == 0 and "by index" in str(panel.border_title)  # a new order starts at its top
        assert list(panel.order()) == list(range(12))
        panel.show(probe(70, layers=1, cell=False))  # a new run: one layer, no cell state
        assert panel.cell is False and "h · layer 1/1" in str(panel.border_title)
        panel.cell = True  # refused without a cell state
        assert panel.cell is False


async def test_a_pane_recolours_when_its_colour_attribute_is_set():
    pane = GenPane(0)
    async with Host(pane).run_test(size=(80, 16)) as pilot:
        pane.reset("sample", "ab", {})
        pane.add("cdef", (0.9, 0.05, 0.5, 0.01))
        await pilot.pause()
        shown = pane.query_one(Static)
        bands = component_styles(pane, BAND_CLASSES, BAND_STYLES)  # the theme's confidence colours
        plain = generated_text("ab", "cdef", [0.9, 0.05, 0.5, 0.01], False, (), bands)
        assert shown.content == plain
        pane.colour = True
        assert shown.content == generated_text("ab", "cdef", [0.9, 0.05, 0.5, 0.01], True, (), bands)
        assert shown.content != plain


async def test_the_samples_panel_shows_the_samples_it_is_given():
    panel = SamplesPanel()
    async with Host(panel).run_test(size=(80, 16)) as pilot:
        shown = panel.query_one(Static)
        empty = shown.content
        panel.samples = (Sample(10, "", "early text", 1.0), Sample(20, "", "later text", 0.8))
        await pilot.pause()
        lines = str(shown.content).splitlines()
        assert lines[0] == "step 20 · T 0.8" and lines[1] == "later text" and "early text" in lines
        panel.samples = ()
        assert shown.content == empty


def test_the_inspector_cycles_only_through_rankings_it_can_compute():
    assert [next_sort(s, found=False) for s in ("variance", "index", "feature")] == ["index", "variance", "variance"]
    assert [next_sort(s, found=True) for s in ("variance", "feature", "index")] == ["feature", "index", "variance"]
    assert next_feature(None, "", None) == "quotes"  # the first find
    assert next_feature("newline", "", None) == "quotes"  # no pattern, no range: both skipped
    assert next_feature("newline", "[0-9]+", None) == "regex"
    assert next_feature("regex", "[0-9]+", (0, 4)) == "range"
    assert next_feature("range", "", None) == "quotes"  # the range was the last find, then unmarked


# -----------------------------------------------------------------------------
# the dashboard sets them


class Dash(App):
    """Just enough of the app for the dashboard: what it shows (state.Shown), a RunState and a phase."""

    CSS_PATH = CSS

    def __init__(self) -> None:
        super().__init__()
        self.state = RunState()

    def phase(self) -> str:
        return "training"

    def on_mount(self) -> None:
        self.push_screen(TrainScreen(self))

    def feed(self, *events) -> None:
        for e in events:
            self.state.apply(e)


def started(layers: int) -> RunStarted:
    cfg = TrainConfig(corpus="tiny", model=ModelConfig(kind="lstm", hidden=12, layers=layers), steps=300)
    return RunStarted(
        config=cfg,
        vocab="abc",
        n_params=1_000,
        device="cpu",
        run_dir="",
        start_step=0,
        total_steps=300,
        steps_per_epoch=100,
        train_chars=9000,
        val_chars=1000,
        initial_loss=1.1,
    )


def metrics(step: int) -> StepMetrics:
    return StepMetrics(
        step=step,
        epoch=step / 100,
        loss=3.0 * np.exp(-step / 90) + 1.2,
        lr=5e-3,
        grad_norm=0.5,
        chars_per_s=1e4,
        elapsed_s=step * 0.05,
        progress=step / 300,
        eta_s=1.0,
        chars_seen=step * 64,
        wall_s=step * 0.05,
    )


async def test_the_dashboard_keys_set_the_panels_attributes_and_the_screen_owns_the_layer():
    app = Dash()
    async with app.run_test(size=(120, 40)) as pilot:
        app.feed(started(2), *(metrics(s) for s in range(10, 110, 10)), probe(100))
        screen = app.screen
        loss, grad, heat = screen.query_one(LossPanel), screen.query_one(GradFlowPanel), screen.query_one(HeatmapPanel)
        await wait_for(pilot, lambda: str(grad.border_title) == "gradient reaching back @ step 100")  # the redraw tick
        linear = text_of(loss.render())
        await pilot.press("l")
        assert loss.log_y and str(loss.border_subtitle).endswith("log l") and text_of(loss.render()) != linear
        await pilot.press("right_square_bracket")
        assert loss.smoothing == 0.95
        await pilot.press("v")
        assert screen.shown_layer == 1 and grad.layer_index == 1 and heat.layer_index == 1
        assert "layer 2/2" in str(heat.border_title)  # retitled by the watcher, not by a redraw
        await pilot.press("c", "o")
        assert heat.cell and heat.order_by == "saturation"
        assert str(heat.border_title).startswith("hidden c · layer 2/2 · by saturation")
        app.feed(probe(110, seed=1))  # a new probe keeps the screen's choice
        await wait_for(pilot, lambda: "@ step 110" in str(heat.border_title))
        assert grad.layer_index == 1 and heat.layer_index == 1 and "@ step 110" in str(heat.border_title)
        app.feed(started(1), probe(10, layers=1, cell=False))  # a new run with one layer: the choice wraps
        await wait_for(pilot, lambda: "layer 1/1" in str(heat.border_title))
        assert screen.shown_layer == 0 and grad.layer_index == 0 and heat.layer_index == 0
        assert not heat.cell and "h · layer 1/1" in str(heat.border_title)


# -----------------------------------------------------------------------------
# the dashboard's panels: declared once (ui/panels.py), sized by id in rnntui.tcss


def test_every_declared_panel_is_sized_in_the_stylesheet_and_the_stylesheet_sizes_no_other():
    import re

    from rnntui.ui.panels import PANEL_IDS, PANELS, ROWS

    css = Path(CSS).read_text(encoding="utf-8")
    start = css.index("/* ---- dashboard")
    section = css[start : css.index("/* ----", start + 1)]
    selectors = re.findall(r"^([^{}/\n][^{}\n]*)\{", section, flags=re.M)  # the text before each "{"
    ids = set(re.findall(r"#([\w-]+)", " ".join(selectors)))
    assert ids - {"dash", *ROWS} == set(PANEL_IDS), "the dashboard's rules name an id no panel declares"
    for pid in PANEL_IDS:  # both layouts size every panel
        assert re.search(rf"\.-wide #{pid}\b", section) and re.search(rf"\.-narrow #{pid}\b", section), pid
    assert len(set(PANEL_IDS)) == len(PANELS) and {p.row for p in PANELS} == set(ROWS)
