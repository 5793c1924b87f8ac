"""The inspector's "against counting" mode: where the network beats the corpus's best n-gram.

gain_values() gives InspectText the number to colour each character by in this mode (the network's
ln p minus the n-gram's, on the same diverging scale as a unit's activation); GainPanel shows the summary
by character class (renderables/gaintable.py) in place of the heatmap. The comparison itself is computed by
core/analysis/ngram/gain.py (text_gain) in the screen's thread worker: numpy only, no torch, no Textual.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from rnntui.ui.renderables.gaintable import BETTER_STYLE, WORSE_STYLE, GainTable
from rnntui.ui.widgets.theme_styles import component_styles

if TYPE_CHECKING:
    from rnntui.core.analysis.ngram.gain import TextGain

GAIN_NATS = 2.0  # a gain of this many nats takes the scale's full colour (either way)
GAIN_CLASSES = ("gain--better", "gain--worse")
HOW_TO_READ = (
    "n: colour each character by how much more probable the network found it than the corpus's best "
    "n-gram (a table of the last few characters, fitted on the training split): the positive colour where "
    "the network was less surprised, the negative where counting did better, blank where either cannot "
    f"score it (the first character, one outside the vocabulary). Full colour is {GAIN_NATS:g} nats. The "
    "table sums it up by kind of character: a network that has learned structure gains most on closing "
    "brackets and quotes and on whitespace (indentation, line ends), which depend on what was opened long "
    'before; on letters inside words counting is already good. In this mode the "at the cursor" panel '
    'gives the figure of the character under the cursor, "+0.42 nats over the 6-gram": its ln p under the '
    "network minus under the n-gram, positive where the network found it more probable (e^0.42: 1.5 times)."
)


def gain_words(gain: float, against: str) -> str:
    """One character's gain in words, as the "at the cursor" panel shows it: "+0.42 nats over the 6-gram"
    (NaN, where either model cannot score the character: says so)."""
    if not math.isfinite(gain):
        return f"vs the {against}: not scored here"
    return f"{gain:+.2f} nats over the {against}"


def gain_values(gain: np.ndarray, a: int, b: int) -> np.ndarray:
    """(b - a,) the gain of text positions [a, b) on the colour scale -1..+1 (NaN stays NaN: no colour)."""
    return np.clip(gain[a:b] / GAIN_NATS, -1.0, 1.0)


class GainPanel(Widget):
    """The summary by character class, or what is happening while the n-gram is fitted."""

    COMPONENT_CLASSES = set(GAIN_CLASSES)  # the bars' colours, from the theme (rnntui.tcss)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.gain: TextGain | None = None
        self.note = "fitting the corpus's n-gram models…"  # shown until the comparison is done

    def on_mount(self) -> None:
        self.border_title = "vs best n-gram, by kind of character"
        self.border_subtitle = "n back to the heatmap · ? what this is"

    def show(self, tg: TextGain | None, note: str = "") -> None:
        self.gain, self.note = tg, note or self.note
        if tg is not None:
            self.border_title = f"vs the {tg.against} (val {tg.ngram_val_loss:.2f}), by kind of character"
        self.refresh()

    def render(self) -> RenderableType:
        if self.gain is None:
            return Text(self.note, style="dim")
        better, worse = component_styles(self, GAIN_CLASSES, (BETTER_STYLE, WORSE_STYLE))
        tg = self.gain
        return GainTable(tg.rows, tg.sentence, tg.against, tg.mean, better_style=better, worse_style=worse)


def compute_text_gain(source, ins) -> TextGain:
    """The comparison for an Inspection: load the checkpoint's corpus, fit its best n-gram, score the text.
    Call it in a thread worker after the inspection ran (torch is loaded by then; seconds at most)."""
    from rnntui.core.analysis.ngram.gain import text_gain
    from rnntui.core.data.corpus import load_corpus
    from rnntui.core.runs.checkpoints import weights_of

    cfg = weights_of(source).config
    corpus = load_corpus(cfg.corpus, cfg.val_frac)  # the id cache makes a second load cheap
    model_logp = np.full(len(ins.text), np.nan)  # (N,) per text position; NaN where the model skipped
    with np.errstate(divide="ignore"):
        model_logp[ins.pos_of] = np.log(ins.p_char)  # p_char is NaN at step 0: no context yet
    return text_gain(corpus, ins.text, model_logp)
