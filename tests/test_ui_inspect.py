"""Pilot tests of the Inspect screen on a tiny random-weight model (checkpoint-format dict built here)."""

import contextlib
from pathlib import Path

import numpy as np
import pytest
import torch
from fake_engine import notifications
from textual.app import App
from textual.worker import WorkerFailed

from rnntui.core.analysis.features import correlation, inside_quotes
from rnntui.core.config import ModelConfig, TrainConfig, config_to_dict
from rnntui.core.data.corpus import Vocab
from rnntui.core.model.cells import CharModel
from rnntui.ui.screens.inspect import InspectScreen

TEXT = "x = ('ab', [12, \"cd\"])\ny = {3: 'é'}\n" * 4
VOCAB = Vocab.from_text(TEXT.replace("é", ""))
CSS = Path(__file__).resolve().parents[1] / "rnntui" / "ui" / "rnntui.tcss"


def checkpoint(kind: str) -> dict:
    torch.manual_seed(0)
    model = CharModel(ModelConfig(kind=kind, vocab_size=len(VOCAB), embed=4, hidden=12, layers=2))
    cfg = TrainConfig(corpus="/nonexistent.txt", model=model.cfg)
    return {
        "format": "rnntui-checkpoint",
        "version": 1,
        "model": model.state_dict(),
        "config": config_to_dict(cfg),
        "vocab": VOCAB.chars,
        "step": 7,
    }


class Host(App):
    CSS_PATH = str(CSS)

    def __init__(self, source: dict, text: str | None) -> None:
        super().__init__()
        self.source, self.text = source, text

    def on_mount(self) -> None:
        self.push_screen(InspectScreen(self.source, self.text))


async def loaded(app: App, pilot) -> InspectScreen:
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, InspectScreen) and screen.view is not None
    return screen


async def test_cursor_moves_by_char_word_and_edges():
    app = Host(checkpoint("lstm"), TEXT)
    async with app.run_test(size=(120, 40)) as pilot:
        s = await loaded(app, pilot)
        await pilot.press("right", "right", "right")
        assert s.view.cursor == 3
        await pilot.press("ctrl+right")  # from inside "= (" to the next word start: ab at 6
        assert s.view.cursor == TEXT.index("ab")
        await pilot.press("ctrl+left", "ctrl+left")
        assert s.view.cursor == 0
        await pilot.press("end")
        assert s.view.cursor == len(TEXT) - 1
        await pilot.press("home", "left")
        assert s.view.cursor == 0
        # the character é is not in the vocabulary: the view marks it and shows the step before
        s._cursor(TEXT.index("é") - 1)
        await pilot.press("right")
        assert s.view.skipped and s.view.step == s.view.ins.step_of[TEXT.index("é") - 1]


async def test_unit_selection_by_list_and_number():
    app = Host(checkpoint("lstm"), TEXT)
    async with app.run_test(size=(120, 40)) as pilot:
        s = await loaded(app, pilot)
        order = s.view.order
        assert s.view.unit == order[0]
        var = s.view.acts.var(axis=0)
        assert np.all(np.diff(var[order]) <= 1e-9)  # default order: by variance
        await pilot.press("down", "down")
        assert s.view.unit == order[2]
        await pilot.press("u", "1", "1", "enter")
        assert s.view.unit == 11
        await pilot.press("u", "9", "9", "enter")  # no such unit: a warning, the selection stays
        assert s.view.unit == 11
        await pilot.press("l", "c")
        assert (s.view.layer, s.view.state) == (1, "c")
        await pilot.press("s")  # variance -> index (no find yet, so no feature order)
        assert s.view.order.tolist() == list(range(12))


async def test_find_neurons_ranks_and_jumps():
    app = Host(checkpoint("gru"), TEXT)
    async with app.run_test(size=(120, 40)) as pilot:
        s = await loaded(app, pilot)
        await pilot.press("f")
        ins = s.view.ins
        r = correlation(s.view.acts, inside_quotes(ins.text)[ins.pos_of])
        assert "inside quotes" in s.view.ranking
        assert s.view.unit == int(np.argmax(np.abs(r)))  # jumped to the best unit
        np.testing.assert_allclose(s.view.scores, r)
        await pilot.press("f")
        assert "bracket depth" in s.view.ranking
        await pilot.press("slash", *"[0-9]+", "enter")
        assert "regex" in s.view.ranking and s.order.pattern == "[0-9]+"
        await pilot.press("home", "m", "right", "right", "right", "m")
        assert s.view.selection == (0, 4) and s.view.ranking.startswith("match 0-3")
        await pilot.press("plus")
        assert s.view.threshold == pytest.approx(0.55)


