"""Pilot tests of the generation panel: streaming, cancel, side by side and flags with a fake sampler;
colouring, seeds, step mode, beam search, the copy check and saving with a real (untrained) checkpoint."""

from __future__ import annotations

from fake_engine import FakeSampler, LongTrainer, notifications, wait_for

from rnntui.core.config import ModelConfig, TrainConfig
from rnntui.ui.app import RnntuiApp
from rnntui.ui.screens.generate import GenerateScreen
from rnntui.ui.screens.setup import SetupScreen
from rnntui.ui.screens.train import TrainScreen


class SlowSampler(FakeSampler):
    delay = 0.01


async def open_generate(pilot, app: RnntuiApp, tmp_path) -> GenerateScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
    await pilot.pause()
    app.start_run(TrainConfig(corpus="tiny", model=ModelConfig(hidden=8), seq_len=16, out_dir=str(tmp_path)))
    await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen) and app.state.metrics is not None)
    await pilot.press("g")
    await wait_for(pilot, lambda: isinstance(app.screen, GenerateScreen))
    return app.screen


def test_panel_state_keeps_the_generation_settings_and_text_as_typed():
    """What the app keeps between openings: the core settings, plus a number box's text as typed."""
    from rnntui.ui.widgets.gen_controls import GenPanelState

    state = GenPanelState()
    assert state.text("length") == "400" and state.text("topk") == "0" and state.text("beam") == "8"
    state.put_text("topk", "40", True)
    state.put_text("length", "", False)  # half-typed: the box shows it again, the setting keeps its value
    state.put_text("seed", "007", True)
    state.set("beam_newline", True)
    state.set("temp", 0.6)
    state.set("colour", False)
    assert (state.gen.top_k, state.gen.length, state.gen.seed) == (40, 400, 7)
    assert state.text("length") == "" and state.text("seed") == "007" and state.text("topk") == "40"
    assert state.gen.beam_stop == "\n" and state.get("beam_newline") and state.gen.temperature == 0.6
    assert not state.colour and not state.get("colour")
    state.put_text("length", "50", True)
    assert state.gen.length == 50 and state.text("length") == "50" and "length" not in state.typed


async def test_generation_streams_in_and_can_be_cancelled(tmp_path):
    app = RnntuiApp(trainer_factory=LongTrainer, sampler_factory=SlowSampler.from_checkpoint)
    async with app.run_test(size=(120, 40)) as pilot:
        gen = await open_generate(pilot, app, tmp_path)
        gen.query_one("#length").value = "2000"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(gen.texts[0]) >= 20)  # streaming: text before the end
        assert gen.running and len(gen.texts[0]) < 2000
        await pilot.press("escape")  # cancels, stays on the panel
        assert not gen.running and isinstance(app.screen, GenerateScreen)
        await pilot.pause(0.2)
        n = len(gen.texts[0])
        await pilot.pause(0.2)
        assert len(gen.texts[0]) == n < 2000  # no more chunks after cancel
        gen.query_one("#length").value = "30"
        await pilot.press("ctrl+r")  # regenerate
        await wait_for(pilot, lambda: not gen.running)
        assert gen.texts == ["xy" * 15]
        await pilot.press("escape")  # idle: back to the dashboard
        assert isinstance(app.screen, TrainScreen)
        app.session.stop.set()


async def test_side_by_side_temperatures_and_the_slider(tmp_path):
    app = RnntuiApp(trainer_factory=LongTrainer, sampler_factory=FakeSampler.from_checkpoint)
    async with app.run_test(size=(120, 40)) as pilot:
        gen = await open_generate(pilot, app, tmp_path)
        gen.query_one("#length").value = "10"
        gen.query_one("#temp").focus()
        await pilot.press("left", "left", "left")
        assert gen.query_one("#temp").value == 0.7
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: not gen.running)
        assert gen.texts == ["ab" * 5]  # the fake writes "ab" below T 1.0
        await pilot.press("ctrl+o")  # one key: toggles side by side and generates
        await wait_for(pilot, lambda: not gen.running and len(gen.texts) == 3 and all(gen.texts))
        assert gen.texts == ["ab" * 5, "xy" * 5, "xy" * 5]
        titles = [p.border_title.split(" · ")[0] for p in gen.query(".gen-pane")]
        assert titles == ["T 0.50", "T 1.00", "T 1.50"]
        app.session.stop.set()


