"""The generation panel's novelty chart: how much of the generated text is new, by substring length.

Thin: it keeps the latest curve of each pane (plain floats, from the generation worker while the text
streams in, and from the copy check once it is complete) and draws them through the novelty renderable.
Its colours come from the theme (component classes in rnntui.tcss).
"""

from __future__ import annotations

from textual.widget import Widget

from rnntui.core.generate.settings import MATCH_DEPTH as MAX_LENGTH  # the curve's longest length; no numpy
from rnntui.ui.renderables.novelty import COPIED_STYLE, NOVEL_STYLE, NoveltyChart, NoveltyLine
from rnntui.ui.widgets.theme_styles import component_styles
from rnntui.ui.workers.novelty import NOVELTY_UPDATE_S

STYLE_CLASSES = ("novelty--copied", "novelty--novel")

NOVELTY_HELP = (
    f"The chart under the generated text asks of each pane: of all its substrings of length L (L = 1 to "
    f"{MAX_LENGTH}), which share occurs nowhere in the training text? (torch-rnn's novel_substrings.py asks the "
    "same.) One column per length, from 0% (an empty column: every substring of that length is in the "
    "corpus) to 100% (a full one); columns where half or more are new take the second colour. It is "
    f"measured while the text streams in, at most every {NOVELTY_UPDATE_S:g} s, and again when it is "
    "complete, against an index of the corpus built once and cached (the copy check's).\n"
    "How to read it: a healthy curve is low at the left and rises to the right. High novelty at short "
    "lengths is nonsense: the model writes 3- and 4-letter strings that English (or whatever the corpus is) "
    "never contains. Low novelty at long lengths is copying: 30- and 50-character stretches lifted from the "
    "corpus verbatim (the copy check underlines them and names the longest). Where the curve crosses 50% "
    'is the header\'s number, "half novel from length 9": an untrained model is new from length 1 or 2; '
    "as it learns to spell, the crossing moves right to about word length; if it keeps moving towards the "
    "length of whole lines, the model is reciting its corpus rather than composing. Higher temperatures "
    "move it left, lower ones right."
)


class NoveltyView(Widget):
    """The novelty chart of every pane, one band each; empty until the first curve arrives."""

    COMPONENT_CLASSES = set(STYLE_CLASSES)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.curves: dict[int, tuple[float, ...]] = {}  # pane -> share novel by length (index L - 1)
        self.labels: dict[int, str] = {}  # pane -> its short name in the chart ("T 0.50")
        self.message = ""  # shown while there is no curve (why there will be none, when there will not)

    def reset(self, message: str = "") -> None:
        self.curves, self.labels, self.message = {}, {}, message
        self.refresh()

    def show(self, pane: int, label: str, fractions: tuple[float, ...]) -> None:
        self.curves[pane], self.labels[pane] = tuple(float(f) for f in fractions), label
        self.refresh()

    def note(self, message: str) -> None:
        self.message = message
        self.refresh()

    def render(self) -> NoveltyChart:
        copied, novel = component_styles(self, STYLE_CLASSES, (COPIED_STYLE, NOVEL_STYLE))
        many = len(self.curves) > 1
        lines = [NoveltyLine(self.labels.get(p, "") if many else "", self.curves[p]) for p in sorted(self.curves)]
        return NoveltyChart(
            lines, height=max(1, self.size.height or 5), message=self.message, copied_style=copied, novel_style=novel
        )
