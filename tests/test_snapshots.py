"""How each screen looks, pinned as SVG snapshots at 80x24 and 120x40 (pytest-textual-snapshot).

The SVGs live in tests/__snapshots__/test_snapshots/ and open in a browser. After an intended change to
a screen, look at the new pictures and accept them with `python -m pytest tests/test_snapshots.py
--snapshot-update`. Every screen is fed fixed data (a scripted engine, fixed run folders, a seeded
model) so the pictures do not depend on timing.
"""

from __future__ import annotations

import random
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fake_engine import VOCAB, FakeSampler, wait_for

from rnntui.core.config import ModelConfig, TrainConfig
from rnntui.core.events import (
    CheckpointSaved,
    EvalMetrics,
    Event,
    ProbeSnapshot,
    RunFinished,
    RunStarted,
    Sample,
    StepMetrics,
    Throughput,
)
from rnntui.ui.app import RnntuiApp
from rnntui.ui.panels import PANELS
from rnntui.ui.screens.generate import GenerateScreen
from rnntui.ui.screens.setup import SetupScreen
from rnntui.ui.screens.train import TrainScreen

SIZES = [(80, 24), (120, 40)]
RUNS = Path("/tmp/rnntui-snapshot-runs")  # a fixed path: screens that show a folder show the same one


class ScriptedTrainer:
    """Yields the same events every time, then either finishes or holds still until stopped."""

    steps = 300
    finish = True

    def __init__(self, cfg: TrainConfig, resume: str | None = None):
        self.cfg, self.step = cfg, 0

    def snapshot(self) -> dict:
        return {"format": "rnntui-checkpoint", "vocab": VOCAB, "step": self.step, "model": {}, "config": {}}

    def request_save(self) -> None:
        pass

    def run(self, stop: threading.Event, pause: threading.Event) -> Iterator[Event]:
        L, T, H = self.cfg.model.layers, self.cfg.seq_len, self.cfg.model.hidden
        run_dir = str(RUNS / "gru-2x64-tiny")
        yield RunStarted(
            config=self.cfg,
            vocab=VOCAB,
            n_params=45_123,
            device="cpu",
            run_dir=run_dir,
            start_step=0,
            total_steps=self.steps,
            steps_per_epoch=100,
            train_chars=9000,
            val_chars=1000,
            initial_loss=float(np.log(len(VOCAB))),
        )
        # a fixed peak: the real one is measured on the machine, and MFU would differ from one to the next
        yield Throughput(
            150_000, 60e9, "fp32", "measured: 256x256 matmul, 2 threads, best of 10 (cached)", "256² matmul ×10, cached"
        )
        rng = np.random.default_rng(0)
        text = "def f(x):\n    return [x, (x + 1)]\n"
        for s in range(10, self.steps + 1, 10):
            self.step = s
            loss = 3.4 * np.exp(-s / 90) + 1.2
            yield StepMetrics(
                step=s,
                epoch=s / 100,
                loss=float(loss),
                lr=5e-3,
                grad_norm=0.6 + 0.2 * np.sin(s / 7),
                chars_per_s=20_500.0,
                elapsed_s=s * 0.05,
                progress=s / self.steps,
                eta_s=(self.steps - s) * 0.05,
                chars_seen=s * 2048,
                wall_s=s * 0.05,
            )
            if s % 50 == 0:
                v = float(loss) + 0.08
                yield EvalMetrics(s, v, v / np.log(2), v, False)
            if s % 100 == 0:
                back = np.arange(T)[::-1]
                last = np.stack([np.exp(-back / (8 + 6 * layer)) for layer in range(L)]).astype(np.float32)
                yield ProbeSnapshot(
                    step=s,
                    grad_total=(0.2 + 0.8 * last).astype(np.float32),
                    grad_last=last,
                    text=text,
                    hidden=np.tanh(rng.normal(size=(L, len(text), H))).astype(np.float32),
                    cell=None,
                    clip=self.cfg.clip,
                )
                yield Sample(s, "\n", "def main(args):\n    return args[0] if args else None\n", 0.8)
                yield CheckpointSaved(s, run_dir + "/latest.pt", "latest", 1_790_000_000.0)
        if not self.finish:
            stop.wait()
            return
        yield RunFinished(
            self.steps,
            "completed",
            f"finished at step {self.steps}",
            1.31,
            1.39,
            1.39,
            latest_path=run_dir + "/latest.pt",
            elapsed_s=15.0,
        )