async def test_seed_characters_outside_the_vocabulary_are_flagged(tmp_path):
    app = RnntuiApp(trainer_factory=LongTrainer, sampler_factory=FakeSampler.from_checkpoint)
    async with app.run_test(size=(120, 40)) as pilot:
        gen = await open_generate(pilot, app, tmp_path)
        gen.query_one("#prime").value = "hello WORLD"
        await pilot.pause()
        flagged = str(gen.query_one("#unknown").render())
        assert "not in the vocabulary" in flagged and "'WORLD'" in flagged  # each unknown character, once
        gen.query_one("#length").value = "10"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: not gen.running)
        shown = gen.query_one("#gen-text-0").render()
        assert str(shown) == "hello " + "xy" * 5  # the usable seed, dim, then the continuation
        assert any("dim" in str(span.style) for span in shown.spans)
        gen.query_one("#prime").value = "hello"
        await pilot.pause()
        assert "vocabulary" not in str(gen.query_one("#unknown").render())
        app.session.stop.set()


async def test_generate_without_a_model_says_so():
    app = RnntuiApp(trainer_factory=LongTrainer, sampler_factory=FakeSampler.from_checkpoint)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        app.open_generate()
        await pilot.pause()
        assert not isinstance(app.screen, GenerateScreen)
        assert any("no model yet" in n.message for n in notifications(app))


# -----------------------------------------------------------------------------
# with a real checkpoint: an untrained 2-layer GRU on the tiny corpus


import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnntui.core.generate.beam import beam_search  # noqa: E402
from rnntui.core.generate.copycheck import CopyReport  # noqa: E402
from rnntui.core.generate.sampling import Sampler  # noqa: E402
from rnntui.ui.widgets.gen_panes import GenPane  # noqa: E402
from rnntui.ui.widgets.gen_step import StepCandidates  # noqa: E402

# ckpt: the untrained 2-layer GRU of conftest.py


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))


async def open_checkpoint(pilot, app: RnntuiApp, ckpt: dict, tmp_path) -> GenerateScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
    app.ckpt, app.ckpt_path = ckpt, str(tmp_path / "run" / "best.pt")
    app.open_generate()
    await wait_for(pilot, lambda: isinstance(app.screen, GenerateScreen))
    await pilot.pause()
    return app.screen


async def test_colouring_seeds_and_settings_that_persist(ckpt, tmp_path):
    app = RnntuiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        gen = await open_checkpoint(pilot, app, ckpt, tmp_path)
        gen.query_one("#prime").value = "The "
        gen.query_one("#length").value = "60"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: not gen.running and len(gen.texts[0]) == 60)
        pane = gen.query_one(GenPane)
        first, seed1 = gen.texts[0], gen.query_one("#seed").value
        assert seed1 in pane.border_title and len(pane.probs) == 60
        shown = gen.query_one("#gen-text-0").render()
        colours = {str(s.style) for s in shown.spans}
        assert len(colours) >= 2 and gen.query_one("#gen-legend").display  # coloured, legend shown
        await pilot.press("ctrl+k")
        assert not gen.query_one("#gen-legend").display
        assert all("#" not in str(s.style) for s in gen.query_one("#gen-text-0").render().spans)
        await pilot.press("ctrl+r")  # the same settings again: a new seed, shown, a new text
        await wait_for(pilot, lambda: not gen.running and len(gen.texts[0]) == 60)
        seed2 = gen.query_one("#seed").value
        assert seed2 != seed1 and gen.texts[0] != first and seed2 in pane.border_title
        gen.query_one("#seed").value = seed1  # typed: repeats the first text
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: not gen.running and len(gen.texts[0]) == 60)
        assert gen.texts[0] == first
        gen.query_one("#temp").value = 0.6
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, GenerateScreen))
        app.open_generate()
        await wait_for(pilot, lambda: isinstance(app.screen, GenerateScreen))
        again = app.screen
        await pilot.pause()
        assert again is not gen and again.query_one("#prime").value == "The "
        assert again.query_one("#temp").value == 0.6 and not again.query_one("#colour").value


async def test_step_mode_choose_by_hand_and_undo(ckpt, tmp_path):
    app = RnntuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        gen = await open_checkpoint(pilot, app, ckpt, tmp_path)
        gen.query_one("#prime").value = "ab"
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: gen.stepper is not None)
        panel = gen.query_one(StepCandidates)
        assert panel.display and panel.has_focus
        rendered = str(panel.render().view.candidates[0].char)
        assert rendered and "entropy" in _text(panel)
        proposal = gen.stepper.view().proposal
        await pilot.press("enter")  # take the sampled character
        assert gen.stepper.text == proposal
        second = gen.stepper.view().candidates[1].char
        await pilot.press("2")  # pick the second candidate by its number
        before = (gen.stepper.state.hs.copy(), gen.stepper.view())
        await pilot.press("e")  # type a character
        assert gen.stepper.text == proposal + second + "e"
        await pilot.press("backspace")  # undo: back to exactly before the "e"
        assert gen.stepper.text == proposal + second
        assert np.array_equal(gen.stepper.state.hs, before[0]) and gen.stepper.view() == before[1]
        await pilot.press("down", "enter")
        assert len(gen.stepper.text) == 3
        assert gen.texts == [gen.stepper.text] and len(gen.query_one(GenPane).probs) == 3
        await pilot.press("escape")  # leaves step mode, keeps the text
        assert gen.stepper is None and not panel.display and len(gen.texts[0]) == 3
        assert isinstance(app.screen, GenerateScreen)


