"""Pilot tests of the app against the fake engine: setup, controls, panels, errors, theme, export."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time

import numpy as np
from fake_engine import FakeSampler, FakeTrainer, LongTrainer, notifications, wait_for
from rich.console import Console

from rnntui.core.config import ConfigError, ModelConfig, TrainConfig
from rnntui.core.events import RunFinished
from rnntui.ui.app import RnntuiApp
from rnntui.ui.screens.setup import SetupScreen
from rnntui.ui.screens.train import REDRAW_S, TrainScreen
from rnntui.ui.widgets.samples import SamplesPanel
from rnntui.ui.widgets.status import StatusPanel


def make_app(trainer=FakeTrainer) -> RnntuiApp:
    return RnntuiApp(corpus="tiny", trainer_factory=trainer, sampler_factory=FakeSampler.from_checkpoint)


def small_cfg(tmp_path, **kw) -> TrainConfig:
    return TrainConfig(
        corpus="tiny",
        model=ModelConfig(kind="lstm", hidden=8, layers=2),
        seq_len=16,
        batch_size=4,
        out_dir=str(tmp_path),
        **kw,
    )


def text_of(renderable, width: int = 60) -> str:
    console = Console(record=True, width=width, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


async def start(pilot, app: RnntuiApp, cfg: TrainConfig) -> None:
    await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
    await pilot.pause()
    app.start_run(cfg)


def messages(app: RnntuiApp) -> str:
    return " | ".join(n.message for n in notifications(app))


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
    from rnntui.core.config import config_to_dict
    from rnntui.core.data.corpus import load_corpus
    from rnntui.core.model.cells import CharModel
    from rnntui.core.runs.checkpoints import FORMAT, VERSION, save_checkpoint

    vocab = load_corpus("tiny").vocab
    model = ModelConfig(kind="gru", hidden=8, layers=1, embed=4, vocab_size=len(vocab))
    ckpt = tmp_path / "run" / "latest.pt"
    save_checkpoint(
        ckpt,
        {
            "format": FORMAT,
            "version": VERSION,
            "model": CharModel(model).state_dict(),
            "config": config_to_dict(TrainConfig(corpus="python", model=model)),
            "vocab": vocab.chars,
            "step": 7,
        },
    )
    app = RnntuiApp(
        corpus=str(tmp_path / "mine.txt"),
        checkpoint=str(ckpt),
        trainer_factory=LongTrainer,
        sampler_factory=FakeSampler.from_checkpoint,
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        await wait_for(pilot, lambda: "step 7" in str(app.screen.query_one("#ckpt-info").render()))
        assert app.screen.corpus_name() == "python"  # the checkpoint's corpus, not the path typed before


# -----------------------------------------------------------------------------
# training controls and panels


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
        assert "training stopped" in " ".join(n.title for n in notifications(app))


async def test_redraw_rate_is_bounded_not_per_event(tmp_path):
    """400 steps logged as fast as the fake engine goes: the loss chart is redrawn at most once per redraw
    tick (REDRAW_S, 0.3 s: about 3 times a second), not once per event."""
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
            assert len(shows) <= elapsed / REDRAW_S + 2  # at most one chart update per tick, and two edges
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
        failed = app.session
        await pilot.press("s")  # and it can start again: a new session, whose run fails the same way
        await wait_for(
            pilot,
            lambda: app.session is not failed and app.session.worker is not None and app.session.worker.is_finished,
        )
        assert app.session.cfg == failed.cfg and app.phase == "failed"
        assert messages(app).count("too short") == 2


async def test_diverged_run_is_reported_as_an_error(tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        await wait_for(pilot, lambda: app.state.started is not None)
        app.session.stop.set()
        await wait_for(pilot, lambda: app.state.finished is not None)
        from rnntui.ui.workers.training import EngineEvent

        app.post_message(EngineEvent(RunFinished(5, "diverged", "loss became NaN: lower the lr", None, None, None)))
        await wait_for(pilot, lambda: "lower the lr" in messages(app))
        assert any(n.severity == "error" for n in notifications(app))


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
        assert sum(r["type"] == "step" for r in rows) == 400 and sum(r["type"] == "eval" for r in rows) == 8
        # the run log's own step records (records.to_record serves the log, --metrics and the export)
        assert set(rows[0]) == {
            "type",
            "step",
            "epoch",
            "loss",
            "lr",
            "grad_norm",
            "chars_per_s",
            "elapsed_s",
            "chars_seen",
            "wall_s",
        }
        assert csv[0].read_text().startswith("type,step,epoch,loss")
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


# -----------------------------------------------------------------------------
# probe panels: step stamps and the stale mark (issue 14)


class StarvedProbeTrainer(FakeTrainer):
    """Probes only up to step 40, then trains on: as a run whose probes were starved under load. The
    training clock runs at 0.2 s per step, so 600 steps behind is also two minutes behind."""

    steps = 100_000  # runs until the test stops it: a short run could end before the test pauses it
    delay = 0.0005

    def run(self, stop, pause):
        from dataclasses import replace as dc_replace

        from rnntui.core.events import ProbeSnapshot, StepMetrics

        for e in super().run(stop, pause):
            if isinstance(e, ProbeSnapshot) and e.step > 40:
                continue
            if isinstance(e, StepMetrics):
                e = dc_replace(e, elapsed_s=e.step * 0.2)
            yield e


async def test_probe_panels_show_their_step_and_say_when_stale(tmp_path):
    from rnntui.ui.widgets.charts import GradFlowPanel
    from rnntui.ui.widgets.hidden import HeatmapPanel

    app = make_app(StarvedProbeTrainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        await wait_for(pilot, lambda: app.state.probe is not None and app.state.probe.step == 40)
        await wait_for(pilot, lambda: "@ step 40" in str(app.screen.query_one(GradFlowPanel).border_title))
        grad, heat = app.screen.query_one(GradFlowPanel), app.screen.query_one(HeatmapPanel)
        assert "@ step 40" in str(heat.border_title) and "by variance" in str(heat.border_title)
        await wait_for(pilot, lambda: app.state.metrics is not None and app.state.metrics.step >= 640, timeout=60)
        app.session.pause.set()  # hold the run still to read the panels
        await wait_for(pilot, lambda: app.state.paused)
        await pilot.pause(0.4)  # the next redraw tick
        behind = app.state.step - 40
        assert behind >= 600
        for panel in (grad, heat):
            assert "@ step 40" in str(panel.border_title)
            assert str(panel.border_subtitle) == f"stale: {behind:,} steps behind"
            assert panel.has_class("-stale")
        app.session.stop.set()


async def test_fresh_probes_are_not_marked_stale(tmp_path):
    from rnntui.ui.widgets.charts import GradFlowPanel

    app = make_app(LongTrainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        await wait_for(pilot, lambda: app.state.probe is not None and app.state.probe.step >= 60)
        await pilot.pause(0.4)
        grad = app.screen.query_one(GradFlowPanel)
        assert "@ step" in str(grad.border_title) and not grad.has_class("-stale")
        assert "stale" not in str(grad.border_subtitle) and "v layer" in str(grad.border_subtitle)
        app.session.stop.set()


# -----------------------------------------------------------------------------
# dashboard: layer key, heatmap order and paging, help per panel


async def test_layer_key_switches_both_panels_and_orders_cycle(tmp_path):
    from rnntui.ui.widgets.charts import GradFlowPanel
    from rnntui.ui.widgets.hidden import HeatmapPanel

    app = make_app(LongTrainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        await wait_for(pilot, lambda: app.state.probe is not None)
        await pilot.pause(0.4)
        grad, heat = app.screen.query_one(GradFlowPanel), app.screen.query_one(HeatmapPanel)
        assert text_of(grad.render(), 80).startswith("layer 1:")
        await pilot.press("v")
        await pilot.pause(0.1)
        assert grad.layer_index == 1 and heat.layer_index == 1
        assert text_of(grad.render(), 80).startswith("layer 2:") and "layer 2/2" in str(heat.border_title)
        assert "v layer 2/2" in text_of(grad.render(), 80)  # the key named in the panel itself
        await pilot.press("v")
        await pilot.pause(0.1)
        assert grad.layer_index == 0
        acts = heat.states()  # (T, H) of the probe shown
        assert list(heat.order()) == list(np.argsort(-acts.var(axis=0), kind="stable"))
        await pilot.press("o")
        await pilot.pause(0.1)
        assert "by saturation" in str(heat.border_title)
        await pilot.press("o")
        await pilot.pause(0.1)
        assert "by index" in str(heat.border_title) and list(heat.order()) == list(range(acts.shape[1]))
        app.session.stop.set()


async def test_heatmap_pages_through_units_without_skipping(tmp_path):
    from rnntui.ui.widgets.hidden import HeatmapPanel

    app = make_app(LongTrainer)
    async with app.run_test(size=(120, 40)) as pilot:
        cfg = TrainConfig(
            corpus="tiny",
            model=ModelConfig(kind="gru", hidden=64, layers=1),
            seq_len=16,
            batch_size=4,
            out_dir=str(tmp_path),
        )
        await start(pilot, app, cfg)
        await wait_for(pilot, lambda: app.state.probe is not None)
        app.session.pause.set()  # one probe, held still
        await wait_for(pilot, lambda: app.state.paused)
        await pilot.pause(0.4)
        heat = app.screen.query_one(HeatmapPanel)
        first, shown, *_ = heat._window()
        assert first == 0 and 16 <= shown < 64  # two units per row: far more than the 7 of old
        seen = set(range(first, first + shown))
        for _ in range(10):
            await pilot.press("pagedown")
            r0, n, *_ = heat._window()
            assert r0 <= max(seen) + 1  # never a gap
            seen |= set(range(r0, r0 + n))
        assert seen == set(range(64))
        app.session.stop.set()


async def test_h_opens_help_at_the_focused_panel(tmp_path):
    from rnntui.ui.screens.help import HelpScreen

    app = make_app(LongTrainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen) and app.state.probe is not None)
        app.screen.query_one("#heatmap").focus()
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert help_screen.topic == "heatmap"
        assert help_screen.query_one("#help-heatmap").has_class("-topic")
        body = " ".join(str(w.render()) for w in help_screen.query(".help-panel"))
        assert "saturated" in body and "variance" in body and "dloss_T/dh_t" in body and "bits" in body
        about = str(help_screen.query_one("#help-about").render())
        from rnntui.ui.screens.train import REDRAW_S

        assert f"every {REDRAW_S:g} s" in about and "ctrl+q" in about
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen))
        await pilot.click("#gradflow", offset=(10, 5))  # a click inside focuses the panel
        await pilot.pause()
        assert isinstance(app.screen, TrainScreen) and app.screen.focused.id == "gradflow"
        await pilot.click("#gradflow", offset=(4, 0))  # a click on its title explains it
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert app.screen.topic == "gradflow"
        app.screen.dismiss()
        app.session.stop.set()


# -----------------------------------------------------------------------------
# status after a resume and around a save


class ResumedTrainer(FakeTrainer):
    """Starts as a run resumed at step 300 that carries its history, then saves between two metrics."""

    steps = 340

    def run(self, stop, pause):
        from dataclasses import replace as dc_replace

        from rnntui.core.events import CheckpointSaved, RunStarted, StepMetrics

        self.step = 300
        for e in super().run(stop, pause):
            if isinstance(e, RunStarted):
                e = dc_replace(
                    e,
                    start_step=300,
                    history_steps=(100, 200, 300),
                    history_loss=(3.0, 2.0, 1.5),
                    val_history=((250, 1.9), (300, 1.7)),
                    grad_norm_history=((100, 0.9), (200, 0.7), (300, 0.6)),
                    best_val_loss=1.65,
                    last_saved_step=300,
                )
                yield e
                continue
            yield e
            if isinstance(e, StepMetrics) and e.step == 320:
                yield CheckpointSaved(322, "x/latest.pt", "latest", time.time())  # the engine saved 2 steps later
                while not stop.is_set():  # hold still: the status is read now
                    time.sleep(0.01)


async def test_status_after_a_resume_and_a_save_between_metrics(tmp_path):
    from rnntui.ui.widgets.charts import NormPanel

    app = make_app(ResumedTrainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        await wait_for(pilot, lambda: app.state.started is not None)
        await pilot.pause(0.4)
        st = app.state
        status = text_of(app.screen.query_one(StatusPanel).render())
        assert st.norm_steps[:3] == [100, 200, 300] and st.grad_norms[:3] == [0.9, 0.7, 0.6]
        assert app.screen.query_one(NormPanel).data[0][:3] == (100, 200, 300)
        await wait_for(pilot, lambda: st.saved is not None)
        await pilot.pause(0.4)
        status = text_of(app.screen.query_one(StatusPanel).render())
        assert "322" in status.split("step")[1].split("\n")[0]  # the step row says 322, like the save
        assert "latest @ step 322" in status
        assert "1.700" in status and "1.650" in status  # val carried over, and the best of the run
        app.session.stop.set()


async def test_status_shows_what_a_resumed_run_carried_before_any_new_event(tmp_path):
    class Quiet(ResumedTrainer):
        def run(self, stop, pause):
            for e in super().run(stop, pause):
                yield e
                while not stop.is_set():  # only RunStarted
                    time.sleep(0.01)

    app = make_app(Quiet)
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        await wait_for(pilot, lambda: app.state.started is not None)
        await pilot.pause(0.4)
        status = text_of(app.screen.query_one(StatusPanel).render())
        assert "1.700" in status and "1.650" in status and "@ step 300 (resumed from)" in status
        app.session.stop.set()


# -----------------------------------------------------------------------------
# setup friction, screenshot


async def test_setup_refuses_a_corpus_it_cannot_use(tmp_path):
    bad = tmp_path / "empty.txt"
    bad.write_text("")
    app = RnntuiApp(corpus=str(bad), trainer_factory=LongTrainer, sampler_factory=FakeSampler.from_checkpoint)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        await wait_for(pilot, lambda: "cannot use this corpus" in str(app.screen.query_one("#corpus-info").render()))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.session is None and isinstance(app.screen, SetupScreen)
        assert "(tab completes)" not in app.screen.query_one("#corpus-path").placeholder
        assert "→" in app.screen.query_one("#corpus-path").placeholder


async def test_new_run_keeps_the_previous_settings(tmp_path):
    app = make_app(LongTrainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.pause()
        for key, value in {"hidden": "24", "layers": "1", "seq_len": "32", "steps": "50", "lr": "0.002"}.items():
            app.screen.query_one(f"#{key}").value = value
        app.screen.query_one("#corpus-builtin").value = "brackets"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen))
        app.session.stop.set()
        await wait_for(pilot, lambda: not app.running)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.pause()
        form = {k: app.screen.query_one(f"#{k}").value for k in ("hidden", "layers", "seq_len", "steps", "lr")}
        assert form == {"hidden": "24", "layers": "1", "seq_len": "32", "steps": "50", "lr": "0.002"}
        assert app.screen.corpus_name() == "brackets"


async def test_palette_screenshot_saves_where_export_does(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/Downloads here
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        await wait_for(pilot, lambda: app.state.finished is not None, timeout=15)
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "Screenshot")
        command.callback()
        folder = tmp_path / "fake"
        await wait_for(pilot, lambda: list(folder.glob("*.svg")))
        assert not (tmp_path / "home" / "Downloads").exists()


async def test_heatmap_colours_follow_the_theme(tmp_path):
    from rnntui.ui.widgets.hidden import HeatmapPanel, theme_ramp

    app = make_app(LongTrainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        await wait_for(pilot, lambda: app.state.probe is not None)
        await pilot.pause(0.4)
        heat = app.screen.query_one(HeatmapPanel)
        app.theme = "textual-dark"
        await pilot.pause()
        neg, zero, pos = theme_ramp(heat)
        assert sum(zero) < 150 and neg != pos  # dark theme: a dark zero
        assert heat.heatmap().ramp == (neg, zero, pos)  # the renderable draws with it
        app.theme = "textual-light"
        await pilot.pause()
        assert sum(theme_ramp(heat)[1]) > 600  # light theme: zero is near-white, not near-black
        app.session.stop.set()


class RenamedRunTrainer(FakeTrainer):
    """Starts as a run whose folder was taken by another run (the engine picked a fresh name)."""

    steps = 20

    def run(self, stop, pause):
        from dataclasses import replace as dc_replace

        from rnntui.core.events import RunStarted

        for e in super().run(stop, pause):
            if isinstance(e, RunStarted):
                e = dc_replace(e, notice="checkpoints/x holds another run: writing to checkpoints/x-2")
            yield e


async def test_the_engines_notice_reaches_the_user(tmp_path):
    app = make_app(RenamedRunTrainer)
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot, app, small_cfg(tmp_path))
        await wait_for(pilot, lambda: app.state.finished is not None)
        assert "holds another run: writing to checkpoints/x-2" in messages(app)
