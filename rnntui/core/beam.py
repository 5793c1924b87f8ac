"""Beam search decoding: the most likely continuations the model knows, rather than a random one.

All live beams advance together through Sampler.step_batch (one matrix product per layer for the whole
beam), so a width-32 search costs little more per character than greedy decoding. Scores are summed
natural-log probabilities under the model at temperature 1; temperature and top-k do not apply.

Without a stop string every beam has the same length, so length normalisation changes nothing; with one
(for example "\\n": beams end at the end of a line), finished beams of different lengths are ranked by
log-probability per character when length_norm is on, else by total log-probability (which favours
short endings).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from rnntui.core.config import ConfigError
from rnntui.core.gensettings import MAX_BEAM_WIDTH as MAX_WIDTH
from rnntui.core.sampling import Sampler
from rnntui.core.units import LN2


@dataclass(frozen=True)
class Beam:
    text: str  # the continuation (the prime not included)
    logprob: float  # sum of ln p(char | everything before it) over the text, at temperature 1
    finished: bool  # ended with the stop string (False: reached the length)
    char_logprobs: tuple[float, ...] = ()  # ln p of each character of the text, in order

    @property
    def bits_per_char(self) -> float:
        return -self.logprob / LN2 / len(self.text) if self.text else 0.0

    def rank_score(self, length_norm: bool) -> float:
        return self.logprob / max(1, len(self.text)) if length_norm else self.logprob


def check_width(width: int) -> None:
    if not 1 <= width <= MAX_WIDTH:
        raise ConfigError(f"beam width must be 1 to {MAX_WIDTH}, not {width}")


def log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64)  # (B, V)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def beam_search(sampler: Sampler, prime: str = "", width: int = 8, length: int = 200, length_norm: bool = False,
                stop: str = "", cancel: threading.Event | None = None) -> list[Beam]:
    """The `width` best continuations of prime, best first (see the module docstring for the ranking).

    The prime is fed as Sampler.stream feeds it (unknown characters skipped; empty: after "\\n").
    Ties between equal scores go to the earlier beam, then the lower character id, so width 1 is
    exactly greedy (argmax) decoding. `cancel` is checked before every character.
    """
    check_width(width)
    if length < 0:
        raise ConfigError(f"length must be >= 0, not {length}")
    state = sampler.primed(prime)
    V = len(sampler.vocab)
    hs = state.hs[None].copy()  # (B, L*H) with B = 1 live beam to start
    cs = None if state.cs is None else state.cs[None].copy()  # (B, L, H)
    logits = state.logits[None].astype(np.float64)  # (B, V)
    texts: list[str] = [""]
    lps: list[tuple[float, ...]] = [()]  # per-character log-probs of each live beam
    scores = np.zeros(1)  # (B,) summed log-probs of the live beams
    done: list[Beam] = []
    chars = sampler.vocab.chars
    for t in range(length):
        if cancel is not None and cancel.is_set():
            break
        logp = log_softmax(logits)  # (B, V)
        total = (scores[:, None] + logp).ravel()  # (B*V,)
        best = np.argsort(-total, kind="stable")[: width - len(done) if stop else width]  # ties: lower index
        beam_of, char_of = np.divmod(best, V)
        live_b, live_c, new_texts, new_scores, new_lps = [], [], [], [], []
        for b, c, s in zip(beam_of.tolist(), char_of.tolist(), total[best].tolist()):
            text, lp = texts[b] + chars[c], lps[b] + (float(logp[b, c]),)
            if stop and text.endswith(stop):
                done.append(Beam(text, s, True, lp))
            else:
                live_b.append(b)
                live_c.append(c)
                new_texts.append(text)
                new_scores.append(s)
                new_lps.append(lp)
        texts, scores, lps = new_texts, np.array(new_scores), new_lps
        if not texts or (stop and len(done) >= width):
            break
        if t + 1 < length:  # the last character needs no step
            idx = np.array(live_b)
            hs, cs, logits = sampler.step_batch(hs[idx], None if cs is None else cs[idx], np.array(live_c))
    beams = done + [Beam(text, float(s), False, lp) for text, s, lp in zip(texts, scores, lps)]
    beams.sort(key=lambda b: -b.rank_score(length_norm))  # sort is stable: equal scores keep their order
    return beams[:width]
