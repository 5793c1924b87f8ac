"""The inspector's influence panel: its renderables drawn to text, and a Pilot run that moves the cursor.

The numbers themselves are tested against oracles in tests/test_influence.py; here: what is drawn, that
the panel follows the cursor, and that only plain data reaches it.
"""

from __future__ import annotations

from dataclasses import replace

from rich.console import Console
from test_ui_inspect import TEXT, Host, checkpoint, loaded

from rnntui.ui.renderables.colors import LEVELS
from rnntui.ui.renderables.influence import ContextCurve, ShadedContext, reach_words, share_level


def draw(renderable, width: int = 40) -> tuple[str, Console]:
    console = Console(width=width, record=True, color_system="truecolor", force_terminal=True)
    console.print(renderable)
    return console.export_text(styles=False), console


# -----------------------------------------------------------------------------
# renderables


def test_shaded_context_keeps_the_last_characters_and_shades_by_share():
    text, console = draw(
        ShadedContext("ab\ncd(efgh", [0.0, 0.1, 0.0, 0.0, 0.0, 0.6, 0.0, 0.0, 0.0, 0.3], rows=1), width=6
    )
    assert text.rstrip("\n") == "d(efgh"  # the last width x rows characters: the cursor's end of the text
    text, _ = draw(ShadedContext("ab\ncd", [0.2, 0.2, 0.2, 0.2, 0.2], rows=2), width=10)
    assert text.splitlines()[0] == "ab⏎cd"  # the newline made visible, one cell
    html = draw(ShadedContext("xy", [0.0, 1.0]))[1].export_html(inline_styles=True)
    assert html.count("background-color") == 1  # only the influential character is shaded
    mid = (LEVELS - 1) // 2
    assert (
        share_level(0.0, 1.0) == mid
        and share_level(1.0, 1.0) == LEVELS - 1
        and share_level(0.01, 1.0) == mid + 1
        and share_level(0.002, 1.0) == mid
    )
    assert share_level(0.5, 0.0) == mid  # no influence at all: nothing shaded


def test_context_curve_bars_axis_and_reach():
    curve = [0.0, 0.5, 0.25, 0.125, 0.125] + [0.0] * 296  # index d: d characters back; window 300
    text, _ = draw(ContextCurve(curve, 4, positions=64), width=40)
    bars, axis, reach = (line.rstrip() for line in text.splitlines())
    assert axis.split() == ["1", "2", "4", "8", "16", "32", "64", "128", "256"]
    assert bars.startswith("▄▄▄ ▆▆▆ ███ ███")  # 50%, 75%, 100% within 1, 2, 4
    assert reach == "reach90 4 chars (median of 64)"
    short, _ = draw(ContextCurve([0.0, 1.0, 0.0, 0.0, 0.0, 0.0], 1), width=40)  # a window of 5
    assert short.splitlines()[1].split() == ["1", "2", "4"]
    assert reach_words(None) == "reach90 –" and reach_words(1) == "reach90 1 char"


# -----------------------------------------------------------------------------
# the panel in the inspector


async def wait_influence(app, pilot, screen, cursor: int):
    from rnntui.ui.widgets.inspect.influence import InfluencePanel

    panel = screen.query_one(InfluencePanel)
    for _ in range(200):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if panel.at is not None and panel.at.cursor == cursor and not panel.pending:
            return panel
    raise AssertionError(f"no influence shown for cursor {cursor}")


