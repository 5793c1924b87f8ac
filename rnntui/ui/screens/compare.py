"""Compare: 2-6 runs side by side, from their run folders, growing while they train.

Loss curves overlaid (x: steps, characters seen or wall time), validation dots, the gradient reaching
back of each run on one log chart (one layer at a time; the latest probes or those nearest a chosen
step), the final numbers and one sentence. Beside the gradient figures, each run's effective context
(reach90: how far back its latest checkpoint actually looks, rnntui.core.analysis.context), measured in
a thread worker whenever a run writes a new checkpoint, at most every REACH_EVERY_S per run. Each run's metrics.jsonl is followed in a thread worker, so a
run training here (an experiment) or elsewhere shows up as it learns; nothing is ever written to a run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from rnntui.core.runs.folder import RunDir
from rnntui.core.runs.runlog import Follower, RunLog
from rnntui.core.textsafe import visible
from rnntui.ui.renderables.compare import (
    RUN_STYLES,
    X_AXES,
    CompareLoss,
    CompareReach,
    FinalTable,
    LossCurve,
    ReachCurve,
)
from rnntui.ui.renderables.influence import COMPARE_HELP
from rnntui.ui.screens.comparison import KEPT_AT, RunData, labels, ngram_loss, probe_for, rows, sentence
from rnntui.ui.widgets.header import AppHeader
from rnntui.ui.widgets.theme_styles import component_styles

POLL_S = 1.0  # how often the runs' logs are read for new records
MAX_RUNS = 6
REACH_EVERY_S = 30.0  # a training run's effective context is measured again at most this often
REACH_POSITIONS = 64  # held-out predictions each measurement averages (the inspector's figure)
RUN_CLASSES = tuple(f"compare--run-{i + 1}" for i in range(MAX_RUNS))  # each run's colour, from the theme


class ChartBox(Widget):
    """Draws whatever renderable its maker returns for the box's current height and the runs' colours
    (the compare--run-* component classes, so a theme change recolours every chart)."""

    COMPONENT_CLASSES = set(RUN_CLASSES)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.make: Callable[[int, tuple], RenderableType] | None = None  # (height, run styles) -> chart

    def show(self, make: Callable[[int, tuple], RenderableType]) -> None:
        self.make = make
        self.refresh()

    def render(self) -> RenderableType:
        if self.make is None:
            return Text("reading the runs…", style="dim italic")
        return self.make(max(3, self.content_size.height), component_styles(self, RUN_CLASSES, RUN_STYLES))


class CompareScreen(Screen):
    HELP_SECTIONS = (("effective context beside the gradient horizon", COMPARE_HELP),)  # the help screen's
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("a", "axis", "x axis"),
        Binding("v", "layer", "Layer"),
        Binding("less_than_sign,comma", "probe(-1)", "Earlier probe"),
        Binding("greater_than_sign,full_stop", "probe(1)", "Later probe"),
        Binding("end", "latest", "Latest probes", show=False),
        Binding("l", "log_y", "log/linear loss", show=False),
        Binding("p", "app.pause", "Pause/resume", show=False),
        Binding("x", "app.stop", "Stop", show=False),
    ]

    def __init__(
        self,
        paths: Sequence[str | Path] | Callable[[], Sequence[str | Path]],
        title: str = "compare",
        status: Callable[[], str] | None = None,
    ) -> None:
        super().__init__()
        self.source = paths if callable(paths) else (lambda p=list(paths): p)  # the runs, perhaps growing
        self.title_text = title
        self.status = status  # an experiment's one-line state, else None
        self.runs: dict[Path, RunData] = {}
        self.followers: dict[Path, Follower] = {}
        self.ngram: dict[Path, float | None] = {}  # each run's best n-gram val loss (the read worker's)
        self.x_axis = "steps"
        self.shown_layer = 0
        self.step: int | None = None  # probes nearest this step; None: the latest
        self.log_y = False
        self.polling = False
        # effective context per run: (checkpoint mtime, when measured, reach90 or None); one worker at a time
        self.reach: dict[Path, tuple[float, float, int | None]] = {}
        self.reaching = False

    def compose(self) -> ComposeResult:
        yield AppHeader()
        with VerticalScroll(id="compare"):
            yield Static("", id="cmp-status")
            yield ChartBox(id="cmp-loss", classes="panel")
            yield ChartBox(id="cmp-reach", classes="panel")
            yield Static("", id="cmp-sentence")
            yield ChartBox(id="cmp-table")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.title_text
        self.query_one("#cmp-loss").border_title = "training loss (lines, smoothed) and validation (dots)"
        self.query_one("#cmp-reach").border_title = "gradient reaching t-k steps back, relative to t (log)"
        self.set_interval(POLL_S, self.poll)
        self.poll()
        self.query_one("#compare").focus()

    # ---- reading the runs -------------------------------------------------------------------------

    def poll(self) -> None:
        if self.polling:  # the previous read is still going (a big log): skip this tick
            return
        self.polling = True
        self.run_worker(self._read, thread=True, group="compare-read", exit_on_error=False)

    def _read(self) -> None:
        try:
            paths = [Path(p) for p in self.source()][:MAX_RUNS]
            news = []
            for p in paths:
                follower = self.followers.get(p) or Follower(RunDir(p).metrics)
                self.followers[p] = follower
                records, info = follower.poll(), RunDir(p).read_info()
                if self.ngram.get(p) is None:  # the baselines' cache is read until it has the run's corpus
                    self.ngram[p] = ngram_loss(info)
                news.append((p, records, info, self.ngram[p]))
            self.app.call_from_thread(self._apply, news)
        finally:
            self.polling = False

    def _apply(self, news: list) -> None:
        changed = False
        for path, records, info, ngram in news:
            run = self.runs.get(path)
            if run is None:
                run = self.runs[path] = RunData(path, info, RunLog())
                changed = True
            if ngram != run.ngram:
                run.ngram, changed = ngram, True
            if info is not None and (run.info is None or info.updated != run.info.updated):
                run.info, changed = info, True
            if records:
                run.log.extend(records)
                changed = True
        if changed or self.status is not None:
            self.redraw()
        if not self.reaching:
            self.reaching = True
            self.run_worker(self._measure_reach, thread=True, group="compare-reach", exit_on_error=False)

    def _measure_reach(self) -> None:
        """Each run's reach90 from its checkpoint on its corpus's validation split (torch: this thread)."""
        try:
            for path in list(self.runs):
                ckpt = RunDir(path).checkpoint()
                if ckpt is None:
                    continue
                try:
                    mtime = ckpt.stat().st_mtime
                except OSError:
                    continue
                old = self.reach.get(path)
                if old is not None and (old[0] == mtime or time.monotonic() - old[1] < REACH_EVERY_S):
                    continue
                self.app.call_from_thread(self._reach_measured, path, mtime, _reach_of(ckpt))
        finally:
            self.reaching = False

    def _reach_measured(self, path: Path, mtime: float, reach90: int | None) -> None:
        self.reach[path] = (mtime, time.monotonic(), reach90)
        self.redraw()

    # ---- drawing ------------------------------------------------------------------------------------

    def data(self) -> list[RunData]:
        runs = list(self.runs.values())
        for run, label in zip(runs, labels(runs)):
            run.label = label
        return runs

    def redraw(self) -> None:
        runs = self.data()
        status = self.status() if self.status is not None else ""
        self.query_one("#cmp-status", Static).update(Text(visible(status), style="bold") if status else "")
        self.query_one("#cmp-status").display = bool(status)
        curves = [self._loss_curve(r) for r in runs]
        x_axis, log_y = self.x_axis, self.log_y
        self.query_one("#cmp-loss", ChartBox).show(
            lambda h, styles: CompareLoss(curves, x_axis, log_y=log_y, height=h, styles=styles)
        )
        self.query_one("#cmp-loss").border_subtitle = f"x: {X_AXES[x_axis]} (a) · {'log' if log_y else 'linear'} (l)"
        reach = []
        for r in runs:
            p = self._probe(r)
            if p is not None and self.shown_layer < p[2].shape[0]:
                reach.append(ReachCurve(r.label, p[2][self.shown_layer], p[0]))
        self.query_one("#cmp-reach", ChartBox).show(lambda h, styles: CompareReach(reach, height=h, styles=styles))
        where = "latest probes" if self.step is None else f"probes nearest step {self.step:,}"
        self.query_one("#cmp-reach").border_subtitle = f"layer {self.shown_layer + 1} (v) · {where} (< >)"
        table = [
            replace(row, numbers=replace(row.numbers, reach90=self.reach.get(r.path, (0, 0, None))[2]))
            for row, r in zip(rows(runs, self.step), runs)
        ]
        looks = ", ".join(
            f"{r.label} {self.reach[r.path][2]}" for r in runs if self.reach.get(r.path, (0, 0, None))[2] is not None
        )
        if looks:
            box = self.query_one("#cmp-reach")
            box.border_title = (
                f"gradient reaching t-k steps back, relative to t (log) · effective context, reach90 chars: {looks}"
            )
        self.query_one("#cmp-sentence", Static).update(Text(sentence(table, self.step)))
        self.query_one("#cmp-table", ChartBox).show(lambda h, styles: FinalTable(table, KEPT_AT, styles))

    def _probe(self, r: RunData):
        return probe_for(r.log, self.step)

    def _loss_curve(self, r: RunData) -> LossCurve:
        log = r.log
        steps = np.asarray(log.steps, dtype=np.float64)
        x = {
            "steps": steps,
            "chars": np.asarray(log.chars_seen, dtype=np.float64),
            "wall": np.asarray(log.wall_s, dtype=np.float64),
        }[self.x_axis]
        vs = np.asarray(log.val_steps, dtype=np.float64)
        vx = vs if self.x_axis == "steps" or not len(steps) else np.interp(vs, steps, x)
        return LossCurve(r.label, x, np.asarray(log.loss), vx, np.asarray(log.val_loss))

    # ---- keys ---------------------------------------------------------------------------------------

    def action_axis(self) -> None:
        keys = list(X_AXES)
        self.x_axis = keys[(keys.index(self.x_axis) + 1) % len(keys)]
        self.redraw()

    def action_layer(self) -> None:
        layers = max((r.log.probes[-1][2].shape[0] for r in self.runs.values() if r.log.probes), default=1)
        self.shown_layer = (self.shown_layer + 1) % layers
        self.redraw()

    def action_log_y(self) -> None:
        self.log_y = not self.log_y
        self.redraw()

    def probe_steps(self) -> list[int]:
        return sorted({p[0] for r in self.runs.values() for p in r.log.probes})

    def action_probe(self, delta: int) -> None:
        steps = self.probe_steps()
        if not steps:
            self.notify("no gradient probes yet", timeout=2)
            return
        i = len(steps) - 1 if self.step is None else int(np.searchsorted(steps, self.step))
        i = min(len(steps) - 1, max(0, i + delta))
        self.step = None if i == len(steps) - 1 and delta > 0 else steps[i]
        self.redraw()

    def action_latest(self) -> None:
        self.step = None
        self.redraw()


def _reach_of(ckpt: Path) -> int | None:
    """The median reach90 of a checkpoint over its corpus's validation split (None: it cannot be measured:
    a checkpoint being rewritten, a corpus gone)."""
    from rnntui.core.analysis.context import checkpoint_context
    from rnntui.core.config import RnntuiError
    from rnntui.core.runs.checkpoints import load_checkpoint

    try:
        ec = checkpoint_context(load_checkpoint(ckpt), positions=REACH_POSITIONS)
    except (RnntuiError, OSError):
        return None
    return ec.median_reach if ec is not None else None
