"""The inspector's read-outs: the run line over the text, and at the time cursor the state of every layer,
the next-character predictions, the anatomy of the step, and the ranked unit list. Each widget but the run
line draws the screen's View as text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich.console import RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from rnntui.core.textsafe import visible
from rnntui.ui.renderables.bars import bar
from rnntui.ui.renderables.gaintable import BETTER_STYLE, WORSE_STYLE
from rnntui.ui.widgets.inspect.gain import GAIN_CLASSES, gain_words
from rnntui.ui.widgets.inspect.text import shown_char
from rnntui.ui.widgets.inspect.view import View, ViewWidget
from rnntui.ui.widgets.theme_styles import component_styles

if TYPE_CHECKING:  # rnntui.core.analysis.inspect imports torch; the UI only needs the type
    from rnntui.core.analysis.inspect import Inspection

HI = Style(reverse=True, bold=True)


def quoted(ch: str) -> str:
    return "'␣'" if ch == " " else f"'{shown_char(ch)}'"


# -----------------------------------------------------------------------------
# the run line: before there is a View, and what the View is of


class RunLine(Static):
    """The line over the text: the model run's progress, then what was inspected, or why it could not be."""

    def __init__(self, **kwargs) -> None:  # plain text: it quotes errors and skipped characters
        super().__init__("running the model over the text…", markup=False, **kwargs)

    def progress(self, done: int, total: int) -> None:
        self.update(f"running the model… {done:,}/{total:,} steps")

    def failed(self, why: str) -> None:
        self.update(f"cannot inspect: {visible(why)}")

    def summary(self, ins: Inspection) -> None:
        cut = f" (first {len(ins.text):,} of {ins.total_chars:,})" if len(ins.text) < ins.total_chars else ""
        skipped = f" · skipped (not in vocab): {visible(repr(ins.skipped))}" if ins.skipped else ""
        self.update(
            f"{ins.kind} {ins.layers}x{ins.hidden} · {len(ins.text):,} chars{cut} · "
            f"mean loss {ins.mean_loss():.3f} nats{skipped}"
        )


# -----------------------------------------------------------------------------
# the cursor: where we are, how well it was predicted, each layer's state


class CursorPanel(ViewWidget):
    """The step under the cursor: its character, how well the model predicted it, each layer's state."""

    BORDER_TITLE = "at the cursor"
    COMPONENT_CLASSES = set(GAIN_CLASSES)  # the gain figure's colours in the vs-n-gram mode, from the theme

    def build(self, v: View) -> RenderableType:
        ins, t = v.ins, v.step
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(f"{quoted(ins.text[v.cursor])} @{v.cursor} ", style="bold")
        if v.skipped:
            out.append("not in vocab: skipped\n", style="black on yellow")
        else:
            p, loss = float(ins.p_char[t]), float(ins.loss[t])
            out.append("first step\n" if not np.isfinite(p) else f"P {p:.3f} loss {loss:.2f} nats\n")
        if v.gain is not None:  # the vs-n-gram mode: this character's gain, the number its colour shows
            g = float(v.gain[v.cursor])
            better, worse = component_styles(self, GAIN_CLASSES, (BETTER_STYLE, WORSE_STYLE))
            style = "dim" if not np.isfinite(g) else better if g >= 0 else worse
            out.append(gain_words(g, v.gain_against) + "\n", style=style)
        for layer in range(ins.layers):
            h = ins.h[layer, t]  # (H,)
            out.append(f"layer {layer + 1} h ", style="bold" if layer == v.layer else "dim")
            out.append(
                f"|h| {np.abs(h).mean():.2f} ▲u{h.argmax()} {h.max():+.2f} ▼u{h.argmin()} {h.min():+.2f} "
                f"sat {np.mean(np.abs(h) > 0.9):.0%}\n"
            )
            if ins.gate_mean:
                out.append("   ")
                if ins.c is not None:
                    out.append(f"|c| {np.abs(ins.c[layer, t]).mean():.2f} ")
                out.append(" ".join(f"{g} {m[layer, t]:.2f}" for g, m in ins.gate_mean.items()) + "\n")
        out.rstrip()
        return out


