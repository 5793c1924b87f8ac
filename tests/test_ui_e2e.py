"""One end-to-end Pilot test with the real engine: train a tiny model, watch events arrive, generate, resume."""

from __future__ import annotations

from pathlib import Path

from fake_engine import wait_for

from rnntui.core.config import ModelConfig, TrainConfig
from rnntui.ui.app import RnntuiApp
from rnntui.ui.screens.generate import GenerateScreen
from rnntui.ui.screens.setup import SetupScreen
from rnntui.ui.screens.train import TrainScreen


async def test_train_tiny_model_then_generate_and_continue(tmp_path):
    cfg = TrainConfig(
        corpus="tiny",
        model=ModelConfig(kind="lstm", hidden=16, layers=1, embed=8),
        seq_len=16,
        batch_size=4,
        steps=30,
        log_every=5,
        eval_every=10,
        eval_windows=4,
        probe_hz=50.0,
        probe_budget=0.5,
        sample_every_s=0.5,
        sample_len=20,
        out_dir=str(tmp_path),
        device="cpu",
    )
    app = RnntuiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.pause()
        app.start_run(cfg)
        await wait_for(pilot, lambda: app.state.finished is not None, timeout=60)
        st = app.state
        assert st.finished.reason == "completed" and st.finished.step == 30
        assert st.train_steps[-1] == 30 and st.val_steps and st.probe is not None
        latest = Path(st.finished.latest_path)
        assert latest.exists()
        await pilot.pause(0.3)
        assert isinstance(app.screen, TrainScreen)
        assert app.screen.query_one("#status").phase == "completed"

        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, GenerateScreen))
        gen = app.screen
        gen.query_one("#length").value = "40"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: not gen.running and gen.texts[0], timeout=30)
        assert len(gen.texts[0]) == 40 and set(gen.texts[0]) <= set(st.started.vocab)
        await pilot.press("escape")

        app.session.cfg = TrainConfig(**{**cfg.__dict__, "steps": 40})
        await pilot.press("s")  # start again: continues from latest.pt
        await wait_for(pilot, lambda: app.state.finished is not None, timeout=60)
        assert app.state.started.start_step == 30 and app.state.finished.step == 40
