"""Pilot tests of the generation panel with a fake sampler: streaming, cancel, side by side, flags."""
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
        await pilot.press("ctrl+b", "ctrl+r")
        await wait_for(pilot, lambda: not gen.running and len(gen.texts) == 3 and all(gen.texts))
        assert gen.texts == ["ab" * 5, "xy" * 5, "xy" * 5]
        titles = [p.border_title for p in gen.query(".gen-pane")]
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