class PredPanel(ViewWidget):
    """Top-5 next-character predictions after the cursor step, the actual next character marked."""

    BORDER_TITLE = "next char"

    def build(self, v: View) -> RenderableType:
        ins, t = v.ins, v.step
        nxt = ins.vocab.index(ins.text[ins.pos_of[t + 1]]) if t + 1 < ins.steps else -1
        table = Table.grid(padding=(0, 1))
        for _ in range(3):
            table.add_column(no_wrap=True)
        width = max(4, self.content_size.width - 14)
        for cid, p in zip(ins.top_ids[t], ins.top_p[t]):
            mark = "◀" if cid == nxt else ""
            table.add_row(quoted(ins.vocab[cid]), f"{p:.2f}", Text(bar(float(p), width) + mark, style="cyan"))
        if nxt >= 0 and nxt not in ins.top_ids[t]:
            p = float(ins.p_char[t + 1])
            table.add_row(quoted(ins.vocab[nxt]), f"{p:.2f}", Text("actual next", style="red"))
        return table


# -----------------------------------------------------------------------------
# the anatomy of one step: how much of the new state comes from the input and how much from the past


EQUATIONS = {
    "rnn": "h = tanh(W_xh x + b + W_hh h' + b)",
    "lstm": "c = f*c' + i*g, h = o*tanh(c)",
    "gru": "h = z*h' + (1-z)*n",
}
PARTS = {
    "rnn": ("|W_xh x+b| in", "|W_hh h'+b| rec"),
    "lstm": ("|i*g| written", "|f*c'| kept"),
    "gru": ("|(1-z)*n| new", "|z*h'| kept"),
}  # ' marks the previous step


class AnatomyPanel(ViewWidget):
    BORDER_TITLE = "step anatomy"

    def build(self, v: View) -> RenderableType:
        ins, t, L, u = v.ins, v.step, v.layer, v.unit
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(f"layer {L + 1}: {EQUATIONS[ins.kind]}\n", style="bold")
        x, h = float(ins.from_input[L, t]), float(ins.from_state[L, t])
        total = x + h or 1.0
        width = max(4, self.content_size.width - 26)
        for (label, val), style in zip(zip(PARTS[ins.kind], (x, h)), ("green", "magenta")):
            out.append(f"{label:<14}{val:6.2f} {val / total:4.0%} ")
            out.append(bar(val / total, width) + "\n", style=style)
        sat = f"|h|>.9 {np.mean(np.abs(ins.h[L, :, u]) > 0.9):.0%} of steps"
        if ins.kind == "rnn":
            assert ins.pre_x is not None and ins.pre_h is not None  # an RNN's inspection has them
            px, ph = float(ins.pre_x[L, t, u]), float(ins.pre_h[L, t, u])
            out.append(f"u{u}: tanh({px:+.2f} {ph:+.2f}) = tanh({px + ph:+.2f}) = {ins.h[L, t, u]:+.3f}\n")
            out.append(f"u{u} {sat}")
        else:
            c = f" c {ins.c[L, t, u]:+.2f}" if ins.c is not None else ""
            out.append(f"u{u}: h {ins.h[L, t, u]:+.3f}{c}  {sat}")
        for g in ins.gate_low:  # saturation: this unit's gate, then the layer's average
            lo, hi = ins.gate_low[g][L], ins.gate_high[g][L]
            out.append(f"\n{g} <.1 {lo[u]:.0%} >.9 {hi[u]:.0%} (layer {lo.mean():.0%} {hi.mean():.0%})")
        return out


# -----------------------------------------------------------------------------
# the ranked unit list


class UnitList(ViewWidget):
    """Units in the current order with their scores; the selected one highlighted and kept in view."""

    BORDER_TITLE = "units"  # until the first View: then what the order means

    def watch_view(self, view: View) -> None:
        self.border_title = Text(visible(view.ranking))  # not markup: it may hold the regex the user typed

    def build(self, v: View) -> RenderableType:
        rows = max(1, self.content_size.height)
        k = v.rank_index
        first = max(0, min(k - rows // 2, len(v.order) - rows))
        scores = v.scores
        top = float(np.abs(scores).max()) if scores is not None and len(scores) else 1.0
        width = max(3, self.content_size.width - 18)
        out = Text(no_wrap=True, overflow="crop", end="")
        for i, unit in enumerate(v.order[first : first + rows]):
            line = Text(f"{first + i + 1:>3}. u{unit:<4}")
            if scores is not None:
                s = float(scores[unit])
                line.append(f"{s:+.2f} ")
                line.append(bar(abs(s) / (top or 1.0), width), style="red" if s > 0 else "blue")
            if unit == v.unit:
                line.stylize(HI)
            out.append_text(line)
            if i < rows - 1 and first + i + 1 < len(v.order):
                out.append("\n")
        return out
