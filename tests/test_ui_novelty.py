"""The generation panel's novelty chart: the renderable drawn to text, the worker's live curve against the
curve of the whole text, and the chart in the app (Pilot) with its help."""

from __future__ import annotations

import io
import threading

import pytest
from fake_engine import FakeSampler, wait_for
from rich.console import Console

from rnntui.core.generate.copycheck import CopyIndex
from rnntui.core.generate.settings import GenerationSettings
from rnntui.ui.renderables.novelty import NoveltyChart, NoveltyLine, bar_cells, column_lengths, half_length
from rnntui.ui.workers import generation as gw
from rnntui.ui.workers import novelty as wn


def render_text(renderable, width: int = 78, height: int = 5) -> list[str]:
    c = Console(record=True, width=width, height=height, color_system="truecolor", file=io.StringIO())
    c.print(renderable, height=height)
    return c.export_text().splitlines()


RISING = tuple(min(1.0, max(0.0, (L - 3) / 12)) for L in range(1, 65))  # 0 up to length 3, all new from 15


# -----------------------------------------------------------------------------
# the renderable


def test_one_curve_on_a_fixed_scale_with_its_crossing_and_axis():
    lines = render_text(NoveltyChart([NoveltyLine("", RISING)]), 78, 5)
    assert len(lines) == 5 and all(len(line) <= 78 for line in lines)
    assert lines[0].startswith("novel substrings by length · half novel from length 9")
    assert half_length(RISING) == 9
    plot = [line.split("│", 1)[1] for line in lines[1:4]]  # three rows of bars, 100% at the top
    assert lines[1].startswith("100%│") and lines[3].startswith("  0%│")
    assert all(row[:3].strip() == "" for row in plot)  # lengths 1-3: nothing novel, empty columns
    assert all(row[14:64] == "█" * 50 for row in plot)  # lengths 15-64: all novel, full columns
    assert "▄" in plot[1][:14] or "▄" in plot[2][:14]  # the rise in eighths between
    axis = lines[4]
    assert axis.startswith("    └1      8       16") and axis.rstrip().endswith("64 length")


def test_panes_each_get_a_band_and_their_crossing_in_the_header():
    flat = tuple(1.0 for _ in range(64))
    never = tuple(0.2 for _ in range(40))
    chart = NoveltyChart([NoveltyLine("T 0.50", RISING), NoveltyLine("T 1.00", never), NoveltyLine("T 1.50", flat)])
    lines = render_text(chart, 80, 5)
    assert lines[0].startswith("novel substrings by length · half novel from: T 0.50 9 · T 1.00 none · T 1.50 1")
    assert [line.split("│")[0] for line in lines[1:4]] == ["T 0.50", "T 1.00", "T 1.50"]
    assert lines[3].split("│")[1][:64] == "█" * 64
    assert lines[2].split("│")[1][40:].strip() == ""  # a shorter text: no columns past its length
    assert set(lines[2].split("│")[1][:40]) == {"▂"}  # 20% of one row: 2 eighths


def test_without_a_curve_it_says_why_and_keeps_its_height():
    lines = render_text(NoveltyChart([], message="not measured: the weights do not say which corpus"), 70, 4)
    assert len(lines) == 4 and lines[0].startswith("novel substrings by length · not measured: the weights")
    assert [line.strip() for line in lines[1:]] == ["", "", ""]
    assert "measured as the text is generated" in render_text(NoveltyChart([]), 70, 2)[0]


def test_narrow_widths_spread_the_lengths_and_small_shares_still_show():
    assert column_lengths(64, 64) == list(range(1, 65)) and column_lengths(10, 4) == [1, 2, 3, 4]
    spread = column_lengths(30, 64)
    assert len(spread) == 30 and spread[0] == 1 and spread[-1] == 64 and spread == sorted(set(spread))
    lines = render_text(NoveltyChart([NoveltyLine("", RISING)]), 36, 4)
    assert all(len(line) <= 36 for line in lines) and lines[-1].startswith("    └1")
    assert bar_cells(0.001, 2) == [" ", "▁"] and bar_cells(0.0, 2) == [" ", " "]
    assert bar_cells(1.0, 2) == ["█", "█"] and bar_cells(0.75, 2) == ["▄", "█"]


# -----------------------------------------------------------------------------
# the worker: the live curve is the whole text's


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))
    wn._INDEX.clear()  # the process-wide index of an earlier test's corpus
    path = tmp_path / "corpus.txt"
    path.write_text(("ab" * 100 + "\n" + "xyxyx \n") * 100)
    return path