class HeldTrainer(ScriptedTrainer):
    finish = False


def cfg() -> TrainConfig:
    return TrainConfig(
        corpus="tiny",
        model=ModelConfig(kind="gru", hidden=64, layers=2),
        seq_len=32,
        batch_size=16,
        steps=300,
        out_dir=str(RUNS),
        device="cpu",
    )


def app_with(trainer=ScriptedTrainer, **kw) -> RnntuiApp:
    return RnntuiApp(
        corpus="tiny", trainer_factory=trainer, sampler_factory=FakeSampler.from_checkpoint, runs_root=str(RUNS), **kw
    )


@pytest.fixture(autouse=True)
def _fixed_runs_folder():
    """Three finished runs with fixed dates, for the Runs and Compare screens."""
    from test_ui_runs import make_run

    shutil.rmtree(RUNS, ignore_errors=True)
    make_run(RUNS, "rnn-1x64-tiny", kind="rnn", decay=0.6, updated=1_790_000_000.0, level=1.6)
    make_run(RUNS, "lstm-1x64-tiny", kind="lstm", decay=0.05, updated=1_790_000_100.0, level=1.2)
    make_run(RUNS, "gru-1x64-tiny", kind="gru", decay=0.02, updated=1_790_000_200.0, level=1.3)
    random.seed(1234)  # the generation panel draws a new seed per press
    yield
    shutil.rmtree(RUNS, ignore_errors=True)


async def steady(pilot) -> None:
    """No blinking cursors: a picture taken mid-blink would differ from the last one."""
    from textual.widgets import Input

    for inp in pilot.app.screen.query(Input):
        inp.cursor_blink = False
    await pilot.pause(0.2)


async def on_setup(pilot) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
    await wait_for(pilot, lambda: "loading" not in str(app.screen.query_one("#corpus-info").render()), timeout=20)
    await pilot.pause(0.3)
    await steady(pilot)


async def on_runs(pilot) -> None:
    """From the setup screen to the Runs screen, its three fixed runs listed."""
    from rnntui.ui.screens.runs import RunsScreen

    await on_setup(pilot)
    await pilot.press("ctrl+r")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RunsScreen))
    await wait_for(pilot, lambda: pilot.app.screen.query_one("#runs-table").row_count == 3)


async def finished_dashboard(pilot) -> None:
    await on_setup(pilot)
    pilot.app.start_run(cfg())
    await wait_for(pilot, lambda: pilot.app.state.finished is not None)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, TrainScreen))
    await pilot.pause(0.6)  # the panels' redraw tick
    await steady(pilot)


# -----------------------------------------------------------------------------
# the screens


@pytest.mark.parametrize("size", SIZES)
def test_setup(snap_compare, size):
    assert snap_compare(app_with(), terminal_size=size, run_before=on_setup)


@pytest.mark.parametrize("size", SIZES)
def test_dashboard(snap_compare, size):
    assert snap_compare(app_with(), terminal_size=size, run_before=finished_dashboard)


