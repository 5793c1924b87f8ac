"""Pilot tests of the Runs and Compare screens, the replayed and watched dashboards, and experiments.

Run folders are written with the real log writer (records.MetricsLog over engine events) and
RunDir.write_info, without checkpoints, so these tests exercise the UI, not training; one test trains
tiny real runs through an ExperimentSession.
"""

from __future__ import annotations

import io
import os
import socket
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fake_engine import FakeSampler, FakeTrainer, wait_for
from rich.console import Console

from rnntui.core import events as ev
from rnntui.core.analysis.compare import fmt_kept
from rnntui.core.config import ModelConfig, TrainConfig, config_to_dict
from rnntui.core.runs.folder import RunDir
from rnntui.core.runs.info import RunInfo
from rnntui.core.runs.records import MetricsLog
from rnntui.core.runs.runlog import read_log
from rnntui.core.train.experiments import COMPARE_PROBE_BUDGET, experiment_configs
from rnntui.ui.app import RnntuiApp
from rnntui.ui.renderables.compare import RUN_STYLES, CompareLoss, CompareReach, FinalTable, LossCurve, ReachCurve
from rnntui.ui.screens.compare import CompareScreen
from rnntui.ui.screens.comparison import RunData, labels, rows, sentence
from rnntui.ui.screens.runs import ConfirmDelete, RunsScreen
from rnntui.ui.screens.setup import SetupScreen
from rnntui.ui.screens.train import TrainScreen
from rnntui.ui.widgets.charts import GradFlowPanel
from rnntui.ui.widgets.status import StatusPanel
from rnntui.ui.workers.experiment import ExperimentSession

T = 40  # BPTT window of the fake runs


