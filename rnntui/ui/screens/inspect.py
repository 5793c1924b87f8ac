"""The Inspect screen: run a model once over a text (in a thread worker) and explore what it computed.

The screen owns the user's choices (cursor, layer, h/c, selected unit, ranking, marked range) and turns
them into one immutable View after every key (widgets/inspect/moves.py, ranking.py); the widgets only draw
that View. Rankings ("find neurons") use rnntui.core.analysis.features, which is numpy only, so nothing
here imports torch outside the workers (workers/inspection.py, influence.py).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import WorkerState, get_current_worker

from rnntui.core.config import RnntuiError
from rnntui.core.textsafe import visible
from rnntui.ui.widgets.header import AppHeader
from rnntui.ui.widgets.inspect import moves
from rnntui.ui.widgets.inspect.ask import AskLine
from rnntui.ui.widgets.inspect.gain import HOW_TO_READ, GainPanel, compute_text_gain
from rnntui.ui.widgets.inspect.heatmap import InspectHeatmap
from rnntui.ui.widgets.inspect.influence import HELP_SECTIONS, InfluencePanel
from rnntui.ui.widgets.inspect.panels import AnatomyPanel, CursorPanel, PredPanel, RunLine, UnitList
from rnntui.ui.widgets.inspect.ranking import UnitOrder, next_sort
from rnntui.ui.widgets.inspect.text import InspectText
from rnntui.ui.widgets.inspect.view import View, ViewWidget
from rnntui.ui.workers.influence import ContextReady, CursorQueue, InfluenceReady, context_shares, cursor_shares
from rnntui.ui.workers.inspection import GainLoaded, InspectLoaded, InspectProgress, run_inspection


class InspectScreen(Screen):
    HELP_SECTIONS = (*HELP_SECTIONS, ("against counting (n)", HOW_TO_READ))  # the help screen lists these
    AUTO_FOCUS = ""  # nothing: keys go to the screen's bindings; only the input line ever takes focus
    BINDINGS = [
        Binding("left", "move(-1)", "char"),
        Binding("right", "move(1)", "char", show=False),
        Binding("ctrl+left", "word(-1)", "word", show=False),
        Binding("ctrl+right", "word(1)", "word", show=False),
        Binding("home", "edge(0)", "start", show=False),
        Binding("end", "edge(1)", "end", show=False),
        Binding("up", "unit_step(-1)", "unit"),
        Binding("down", "unit_step(1)", "unit", show=False),
        Binding("pageup", "unit_page(-1)", "page", show=False),
        Binding("pagedown", "unit_page(1)", "page", show=False),
        Binding("u", "ask('unit')", "unit #"),
        Binding("f", "find", "find"),
        Binding("slash", "ask('regex')", "regex"),
        Binding("m", "mark", "mark range"),
        Binding("plus,equals_sign", "threshold(0.05)", "threshold", show=False),
        Binding("minus", "threshold(-0.05)", "threshold", show=False),
        Binding("s", "sort", "sort"),
        Binding("l", "layer", "layer"),
        Binding("c", "cell", "h/c"),
        Binding("n", "vs_ngram", "vs n-gram"),
        Binding("a", "attribution", "influence: gradient x input / integrated gradients", show=False),
        Binding("escape", "back", "back"),
    ]

    def __init__(self, source, text: str | None = None) -> None:
        super().__init__()
        # a checkpoint dict or WeightsSnapshot, or a callable returning one (live weights: Trainer.snapshot),
        # called in the worker so the copy never runs on the UI thread
        self.source = source
        self.text = text  # text to run over; None: a slice of the checkpoint corpus's validation split
        self.view: View | None = None  # everything the widgets draw; None until the worker is done
        self.order = UnitOrder()  # the unit list's order: s's sort, the last find's feature and regex
        # text position where an unfinished range mark started (not "anchor": a Widget method of that name)
        self.mark_from: int | None = None
        self.words = np.zeros(0, np.int64)  # start positions of words, for ctrl+left/right
        self.gain = None  # the network against the best n-gram (TextGain), once computed (n)
        self.gain_on = False  # the vs-n-gram mode: text coloured by it, the class summary in place of the heatmap
        self.influence = CursorQueue()  # influence at the cursor: one measurement at a time

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield RunLine(id="ins-status")
        yield InspectText(id="ins-text")
        yield InfluencePanel(id="ins-influence")
        with Horizontal(id="ins-mid"):
            yield CursorPanel(id="ins-step")
            yield PredPanel(id="ins-pred")
            yield AnatomyPanel(id="ins-anatomy")
        with Horizontal(id="ins-bottom"):
            yield InspectHeatmap(id="ins-heatmap")
            yield GainPanel(id="ins-gain")  # shown in the vs-n-gram mode (n), in the heatmap's place
            yield UnitList(id="ins-units")
        yield AskLine(id="ins-input")  # hidden until u or / asks for a value
        yield Footer()

    def on_mount(self) -> None:
        self.title = "inspect"
        self.run_model()

    def on_resize(self) -> None:
        self.set_class(self.size.height < 32, "-compact")

    # ---- the model run (thread worker) ------------------------------------------------------------

    @work(thread=True, exclusive=True, group="inspect", exit_on_error=False)
    def run_model(self) -> None:
        if callable(self.source):
            self.source = self.source()  # the live weights' copy, here in the worker
        run_inspection(self.post_message, self.source, self.text, get_current_worker().cancelled_event)

    def on_inspect_progress(self, msg: InspectProgress) -> None:
        if self.view is None:
            self.query_one(RunLine).progress(msg.done, msg.total)

    def on_worker_state_changed(self, event) -> None:
        if event.state != WorkerState.ERROR:
            return
        err = event.worker.error
        msg = str(err) if isinstance(err, RnntuiError) else f"{type(err).__name__}: {err}"
        if event.worker.group == "gain":  # e.g. the corpus is gone
            self.query_one(GainPanel).show(None, f"no n-gram comparison: {msg}")
            self.notify(f"no n-gram comparison: {msg}", severity="warning")
        if event.worker.group in ("influence", "context"):
            if event.worker.group == "influence":
                self.influence.busy = False  # the next cursor move tries again
            self.notify(f"cannot measure the influence: {visible(msg)}", severity="warning")
        if event.worker.group == "inspect":
            self.query_one(RunLine).failed(msg)

    def on_inspect_loaded(self, msg: InspectLoaded) -> None:
        ins = msg.inspection
        self.words = moves.word_starts(ins.text)
        from rnntui.core.runs.checkpoints import weights_of  # torch is loaded by now: the inspection ran

        self.sub_title = f"{ins.kind} {ins.layers}x{ins.hidden} · step {weights_of(self.source).step:,}"
        self.query_one(RunLine).summary(ins)
        self.view = View.first(ins)
        self._rerank(select_top=True)
        self.measure_context(ins)

    # ---- influence of past characters (thread workers; the panel gets plain data) --------------------

    def _want_influence(self, cursor: int) -> None:
        self.query_one(InfluencePanel).pending = True
        if self.view is not None and self.influence.want(cursor):
            self.measure_influence(self.view.ins, cursor, replace(self.view, cursor=cursor).step)

    @work(thread=True, group="influence", exit_on_error=False)
    def measure_influence(self, ins, cursor: int, step: int) -> None:
        q = self.influence
        self.post_message(InfluenceReady(cursor_shares(ins, self.source, cursor, step, q.cache, q.method)))

    def action_attribution(self) -> None:
        self.influence.switch()
        if self.view is not None:
            self._want_influence(self.view.cursor)

    def on_influence_ready(self, msg: InfluenceReady) -> None:
        panel = self.query_one(InfluencePanel)
        panel.at = msg.shares
        later = self.influence.done(msg.shares.cursor, msg.shares.method)
        if later is None:
            panel.pending = False
        else:
            self._want_influence(later)  # the cursor moved on while this one ran

    @work(thread=True, exclusive=True, group="context", exit_on_error=False)
    def measure_context(self, ins) -> None:
        ctx = context_shares(ins, self.source, stop=get_current_worker().cancelled_event)
        if ctx is not None:
            self.post_message(ContextReady(ctx))

    def on_context_ready(self, msg: ContextReady) -> None:
        self.query_one(InfluencePanel).context = msg.context

    # ---- turning choices into a View ----------------------------------------------------------------

    def _shown(self) -> View:
        """The view on screen; asked for only once the worker is done (the actions check self.view)."""
        assert self.view is not None
        return self.view

    def _show(self, view: View) -> None:
        if self.influence.wanted != view.cursor:
            self._want_influence(view.cursor)
        self.view = view
        for w in self.query(ViewWidget):  # attributes go down: each widget repaints on a new View
            w.view = view

    def _rerank(self, select_top: bool = False) -> None:
        """Recompute the unit order for the current sort, layer and state."""
        self._ordered(*self.order.apply(self._shown(), select_top))

    def _ordered(self, view: View, warning: str) -> None:
        if warning:  # a feature that cannot be computed, or never changes
            self.notify(warning, severity="warning")
        self._show(view)

    # ---- actions: time cursor (widgets/inspect/moves.py) ----------------------------------------------

    def _cursor(self, pos: int) -> None:
        if self.view is not None:
            self._show(moves.at_cursor(self.view, pos, self.mark_from))

    def action_move(self, delta: int) -> None:
        if self.view is not None:
            self._cursor(self.view.cursor + delta)

    def action_word(self, direction: int) -> None:
        if self.view is not None:
            self._cursor(moves.word_target(self.view, self.words, direction))

    def action_edge(self, end: int) -> None:
        if self.view is not None:
            self._cursor(len(self.view.ins.text) - 1 if end else 0)

    # ---- actions: units -------------------------------------------------------------------------------

    def action_unit_step(self, delta: int) -> None:
        if self.view is not None:
            self._show(moves.at_rank(self.view, self.view.rank_index + delta))

    def action_unit_page(self, direction: int) -> None:
        if self.view is not None:
            page = max(1, self.query_one("#ins-units").content_size.height)
            self._show(moves.at_rank(self.view, self.view.rank_index + direction * page))

    def action_sort(self) -> None:
        if self.view is not None:
            self.order.sort = next_sort(self.order.sort, self.order.found)
            self._rerank()

    def action_layer(self) -> None:
        if self.view is not None:
            self.view = moves.next_layer(self.view)
            self._rerank()

    def action_cell(self) -> None:
        if self.view is not None and self.view.ins.c is None:
            self.notify("only an LSTM has a cell state c", severity="warning")
        elif self.view is not None:
            self.view = moves.other_state(self.view)
            self._rerank()

    # ---- actions: find neurons --------------------------------------------------------------------------

    def run_find(self, feature: str) -> None:
        """Rank units by the feature and select the best one."""
        self._ordered(*self.order.find(self._shown(), feature))

    def action_find(self) -> None:
        if self.view is not None:
            self.run_find(self.order.next_find(self.view.selection))

    def action_mark(self) -> None:
        if self.view is None:
            return
        if self.mark_from is None:
            self.mark_from = self.view.cursor
            self._cursor(self.view.cursor)
            self.notify("marking: move the cursor, m again to finish")
        else:
            self.mark_from = None
            self.run_find("range")

    def action_threshold(self, delta: float) -> None:
        if self.view is not None:
            self.view = moves.with_threshold(self.view, delta)
            self._rerank()

    # ---- the input line: a unit number or a regex ---------------------------------------------------------

    @property
    def asking(self) -> str:
        """What the input line is open for ("unit" or "regex"), or "" when it is closed."""
        return self.query_one(AskLine).asking

    def action_ask(self, what: str) -> None:
        if self.view is not None:
            self.query_one(AskLine).ask(what, self.view.ins.hidden, self.order.pattern)

    def on_ask_line_answered(self, msg: AskLine.Answered) -> None:  # the line checked the answer
        if msg.what == "unit":
            self._show(replace(self._shown(), unit=int(msg.value)))  # the line asks only while a view is shown
        elif msg.what == "regex" and msg.value:
            self.order.pattern = msg.value
            self.run_find("regex")

    # ---- the vs-n-gram mode (widgets/inspect/gain.py) --------------------------------------------------

    def action_vs_ngram(self) -> None:
        if self.view is None:
            return
        self.gain_on = not self.gain_on
        self.set_class(self.gain_on, "-gain")
        if self.gain_on and self.gain is None:
            self.query_one(GainPanel).show(None, "fitting the corpus's n-gram models…")
            self.compare_ngram(self.view.ins)
        self._show_gain()

    def _show_gain(self) -> None:
        g = self.gain if self.gain_on else None
        if self.view is not None:  # something inspected
            self._show(
                replace(self.view, gain=None if g is None else g.gain, gain_against="" if g is None else g.against)
            )

    @work(thread=True, exclusive=True, group="gain", exit_on_error=False)
    def compare_ngram(self, ins) -> None:
        self.post_message(GainLoaded(compute_text_gain(self.source, ins)))

    def on_gain_loaded(self, msg: GainLoaded) -> None:
        self.gain = msg.gain
        self.query_one(GainPanel).show(msg.gain)
        self._show_gain()

    def action_back(self) -> None:
        if self.asking:
            self.query_one(AskLine).asking = ""  # closes the line
        else:
            self.dismiss()  # back; under `rnntui inspect CKPT` the app's callback then exits