@pytest.mark.parametrize("panel", [p.id for p in PANELS])
def test_dashboard_panel_at_80x24(snap_compare, panel):
    """Each panel's key at the default terminal size: that panel fills the dashboard (issue 21)."""
    key = next(p.key for p in PANELS if p.id == panel)

    async def run_before(pilot) -> None:
        await finished_dashboard(pilot)
        await pilot.press(key)
        await pilot.pause(0.3)
        await steady(pilot)

    assert snap_compare(app_with(), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, size):
    async def run_before(pilot) -> None:
        await finished_dashboard(pilot)
        await pilot.press("f1")
        await pilot.pause(0.3)
        await steady(pilot)

    assert snap_compare(app_with(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_quit_dialog(snap_compare, size):
    async def run_before(pilot) -> None:
        await on_setup(pilot)
        pilot.app.start_run(cfg())
        await wait_for(pilot, lambda: pilot.app.state.metrics is not None and pilot.app.state.metrics.step == 300)
        await pilot.pause(0.6)
        await pilot.press("ctrl+q")
        await pilot.pause(0.3)
        await steady(pilot)

    app = app_with(HeldTrainer)
    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        if app.session is not None:
            app.session.stop.set()


@pytest.mark.parametrize("size", SIZES)
def test_generate_side_by_side(snap_compare, size):
    async def run_before(pilot) -> None:
        await finished_dashboard(pilot)
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, GenerateScreen))
        await pilot.press("ctrl+o")
        gen = pilot.app.screen
        await wait_for(pilot, lambda: not gen.running and gen.run_id > 0, timeout=20)
        await pilot.pause(0.3)
        await steady(pilot)

    assert snap_compare(app_with(), terminal_size=size, run_before=run_before)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> str:
    """An untrained, seeded 1x16 LSTM on the tiny corpus's characters: the inspector's pictures."""
    import torch

    from rnntui.core.config import config_to_dict
    from rnntui.core.model.cells import CharModel
    from rnntui.core.runs.checkpoints import save_checkpoint

    vocab = "".join(sorted(set("def f(x):\n    return [x, (x + 1)]\n 'quoted' \"text\"")))
    torch.manual_seed(0)
    mc = ModelConfig(kind="lstm", hidden=16, layers=1, embed=8, vocab_size=len(vocab))
    model = CharModel(mc)
    path = Path("/tmp/rnntui-snapshot-ckpt/latest.pt")  # a fixed path: the inspector shows it
    save_checkpoint(
        path,
        {
            "model": model.state_dict(),
            "config": config_to_dict(TrainConfig(corpus="tiny", model=mc)),
            "vocab": vocab,
            "step": 1234,
        },
    )
    return str(path)


@pytest.mark.parametrize("size", SIZES)
def test_inspector(snap_compare, size, tiny_checkpoint):
    async def run_before(pilot) -> None:
        from rnntui.ui.screens.inspect import InspectScreen

        await wait_for(pilot, lambda: isinstance(pilot.app.screen, InspectScreen), timeout=30)
        await wait_for(
            pilot, lambda: "mean loss" in str(pilot.app.screen.query_one("#ins-status").render()), timeout=30
        )
        await pilot.press("right", "right", "right")

        def influence_shown() -> bool:  # measured in workers: wait for the cursor's and the curve
            found = pilot.app.screen.query("#ins-influence")
            p = found.first() if found else None
            return p is not None and p.at is not None and p.at.cursor == 3 and not p.pending and p.context is not None

        await wait_for(pilot, influence_shown, timeout=60)
        # the "loading ..." notice lasts 2 s: gone or not by now depends on the machine's speed
        pilot.app.clear_notifications()
        await pilot.pause(0.3)
        await steady(pilot)

    app = RnntuiApp(inspect_checkpoint=tiny_checkpoint, inspect_text="def f(x):\n    return [x, (x + 1)]\n")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_runs(snap_compare, size):
    async def run_before(pilot) -> None:
        await on_runs(pilot)
        await pilot.pause(0.3)
        await steady(pilot)

    assert snap_compare(app_with(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_compare(snap_compare, size):
    async def run_before(pilot) -> None:
        from rnntui.ui.screens.compare import CompareScreen

        await on_runs(pilot)
        await pilot.press("space", "space", "space", "c")  # space marks a run and moves down
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, CompareScreen))
        await pilot.pause(1.0)  # the runs' logs are read in a worker
        await steady(pilot)

    assert snap_compare(app_with(), terminal_size=size, run_before=run_before)
