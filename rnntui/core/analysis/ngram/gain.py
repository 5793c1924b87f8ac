"""Where a network beats counting: its log-probability of each character minus the best n-gram's, summed
up by kind of character (the error analysis of Karpathy, Johnson & Fei-Fei 2015, section 4, done live).

    gain = char_gain(model_logp, ngram_logp)             (T,) nats: > 0 where the network did better
    rows = gain_by_class(model_logp, ngram_logp, text)   [ClassGain("brackets and quotes", 120, 0.81), ...]
    gain_sentence(rows, "5-gram")   "The network's gain over the 5-gram is largest on brackets and quotes
                                     (+0.81 nats/char) and whitespace (+0.30)."

    tg = text_gain(corpus, text, model_logp)             the inspector's whole comparison: the corpus's best
                                                         n-gram fitted, the text scored, per char and per class

Both log-probabilities are ln P(text[t] | text[:t]) per character (the inspector's p_char, NaN at t = 0;
model.NGramModel.log_probs); a position where either is not finite is left out.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rnntui.core.data.corpus import Corpus

CLASSES = ("letters", "whitespace", "brackets and quotes", "digits", "punctuation")
BRACKETS_AND_QUOTES = set("()[]{}<>\"'`«»‹›“”„‘’‚「」『』（）［］｛｝")


def char_class(ch: str) -> int:
    """The index in CLASSES of one character's kind; punctuation takes every symbol and whatever else is left."""
    if ch in BRACKETS_AND_QUOTES or unicodedata.category(ch) in ("Ps", "Pe", "Pi", "Pf"):
        return 2
    if ch.isalpha():
        return 0
    if ch.isspace():
        return 1
    if ch.isdigit() or unicodedata.category(ch) == "Nd":
        return 3
    return 4


def classes_of(text: str) -> np.ndarray:
    """(T,) int8 class index of every character: each distinct character classified once."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)  # (T,)
    distinct, inverse = np.unique(codes, return_inverse=True)
    kinds = np.array([char_class(chr(c)) for c in distinct], dtype=np.int8)
    return kinds[inverse.reshape(-1)] if len(codes) else np.zeros(0, np.int8)


@dataclass(frozen=True)
class ClassGain:
    name: str  # one of CLASSES
    chars: int  # characters of this class where both log-probabilities are known
    gain: float  # mean gain over them, nats per character (> 0: the network predicts them better)
    total: float  # summed gain, nats: where the network's advantage adds up


def char_gain(model_logp: np.ndarray, ngram_logp: np.ndarray) -> np.ndarray:
    """(T,) the network's log-probability minus the n-gram's: nats by which it was less surprised (NaN
    where either is unknown)."""
    m, g = np.asarray(model_logp, np.float64), np.asarray(ngram_logp, np.float64)
    if m.shape != g.shape:
        raise ValueError(f"log-probabilities of different lengths: {m.shape} and {g.shape}")
    out = m - g
    out[~(np.isfinite(m) & np.isfinite(g))] = np.nan
    return out


def gain_by_class(model_logp: np.ndarray, ngram_logp: np.ndarray, text: str) -> list[ClassGain]:
    """One row per class present in the text (in CLASSES order), over the characters both models scored."""
    gain = char_gain(model_logp, ngram_logp)
    if len(gain) != len(text):
        raise ValueError(f"{len(gain)} log-probabilities for {len(text)} characters")
    kinds = classes_of(text)
    ok = np.isfinite(gain)
    rows = []
    for i, name in enumerate(CLASSES):
        sel = ok & (kinds == i)
        n = int(sel.sum())
        if n:
            rows.append(ClassGain(name, n, float(gain[sel].mean()), float(gain[sel].sum())))
    return rows


def gain_sentence(rows: list[ClassGain], against: str, min_chars: int = 5) -> str:
    """One line a learner can read: the two classes with the largest mean gain (or the one where the
    network loses most, when it gains nowhere). Classes under `min_chars` characters are too noisy to name."""
    rows = sorted((r for r in rows if r.chars >= min_chars), key=lambda r: r.gain, reverse=True)
    if not rows:
        return f"Too few characters to compare the network with the {against}."
    if rows[0].gain <= 0:
        worst = rows[-1]
        return (
            f"The {against} predicts every kind of character better; the network is furthest behind on "
            f"{worst.name} ({worst.gain:+.2f} nats/char)."
        )
    best = [r for r in rows[:2] if r.gain > 0]
    text = f"The network's gain over the {against} is largest on {best[0].name} ({best[0].gain:+.2f} nats/char)"
    if len(best) > 1:
        text += f" and {best[1].name} ({best[1].gain:+.2f})"
    return text + "."


# -----------------------------------------------------------------------------
# the inspector's comparison, in one call


@dataclass(frozen=True, eq=False)
class TextGain:
    order: int  # the n-gram compared against: the corpus's best on its validation split
    ngram_val_loss: float  # that n-gram's validation loss, nats/char
    gain: np.ndarray  # (N,) per text position, nats: network ln p minus the n-gram's; NaN where unknown
    rows: tuple[ClassGain, ...]  # by character class, in CLASSES order
    sentence: str  # gain_sentence of the rows

    @property
    def against(self) -> str:
        return f"{self.order}-gram"

    @property
    def mean(self) -> float:
        """Mean gain over the characters both models scored (NaN when none)."""
        ok = np.isfinite(self.gain)
        return float(self.gain[ok].mean()) if ok.any() else float("nan")


def text_gain(corpus: Corpus, text: str, model_logp: np.ndarray) -> TextGain:
    """Set a network's per-character log-probabilities of `text` (N,) against the corpus's best n-gram
    (baselines_for: cached, else fitted) fitted on its training split. numpy only: seconds at most, for a
    worker thread. Characters outside the corpus's vocabulary are left out."""
    from rnntui.core.analysis.ngram.baselines import baselines_for, fit_corpus

    order, loss = baselines_for(corpus).best
    ngram_logp = fit_corpus(corpus).text_log_probs(corpus.vocab.chars, text, order)  # (N,)
    gain = char_gain(model_logp, ngram_logp)
    rows = tuple(gain_by_class(model_logp, ngram_logp, text))
    return TextGain(order, loss, gain, rows, gain_sentence(list(rows), f"{order}-gram"))
