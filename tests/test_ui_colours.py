"""Chart colours come from the theme: each widget's component classes (rnntui.tcss) feed its renderable.

Renderable tests: a style passed in is the one drawn (the hex defaults are only for drawing standalone).
Pilot tests: switching the app's theme (its toggle_theme action, ctrl+t) changes each widget's component
styles and hence the colours of the segments it draws, and on the light theme every chart colour keeps a
readable contrast (3:1) with the widget's own background, which the dark set's hues mostly miss (1.4-2.6).
"""

from __future__ import annotations

import io
import itertools

import numpy as np
from fake_engine import FakeTrainer, wait_for
from rich.color import Color
from rich.console import Console
from rich.style import Style

from rnntui.core.config import ModelConfig, TrainConfig
from rnntui.core.generate.stepping import Candidate, StepView
from rnntui.ui.app import RnntuiApp
from rnntui.ui.renderables.bars import CHOSEN_STYLE, MODEL_STYLE, CandidateBars
from rnntui.ui.renderables.compare import RUN_STYLES, CompareLoss, CompareReach, FinalTable, LossCurve, ReachCurve
from rnntui.ui.renderables.confidence import BAND_STYLES, generated_text, legend
from rnntui.ui.renderables.gradflow import GradFlow
from rnntui.ui.renderables.traincharts import LossChart, NormChart
from rnntui.ui.screens.setup import SetupScreen
from rnntui.ui.screens.train import TrainScreen
from rnntui.ui.widgets.charts import GRADFLOW_CLASSES, LOSS_CLASSES, NORM_CLASSES, GradFlowPanel, LossPanel, NormPanel

RED, GREEN, BLUE, CYAN, PINK = (
    Style.parse(f"bold {c}") for c in ("#ff0000", "#00ff00", "#0000ff", "#00ffff", "#ff00ff")
)


def colours(renderable, width: int = 80, height: int = 14) -> set[str]:
    """The foreground colours (hex) of every segment the renderable draws."""
    console = Console(width=width, file=io.StringIO(), color_system="truecolor")
    found = set()
    for line in console.render_lines(renderable, console.options.update(height=height), pad=False):
        for seg in line:
            if seg.style is not None and seg.style.color is not None and seg.text.strip():
                found.add(seg.style.color.get_truecolor().hex)
    return found


