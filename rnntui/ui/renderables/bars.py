"""The step mode's chart: the likeliest next characters as horizontal bars, at temperature 1 and at the
chosen temperature / top-k side by side, so the reshaping a temperature does is visible, with entropies.

Takes a plain StepView (no arrays). Fills options.max_width; one row per candidate plus two header rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, RenderResult
from rich.style import Style
from rich.text import Text

from rnntui.core.textsafe import visible

if TYPE_CHECKING:  # the core stepper pulls in the corpus module, which imports torch
    from rnntui.core.generate.stepping import StepView


EIGHTHS = " ▏▎▍▌▋▊▉█"
# defaults for the chart drawn standalone (tests); the step panel passes the theme's, from its bars--model and
# bars--chosen component classes in rnntui.tcss
MODEL_STYLE = "#6c8ebf"  # the bars at temperature 1
CHOSEN_STYLE = "#e08e3c"  # the bars at the chosen temperature / top-k
SHOWN = {"\n": "⏎", " ": "␣", "\t": "⇥"}


def show_char(ch: str) -> str:
    """A visible stand-in for whitespace and control characters (textsafe), so every candidate has a glyph."""
    if ch in SHOWN:
        return SHOWN[ch]
    shown = visible(ch)
    return shown if shown != ch or ch.isprintable() else "·"


def bar(fraction: float, width: int) -> str:
    """A bar of eighth blocks, fraction 0..1 of width cells, padded with spaces to width."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, rest = divmod(eighths, 8)
    s = "█" * full + (EIGHTHS[rest] if rest else "")
    return s.ljust(width)


class CandidateBars:
    def __init__(
        self,
        view: StepView,
        selected: int = 0,
        model_style: Style | str = MODEL_STYLE,
        chosen_style: Style | str = CHOSEN_STYLE,
    ) -> None:
        self.view = view  # the candidates at this step
        self.selected = selected  # row highlighted by the arrow keys
        self.model_style = model_style  # the bars at temperature 1
        self.chosen_style = chosen_style  # the bars at the chosen settings

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        v, width = self.view, options.max_width
        chosen = f"T {v.temperature:.2f}" + (f", top-k {v.top_k}" if v.top_k else "")
        head = Text.assemble(
            ("entropy ", "dim"),
            (f"{v.entropy_model:.2f}", "bold"),
            (" bits at T 1 · ", "dim"),
            (f"{v.entropy_chosen:.2f}", "bold"),
            (f" bits at {chosen}", "dim"),
        )
        head.truncate(width, overflow="ellipsis")
        yield head
        bw = max(3, (width - 7 - 2 * 7 - 3) // 2)  # "10 ⏎  " + two bars with " 0.412" each + marker
        cols = Text.assemble(("#  ch  ", "dim"), ("T 1".ljust(bw + 7), "bold"), (chosen[: bw + 7], "bold"))
        cols.truncate(width, overflow="ellipsis")
        yield cols
        for i, c in enumerate(v.candidates):
            key = str((i + 1) % 10) if i < 10 else " "
            mark = "◂" if c.char == v.proposal else " "
            row = Text.assemble(
                (f"{key:>2} ", "dim"),
                (f"{show_char(c.char):<2}  ", "bold"),
                (bar(c.p_model, bw), self.model_style),
                f" {c.p_model:5.3f} ",
                (bar(c.p_chosen, bw), self.chosen_style),
                f" {c.p_chosen:5.3f} ",
                (mark, "bold"),
            )
            if i == self.selected:
                row.stylize("reverse")
            row.truncate(width)
            yield row
        yield Text("")
        yield Text(
            "enter: take the selected row (◂ was sampled) · ↑↓ select · 1-9, 0: pick by number · any "
            "other key: type that character (\\ then a digit: the digit) · ⌫ undo · esc: leave",
            style=Style(dim=True),
        )