def text_of(renderable, width: int = 100) -> str:
    console = Console(record=True, width=width, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


# -----------------------------------------------------------------------------
# fake run folders, written with the real writers


def probe(step: int, layers: int, decay: float) -> ev.ProbeSnapshot:
    back = np.arange(T)[::-1]  # steps back of each column, t last
    last = np.exp(-decay * back)[None].repeat(layers, 0).astype(np.float32)  # (layers, T)
    return ev.ProbeSnapshot(
        step=step,
        grad_total=np.ones((layers, T), np.float32),
        grad_last=last,
        text="",
        hidden=np.zeros((layers, 0, 1), np.float32),
    )


def make_run(
    root: Path,
    name: str,
    kind: str = "lstm",
    steps: int = 100,
    decay: float = 0.1,
    layers: int = 2,
    updated: float = 0.0,
    state: str = "completed",
    end: bool = True,
    level: float = 1.0,
) -> RunDir:
    """A run folder: run.json and metrics.jsonl with step, eval, probe, sample and end records."""
    run = RunDir(root / name)
    run.path.mkdir(parents=True)
    log = MetricsLog(run.metrics)
    for s in range(10, steps + 1, 10):
        loss = level + 3.0 * np.exp(-s / 40)
        log.write(
            ev.StepMetrics(
                step=s,
                epoch=s / 50,
                loss=float(loss),
                lr=1e-3,
                grad_norm=0.5,
                chars_per_s=1000.0,
                elapsed_s=s / 10,
                progress=s / steps,
                eta_s=None,
                chars_seen=s * 128,
                wall_s=s / 10,
            )
        )
        if s % 50 == 0:
            log.write(ev.EvalMetrics(s, float(loss) + 0.1, (float(loss) + 0.1) / np.log(2), float(loss) + 0.1, False))
        if s % 20 == 0:
            log.write(probe(s, layers, decay * (1 + 10 / s)))  # the curve changes as it learns
            log.write(ev.Sample(s, "\n", f"{name} sample at {s}", 0.8))
    if end:
        log.write(ev.RunFinished(steps, state, f"finished at step {steps}", 1.5, level + 0.2, level + 0.2))
    log.close()
    cfg = TrainConfig(
        corpus="tiny",
        model=ModelConfig(kind=kind, hidden=16, layers=layers),
        seq_len=T,
        steps=steps,
        run_name=name,
        out_dir=str(root),
    )
    run.write_info(
        RunInfo(
            name=name,
            config=config_to_dict(cfg),
            corpus="tiny",
            corpus_fingerprint="x",
            created=updated - 100,
            updated=updated,
            state=state,
            steps=steps,
            chars_seen=steps * 128,
            wall_s=steps / 10,
            best_val_loss=level + 0.2,
            final_val_loss=level + 0.2,
            n_params=999,
            device="cpu",
            pid=os.getpid(),
            host=socket.gethostname(),
        )
    )
    return run


@pytest.fixture
def runs(tmp_path) -> Path:
    root = tmp_path / "checkpoints"
    now = time.time()
    make_run(root, "rnn-run", kind="rnn", decay=0.6, updated=now - 300, level=1.6)
    make_run(root, "lstm-run", kind="lstm", decay=0.05, updated=now - 200, level=1.2)
    make_run(root, "gru-run", kind="gru", decay=0.02, updated=now - 100, level=1.3)
    (root / "junk.txt").write_text("not a run")
    (root / "empty").mkdir()
    return root


def make_app(root: Path, **kw) -> RnntuiApp:
    return RnntuiApp(
        corpus="tiny",
        trainer_factory=FakeTrainer,
        sampler_factory=FakeSampler.from_checkpoint,
        runs_root=str(root),
        **kw,
    )


def table_names(screen: RunsScreen) -> list[str]:
    table = screen.query_one("#runs-table")
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


def record_notes(app: RnntuiApp) -> list[str]:
    """Wrap app.notify (public API) to keep every message shown."""
    notes: list[str] = []
    notify = app.notify

    def recording(message, *args, **kwargs):
        notes.append(str(message))
        return notify(message, *args, **kwargs)

    app.notify = recording
    return notes


async def open_runs(pilot, app: RnntuiApp) -> RunsScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
    await pilot.pause()
    await pilot.press("ctrl+r")
    await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
    await wait_for(pilot, lambda: app.screen.query_one("#runs-table").row_count == 3)
    return app.screen


# -----------------------------------------------------------------------------
# the Runs screen


async def test_runs_screen_lists_sorts_and_marks(runs):
    app = make_app(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runs(pilot, app)
        assert table_names(screen) == ["gru-run", "lstm-run", "rnn-run"]  # newest first, junk skipped
        await pilot.press("o")  # next sort column: name, A-Z
        await pilot.pause()
        assert table_names(screen) == ["gru-run", "lstm-run", "rnn-run"] and screen.sort_key == "name"
        await pilot.press("O")  # reversed
        await pilot.pause()
        assert table_names(screen) == ["rnn-run", "lstm-run", "gru-run"]
        for _ in range(5):  # name -> cell -> corpus -> steps -> chars -> best val (lowest first)
            await pilot.press("o")
        await pilot.pause()
        assert screen.sort_key == "val" and table_names(screen) == ["lstm-run", "gru-run", "rnn-run"]
        await pilot.press("space")  # the cursor stayed on its run (gru-run) through the sorts: mark, move down
        await pilot.press("space")
        await pilot.pause()
        assert [Path(p).name for p in screen.marked] == ["gru-run", "rnn-run"]
        table = screen.query_one("#runs-table")
        marks = [str(table.get_row_at(i)[0]).strip() for i in range(3)]
        assert marks == ["", "✓", "✓"]
        await pilot.press("up", "up", "space")  # lstm-run too, then unmark it again
        await pilot.pause()
        assert len(screen.marked) == 3
        await pilot.press("up", "space")
        await pilot.pause()
        assert len(screen.marked) == 2


async def test_running_runs_are_marked(runs):
    make_run(runs, "live-run", state="running", end=False, updated=time.time())
    app = make_app(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.press("ctrl+r")
        await wait_for(
            pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.query_one("#runs-table").row_count == 4
        )
        table = app.screen.query_one("#runs-table")
        states = {str(table.get_row_at(i)[1]): str(table.get_row_at(i)[9]) for i in range(4)}
        assert states["live-run"] == "● running" and states["gru-run"] == "completed"


async def test_delete_asks_first(runs):
    app = make_app(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runs(pilot, app)
        await pilot.press("d")  # the top row: gru-run
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDelete))
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen)
        assert (runs / "gru-run").is_dir()
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDelete))
        await pilot.press("y")
        await wait_for(pilot, lambda: not (runs / "gru-run").exists())
        await wait_for(pilot, lambda: table_names(screen) == ["lstm-run", "rnn-run"])


# -----------------------------------------------------------------------------
# a finished run on the dashboard