async def test_moving_the_cursor_changes_the_sentence():
    app = Host(checkpoint("lstm"), TEXT)
    async with app.run_test(size=(120, 40)) as pilot:
        s = await loaded(app, pilot)
        panel = await wait_influence(app, pilot, s, 0)
        first = panel.at
        assert first.chars == TEXT[0] and first.shares == (1.0,)  # one character read: it is all the influence
        assert first.summary.endswith("the strongest is the `x` just before")
        await pilot.press(*["right"] * 12)
        panel = await wait_influence(app, pilot, s, 12)
        at = panel.at
        assert at.summary != first.summary and at.chars == TEXT[:13]
        assert all(type(x) is float for x in at.shares) and abs(sum(at.shares) - 1) < 1e-9  # plain floats
        assert at.summary.startswith("90% of the influence lies within the last")
        assert draw(panel.render(), width=116)[0].splitlines()[0].rstrip() == at.summary  # drawn in words
        # the effective context arrives too (this checkpoint's corpus is absent: measured on the text)
        assert panel.context is not None and panel.context.source == "inspected text"
        assert panel.context.reach90 is not None and "reach90" in str(panel.border_title)
        # a skipped character (é, not in the vocabulary) still gets a sentence, for the step before it
        s._cursor(TEXT.index("é"))
        panel = await wait_influence(app, pilot, s, TEXT.index("é"))
        assert panel.at.chars.endswith("é") and panel.at.shares[-1] == 0.0
        # a switches the method: the same cursor measured again by integrated gradients
        await pilot.press("a")
        for _ in range(200):
            panel = await wait_influence(app, pilot, s, TEXT.index("é"))
            if panel.at.method == "integrated-gradients":
                break
        assert panel.at.method == "integrated-gradients" and "integrated gradients" in str(panel.border_title)


# -----------------------------------------------------------------------------
# the Compare view: reach90 beside the gradient kept k steps back


def test_final_table_shows_reach90_beside_the_gradient_columns():
    from rnntui.core.analysis.compare import CompareRow
    from rnntui.ui.renderables.compare import FinalTable
    from rnntui.ui.screens.comparison import Row

    numbers = CompareRow(
        label="lstm",
        steps=30,
        val_loss=1.4,
        best_val_loss=1.4,
        val_bpc=2.0,
        chars_per_s=300.0,
        kept16=1e-2,
        kept32=1e-4,
    )
    rows = [
        Row(numbers, "lstm 2x16", 1000, "completed"),
        Row(replace(numbers, label="rnn", reach90=23), "rnn 2x16", 1000, "completed"),
    ]
    head, lstm, rnn = [line.split() for line in draw(FinalTable(rows), width=140)[0].splitlines()[:3]]
    assert head[-5:] == ["kept@32", "reach90", "vs", "n-gram", "state"]  # beside the gradient kept k steps back
    assert lstm[-3] == "–" and rnn[-3] == "23"  # not measured yet; measured


async def test_the_help_says_what_the_measure_is_and_which_method():
    from textual.widgets import Static

    from rnntui.ui.screens.compare import CompareScreen
    from rnntui.ui.screens.help import HelpScreen

    app = Host(checkpoint("gru"), TEXT)
    async with app.run_test(size=(100, 40)) as pilot:
        s = await loaded(app, pilot)
        await app.push_screen(HelpScreen(s))
        await pilot.pause()
        text = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "influence of past characters and effective context" in text
        assert "gradient x input" in text and "reach90" in text and "how far back this model actually looks" in text
    assert "reach90" in CompareScreen.HELP_SECTIONS[0][1] and "gradient x input" in CompareScreen.HELP_SECTIONS[0][1]


def test_cursor_queue_runs_one_measurement_and_keeps_the_latest_wish():
    from rnntui.ui.workers.influence import CursorQueue

    q = CursorQueue()
    assert q.want(3) is True  # nothing running: start
    assert q.want(4) is False and q.want(9) is False  # moves during it only change the wish
    assert q.done(3) == 9  # the latest wish, not a queue of 4 then 9
    assert q.want(9) is True and q.done(9) is None and not q.busy
    q.method = "integrated-gradients"  # switched while a gradient-x-input measurement of 9 ran
    assert q.want(9) is True and q.done(9, "gradient-x-input") == 9 and q.done(9, "integrated-gradients") is None
