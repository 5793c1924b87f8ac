"""Pilot tests of the app against the fake engine: setup, controls, panels, errors, theme, export."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import time

from rich.console import Console

from fake_engine import FakeSampler, FakeTrainer, wait_for
from rnntui.core.config import ConfigError, ModelConfig, TrainConfig
from rnntui.core.events import RunFinished
from rnntui.ui.app import RnntuiApp
from rnntui.ui.screens.setup import SetupScreen
from rnntui.ui.screens.train import TrainScreen
from rnntui.ui.widgets.samples import SamplesPanel
from rnntui.ui.widgets.status import StatusPanel


def make_app(trainer=FakeTrainer) -> RnntuiApp:
    return RnntuiApp(corpus="tiny", trainer_factory=trainer, sampler_factory=FakeSampler.from_checkpoint)


def small_cfg(tmp_path, **kw) -> TrainConfig:
    return TrainConfig(corpus="tiny", model=ModelConfig(kind="lstm", hidden=8, layers=2), seq_len=16, batch_size=4,
                       out_dir=str(tmp_path), **kw)


def text_of(renderable, width: int = 60) -> str:
    console = Console(record=True, width=width, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


async def start(pilot, app: RnntuiApp, cfg: TrainConfig) -> None:
    await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
    await pilot.pause()
    app.start_run(cfg)


def messages(app: RnntuiApp) -> str:
    return " | ".join(n.message for n in app._notifications)


# -----------------------------------------------------------------------------
# setup


async def test_setup_refuses_bad_values_with_a_reason():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        hidden = app.screen.query_one("#hidden")
        hidden.value = "0"
        await pilot.pause()
        assert "hidden: a whole number 1-8192" in str(app.screen.query_one("#hidden-why").render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)  # refused: no run started
        assert app.session is None
        assert "hidden: a whole number 1-8192" in messages(app)
        assert app.focused is hidden
        hidden.value = "16"
        app.screen.query_one("#minutes").value = "-1"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.session is None and "minutes: a number > 0" in messages(app)


async def test_setup_start_builds_the_config_from_the_form(tmp_path):
    app = make_app(LongTrainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        for key, value in {"hidden": "24", "layers": "1", "seq_len": "32", "steps": "50"}.items():
            app.screen.query_one(f"#{key}").value = value
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen))
        cfg = app.session.cfg
        assert (cfg.corpus, cfg.model.hidden, cfg.model.layers, cfg.seq_len, cfg.steps) == ("tiny", 24, 1, 32, 50)
        app.session.stop.set()


async def test_a_corpus_file_named_on_the_command_line_is_kept(tmp_path):
    text = tmp_path / "mine.txt"
    text.write_text("a small corpus of my own, long enough to be read. " * 40)
    app = RnntuiApp(corpus=str(text), trainer_factory=LongTrainer, sampler_factory=FakeSampler.from_checkpoint)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        await wait_for(pilot, lambda: "2,000 chars" in str(app.screen.query_one("#corpus-info").render()))
        assert app.screen.corpus_name() == str(text)
        app.screen.query_one("#corpus-builtin").value = "brackets"  # a real change of built-in: path cleared
        await wait_for(pilot, lambda: app.screen.corpus_name() == "brackets")
        assert app.screen.query_one("#corpus-path").value == ""


async def test_opening_a_checkpoint_selects_its_builtin_corpus_over_a_typed_path(tmp_path):
    from rnntui.core.checkpoints import FORMAT, VERSION, save_checkpoint
    from rnntui.core.config import config_to_dict
    from rnntui.core.corpus import load_corpus
    from rnntui.core.models import CharModel

    vocab = load_corpus("tiny").vocab
    model = ModelConfig(kind="gru", hidden=8, layers=1, embed=4, vocab_size=len(vocab))
    ckpt = tmp_path / "run" / "latest.pt"
    save_checkpoint(ckpt, {"format": FORMAT, "version": VERSION, "model": CharModel(model).state_dict(),
                           "config": config_to_dict(TrainConfig(corpus="python", model=model)),
                           "vocab": vocab.chars, "step": 7})
    app = RnntuiApp(corpus=str(tmp_path / "mine.txt"), checkpoint=str(ckpt), trainer_factory=LongTrainer,
                    sampler_factory=FakeSampler.from_checkpoint)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        await wait_for(pilot, lambda: "step 7" in str(app.screen.query_one("#ckpt-info").render()))
        assert app.screen.corpus_name() == "python"  # the checkpoint's corpus, not the path typed before


# -----------------------------------------------------------------------------
# training controls and panels


class LongTrainer(FakeTrainer):
    steps = 100_000  # runs until stopped
    delay = 0.01


async def test_start_pause_resume_stop_and_panels_update(tmp_path):
    app = make_app(LongTrainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot, app, small_cfg(tmp_path, bf16=True))
        await wait_for(pilot, lambda: app.state.metrics is not None and app.state.metrics.step >= 60)
        await pilot.press("p")
        await wait_for(pilot, lambda: app.state.paused)
        assert app.phase == "paused"
        step = app.state.metrics.step
        await pilot.pause(0.4)  # idles while paused; the panels catch up on the next 4 Hz tick
        assert app.state.metrics.step == step
        status = text_of(app.screen.query_one(StatusPanel).render())
        assert "paused" in status and f"{step:,}" in status and "5,000 chars/s" in status
        assert "lstm 2x8" in status and "12,345" in status and "cpu · bf16" in status
        newest = app.state.samples[-1].step
        assert f"step {newest}" in text_of(app.screen.query_one(SamplesPanel).content()).splitlines()[0]
        assert app.screen.query_one("#loss").data[0][-1] == step  # loss history reached the chart
        assert app.screen.query_one("#heatmap").probe is app.state.probe is not None
        await pilot.press("p")
        await wait_for(pilot, lambda: not app.state.paused and app.state.metrics.step > step + 5)
        await pilot.press("w")
        await wait_for(pilot, lambda: app.state.saved is not None)
        assert "saved" in messages(app)
        await pilot.press("x")
        await wait_for(pilot, lambda: app.state.finished is not None)
        assert app.state.finished.reason == "stopped" and app.phase == "stopped"
        assert "training stopped" in " ".join(n.title for n in app._notifications)


async def test_redraw_rate_is_bounded_not_per_event(tmp_path):
    FakeTrainer.delay = 0.0005
    try:
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await start(pilot, app, small_cfg(tmp_path))
            await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen) and app.screen.query("#loss"))
            loss = app.screen.query_one("#loss")
            shows = []
            original = loss.show
            loss.show = lambda data: (shows.append(time.monotonic()), original(data))
            t0 = time.monotonic()
            await wait_for(pilot, lambda: app.state.finished is not None)
            elapsed = time.monotonic() - t0
            assert len(app.state.train_steps) == 400
            assert len(shows) <= elapsed / 0.25 + 2  # at most one chart update per 4 Hz tick
    finally:
        FakeTrainer.delay = 0.005


# -----------------------------------------------------------------------------
# errors


class FailingTrainer(FakeTrainer):
    fail_with = ConfigError("tiny: too short for one training window")


async def test_worker_error_becomes_a_notification_and_the_app_keeps_running(tmp_path):
    app = make_app(FailingTrainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        await wait_for(pilot, lambda: "too short" in messages(app))
        assert app.phase == "failed" and app.is_running
        await pilot.press("s")  # and it can start again
        await wait_for(pilot, lambda: app.session.worker.is_finished)


async def test_diverged_run_is_reported_as_an_error(tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        await wait_for(pilot, lambda: app.state.started is not None)
        app.session.stop.set()
        await wait_for(pilot, lambda: app.state.finished is not None)
        from rnntui.ui.messages import EngineEvent

        app.post_message(EngineEvent(RunFinished(5, "diverged", "loss became NaN: lower the lr", None, None, None)))
        await wait_for(pilot, lambda: "lower the lr" in messages(app))
        assert any(n.severity == "error" for n in app._notifications)


# -----------------------------------------------------------------------------
# theme, help, export


async def test_theme_toggle_switches_dark_and_light():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        dark = app.current_theme.dark
        await pilot.press("ctrl+t")
        assert app.current_theme.dark is not dark
        await pilot.press("ctrl+t")
        assert app.current_theme.dark is dark


async def test_help_lists_the_dashboard_keys(tmp_path):
    app = make_app(LongTrainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen))
        await pilot.press("f1")
        await pilot.pause()
        text = text_of(app.screen.key_table(), width=80)
        for key in ("Pause", "Stop", "Save", "Generate", "hidden units: next page", "Dark/light", "Quit", "^q"):
            assert key in text
        app.session.stop.set()


async def test_export_writes_svg_jsonl_and_csv(tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        await wait_for(pilot, lambda: app.state.finished is not None, timeout=15)
        await pilot.press("e")
        await pilot.pause()
        folder = tmp_path / "fake"
        svg, jsonl, csv = (sorted(folder.glob(f"*.{ext}")) for ext in ("svg", "jsonl", "csv"))
        assert svg and jsonl and csv
        assert "<svg" in svg[0].read_text()[:200]
        rows = [json.loads(line) for line in jsonl[0].read_text().splitlines()]
        assert sum(r["kind"] == "step" for r in rows) == 400 and sum(r["kind"] == "eval" for r in rows) == 8
        assert csv[0].read_text().startswith("kind,step,epoch,loss")
        assert str(folder) in messages(app)


# -----------------------------------------------------------------------------
# first frame without torch


def test_first_screen_composes_without_importing_torch():
    script = """
import asyncio, sys
import rnntui.ui.app as ui
from rnntui.ui.screens.setup import SetupScreen
seen = {}
compose = SetupScreen.compose
def spy(self):
    seen['torch'] = 'torch' in sys.modules
    return compose(self)
SetupScreen.compose = spy
async def main():
    app = ui.RnntuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        seen['screen'] = type(app.screen).__name__
asyncio.run(main())
print(seen)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "{'torch': False, 'screen': 'SetupScreen'}" in out.stdout


async def test_command_palette_offers_the_screen_controls(tmp_path):
    from rnntui.ui.app import ScreenCommands

    app = make_app(LongTrainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen) and app.state.metrics is not None)
        provider = ScreenCommands(app.screen)
        names = [hit.text for hit in [h async for h in provider.discover()]]
        for name in ("Pause", "Stop", "Save", "Generate", "Export", "Dark/light", "Help"):
            assert name in names
        hits = [h async for h in provider.search("pause")]
        assert hits
        app.call_later(hits[0].command)  # as the palette runs a chosen command
        await wait_for(pilot, lambda: app.state.paused)
        app.session.stop.set()
