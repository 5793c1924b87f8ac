"""The dashboard at any size from 80x24 up (issue 21, section 5): every panel one key away (1-6, from
ui/panels.py), the gradient flow first, as many panels around the chosen one as fit, the choice kept for the
next dashboard (a new run, a run folder), and a footer that leaves out whole entries instead of cutting one.

Real app, scripted engine (fake_engine), real run folders for the replayed dashboard."""

from __future__ import annotations

from fake_engine import LongTrainer, wait_for
from test_ui_app import make_app, small_cfg, start
from test_ui_runs import make_run

from rnntui.ui.panels import DEFAULT_PANEL, PANEL_IDS, PANELS
from rnntui.ui.screens.help import HelpScreen
from rnntui.ui.screens.setup import SetupScreen
from rnntui.ui.screens.train import TrainScreen
from rnntui.ui.widgets.panel_tabs import PanelTabs


async def dashboard(pilot, app, other_than: TrainScreen | None = None) -> TrainScreen:
    """Wait for a (new) dashboard, composed."""
    await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, TrainScreen) and app.screen is not other_than and bool(app.screen.query(PanelTabs))
        ),
    )
    return app.screen


def on_screen(screen: TrainScreen) -> list[str]:
    """The panels drawn (in declaration order): laid out with some area, inside the terminal."""
    size = screen.size
    out = []
    for pid in PANEL_IDS:
        r = screen.query_one(f"#{pid}").region
        if r.area > 0 and r.right <= size.width and r.bottom <= size.height:
            out.append(pid)
    return out


def row_of(pid: str) -> list[str]:
    row = next(p.row for p in PANELS if p.id == pid)
    return [p.id for p in PANELS if p.row == row]


def footer_entries(screen: TrainScreen) -> tuple[set[str], int, int]:
    """The keys the footer shows, the right edge of the last entry, and where the docked palette starts."""
    footer = screen.query_one("FittingFooter")
    keys, right, palette = set(), 0, footer.size.width
    for key in footer.query("FooterKey"):
        if key.has_class("-command-palette"):
            palette = key.region.x
        elif key.display and key.region.width > 0:
            keys.add(key.key)
            right = max(right, key.region.right)
    return keys, right, palette


async def footer_fits(pilot, screen: TrainScreen) -> tuple[set[str], int, int]:
    """Wait until the footer is laid out (it recomposes when the bindings change), then read it."""
    await wait_for(pilot, lambda: footer_entries(screen)[0])
    await pilot.pause(0.2)
    return footer_entries(screen)


async def test_every_panel_is_one_key_away_at_80x24_and_the_choice_is_kept(tmp_path):
    app = make_app(LongTrainer)
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        screen = await dashboard(pilot, app)
        tabs = screen.query_one(PanelTabs)
        await wait_for(pilot, lambda: on_screen(screen) == [DEFAULT_PANEL])  # the gradient flow first
        assert DEFAULT_PANEL == "gradflow" and tabs.chosen == "gradflow"
        for panel in PANELS:  # each key brings up its panel alone, filling the screen, focused
            await pilot.press(panel.key)
            widget = screen.query_one(f"#{panel.id}")
            await wait_for(pilot, lambda: on_screen(screen) == [panel.id] and app.focused is widget)
            assert widget.region.height >= 18 and widget.region.width == 80, (panel.id, widget.region)
            assert tabs.chosen == panel.id and app.dash_panel == panel.id  # marked, and the app keeps it
            assert f" {panel.key} {panel.tab} " in str(tabs.render())
        await pilot.press("5")
        await wait_for(pilot, lambda: app.dash_panel == "heatmap")
        await pilot.press("h")  # h explains the chosen panel; f1 opens the help at the keys
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen.topic == "heatmap")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen.topic is None)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)

        # a new dashboard (stop, n for a new run, start) opens at the panel last chosen
        app.session.stop.set()
        await wait_for(pilot, lambda: not app.running)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        app.start_run(small_cfg(tmp_path))
        screen = await dashboard(pilot, app, other_than=screen)
        await wait_for(pilot, lambda: on_screen(screen) == ["heatmap"])
        assert screen.chosen == "heatmap" and screen.query_one(PanelTabs).chosen == "heatmap"

        # a click on a tab chooses its panel as its key does
        await pilot.click(PanelTabs, offset=(4, 0))  # " 1 status ": the first tab
        await wait_for(pilot, lambda: on_screen(screen) == ["status"] and app.dash_panel == "status")
        app.session.stop.set()


