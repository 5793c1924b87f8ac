"""The n-gram baselines on the dashboard's loss chart: labelled reference lines (rendered to text), the state
that carries them, the worker's side thread, and the dashboard showing them (Pilot)."""

from __future__ import annotations

import io
import threading

import numpy as np
from rich.console import Console

from rnntui.core.analysis.ngram.figures import Baselines
from rnntui.ui.renderables.traincharts import LossChart
from rnntui.ui.state import RunState


def render_text(renderable, width: int = 70, height: int = 14) -> str:
    c = Console(record=True, width=width, height=height, color_system="truecolor", file=io.StringIO())
    c.print(renderable, height=height)
    return c.export_text()


def baselines(best: float = 1.52, unigram: float = 3.35, uniform: float = 4.17) -> Baselines:
    return Baselines(
        fingerprint="0" * 16,
        val_frac=0.1,
        fit_bound=4_000_000,
        eval_bound=500_000,
        vocab=65,
        uniform=uniform,
        unigram=unigram,
        ngram=((2, 2.48), (5, best + 0.04), (6, best)),
        train_chars=1000,
        fit_chars=1000,
        val_chars=100,
        eval_chars=100,
        seconds=0.1,
    )


REFS = (("6-gram", 1.52), ("unigram", 3.35), ("uniform", 4.17))


# -----------------------------------------------------------------------------
# the renderable


def test_best_ngram_is_labelled_at_its_row_and_in_the_legend():
    steps = np.arange(200)
    text = render_text(
        LossChart(steps, np.linspace(4.0, 1.45, 200), [100, 199], [1.9, 1.48], refs=REFS), 75
    )  # the loss panel at 80 columns
    lines = text.splitlines()
    assert "vs 6-gram -0.04" in lines[0]  # legend: where val sits against the line
    rows = [i for i, line in enumerate(lines) if line.rstrip().endswith("6-gram 1.52")]
    assert rows, text  # the right-hand label at the line's own row
    # its row is where 1.52 belongs on the left axis, interpolated between the ticks
    ticks = {float(line.split("┤")[0]): i for i, line in enumerate(lines) if "┤" in line}
    (v0, r0), (v1, r1) = sorted(ticks.items())[:2]
    expected = r0 + (1.52 - v0) * (r1 - r0) / (v1 - v0)
    assert abs(rows[0] - expected) <= 1, (ticks, rows)


def test_ahead_of_counting_reads_positive():
    text = render_text(
        LossChart(np.arange(50), np.linspace(4.0, 2.0, 50), [49], [1.62], refs=REFS), 75
    )  # the loss panel at 80 columns
    assert "vs 6-gram +0.10" in text.splitlines()[0]


def test_weak_baselines_show_only_while_the_curve_reaches_them():
    early = render_text(LossChart(np.arange(50), np.linspace(4.2, 2.5, 50), [], [], refs=REFS))
    assert "unigram 3.35" in early and "uniform 4.17" in early
    late = render_text(LossChart(np.arange(50) + 1000, np.linspace(1.7, 1.4, 50), [], [], refs=REFS))
    assert "unigram" not in late and "uniform" not in late  # they would squash the curve: left off
    assert "6-gram 1.52" in late  # the line to pass is always in view
    # and the axis still spans the curve, not 1.4..4.2: no tick above 2
    ticks = [float(line.split("┤")[0]) for line in late.splitlines() if "┤" in line]
    assert max(ticks) < 2.0, ticks


def test_best_ngram_below_the_curve_widens_the_range_to_show_it():
    text = render_text(LossChart(np.arange(50), np.linspace(3.0, 2.2, 50), [], [], refs=REFS))
    assert "6-gram 1.52" in text.splitlines()[0]  # no val yet: the legend names the line
    assert any(line.rstrip().endswith("6-gram 1.52") for line in text.splitlines()[1:])


def test_no_refs_draws_as_before():
    args = (np.arange(100), np.linspace(4.0, 1.0, 100), [50], [2.0])
    assert render_text(LossChart(*args)) == render_text(LossChart(*args, refs=()))
    assert "gram" not in render_text(LossChart(*args))


def test_small_chart_keeps_its_size_with_refs():
    for w, h in ((30, 4), (40, 6), (120, 20)):
        text = render_text(LossChart(np.arange(10), np.linspace(4, 2, 10), [9], [2.1], refs=REFS), w, h)
        lines = text.rstrip("\n").split("\n")
        assert len(lines) == h and all(len(line) == w for line in lines)


# -----------------------------------------------------------------------------
# the state and the worker's side thread


def test_state_turns_baselines_into_reference_lines():
    st = RunState()
    assert st.baseline_refs == ()
    v = st.version
    st.apply(baselines())
    assert st.version > v  # the dashboard redraws
    assert st.baseline_refs == (("6-gram", 1.52), ("unigram", 3.35), ("uniform", 4.17))


def test_side_thread_posts_the_corpus_baselines(tmp_path, monkeypatch):
    from rnntui.core.data.corpus import corpus_from_text
    from rnntui.ui.workers.training import baselines_thread

    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path))
    corpus = corpus_from_text("t", "abc(de)f " * 400)
    got: list = []
    done = threading.Event()
    t = baselines_thread(corpus, lambda b: (got.append(b), done.set()))
    assert t is not None and t.daemon and done.wait(60)
    assert isinstance(got[0], Baselines) and got[0].vocab == len(corpus.vocab)
    assert baselines_thread(None, got.append) is None  # a stand-in engine: nothing to compute


# -----------------------------------------------------------------------------
# the dashboard (Pilot, against the fake engine with a real corpus)