def hexes(*styles: Style | str) -> set[str]:
    return {(s if isinstance(s, Style) else Style.parse(s)).color.get_truecolor().hex for s in styles}


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG contrast ratio of two colours (1: the same, 21: black on white)."""

    def lum(rgb):
        lin = [(c / 255) / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# -----------------------------------------------------------------------------
# renderables draw the styles they are given


def test_loss_and_norm_charts_draw_the_styles_passed():
    steps = np.arange(1, 201, dtype=np.float64)
    loss = 1.2 + 3 * np.exp(-steps / 60) + 0.05 * np.sin(steps)
    chart = LossChart(
        steps, loss, np.array([100.0, 200.0]), np.array([1.9, 1.5]), raw_style=RED, ema_style=GREEN, val_style=BLUE
    )
    assert hexes(RED, GREEN, BLUE) <= colours(chart)
    assert not hexes("#7a8794", "#3a96dd", "#e5a50a") & colours(chart)  # no default left
    assert hexes("#7a8794", "#3a96dd", "#e5a50a") <= colours(
        LossChart(steps, loss, np.array([100.0]), np.array([1.9]))
    )  # standalone: as before
    norms = 0.5 + np.abs(np.sin(steps / 9))  # some above the clip line
    chart = NormChart(steps, norms, 1.0, norm_style=CYAN, clip_style=PINK)
    assert hexes(CYAN, PINK) <= colours(chart) and not hexes("#b07cd8", "#e05561") & colours(chart)


def test_gradflow_draws_the_mark_and_verdict_styles_passed():
    back = np.arange(32)[::-1]
    last = np.exp(-back / 2.0)[None]  # (1, 32): vanishes within the window, so a horizon is marked
    verdicts = {"vanishing": RED, "healthy": GREEN, "exploding": BLUE}
    flow = GradFlow(
        np.ones_like(last),
        last,
        height=12,
        mark_style=PINK,
        verdict_styles=verdicts,
        bar_style=CYAN,
        total_style=Style.parse("#123456"),
    )
    drawn = colours(flow)
    word = flow.horizons[0].word
    assert not flow.horizons[0].at_least and word in verdicts and hexes(verdicts[word]) <= drawn
    assert hexes(PINK, CYAN, "#123456") <= drawn
    assert not hexes("#e3b341", "#58a6ff", "#3fb950", "#f85149") & drawn


def test_candidate_bars_draw_the_styles_passed():
    view = StepView(
        step=3,
        candidates=(Candidate("a", 0.6, 0.8), Candidate("b", 0.3, 0.2), Candidate(" ", 0.1, 0.0)),
        proposal="a",
        entropy_model=1.3,
        entropy_chosen=0.7,
        temperature=0.7,
        top_k=0,
    )
    assert hexes(MODEL_STYLE, CHOSEN_STYLE) <= colours(CandidateBars(view))
    drawn = colours(CandidateBars(view, model_style=RED, chosen_style=GREEN))
    assert hexes(RED, GREEN) <= drawn and not hexes(MODEL_STYLE, CHOSEN_STYLE) & drawn


def test_confidence_text_and_legend_draw_the_styles_passed():
    styles = ("#110000", "#220000", "#330000", "#440000", "#550000")
    text = generated_text("> ", "abcde", [0.05, 0.2, 0.5, 0.8, 0.95], colour=True, styles=styles)
    assert [str(s.style) for s in text.spans if s.start >= 2] == list(styles)  # one band each, in order
    assert hexes(*styles) == colours(legend(styles=styles))
    assert hexes(*BAND_STYLES) <= colours(legend())  # standalone: the default bands


def test_compare_charts_and_table_draw_the_run_styles_passed():
    x = np.arange(10, 210, 10, dtype=np.float64)
    curves = [
        LossCurve(name, x, lvl + 3 * np.exp(-x / 40), np.array([200.0]), np.array([lvl + 0.1]))
        for name, lvl in (("rnn", 1.6), ("lstm", 1.2))
    ]
    mine = (RED, GREEN)
    assert hexes(*mine) <= colours(CompareLoss(curves, styles=mine), width=100)
    assert not hexes(*RUN_STYLES[:2]) & colours(CompareLoss(curves, styles=mine), width=100)
    back = np.arange(20)[::-1]
    reach = CompareReach(
        [ReachCurve("rnn", np.exp(-0.5 * back), 200), ReachCurve("lstm", np.exp(-0.05 * back), 200)], styles=mine
    )
    assert hexes(*mine) <= colours(reach, width=100)

    class Numbers:  # what FinalTable reads of a comparison.Row
        label, steps, wall_s, val_loss, val_bpc, best_val_loss, chars_per_s, reach90, vs_ngram = (
            "rnn",
            100,
            10.0,
            1.5,
            2.1,
            1.4,
            None,
            None,
            None,
        )

        def kept(self, k):
            return None

    class Row:
        numbers, cell, chars_seen, state = Numbers(), "rnn", 1000, "completed"

    assert hexes(BLUE) <= colours(FinalTable([Row()], styles=(BLUE,)), width=120)


# -----------------------------------------------------------------------------
# the widgets take them from the theme


async def switch_theme(pilot, app: RnntuiApp, dark: bool) -> None:
    if app.current_theme.dark is not dark:
        await app.run_action("toggle_theme")
    await pilot.pause()
    await pilot.pause()  # the theme-changed signal runs after the CSS refresh
    assert app.current_theme.dark is dark


def class_colours(widget, names) -> list[tuple[int, int, int]]:
    return [tuple(widget.get_component_rich_style(n, partial=True).color.get_truecolor()) for n in names]


def readable_on_light(widget, names, least: float = 3.0) -> None:
    bg = widget.background_colors[1].rgb  # the widget's own background, as drawn
    for name, rgb in zip(names, class_colours(widget, names)):
        assert contrast(rgb, bg) >= least, f"{name} {rgb} on {bg}: contrast {contrast(rgb, bg):.2f}"


def drawn_by(widget) -> set[str]:
    size = widget.content_size
    return colours(widget.render(), width=size.width, height=size.height)


async def test_dashboard_charts_follow_the_theme(tmp_path):
    app = RnntuiApp(corpus="tiny", trainer_factory=FakeTrainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.pause()
        app.start_run(
            TrainConfig(
                corpus="tiny",
                model=ModelConfig(kind="lstm", hidden=8, layers=2),
                seq_len=16,
                batch_size=4,
                out_dir=str(tmp_path),
            )
        )
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen) and app.state.finished is not None, 20)
        await pilot.pause(0.5)  # the panels' last redraw
        panels = [
            (app.screen.query_one(LossPanel), LOSS_CLASSES),
            (app.screen.query_one(NormPanel), NORM_CLASSES),
            (app.screen.query_one(GradFlowPanel), GRADFLOW_CLASSES),
        ]
        seen = {}
        for dark in (True, False):
            await switch_theme(pilot, app, dark)
            for widget, names in panels:
                styles = class_colours(widget, names)
                seen.setdefault(type(widget).__name__, []).append(styles)
                drawn = drawn_by(widget)
                # the curves (and the validation points, the clip line, the gradient bars) in the theme's colours
                # (the loss chart's baseline lines, loss--ref, need a real corpus: not drawn with the fake engine)
                always = styles[:2] if widget is panels[2][0] else styles[:3] if widget is panels[0][0] else styles
                assert {"#%02x%02x%02x" % c for c in always} <= drawn, (type(widget).__name__, dark)
                if not dark:
                    readable_on_light(widget, names)
        for name, (dark_styles, light_styles) in seen.items():
            assert all(d != l for d, l in zip(dark_styles, light_styles)), name  # every colour changes


async def test_the_light_theme_is_not_the_default_palette(tmp_path):
    """The dark theme keeps today's colours (the snapshots pin them); the light one replaces each."""
    app = RnntuiApp(corpus="tiny", trainer_factory=FakeTrainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.pause()
        app.start_run(TrainConfig(corpus="tiny", model=ModelConfig(hidden=8), seq_len=16, out_dir=str(tmp_path)))
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen) and app.screen.query(LossPanel))
        loss = app.screen.query_one(LossPanel)
        await switch_theme(pilot, app, True)
        assert loss.get_component_rich_style("loss--ema", partial=True) == Style.parse("bold #3a96dd")
        await switch_theme(pilot, app, False)
        assert loss.get_component_rich_style("loss--ema", partial=True).color != Color.parse("#3a96dd")
        app.session.stop.set()