async def test_larger_terminals_show_the_panels_that_fit_around_the_chosen_one(tmp_path):
    app = make_app(LongTrainer)
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        screen = await dashboard(pilot, app)
        await pilot.press("4")  # grad norm: its row is gradflow | norm
        await wait_for(pilot, lambda: on_screen(screen) == ["norm"])
        await pilot.resize_terminal(120, 24)  # wide, short: the chosen panel's row side by side
        await wait_for(pilot, lambda: on_screen(screen) == row_of("norm") == ["gradflow", "norm"])
        grad, norm = screen.query_one("#gradflow").region, screen.query_one("#norm").region
        assert grad.y == norm.y and grad.right <= norm.x
        await pilot.resize_terminal(80, 44)  # narrow, tall: the row stacked
        await wait_for(pilot, lambda: on_screen(screen) == ["gradflow", "norm"])
        grad, norm = screen.query_one("#gradflow").region, screen.query_one("#norm").region
        assert grad.x == norm.x and grad.bottom <= norm.y
        await pilot.resize_terminal(120, 40)  # all of them
        await wait_for(pilot, lambda: on_screen(screen) == list(PANEL_IDS))
        assert app.focused is screen.query_one("#norm")  # still the chosen one: h explains it
        await pilot.press("1")
        await wait_for(pilot, lambda: app.focused is screen.query_one("#status"))
        assert on_screen(screen) == list(PANEL_IDS)
        await pilot.resize_terminal(80, 24)  # back to small: the last choice fills the screen
        await wait_for(pilot, lambda: on_screen(screen) == ["status"])
        app.session.stop.set()


async def test_the_footer_leaves_out_whole_entries_at_80_columns_and_keeps_help_and_the_panel_keys(tmp_path):
    app = make_app(LongTrainer)
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        await dashboard(pilot, app)
        keys, right, palette = await footer_fits(pilot, app.screen)
        assert right <= palette <= 80, (right, palette)  # nothing runs under the palette or off the edge
        assert {p.key for p in PANELS} | {"p", "s", "x", "n", "f1"} <= keys, keys
        await pilot.resize_terminal(60, 24)  # narrower still: fewer entries, the help stays
        await wait_for(pilot, lambda: footer_entries(app.screen)[1] <= footer_entries(app.screen)[2] <= 60)
        keys, right, palette = footer_entries(app.screen)
        assert "f1" in keys and "1" in keys, keys
        await pilot.resize_terminal(160, 24)  # wide: everything
        await wait_for(pilot, lambda: {"i", "ctrl+r"} <= footer_entries(app.screen)[0])
        app.session.stop.set()


async def test_a_replayed_run_opens_at_the_chosen_panel_and_fits_80x24(tmp_path):
    root = tmp_path / "checkpoints"
    run = make_run(root, "lstm-run", steps=100)
    app = make_app(LongTrainer)
    app.runs_root = str(root)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.pause()
        app.open_run(str(run.path))
        screen = await dashboard(pilot, app)
        await wait_for(pilot, lambda: on_screen(screen) == ["gradflow"] and screen.query_one("#gradflow").probe)
        keys, right, palette = await footer_fits(pilot, screen)
        assert right <= palette <= 80 and "f1" in keys and "1" in keys, (keys, right, palette)
        for panel in PANELS:
            await pilot.press(panel.key)
            await wait_for(pilot, lambda: on_screen(screen) == [panel.id])
        await pilot.press("2")
        await pilot.press("less_than_sign")  # the run's probe history still steps (the panel is hidden)
        await wait_for(pilot, lambda: app.view.cursor is not None)
        await pilot.press("ctrl+r")  # the Runs screen, and the run opened again: the loss, as chosen
        await wait_for(pilot, lambda: not isinstance(app.screen, TrainScreen))
        await wait_for(pilot, lambda: app.screen.query_one("#runs-table").row_count == 1)
        app.open_run(str(run.path))
        await dashboard(pilot, app, other_than=screen)
        await wait_for(pilot, lambda: on_screen(app.screen) == ["loss"])
