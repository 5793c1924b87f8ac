"""Where the network beats counting, in the inspector: the core comparison (text_gain), its table rendered to
text, and the Inspect screen's vs-n-gram mode (n) on a real checkpoint dict and a real corpus file (Pilot)."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from textual.app import App

from rnntui.core.analysis.ngram.gain import ClassGain, text_gain
from rnntui.core.config import ModelConfig, TrainConfig, config_to_dict
from rnntui.core.data.corpus import Vocab, corpus_from_text
from rnntui.core.model.cells import CharModel
from rnntui.ui.renderables.gaintable import GainTable

CSS = Path(__file__).resolve().parents[1] / "rnntui" / "ui" / "rnntui.tcss"


def render_text(renderable, width: int = 70, height: int | None = None) -> str:
    c = Console(record=True, width=width, height=height or 25, file=io.StringIO())
    c.print(renderable)
    return c.export_text()


def bracket_text(n: int, seed: int = 0) -> str:
    """Lines of '(' + 8 random letters + ')': a 6-gram cannot see the '(' when the ')' is due; a model that
    counts to 8 can."""
    rng = np.random.default_rng(seed)
    return "".join("(" + "".join(rng.choice(list("abcdefgh"), 8)) + ")\n" for _ in range(n))


# -----------------------------------------------------------------------------
# the core comparison


def test_text_gain_finds_where_a_model_knows_more_than_counting(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path))
    corpus = corpus_from_text("b", bracket_text(3000))
    text = bracket_text(40, seed=1)
    # an oracle "network": certain of the structure (')' after 8 letters, '\n' after ')', '(' after '\n'),
    # uniform over the 8 letters
    lp = np.where(np.array([c in "()\n" for c in text]), 0.0, math.log(1 / 8))
    lp[0] = np.nan  # as the inspector has it: no prediction before the first character
    tg = text_gain(corpus, text, lp)
    assert 2 <= tg.order <= 6 and tg.against == f"{tg.order}-gram"
    assert tg.gain.shape == (len(text),) and math.isnan(tg.gain[0])
    rows = {r.name: r for r in tg.rows}
    # the n-gram knows '\n' follows ')' and '(' follows '\n', but not when ')' comes: 1 in 9 at best
    assert rows["brackets and quotes"].gain > 0.5 > abs(rows["letters"].gain)
    assert "largest on brackets and quotes" in tg.sentence
    assert tg.rows[0].name == "letters"  # in CLASSES order
    # characters outside the corpus's vocabulary are left out, not scored as impossible
    tg2 = text_gain(corpus, "(abc{defgh)\n", np.zeros(12))
    assert math.isnan(tg2.gain[4])


# -----------------------------------------------------------------------------
# the table


def test_gain_table_says_it_in_words_and_draws_both_directions():
    rows = [
        ClassGain("letters", 2000, 0.05, 100.0),
        ClassGain("brackets and quotes", 80, 0.81, 64.8),
        ClassGain("punctuation", 90, -0.6, -54.0),
    ]
    sentence = "The network's gain over the 6-gram is largest on brackets and quotes (+0.81 nats/char)."
    text = render_text(GainTable(rows, sentence, "6-gram", 0.1), width=50)
    lines = text.splitlines()
    assert sentence in " ".join(text.split())  # wrapped, never cut
    assert "all characters: +0.10 nats/char" in text
    br = next(line for line in lines if line.startswith("brackets and quotes") and "│" in line)
    pu = next(line for line in lines if line.startswith("punctuation") and "│" in line)
    assert "+0.81" in br and "80 chars" in br
    left, right = br.split("│")
    assert "█" in right and "█" not in left  # the network better: the bar grows right of the zero mark
    left, right = pu.split("│")
    assert "█" in left and "█" not in right.split("-0.60")[0]
    assert all(len(line) == 50 for line in lines)


def test_gain_table_fits_a_short_panel():
    rows = [ClassGain(n, 10, 0.1 * i, 1.0) for i, n in enumerate(("letters", "whitespace", "digits"))]
    text = render_text(GainTable(rows, "short.", "5-gram", 0.1), width=40, height=3)
    assert len(text.splitlines()) <= 5


# -----------------------------------------------------------------------------
# the Inspect screen's vs-n-gram mode


def checkpoint(corpus_path: str, vocab: Vocab) -> dict:
    torch.manual_seed(0)
    model = CharModel(ModelConfig(kind="lstm", vocab_size=len(vocab), embed=4, hidden=12, layers=1))
    cfg = TrainConfig(corpus=corpus_path, model=model.cfg)
    return {
        "format": "rnntui-checkpoint",
        "version": 1,
        "model": model.state_dict(),
        "config": config_to_dict(cfg),
        "vocab": vocab.chars,
        "step": 7,
    }


def bracket_app(tmp_path, monkeypatch) -> tuple[App, Path, str]:
    """The inspector on a fresh bracket corpus (its n-gram baselines fitted on demand into a private cache)
    over 20 groups of bracket text: (the app, the corpus file, the text inspected)."""
    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "brackets.txt"
    path.write_text(bracket_text(2000))
    text = bracket_text(20, seed=3)
    return Host(checkpoint(str(path), Vocab.from_text(path.read_text())), text), path, text


def colours(widget) -> list:
    """The background colour of every cell the widget draws."""
    c = Console(width=widget.content_size.width, file=io.StringIO(), color_system="truecolor")
    lines = c.render_lines(widget.render(), c.options.update(height=widget.content_size.height))
    return [seg.style.bgcolor if seg.style else None for line in lines for seg in line for _ in seg.text]


class Host(App):
    CSS_PATH = str(CSS)

    def __init__(self, source: dict, text: str) -> None:
        super().__init__()
        self.source, self.text = source, text

    def on_mount(self) -> None:
        from rnntui.ui.screens.inspect import InspectScreen

        self.push_screen(InspectScreen(self.source, self.text))


async def test_n_colours_the_text_by_the_gain_and_shows_the_summary(tmp_path, monkeypatch):
    from fake_engine import wait_for

    from rnntui.ui.widgets.inspect import InspectHeatmap, InspectText
    from rnntui.ui.widgets.inspect.gain import GainPanel

    app, _, _ = bracket_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        s = app.screen
        assert s.view is not None and s.view.gain is None
        unit_colours = colours(s.query_one(InspectText))
        panel = s.query_one(GainPanel)
        assert not panel.display  # hidden until asked for
        await pilot.press("n")
        await wait_for(pilot, lambda: s.view.gain is not None, timeout=60)
        assert panel.display and not s.query_one(InspectHeatmap).display  # in the heatmap's place
        summary = render_text(panel.render(), width=panel.content_size.width)
        # (an untrained model: the n-gram wins everywhere, and the sentence says so)
        assert s.gain.sentence in " ".join(summary.split()) and s.gain.against in s.gain.sentence
        assert "brackets and quotes" in summary and "letters" in summary
        assert f"vs the {s.gain.against}" in panel.border_title
        title = s.query_one(InspectText).border_title
        assert f"{s.gain.against} ln p" in title  # the text says what its colours mean now
        gain_colours = colours(s.query_one(InspectText))
        assert gain_colours != unit_colours  # coloured by the gain, not the unit
        await pilot.press("n")  # and back
        await pilot.pause()
        assert s.view.gain is None and not panel.display and "unit" in s.query_one(InspectText).border_title


async def test_n_without_the_corpus_says_why(tmp_path, monkeypatch):
    from fake_engine import notifications, wait_for

    from rnntui.ui.widgets.inspect.gain import GainPanel

    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))
    text = bracket_text(5)
    app = Host(checkpoint(str(tmp_path / "gone.txt"), Vocab.from_text(text)), text)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("n")
        panel = app.screen.query_one(GainPanel)
        await wait_for(pilot, lambda: "no n-gram comparison" in panel.note, timeout=30)
        assert any("no n-gram comparison" in n.message for n in notifications(app))
        assert app.is_running


async def test_help_over_the_inspector_says_how_to_read_the_gain(tmp_path):
    from textual.widgets import Static

    from rnntui.ui.screens.help import HelpScreen
    from rnntui.ui.widgets.inspect.gain import HOW_TO_READ

    text = bracket_text(5)
    app = Host(checkpoint(str(tmp_path / "gone.txt"), Vocab.from_text(text)), text)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.push_screen(HelpScreen(app.screen))
        await pilot.pause()
        shown = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "against counting (n)" in shown and HOW_TO_READ[:60] in shown


async def test_the_cursor_panel_gives_the_gain_of_the_character_under_the_cursor(tmp_path, monkeypatch):
    import pytest
    from fake_engine import wait_for

    from rnntui.core.analysis.ngram.baselines import fit_corpus
    from rnntui.core.data.corpus import load_corpus
    from rnntui.ui.widgets.inspect import CursorPanel
    from rnntui.ui.widgets.inspect.gain import HOW_TO_READ

    app, path, text = bracket_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        s = app.screen
        panel = s.query_one(CursorPanel)

        def shown() -> str:
            return render_text(panel.render(), width=panel.content_size.width)

        assert "nats over the" not in shown()  # only in the vs-n-gram mode
        await pilot.press("n")
        await wait_for(pilot, lambda: s.view.gain is not None, timeout=60)
        await pilot.pause()
        against = s.gain.against
        assert f"vs the {against}: not scored here" in shown()  # the first character: no prediction yet
        await pilot.press("right", "right", "right")
        await pilot.pause()
        g = float(s.gain.gain[3])
        assert math.isfinite(g) and s.view.cursor == 3
        # the network's ln p of the character minus the best n-gram's (the number the text's colour shows)
        corpus = load_corpus(str(path), TrainConfig().val_frac)
        ngram = fit_corpus(corpus).text_log_probs(corpus.vocab.chars, text, s.gain.order)  # (N,)
        assert g == pytest.approx(math.log(s.view.ins.p_char[s.view.step]) - ngram[3])
        assert f"{g:+.2f} nats over the {against}" in shown()
        await pilot.press("n")  # back: the figure goes with the mode
        await pilot.pause()
        assert "nats over the" not in shown()
    assert "nats over the 6-gram" in HOW_TO_READ  # the help says what the figure means