# ---- generation: the panes, the legend, the step chart --------------------------------------------


# ckpt: the untrained 2-layer GRU of conftest.py


async def test_generation_colours_follow_the_theme(ckpt, tmp_path, monkeypatch):
    from rnntui.ui.screens.generate import GenerateScreen
    from rnntui.ui.widgets.gen_panes import BAND_CLASSES, ConfidenceLegend, GenPane
    from rnntui.ui.widgets.gen_step import BAR_CLASSES, StepCandidates

    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))
    app = RnntuiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        app.ckpt, app.ckpt_path = ckpt, str(tmp_path / "run" / "best.pt")
        app.open_generate()
        await wait_for(pilot, lambda: isinstance(app.screen, GenerateScreen))
        gen = app.screen
        await pilot.pause()
        gen.query_one("#colour").value = True
        gen.query_one("#prime").value = "The "
        gen.query_one("#length").value = "60"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: not gen.running and len(gen.texts[0]) == 60)
        pane, key = gen.query_one(GenPane), gen.query_one(ConfidenceLegend)
        seen = []
        for dark in (True, False):
            await switch_theme(pilot, app, dark)
            bands = class_colours(pane, BAND_CLASSES)
            assert class_colours(key, BAND_CLASSES) == bands  # the legend names the panes' colours
            text = gen.query_one("#gen-text-0").content  # the pane's text, rebuilt on the theme change
            styles = [s.style if isinstance(s.style, Style) else Style.parse(str(s.style)) for s in text.spans]
            used = {tuple(st.color.get_truecolor()) for st in styles if st.color is not None}
            assert used and used <= set(bands)  # coloured, in this theme's bands
            assert {"#%02x%02x%02x" % c for c in bands} <= drawn_by(key)
            if not dark:
                readable_on_light(pane, BAND_CLASSES)
            seen.append(bands)
        assert all(d != l for d, l in zip(*seen))

        await pilot.press("ctrl+n")  # step mode: the candidate bars
        await wait_for(pilot, lambda: gen.stepper is not None)
        bars = gen.query_one(StepCandidates)
        seen = []
        for dark in (True, False):
            await switch_theme(pilot, app, dark)
            model_chosen = class_colours(bars, BAR_CLASSES)
            assert {"#%02x%02x%02x" % c for c in model_chosen} <= drawn_by(bars)
            if not dark:
                readable_on_light(bars, BAR_CLASSES)
            seen.append(model_chosen)
        assert all(d != l for d, l in zip(*seen))


# ---- Compare: one colour per run ----------------------------------------------------------------


async def test_compare_run_colours_follow_the_theme_and_stay_distinct(tmp_path):
    from test_ui_runs import make_run

    from rnntui.ui.screens.compare import RUN_CLASSES, ChartBox, CompareScreen

    root = tmp_path / "checkpoints"
    paths = [
        make_run(root, f"run-{i}", kind=kind, decay=0.1 * (i + 1), level=1.0 + 0.1 * i).path
        for i, kind in enumerate(("rnn", "lstm", "gru"))
    ]
    app = RnntuiApp(corpus="tiny")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        app.push_screen(CompareScreen(paths))
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and len(app.screen.runs) == 3)
        await pilot.pause(0.3)
        box = app.screen.query_one("#cmp-loss", ChartBox)
        seen = []
        for dark in (True, False):
            await switch_theme(pilot, app, dark)
            runs = class_colours(box, RUN_CLASSES)
            assert {"#%02x%02x%02x" % c for c in runs[:3]} <= drawn_by(box)  # the three runs' curves
            for a, b in itertools.combinations(runs, 2):  # told apart: no two runs within 60 of each other
                assert sum(abs(x - y) for x, y in zip(a, b)) > 60, (a, b, dark)
            if not dark:
                readable_on_light(box, RUN_CLASSES)
            seen.append(runs)
        assert all(d != l for d, l in zip(*seen))