def test_generate_posts_curves_of_the_text_so_far_and_the_last_is_the_whole_texts(corpus, monkeypatch):
    monkeypatch.setattr(wn, "NOVELTY_UPDATE_S", 0.0)  # measure at every chunk, to see it grow
    monkeypatch.setattr(gw, "GEN_UPDATE_S", 0.0)
    ckpt = {"vocab": "abxy \n", "step": 3, "config": {"corpus": str(corpus), "val_frac": 0.1}}
    wn.shared_index(str(corpus), 0.1)  # loaded before: every chunk is measured
    posted: list = []
    req = gw.GenRequest(GenerationSettings(length=120, seed=1), (0.5, 1.5))
    gw.generate(posted.append, lambda: ckpt, req, 7, threading.Event(), FakeSampler.from_checkpoint)
    index = CopyIndex.for_corpus(str(corpus), 0.1)
    for pane in (0, 1):
        text = "".join(m.text for m in posted if isinstance(m, gw.GenChunk) and m.pane == pane)
        curves = [m for m in posted if isinstance(m, wn.NoveltyMeasured) and m.pane == pane]
        assert len(curves) > 3 and all(m.run == 7 for m in curves)
        assert [m.chars for m in curves] == sorted(m.chars for m in curves) and curves[-1].chars == 120
        want = tuple(f for _, f in index.novelty(text).points())
        assert curves[-1].fractions == want and all(type(f) is float for f in want)
        middle = curves[len(curves) // 2]
        assert middle.fractions == tuple(f for _, f in index.novelty(text[: middle.chars]).points())
    # "abab..." is in the corpus at every length; of "xyxy...", "xyxyx" is and "yxyxy" is not
    last = {m.pane: m.fractions for m in posted if isinstance(m, wn.NoveltyMeasured)}
    assert max(last[0]) == 0.0 and last[1][3] == 0.0 and last[1][4] == 0.5 and min(last[1][5:]) == 1.0


def test_no_corpus_named_means_no_curve_and_no_error(corpus):
    posted: list = []
    ckpt = {"vocab": "ab", "step": 0, "config": {}}
    gw.generate(
        posted.append,
        lambda: ckpt,
        gw.GenRequest(GenerationSettings(length=20), (0.5,)),
        1,
        threading.Event(),
        FakeSampler.from_checkpoint,
    )
    assert not any(isinstance(m, wn.NoveltyMeasured) for m in posted)
    assert sum(len(m.text) for m in posted if isinstance(m, gw.GenChunk)) == 20


# -----------------------------------------------------------------------------
# in the app


def _chart_text(widget, width: int = 100) -> str:
    c = Console(record=True, width=width, file=io.StringIO())
    c.print(widget.render(), height=4)
    return c.export_text()


async def test_the_chart_shows_the_panes_curves_and_the_help_explains_it(ckpt, tmp_path, monkeypatch):
    from rnntui.ui.app import RnntuiApp
    from rnntui.ui.screens.generate import GenerateScreen
    from rnntui.ui.screens.help import HelpScreen
    from rnntui.ui.screens.setup import SetupScreen
    from rnntui.ui.widgets.gen_novelty import NoveltyView
    from rnntui.ui.widgets.gen_panes import GenPane

    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))
    app = RnntuiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        app.ckpt, app.ckpt_path = ckpt, str(tmp_path / "run" / "best.pt")
        app.open_generate()
        await wait_for(pilot, lambda: isinstance(app.screen, GenerateScreen))
        await pilot.pause()  # composed and mounted
        gen = app.screen
        chart = gen.query_one(NoveltyView)
        assert chart.display and "measured as the text is generated" in _chart_text(chart)
        gen.query_one("#length").value = "300"
        gen.query_one("#compare").value = True
        gen.panel.compare = True
        await pilot.press("ctrl+r")
        await wait_for(
            pilot, lambda: not gen.running and all(p.report is not None for p in gen.query(GenPane)), timeout=60
        )
        await wait_for(pilot, lambda: len(chart.curves) == 3)
        panes = list(gen.query(GenPane))
        for i, p in enumerate(panes):  # the chart holds each pane's curve: the copy check's of its whole text
            assert chart.curves[i] == tuple(f for _, f in p.report.novelty.points())
        shown = _chart_text(chart)
        assert "half novel from: T 0.50" in shown and "T 0.50" in shown and "T 1.50" in shown
        assert "█" in shown  # an untrained model: long substrings all novel
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_text = " ".join(str(s.render()) for s in app.screen.query(".help-panel"))
        assert "High novelty at short lengths is nonsense" in help_text
        assert "Low novelty at long lengths is copying" in help_text