async def test_dashboard_draws_the_baselines_once_computed(tmp_path, monkeypatch):
    from fake_engine import FakeSampler, LongTrainer, wait_for

    from rnntui.core.config import ModelConfig, TrainConfig
    from rnntui.core.data.corpus import corpus_from_text
    from rnntui.ui.app import RnntuiApp
    from rnntui.ui.screens.setup import SetupScreen
    from rnntui.ui.widgets.charts import LossPanel

    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))

    class CountedTrainer(LongTrainer):  # the fake engine, with the corpus a real Trainer exposes
        corpus = corpus_from_text("t", "the quick brown fox jumps over the lazy dog.\n" * 200)

    app = RnntuiApp(corpus="tiny", trainer_factory=CountedTrainer, sampler_factory=FakeSampler.from_checkpoint)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.pause()
        app.start_run(
            TrainConfig(
                corpus="tiny",
                model=ModelConfig(kind="lstm", hidden=8, layers=1),
                seq_len=16,
                batch_size=4,
                out_dir=str(tmp_path),
            )
        )
        panel = None

        def shown() -> bool:
            nonlocal panel
            panel = app.screen.query(LossPanel).first() if app.screen.query(LossPanel) else None
            return panel is not None and bool(panel.refs) and bool(panel.data and panel.data[0])

        await wait_for(pilot, shown, timeout=60)
        best = app.session.state.baselines.best
        assert panel.refs[0] == (f"{best[0]}-gram", best[1])
        text = render_text(panel.render(), width=panel.content_size.width, height=panel.content_size.height)
        assert f"{best[0]}-gram {best[1]:.2f}" in text  # the labelled line, at its row on the chart
        app.session.halt()
        await wait_for(pilot, lambda: not app.running, timeout=60)


def test_runs_screen_has_the_vs_ngram_column_of_rnntui_runs(tmp_path):
    from pathlib import Path

    from rnntui.core.runs.summary import RunSummary
    from rnntui.ui.screens.runs_table import COLUMNS, row_cells

    s = RunSummary(
        name="r",
        path=Path(tmp_path),
        model="gru",
        hidden=8,
        layers=1,
        corpus="brackets",
        steps=300,
        chars_seen=1000,
        best_val_loss=0.97,
        best_val_bpc=1.40,
        wall_s=5.0,
        state="completed",
        updated=0.0,
        has_log=True,
        ngram_order=6,
        ngram_val_loss=1.13,
    )
    headers = [h for h, _ in COLUMNS.values()]
    cells = [c.plain for c in row_cells(s, False)]
    assert len(cells) == len(headers)
    assert cells[headers.index("vs n-gram")] == "-0.16"
    from dataclasses import replace

    assert row_cells(replace(s, ngram_val_loss=None), False)[headers.index("vs n-gram")].plain == "–"


def test_a_replayed_run_reads_its_baselines_from_the_cache(tmp_path, monkeypatch):
    from dataclasses import replace

    from test_ui_runs import make_run

    from rnntui.core.analysis.ngram.baselines import save
    from rnntui.ui.workers.replay import RunView

    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))
    run = make_run(tmp_path / "runs", "r1", updated=1000.0)
    fp = "0123456789abcdef"
    run.write_info(replace(run.read_info(), corpus_fingerprint=fp))
    assert RunView.open(run.path).state.baselines is None  # nothing cached: no lines, and no corpus read
    assert save(replace(baselines(), fingerprint=fp, val_frac=0.1))
    assert RunView.open(run.path).state.baseline_refs[0] == ("6-gram", 1.52)


async def test_compare_view_has_the_vs_ngram_column_of_rnntui_compare(tmp_path, monkeypatch):
    from dataclasses import replace
    from pathlib import Path

    from fake_engine import wait_for
    from test_ui_runs import make_run
    from textual.app import App

    from rnntui.core.analysis.compare import compare_row, format_table
    from rnntui.core.analysis.ngram.baselines import save
    from rnntui.core.runs.runlog import read_log
    from rnntui.ui.screens.compare import ChartBox, CompareScreen

    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))
    lstm = make_run(tmp_path / "runs", "lstm-run", kind="lstm", updated=1000.0, level=1.2)
    rnn = make_run(
        tmp_path / "runs", "rnn-run", kind="rnn", updated=1000.0, level=1.6
    )  # its corpus's baselines: not computed
    fp = "0123456789abcdef"
    lstm.write_info(replace(lstm.read_info(), corpus_fingerprint=fp))
    assert save(replace(baselines(), fingerprint=fp, val_frac=lstm.read_info().train_config.val_frac))

    class Host(App):
        CSS_PATH = str(Path(__file__).resolve().parents[1] / "rnntui" / "ui" / "rnntui.tcss")

        def on_mount(self) -> None:
            self.push_screen(CompareScreen([lstm.path, rnn.path]))

    app = Host()
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        cmp = app.screen
        await wait_for(pilot, lambda: len(cmp.runs) == 2 and all(r.log.end for r in cmp.runs.values()))
        await wait_for(pilot, lambda: "vs n-gram" in render_text(cmp.query_one("#cmp-table", ChartBox).render(), 160))
        head, first, second = render_text(cmp.query_one("#cmp-table", ChartBox).render(), 160).splitlines()[:3]
    # the CLI's column, in the CLI's place (after kept@32 and reach90), and the CLI's figures
    assert head.split()[-5:] == ["kept@32", "reach90", "vs", "n-gram", "state"]
    cli = format_table([compare_row("lstm", read_log(lstm.metrics), ngram=1.52)]).splitlines()[1].split()[-1]
    assert cli == "-0.12"  # the final val loss 1.40 (the end record's) against the best n-gram's 1.52
    assert first.split()[0] == "lstm" and first.split()[-2] == cli
    assert second.split()[0] == "rnn" and second.split()[-2] == "-"  # not computed: shown as the CLI shows it