async def test_enter_replays_a_finished_run_with_its_gradient_history(runs):
    app = make_app(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runs(pilot, app)
        await pilot.press("down")  # lstm-run
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen) and app.view is not None)
        await pilot.pause(0.5)
        st = app.state
        assert st.metrics.step == 100 and st.finished.reason == "completed" and app.phase == "completed"
        assert st.val_steps == [50, 100] and len(st.samples) == 5
        status = text_of(app.screen.query_one(StatusPanel).render(), 40)
        assert "completed" in status and "100 / 100" in status and "lstm 2x16" in status
        grad = app.screen.query_one(GradFlowPanel)
        await wait_for(pilot, lambda: grad.probe is not None and grad.probe.step == 100)
        assert "probe @ step 100 (5/5 latest)" in grad.border_subtitle
        await pilot.press("less_than_sign")
        await pilot.press("less_than_sign")
        await wait_for(pilot, lambda: grad.probe.step == 60)
        assert "probe @ step 60 (3/5)" in grad.border_subtitle
        assert not np.allclose(grad.probe.grad_last, app.view.probes[-1].grad_last)  # an older curve
        await pilot.press("greater_than_sign")
        await wait_for(pilot, lambda: grad.probe.step == 80)
        for _ in range(3):
            await pilot.press("greater_than_sign")
        await wait_for(pilot, lambda: grad.probe.step == 100 and app.view.cursor is None)


async def test_watch_follows_a_growing_log_until_the_run_ends(tmp_path):
    run = make_run(tmp_path, "live", state="running", end=False, steps=50, updated=time.time())
    app = make_app(tmp_path, watch=str(run.path))
    notes = record_notes(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen) and app.view is not None)
        await wait_for(pilot, lambda: app.state.metrics is not None and app.state.metrics.step == 50)
        assert app.phase == "training elsewhere"
        assert app.view.live and app.state.started.run_dir == ""  # an export never writes into the run
        log = MetricsLog(run.metrics)
        log.write(
            ev.StepMetrics(
                step=60,
                epoch=1.2,
                loss=1.4,
                lr=1e-3,
                grad_norm=0.4,
                chars_per_s=900.0,
                elapsed_s=6.0,
                progress=0.6,
                eta_s=None,
                chars_seen=60 * 128,
                wall_s=6.0,
            )
        )
        log.close()
        await wait_for(pilot, lambda: app.state.metrics.step == 60)
        await wait_for(pilot, lambda: "60 / 50" in text_of(app.screen.query_one(StatusPanel).render(), 40))
        with open(run.metrics, "a", encoding="utf-8") as f:  # a line torn mid-write waits for its end
            f.write('{"type": "step", "step": 70, "loss": 1.3')
        await pilot.pause(0.8)
        assert app.state.metrics.step == 60
        with open(run.metrics, "a", encoding="utf-8") as f:
            f.write(', "chars_seen": 8960, "wall_s": 7.0}\n')
        await wait_for(pilot, lambda: app.state.metrics.step == 70)
        assert not any("ended" in n for n in notes)
        log = MetricsLog(run.metrics)
        log.write(ev.RunFinished(70, "completed", "finished at step 70", 1.3, 1.4, 1.4))
        log.close()
        run.write_info(replace(run.read_info(), state="completed", steps=70))
        await wait_for(pilot, lambda: any("the watched run ended: finished at step 70" in n for n in notes))
        assert app.phase == "completed"
        assert run.read_info().state == "completed"  # what the writer wrote: the app wrote nothing
        assert sorted(p.name for p in run.path.iterdir()) == ["metrics.jsonl", "run.json"]


# -----------------------------------------------------------------------------
# Compare


async def test_compare_two_marked_runs(runs):
    app = make_app(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runs(pilot, app)
        await pilot.press("c")  # nothing marked: refused
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("down", "space", "space")  # lstm-run, rnn-run
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        cmp = app.screen
        await wait_for(pilot, lambda: len(cmp.runs) == 2 and all(r.log.steps for r in cmp.runs.values()))
        runs_ = cmp.data()
        assert [r.label for r in runs_] == ["lstm", "rnn"]  # named by what differs
        said = str(cmp.query_one("#cmp-sentence").render())
        assert said.startswith("32 steps back, lstm keeps") and ", rnn " in said
        await pilot.press("a")
        await pilot.pause()
        assert cmp.x_axis == "chars"
        curve = cmp._loss_curve(runs_[0])
        assert curve.x[-1] == 100 * 128 and curve.val_x[-1] == 100 * 128  # validation dots move with the axis
        await pilot.press("less_than_sign")
        await pilot.pause()
        assert cmp.step == 80
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)


