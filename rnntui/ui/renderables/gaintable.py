"""Where the network beats counting, by kind of character: one row per class (letters, whitespace, brackets
and quotes, digits, punctuation) with its mean gain over the corpus's best n-gram as a bar that grows right
(the network predicts these better) or left (the n-gram does), and the sentence that says it in words.

Takes plain rows (core/analysis/ngram/gain.py's ClassGain: a name and three numbers), no arrays. Fills
options.max_width; one row per class under the sentence, cut to options.height.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from rnntui.ui.renderables.bars import bar

# defaults for the table drawn standalone (tests); the gain panel passes the theme's, from its gain--better
# and gain--worse component classes in rnntui.tcss
BETTER_STYLE = "#2aa198"  # the network predicts the class better than the n-gram
WORSE_STYLE = "#e05561"  # the n-gram predicts it better
FULL_NATS = 2.0  # a mean gain of this many nats fills half the bar (the bar is two halves, - and +)


class GainTable:
    """rows: objects with .name, .chars, .gain (mean nats/char) and .total; `sentence` first, then the rows."""

    def __init__(
        self,
        rows: Sequence,
        sentence: str,
        against: str,
        mean: float,
        *,
        better_style: Style | str = BETTER_STYLE,
        worse_style: Style | str = WORSE_STYLE,
    ) -> None:
        self.rows, self.sentence, self.against, self.mean = tuple(rows), sentence, against, mean
        self.better_style, self.worse_style = better_style, worse_style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        lines: list[Text] = list(Text(self.sentence).wrap(console, width))  # the point: never cut
        if math.isfinite(self.mean):
            lines.append(Text(f"all characters: {self.mean:+.2f} nats/char", style="dim"))
        name_w = max((len(r.name) for r in self.rows), default=0)
        half = max(1, (width - name_w - 22) // 2)  # the bar's two halves around the zero mark
        for r in self.rows:
            line = Text(r.name.ljust(name_w) + " ")
            g = r.gain if math.isfinite(r.gain) else 0.0
            frac = min(1.0, abs(g) / FULL_NATS)
            line.append(_left_bar(frac if g < 0 else 0.0, half), self.worse_style)
            line.append("│", "dim")
            line.append(bar(frac if g > 0 else 0.0, half), self.better_style)
            line.append(f" {r.gain:+.2f}  {r.chars:,} chars")
            lines.append(line)
        shown = lines[: options.height] if options.height else lines
        for line in shown:
            line.truncate(width, overflow="ellipsis", pad=True)
            yield from line.render(console, end="")
            yield Segment.line()


def _left_bar(fraction: float, width: int) -> str:
    """A bar growing leftwards from the zero mark: whole blocks only (no eighth-glyphs face left)."""
    n = min(width, round(fraction * width))
    return " " * (width - n) + "█" * n
