"""Status panel: step, epoch and progress, throughput and MFU, time, device and its measured peak, size,
losses, last checkpoint. The border's subtitle says how the peak was measured."""

from __future__ import annotations

import time

from rich.console import RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from rnntui.core.model.flops import format_flops, format_share
from rnntui.core.units import bits_per_char, format_duration
from rnntui.ui.state import RunState


def loss_text(nats: float | None) -> str:
    return "–" if nats is None else f"{nats:.3f} ({bits_per_char(nats):.2f} bpc)"


class StatusPanel(Widget):
    phase: reactive[str] = reactive("idle")  # what the app is doing: loading, training, paused, stopping, ...

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.state: RunState | None = None

    def show(self, state: RunState) -> None:
        """The run's state changed. A method, not a reactive: the app mutates one RunState in place, so
        there is no new value to compare; the screen calls this when its version moved."""
        self.state = state
        t = state.throughput  # how the peak MFU is read against was measured, on the border
        self.border_subtitle = f"peak: {t.peak_dtype} {t.peak_short}" if t is not None and t.peak_flops else ""
        self.refresh()

    def render(self) -> RenderableType:
        st = self.state
        if st is None or st.started is None:
            if self.phase != "loading":
                return Text("no run: press s to start", style="italic")
            ld = st.loading if st is not None else None
            read = f" the corpus: {ld.done / max(ld.total, 1):.0%} read" if ld is not None else ""
            return Text(f"loading{read}…", style="italic")
        rs, m = st.started, st.metrics
        step = st.step  # the newest step reported: a checkpoint can land between two metrics events
        target = f" / {rs.total_steps:,}" if rs.total_steps else ""
        phase = self.phase
        if st.validating is not None and phase in ("training", "stopping"):
            v = st.validating
            phase = f"{phase}: validating {v.done / max(v.total, 1):.0%}"
        rows: list[tuple[str, RenderableType]] = [("state", Text(phase, style="bold"))]
        epoch = m.epoch if m else step / max(1, rs.steps_per_epoch)
        rows.append(("step", f"{step:,}{target} · ep {epoch:.2f}"))
        open_ended = rs.total_steps is None and cfg_budget_open(rs)
        rows.append(
            (
                "done",
                Text("until stopped", style="dim")
                if open_ended
                else ProgressBar(total=1.0, completed=m.progress if m else 0.0, width=18),
            )
        )
        achieved, share = st.achieved()
        speed = f"{m.chars_per_s:,.0f} chars/s" if m else "–"
        rows.append(("speed", speed + (f" · {format_flops(achieved)}" if achieved is not None else "")))
        rows.append(("mfu", self._mfu(st, share)))
        rows.append(
            ("time", f"{format_duration(m.elapsed_s if m else 0)}  eta {format_duration(m.eta_s if m else None)}")
        )
        cfg = rs.config
        t = st.throughput
        device = f"{rs.device} · bf16" if cfg.bf16 else rs.device  # bf16: autocast is on
        if t is not None and t.peak_flops:
            device += f" · peak {format_flops(t.peak_flops)}"
        rows.append(("device", device))
        rows.append(("model", f"{cfg.model.kind} {cfg.model.layers}x{cfg.model.hidden} · {rs.n_params:,} p"))
        rows.append(("train", loss_text(m.loss if m else None)))
        rows.append(("val", loss_text(st.val_loss_last)))
        rows.append(("best", loss_text(st.best_val)))
        saved = "–"
        if st.saved is not None:
            when = time.strftime("%H:%M", time.localtime(st.saved.wall_time))
            saved = f"{st.saved.kind} @ step {st.saved.step:,} {when}"
        elif st.saved_step is not None:
            saved = f"@ step {st.saved_step:,} (resumed from)"
        rows.append(("saved", saved))
        # a wide panel (the stacked layout below 100 columns) takes two columns to stay short
        columns = 2 if self.content_size.width >= 70 else 1
        per = -(-len(rows) // columns)
        grids = []
        for c in range(columns):
            grid = Table.grid(padding=(0, 1))
            grid.add_column(style="dim", no_wrap=True)
            grid.add_column(no_wrap=True, overflow="ellipsis")
            for label, value in rows[c * per : (c + 1) * per]:
                grid.add_row(label, value)
            grids.append(grid)
        if columns == 1:
            return grids[0]
        outer = Table.grid(padding=(0, 3))
        outer.add_row(*grids)
        return outer

    @staticmethod
    def _mfu(st: RunState, share: float | None) -> RenderableType:
        """'4.2% · 2.36 MFLOP/char': the share of the measured peak, and the model's FLOPs per char."""
        t, per_char = st.throughput, st.flops_per_char()
        if t is not None and t.measuring:
            return Text("measuring the peak…", style="italic")
        flops = f"{format_flops(per_char, 'FLOP')}/char" if per_char else ""
        if share is None:
            return Text(f"– · {flops}" if flops else "–")
        if share > 1:  # no run beats the peak: it was measured low (the engine measures it again)
            return Text(f">100% · {flops}", style="italic")
        return f"{format_share(share)} · {flops}"


def cfg_budget_open(rs) -> bool:
    """No steps, epochs or minutes: the run trains until the user stops it."""
    c = rs.config
    return c.steps is None and c.epochs is None and c.minutes is None