def styles_of(renderable, width: int = 100) -> set[str]:
    """The colours of the braille cells a renderable draws."""
    console = Console(width=width, file=io.StringIO(), color_system="truecolor")
    out = set()
    for line in console.render_lines(renderable, console.options.update(height=14)):
        for seg in line:
            if seg.style and seg.style.color and any(0x2800 < ord(c) <= 0x28FF for c in seg.text):
                out.add(seg.style.color.name)
    return out


def test_compare_renderables_draw_two_series_with_a_legend():
    x = np.arange(10, 210, 10, dtype=np.float64)
    a = LossCurve("rnn", x, 1.6 + 3 * np.exp(-x / 40), np.array([100.0, 200.0]), np.array([1.9, 1.75]))
    b = LossCurve("lstm", x, 1.2 + 3 * np.exp(-x / 40), np.array([100.0, 200.0]), np.array([1.5, 1.3]))
    chart = CompareLoss([a, b], height=14)
    text = text_of(chart)
    assert "━━ rnn val 1.75" in text and "━━ lstm val 1.30" in text and "bpc" in text
    assert text.count("●") >= 3  # validation dots of both runs (two may share a cell)
    colours = styles_of(chart)
    assert {RUN_STYLES[0].split()[-1], RUN_STYLES[1].split()[-1]} <= colours

    back = np.arange(T)[::-1]
    reach = CompareReach(
        [ReachCurve("rnn", np.exp(-0.6 * back), 200), ReachCurve("lstm", np.exp(-0.05 * back), 200)], height=10
    )
    text = text_of(reach)
    assert "rnn 7e-11 at t-39 (@200)" in text and "lstm 0.1 at t-39" in text and "t-k" in text
    assert len(styles_of(reach)) == 2


def test_comparison_numbers_from_known_logs(runs):
    data = [
        RunData(runs / n, RunDir(runs / n).read_info(), read_log(runs / n / "metrics.jsonl"))
        for n in ("rnn-run", "lstm-run", "gru-run")
    ]
    for d, label in zip(data, labels(data)):
        d.label = label
    assert [d.label for d in data] == ["rnn", "lstm", "gru"]
    table = rows(data)
    # each probe's curve decays by d (1 + 10/s) per step back; core.compare averages the last 5 probes
    # (steps 20..100) in log space: kept32 = exp(-32 d (1 + mean(10/s)))
    m = np.mean([10 / s for s in (20, 40, 60, 80, 100)])
    want = [np.exp(-32 * d * (1 + m)) for d in (0.6, 0.05, 0.02)]
    assert sentence(table) == (
        f"32 steps back, rnn keeps {fmt_kept(want[0])} of the gradient, lstm "
        f"{fmt_kept(want[1])}, gru {fmt_kept(want[2])} (geometric mean over layers, "
        "the latest probes)."
    )
    assert fmt_kept(want[0]) == "6e-11" and table[2].numbers.kept32 == pytest.approx(want[2], rel=1e-2)
    assert [r.numbers.steps for r in table] == [100, 100, 100] and table[1].cell == "lstm 2x16"
    assert table[1].numbers.val_loss == pytest.approx(1.4) and table[0].state == "completed"
    # at an earlier step the gradient figures read only the probes up to it
    early = rows(data, step=40)
    assert early[0].numbers.kept32 == pytest.approx(np.exp(-32 * 0.6 * (1 + np.mean([0.5, 0.25]))), rel=1e-2)
    text = text_of(FinalTable(table), width=120)  # the table with its vs n-gram column fits 120 columns
    assert "kept@16" in text and "lstm 2x16" in text and "1.400" in text


# -----------------------------------------------------------------------------
# experiments


class CountingTrainer(FakeTrainer):
    steps = 60
    delay = 0.0