async def test_a_feature_that_never_changes_is_explained():
    app = Host(checkpoint("gru"), "x = 12\ny = 3\n" * 6)  # no quotes, no brackets
    async with app.run_test(size=(120, 40)) as pilot:
        s = await loaded(app, pilot)
        await pilot.press("f")
        assert s.view.ranking == "r with inside quotes · constant over this text, all r = 0"
        assert "does not change over this text" in " | ".join(n.message for n in notifications(app))
        await pilot.press("f")  # cycling goes on to the next feature
        assert s.view.ranking.startswith("r with bracket depth")


async def test_escape_closes_the_input_then_leaves():
    app = Host(checkpoint("rnn"), TEXT)
    async with app.run_test(size=(80, 24)) as pilot:  # the small terminal: compact layout
        s = await loaded(app, pilot)
        assert s.has_class("-compact")
        await pilot.press("u")
        assert s.asking == "unit"
        await pilot.press("escape")
        assert s.asking == "" and app.screen is s
        await pilot.press("escape")
        assert app.screen is not s


async def test_default_text_and_errors_are_shown():
    app = Host(checkpoint("lstm"), None)  # corpus missing: built-in fallback text
    async with app.run_test(size=(120, 40)) as pilot:
        s = await loaded(app, pilot)
        assert len(s.view.ins.text) > 100
    app = Host(checkpoint("lstm"), "ZZZ")  # nothing the model can read
    async with app.run_test(size=(120, 40)) as pilot:
        with contextlib.suppress(WorkerFailed):  # raised when the wait starts before the worker fails
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.view is None
        assert "cannot inspect" in str(app.screen.query_one("#ins-status").render())


async def test_layers_are_numbered_from_one_and_the_legend_is_short():
    import re

    from rich.console import Console

    app = Host(checkpoint("lstm"), TEXT)
    async with app.run_test(size=(120, 40)) as pilot:
        s = await loaded(app, pilot)

        def shown(wid: str) -> str:
            console = Console(record=True, width=120, file=__import__("io").StringIO())
            console.print(s.query_one(wid).render())
            return console.export_text()

        step = shown("#ins-step")
        assert "layer 1 h" in step and "layer 2 h" in step and not re.search(r"\bL[01]\b", step)
        assert shown("#ins-anatomy").startswith("layer 1:")
        assert "layer 1 h" in str(s.query_one("#ins-text").border_title)
        await pilot.press("c")  # the cell state: an unbounded scale, printed with 3 digits at most
        heat = shown("#ins-heatmap")
        bounds = re.findall(r"[+-]\d+(?:\.\d+)?", heat.splitlines()[-1] + heat.splitlines()[-2])
        assert bounds and all(len(b.lstrip("+-").replace(".", "")) <= 3 for b in bounds), bounds


async def test_inspect_from_the_command_line_leaves_the_app_on_escape(tmp_path):
    from rnntui.core.runs.checkpoints import save_checkpoint
    from rnntui.ui.app import RnntuiApp

    path = tmp_path / "run" / "latest.pt"
    save_checkpoint(path, checkpoint("gru"))
    app = RnntuiApp(inspect_checkpoint=str(path), inspect_text=TEXT)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(200):
            await pilot.pause(0.05)
            if isinstance(app.screen, InspectScreen) and app.screen.view is not None:
                break
        assert isinstance(app.screen, InspectScreen)
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.return_code == 0 and not app.is_running  # left, not a blank screen or the setup form


async def test_every_widget_is_handed_the_screens_view_and_titles_itself():
    from rnntui.ui.widgets.inspect import ViewWidget

    app = Host(checkpoint("lstm"), TEXT)
    async with app.run_test(size=(120, 40)) as pilot:
        s = await loaded(app, pilot)
        widgets = list(s.query(ViewWidget))
        assert len(widgets) == 6 and all(w.view is s.view for w in widgets)
        assert str(s.query_one("#ins-units").border_title) == "units by variance"
        assert str(s.query_one("#ins-step").border_title) == "at the cursor"
        await pilot.press("down", "s", "l")
        assert all(w.view is s.view for w in widgets)  # a new View after every key, set on each widget
        assert str(s.query_one("#ins-units").border_title) == "units by index"
        assert f"unit u{s.view.unit} layer 2 h" in str(s.query_one("#ins-text").border_title)
        await pilot.press("u")  # the input line shows itself and takes the keys...
        line = s.query_one("#ins-input")
        assert line.display and app.focused is line
        await pilot.press("3", "enter")  # ...and gives them back to the screen
        assert not line.display and app.focused is None and s.view.unit == 3
