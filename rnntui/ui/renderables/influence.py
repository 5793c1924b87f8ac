"""Influence of past characters, drawn: the text before the cursor shaded by each character's share of the
influence on the next prediction, and the effective-context curve (share within 1, 2, 4 ... characters).

Pure Rich over plain lists and floats (rnntui.core.analysis.influence computes them in the inspector's
worker). The shading uses the shared diverging scale's positive half (colors.py): no influence is the
panel's own background, the strongest character of the window the scale's end colour.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.style import Style
from rich.table import Table
from rich.text import Text

from rnntui.core.textsafe import visible_char
from rnntui.ui.renderables.colors import DEFAULT_RAMP, LEVELS, Ramp, text_style

CURVE_POINTS = (1, 2, 4, 8, 16, 32, 64, 128, 256)  # distances the curve shows (as context.CURVE_POINTS)
BARS = " ▁▂▃▄▅▆▇█"
COL = 4  # columns per curve point ("128 ")
AXIS = Style(dim=True)
REACH = Style(bold=True)

INFLUENCE_HELP = (
    "Which earlier characters the prediction at the cursor actually uses. The text before the cursor is "
    "shaded by each character's share of the influence on the model's likeliest next character: the "
    "brighter, the more that character moved the prediction (the square root of its share against the strongest's); the panel's own background means none or almost none. The "
    "line above says it in words: within how many characters back 90% of the influence lies, and which "
    "character is the strongest. Method: gradient x input (Shrikumar et al. 2016): the gradient of the "
    "next character's log-probability with respect to each input character's embedding, times that "
    "embedding, one number per character (its L2 norm), divided by their sum; computed over the last 300 "
    "characters, starting from the inspected state before them. It is a first-order, local measure: a "
    "character can matter and still show little if the model's memory of it is saturated. The key a switches to "
    "integrated gradients (Sundararajan et al. 2017: the same product with the gradient averaged along "
    "the path from all-zero embeddings to the real ones, 20 points), which sees a saturated memory: on a "
    "bracket text it finds the opening bracket behind a closing one where gradient x input does not. It "
    "costs 4-12x as much (about 0.3 s a move for a 2x256 model on 2 cores).\n"
    "The curve on the right is the effective context: the same measure averaged over many predictions "
    "of held-out text (the corpus's validation split), shown as the share of the influence within the "
    "last 1, 2, 4 ... 256 characters. reach90 is the median number of characters back that hold 90% of "
    "a prediction's influence: how far back this model actually looks. Set it beside the gradient "
    "horizon (how far back training can reach): a model that looks less far than its gradient reaches "
    "has not learned to use the longer context yet. rnntui inspect CKPT --json and --effective-context "
    "print the same numbers; rnntui compare shows reach90 per run."
)

COMPARE_HELP = (
    "The gradient chart shows how far back training can reach: how much of the last step's loss gradient "
    "arrives t-k steps earlier (kept@16 and kept@32 in the table). reach90, beside it in the table and in "
    "the chart's title, is how far back each model actually looks: over 64 predictions of its corpus's "
    "validation split, the median number of characters back that hold 90% of the influence on the next "
    "character (gradient x input on the input embeddings; the inspector's panel shows it per character). "
    "It is measured from each run's latest checkpoint in the background, again when a run writes a new "
    "one (at most every 30 s); – until then, or when a run has no checkpoint."
)


def glyph(ch: str) -> str:
    """One cell per character: whitespace and control characters as their visible stand-ins (the space
    stays a space: running text)."""
    return " " if ch == " " else visible_char(ch)[0]


def share_level(share: float, top: float) -> int:
    """A share -> a level of the diverging scale's positive half: 0 -> the middle (no colour), top -> the
    end. Rescaled to the window's largest share, so the strongest character is always the brightest, on a
    square-root scale: a character with a quarter of the strongest's share is half as bright, and one
    with under 1/400 of it stays unshaded (every character has some influence; most should not glow)."""
    mid = (LEVELS - 1) // 2
    if not top > 0 or not share > 0:
        return mid
    return mid + round(min(1.0, share / top) ** 0.5 * mid)


class ShadedContext:
    """The last characters before the cursor (chars and shares aligned; the last is the one at the cursor),
    wrapped into `rows` rows of the console's width, each character on the colour of its share."""

    def __init__(self, chars: str, shares: Sequence[float], rows: int = 3, ramp: Ramp = DEFAULT_RAMP) -> None:
        self.chars, self.shares, self.rows, self.ramp = chars, list(shares), max(1, rows), ramp

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        n = min(len(self.chars), width * self.rows)
        chars, shares = self.chars[len(self.chars) - n :], self.shares[len(self.shares) - n :]
        top = max(self.shares, default=0.0)
        out = Text(no_wrap=True, overflow="crop", end="")
        for r in range(0, n, width):
            if r:
                out.append("\n")
            for ch, s in zip(chars[r : r + width], shares[r : r + width]):
                level = share_level(s, top)
                style = text_style(level, LEVELS, self.ramp) if level != (LEVELS - 1) // 2 else Style.null()
                out.append(glyph(ch), style)
        yield out


def cumulative(curve: Sequence[float], distance: int) -> float:
    """Share within the last `distance` characters of a curve whose index d is d characters back."""
    return float(sum(curve[1 : distance + 1]))


class ContextCurve:
    """The effective context: one bar per distance of CURVE_POINTS (up to the curve's window), its height
    the share of the influence within that many characters, the distances under it, and reach90."""

    def __init__(
        self,
        curve: Sequence[float],
        reach90: int | None,
        positions: int = 0,
        show_reach: bool = True,
        style: Style | str = "cyan",
    ) -> None:
        self.curve, self.reach90, self.positions = list(curve), reach90, positions
        self.show_reach, self.style = show_reach, style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        window = len(self.curve) - 1
        points = [d for d in CURVE_POINTS if d <= window] or [max(1, window)]
        points = points[: max(1, options.max_width // COL)]
        bars, axis = Text(no_wrap=True, end=""), Text(no_wrap=True, end="", style=AXIS)
        for d in points:
            c = cumulative(self.curve, d)
            bar = BARS[min(len(BARS) - 1, round(c * (len(BARS) - 1)))]
            bars.append((bar * (COL - 1)).ljust(COL), self.style)
            axis.append(str(d).ljust(COL))
        grid = Table.grid()
        grid.add_column(no_wrap=True)
        grid.add_row(bars)
        grid.add_row(axis)
        if self.show_reach:
            grid.add_row(Text(reach_words(self.reach90, self.positions), no_wrap=True, overflow="ellipsis"))
        yield grid


def reach_words(reach90: int | None, positions: int = 0) -> str:
    """ "reach90 23 chars (median of 64)" or why there is none."""
    if reach90 is None:
        return "reach90 –"
    over = f" (median of {positions})" if positions else ""
    return f"reach90 {reach90} char{'s' if reach90 != 1 else ''}{over}"