def test_experiment_interleaves_runs_and_stops_them_all():
    cfgs = experiment_configs(
        "vanishing",
        TrainConfig(
            corpus="tiny", model=ModelConfig(hidden=8, layers=1), seq_len=8, batch_size=2, steps=60, save=False
        ),
    )
    assert [c.model.kind for c in cfgs] == ["rnn", "lstm", "gru"] and len({c.run_name for c in cfgs}) == 3
    assert {c.probe_budget for c in cfgs} == {COMPARE_PROBE_BUDGET}  # compared runs probe as `rnntui compare`
    session = ExperimentSession("vanishing gradients", cfgs, CountingTrainer)
    posted: list[tuple[int, object]] = []
    session.run(lambda i, e: posted.append((i, e)))
    steps = [i for i, e in posted if isinstance(e, ev.StepMetrics)]
    assert steps[:6] == [0, 1, 2, 0, 1, 2]  # one log interval of each in turn
    assert [e.reason for _, e in posted if isinstance(e, ev.RunFinished)] == ["completed"] * 3

    stopper = ExperimentSession("clipping", experiment_configs("clipping", cfgs[0]), FakeTrainer)
    posted = []

    def post(i, e):
        posted.append((i, e))
        if isinstance(e, ev.StepMetrics) and e.step == 5:
            stopper.stop.set()

    stopper.run(post)
    ends = [(i, e.reason) for i, e in posted if isinstance(e, ev.RunFinished)]
    assert sorted(ends) == [(0, "stopped"), (1, "stopped")]
    saves = [i for i, e in posted if isinstance(e, ev.CheckpointSaved)]
    assert sorted(saves) == [0, 1]  # each stopped run saved latest.pt


def test_a_real_experiment_writes_one_run_folder_each(tmp_path):
    base = TrainConfig(
        corpus="tiny",
        model=ModelConfig(hidden=8, layers=1, embed=4),
        seq_len=8,
        batch_size=2,
        steps=6,
        log_every=2,
        eval_every=0,
        probe_hz=50.0,
        probe_budget=1.0,
        sample_every_s=0.0,
        val_chars=200,
        out_dir=str(tmp_path),
        bf16=False,
    )
    cfgs = experiment_configs("depth", base)
    session = ExperimentSession("depth", cfgs)
    order: list[int] = []
    session.run(lambda i, e: order.append(i) if isinstance(e, ev.StepMetrics) else None)
    assert order[:3] == [0, 1, 2]
    for cfg, layers in zip(cfgs, (1, 2, 3)):
        run = RunDir.of_config(cfg)
        info = run.read_info()
        assert info.state == "completed" and info.steps == 6 and info.config["model"]["layers"] == layers
        assert run.latest.is_file()
        log = read_log(run.metrics)
        assert log.steps[-1] == 6 and log.end["reason"] == "completed"
        # the time the other runs trained is not this run's: its wall time is its own steps' time
        assert info.wall_s > 0


class SlowTrainer(FakeTrainer):
    steps = 100_000  # until stopped
    delay = 0.002


async def test_experiment_from_the_setup_screen_shows_compare_and_stops_all(tmp_path):
    app = make_app(tmp_path)
    app.trainer_factory = SlowTrainer
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        app.screen.query_one("#exp-preset").value = "depth"
        await pilot.pause()
        app.screen.query_one("#exp-start").press()
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        session = app.session
        assert isinstance(session, ExperimentSession)
        assert [c.model.layers for c in session.cfgs] == [1, 2, 3] and session.cfgs[0].corpus == "tiny"
        await wait_for(pilot, lambda: len(session.steps) == 3 and min(session.steps.values()) >= 20)
        await wait_for(
            pilot, lambda: "depth: training, interleaved" in str(app.screen.query_one("#cmp-status").render())
        )
        steps = sorted(session.steps.values())
        assert steps[-1] - steps[0] <= 1  # interleaved: the runs advance together
        await pilot.press("escape")  # back to the setup screen while it trains; the button shows it again
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        app.screen.query_one("#exp-start").press()
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        assert app.session is session
        await pilot.press("x")
        await wait_for(pilot, lambda: not app.running)
        assert session.ended == {0: "stopped", 1: "stopped", 2: "stopped"}
        await wait_for(pilot, lambda: "finished" in str(app.screen.query_one("#cmp-status").render()))