def _text(widget) -> str:
    from rich.console import Console

    console = Console(record=True, width=76)
    console.print(widget.render())
    return console.export_text()


async def test_beam_search_and_copy_check_are_shown(ckpt, tmp_path):
    app = RnntuiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        gen = await open_checkpoint(pilot, app, ckpt, tmp_path)
        gen.query_one("#prime").value = "The "
        gen.query_one("#length").value = "30"
        gen.query_one("#beam").value = "4"
        gen.query_one("#ngram").value = "3"
        await pilot.press("ctrl+e")
        pane = gen.query_one(GenPane)
        await wait_for(pilot, lambda: len(pane.beams) == 4 and pane.report is not None)
        want = beam_search(Sampler.from_checkpoint(ckpt), "The ", 4, 30)
        assert [b.text for b in pane.beams] == [b.text for b in want]
        assert gen.texts == [want[0].text]
        shown = str(gen.query_one("#gen-text-0").render())
        assert f"log-prob {want[0].logprob:.2f}" in shown and f"{want[0].bits_per_char:.3f} bits/char" in shown
        assert isinstance(pane.report, CopyReport) and pane.report.n == 3
        assert "copied" in pane.border_subtitle and "3-grams" in pane.border_subtitle

        await pilot.press("ctrl+y")  # the pane's text to the clipboard
        assert app.clipboard == "The " + want[0].text
        await pilot.press("ctrl+s")  # every pane with its settings, beside the checkpoint
        saved = list((tmp_path / "run").glob("generated-*.txt"))
        assert len(saved) == 1
        body = saved[0].read_text()
        assert "# mode: 'beam'" in body and "# width: 4" in body and "# step: 5" in body
        assert "best.pt" in body and want[0].text in body and "copied" in body


async def test_a_long_beam_search_shows_its_progress_and_can_be_cancelled(ckpt, tmp_path):
    app = RnntuiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        gen = await open_checkpoint(pilot, app, ckpt, tmp_path)
        gen.query_one("#length").value = "100000"
        gen.query_one("#beam").value = "32"
        await pilot.press("ctrl+e")
        shown = lambda: str(gen.query_one("#gen-text-0").render())
        await wait_for(pilot, lambda: "of 100,000 characters" in shown(), timeout=30)
        assert shown().startswith("searching 32 beams… ") and gen.running
        await pilot.press("escape")
        await wait_for(pilot, lambda: not any(w.group == "generate" and not w.is_finished for w in app.workers))
        assert not gen.running and gen.query_one(GenPane).beams == ()  # cancelled: no beams come back


async def test_step_mode_on_live_weights_during_training(tmp_path):
    cfg = TrainConfig(
        corpus="tiny",
        model=ModelConfig(kind="lstm", hidden=16, layers=2, embed=8),
        seq_len=16,
        batch_size=4,
        steps=100_000,
        log_every=5,
        eval_every=10_000,
        out_dir=str(tmp_path),
        device="cpu",
    )
    app = RnntuiApp()  # the real engine and sampler
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        app.start_run(cfg)
        await wait_for(pilot, lambda: app.state.metrics is not None and app.state.metrics.step >= 5, timeout=60)
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, GenerateScreen))
        gen = app.screen
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: gen.stepper is not None, timeout=30)
        assert gen.stepper.sampler.cfg.kind == "lstm" and gen.stepper.sampler.cfg.layers == 2
        await pilot.press("enter", "enter", "3", "backspace")
        assert len(gen.stepper.text) == 2 and gen.texts == [gen.stepper.text]
        assert app.running  # training went on meanwhile
        app.session.stop.set()


def test_coloured_text_keeps_the_continuation_undimmed():
    from rnntui.ui.renderables.confidence import BANDS, generated_text, legend

    text = generated_text("seed ", "abc", [0.05, 0.5, 0.95], colour=True, copied=[(1, 3)])
    assert str(text) == "seed abc" and "dim" not in str(text.style)
    styles = {(s.start, s.end): str(s.style) for s in text.spans}
    assert styles[(0, 5)] == "dim"
    assert styles[(5, 6)] == BANDS[0][1] and styles[(6, 7)] == BANDS[2][1] and styles[(7, 8)] == BANDS[4][1]
    assert styles[(6, 8)] == "underline"
    assert "dim" not in str(legend().style) and "copied" in str(legend(True))