async def test_generate_and_continue_from_a_run_folder_use_its_latest_checkpoint(tmp_path):
    from rnntui.core.train.engine import Trainer
    from rnntui.ui.screens.generate import GenerateScreen

    cfg = TrainConfig(
        corpus="tiny",
        model=ModelConfig(kind="gru", hidden=8, layers=1, embed=4),
        seq_len=8,
        batch_size=2,
        steps=4,
        log_every=2,
        eval_every=0,
        sample_every_s=0.0,
        val_chars=200,
        out_dir=str(tmp_path),
        bf16=False,
    )
    for _ in Trainer(cfg).run():
        pass
    run = RunDir.of_config(replace(cfg, run_name="gru-1x8-tiny"))
    assert run.latest.is_file()
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_for(
            pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.query_one("#runs-table").row_count == 1
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen) and app.view is not None)
        assert app.state.metrics.step == 4 and app.phase == "completed"
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, GenerateScreen))
        assert app.ckpt_path == str(run.latest) and str(run.latest) in app.screen.title_text
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen))
        await pilot.press("s")  # continue: the fake trainer resumes from latest.pt, with the budget extended
        await wait_for(pilot, lambda: app.session is not None)
        assert app.view is None and app.session.resume == str(run.latest)
        assert app.session.cfg.steps == 8 and app.session.cfg.out_dir == str(tmp_path)
        app.session.stop.set()


# -----------------------------------------------------------------------------
# a run folder's lock (issue 18): the Runs screen asks the lock, not the path


HOLD = (
    "import sys, time; from pathlib import Path; from rnntui.core.runs.lock import RunLock; "
    "lock = RunLock.take(Path(sys.argv[1])); print('held', flush=True); time.sleep(600)"
)


def hold_lock(folder: Path):
    """Another process holding a run folder's lock, as the process training it does."""
    import subprocess
    import sys

    p = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert p.stdout.readline().strip() == "held"
    return p


async def test_runs_screen_guards_a_locked_run_and_lists_runs_under_a_run_looking_folder(runs):
    live = make_run(runs, "live-run", state="running", end=False, updated=time.time())
    steps = [x for x in (runs / "gru-run" / "metrics.jsonl").read_text().splitlines() if '"step"' in x]
    (runs / "metrics.jsonl").write_text("\n".join(steps) + "\n")  # `--metrics checkpoints/metrics.jsonl`:
    # the folder of runs looks like a run itself
    app = make_app(runs)
    notes = record_notes(app)
    holder = None
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
            await pilot.press("ctrl+r")
            await wait_for(
                pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.query_one("#runs-table").row_count > 0
            )
            await pilot.pause(0.5)
            screen = app.screen
            assert table_names(screen) == ["live-run", "gru-run", "lstm-run", "rnn-run"]  # never "checkpoints"
            holder = hold_lock(runs / ".." / runs.name / "live-run")  # locked by another spelling of its path
            await pilot.press("d")
            await wait_for(pilot, lambda: any(f"process {holder.pid}" in n for n in notes))
            assert "cannot delete live-run" in notes[-1] and not isinstance(app.screen, ConfirmDelete)
            await pilot.press("s")  # continue: refused, it trains elsewhere
            await wait_for(pilot, lambda: "being trained by" in notes[-1])
            assert app.session is None and live.path.is_dir()
            holder.kill()
            holder.wait()
            await pilot.press("ctrl+r")  # reload: its lock is free, so it reads "killed"
            await wait_for(pilot, lambda: str(screen.query_one("#runs-table").get_row_at(0)[9]) == "killed")
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDelete))
            await pilot.press("y")
            await wait_for(pilot, lambda: not live.path.exists())
            assert (runs / "gru-run").is_dir() and (runs / "metrics.jsonl").is_file()
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()


async def test_the_app_resuming_a_busy_run_folder_notifies(tmp_path):
    from rnntui.core.runs.folder import continue_in
    from rnntui.core.train.engine import Trainer

    cfg = TrainConfig(
        corpus="tiny",
        model=ModelConfig(kind="gru", hidden=8, layers=1, embed=4),
        seq_len=8,
        batch_size=2,
        steps=4,
        log_every=2,
        eval_every=0,
        sample_every_s=0.0,
        val_chars=200,
        out_dir=str(tmp_path),
        run_name="busy",
        bf16=False,
        device="cpu",
    )
    for _ in Trainer(cfg).run():
        pass
    run = RunDir.of_config(cfg)
    before = run.metrics.read_bytes()
    holder = hold_lock(run.path)
    app = RnntuiApp(corpus="tiny", runs_root=str(tmp_path))  # the real engine
    notes = record_notes(app)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
            app.start_run(continue_in(replace(cfg, steps=8), run.latest), resume=str(run.latest))
            await wait_for(pilot, lambda: any("in use by" in n for n in notes), timeout=60)
            assert f"process {holder.pid}" in notes[-1] and not app.running
    finally:
        holder.kill()
        holder.wait()
    assert run.metrics.read_bytes() == before  # not a byte written to the busy folder
