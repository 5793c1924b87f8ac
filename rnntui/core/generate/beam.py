"""Beam search decoding: the most likely continuations the model knows, rather than a random one.

All live beams advance together through Sampler.step_batch (one matrix product per layer for the whole
beam), so a width-32 search costs little more per character than greedy decoding. Scores are summed
natural-log probabilities under the model at temperature 1; temperature and top-k do not apply.

Without a stop string every beam has the same length, so length normalisation changes nothing; with one
(for example "\\n": beams end at the end of a line), finished beams of different lengths are ranked by
log-probability per character when length_norm is on, else by total log-probability (which favours
short endings).

Linear in the length: a step stores only back-pointers (each new beam's parent among the previous step's
beams, its character and that character's log-prob), never a beam's text, and a stop string is found by a
small automaton whose state is one integer per beam. The texts of the beams returned are rebuilt once, at
the end, by walking the back-pointers from their last character to the first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnntui.core.config import ConfigError
from rnntui.core.data.corpus import Vocab
from rnntui.core.generate.sampling import Sampler
from rnntui.core.generate.settings import MAX_BEAM_WIDTH as MAX_WIDTH
from rnntui.core.units import LN2

BLOCK = 1024  # steps of back-pointers per stored block: memory grows with the search, not with `length`

Progress = Callable[[int, int], None]  # (characters searched so far, characters asked for)


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


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, largest first, ties to the lower index: the same as
    np.argsort(-scores, kind="stable")[:k], but a partition and a sort of the few at the top instead of a
    sort of all B*V of them (the sort was the search's largest cost per step on a small model)."""
    neg = -scores
    if k >= len(neg):
        return np.argsort(neg, kind="stable")[:k]
    kth = np.partition(neg, k - 1)[k - 1]  # the k-th smallest of -scores
    if np.isnan(kth):  # NaN scores (a broken model) sort last in argsort but compare false: take the long way
        return np.argsort(neg, kind="stable")[:k]
    cand = np.flatnonzero(neg <= kth)  # (>= k,) in index order, so the stable sort keeps ties by index
    return cand[np.argsort(neg[cand], kind="stable")[:k]]


# -----------------------------------------------------------------------------
# the stop string: a KMP automaton over character ids


class StopMatcher:
    """Finds the stop string at the end of a growing text without looking at the text again.

    A beam's state is the length of the longest prefix of the stop string that its text ends with; a
    character moves it by one table lookup, and the state reaching len(stop) means the text ends with
    the stop string. (A live beam's text never contains the stop string, or it would have ended there.)
    The table has one column per distinct character of the stop string plus one for every other
    character (always back to state 0): (len(stop), distinct + 1) int32.
    """

    def __init__(self, stop: str, vocab: Vocab) -> None:
        distinct = {c: k + 1 for k, c in enumerate(sorted(set(stop)))}  # column 0: not in the stop string
        self.column = np.array([distinct.get(c, 0) for c in vocab.chars], dtype=np.intp)  # (V,)
        m, cols = len(stop), [distinct[c] for c in stop]
        table = np.zeros((m, len(distinct) + 1), dtype=np.int32)  # (m, D + 1) next state
        table[0, cols[0]] = 1
        fallback = 0  # the state the text minus its first character would be in (KMP's failure link)
        for j in range(1, m):
            table[j] = table[fallback]  # a mismatch continues as the shorter match would
            table[j, cols[j]] = j + 1
            fallback = int(table[fallback, cols[j]])
        self.table, self.length = table, m

    def advance(self, states: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """(B,) states after appending character ids (B,); == self.length where the stop string ends."""
        return self.table[states, self.column[ids]]


# -----------------------------------------------------------------------------
# back-pointers


class Trail:
    """Per step, for each beam alive after it: its parent (an index into the previous step's beams), its
    character id and that character's log-prob. Stored in blocks of BLOCK steps x width."""

    def __init__(self, width: int) -> None:
        self.width, self.steps = width, 0
        self.blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def push(self, parents: np.ndarray, ids: np.ndarray, logps: np.ndarray) -> None:
        row = self.steps % BLOCK
        if row == 0:
            self.blocks.append(
                (
                    np.zeros((BLOCK, self.width), np.int32),
                    np.zeros((BLOCK, self.width), np.int32),
                    np.zeros((BLOCK, self.width), np.float64),
                )
            )
        par, tok, lp = self.blocks[-1]
        k = len(parents)
        par[row, :k], tok[row, :k], lp[row, :k] = parents, ids, logps
        self.steps += 1

    def walk(self, ends: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        """The ids and log-probs of the beams whose last character is beam `j` of step `s`, for each
        (s, j) in ends: (R, S) arrays, row r valid in its first s + 1 columns (S: the latest s + 1)."""
        R, S = len(ends), max((s + 1 for s, _ in ends), default=0)
        order = sorted(range(R), key=lambda r: -ends[r][0])  # latest end first: the walking ones are a prefix
        last = np.array([ends[r][0] for r in order], dtype=np.intp)  # (R,)
        j = np.array([ends[r][1] for r in order], dtype=np.intp)  # (R,) each beam's index at step t
        ids, logps = np.zeros((R, S), np.int32), np.zeros((R, S), np.float64)  # rows in `order`
        if S:
            par, tok, lp = (np.concatenate([b[i] for b in self.blocks]) for i in range(3))  # (steps, width)
        walking = 0
        for t in range(S - 1, -1, -1):  # one gather per step for all beams: O(S), not O(S) per beam
            while walking < R and last[walking] >= t:
                walking += 1
            jj = j[:walking]
            ids[:walking, t], logps[:walking, t] = tok[t, jj], lp[t, jj]
            j[:walking] = par[t, jj]
        back = np.argsort(order)  # rows back in the order of `ends`
        return ids[back], logps[back]


# -----------------------------------------------------------------------------
# the search


def beam_search(
    sampler: Sampler,
    prime: str = "",
    width: int = 8,
    length: int = 200,
    length_norm: bool = False,
    stop: str = "",
    cancel: threading.Event | None = None,
    progress: Progress | None = None,
) -> list[Beam]:
    """The `width` best continuations of prime, best first (see the module docstring for the ranking).

    The prime is fed as Sampler.stream feeds it (unknown characters skipped; empty: after "\\n").
    Ties between equal scores go to the earlier beam, then the lower character id, so width 1 is
    exactly greedy (argmax) decoding. `cancel` is checked before every character; `progress(done,
    length)` is called after every character (cheap calls only: it runs on the search's thread).
    """
    check_width(width)
    if length < 0:
        raise ConfigError(f"length must be >= 0, not {length}")
    state = sampler.primed(prime)
    V = len(sampler.vocab)
    hs = state.hs[None].copy()  # (B, L*H) with B = 1 live beam to start
    cs = None if state.cs is None else state.cs[None].copy()  # (B, L, H)
    logits = state.logits[None].astype(np.float64)  # (B, V)
    scores = np.zeros(1)  # (B,) summed log-probs of the live beams
    matcher = StopMatcher(stop, sampler.vocab) if stop else None
    matched = np.zeros(1, dtype=np.int32)  # (B,) each live beam's automaton state
    trail = Trail(width)
    done: list[tuple[float, int, int, int, float]] = []  # ended beams: (score, step, parent, id, logp)
    for t in range(length):
        if cancel is not None and cancel.is_set():
            break
        logp = log_softmax(logits)  # (B, V)
        total = (scores[:, None] + logp).ravel()  # (B*V,)
        best = top_k(total, width - len(done) if stop else width)  # (K,) ties: lower index
        beam_of, char_of = np.divmod(best, V)  # (K,) each candidate's parent and character
        new_scores, char_lp = total[best], logp[beam_of, char_of]  # (K,)
        if matcher is not None:
            states = matcher.advance(matched[beam_of], char_of)
            ends = states == matcher.length
            for i in np.flatnonzero(ends).tolist():  # in candidate order, as ties are ranked
                done.append((float(new_scores[i]), t, int(beam_of[i]), int(char_of[i]), float(char_lp[i])))
            keep = ~ends
            beam_of, char_of, new_scores, char_lp, matched = (
                beam_of[keep],
                char_of[keep],
                new_scores[keep],
                char_lp[keep],
                states[keep],
            )
        trail.push(beam_of, char_of, char_lp)  # possibly empty: every candidate ended
        scores = new_scores
        if progress is not None:
            progress(t + 1, length)
        if not len(beam_of) or (stop and len(done) >= width):
            break
        if t + 1 < length:  # the last character needs no step
            hs, cs, logits = sampler.step_batch(hs[beam_of], None if cs is None else cs[beam_of], char_of)
    return _finish(sampler.vocab, trail, done, scores, width, length_norm)


def _finish(
    vocab: Vocab,
    trail: Trail,
    done: list[tuple[float, int, int, int, float]],
    scores: np.ndarray,
    width: int,
    length_norm: bool,
) -> list[Beam]:
    """Rank the ended and the live beams as Beam.rank_score does, then rebuild the texts of the best."""
    last = trail.steps - 1  # the live beams' last step (-1: none taken, the single empty beam)
    # (score, length, finished, end of the stored path (step, index), the ended beam's last (id, logp))
    cands: list[tuple[float, int, bool, tuple[int, int], tuple[int, float] | None]] = [
        (s, step + 1, True, (step - 1, parent), (c, lp)) for s, step, parent, c, lp in done
    ]
    cands += [(float(s), last + 1, False, (last, j), None) for j, s in enumerate(scores.tolist())]
    # sorted() is stable: equal scores keep their order (ended beams first, each group in its own order)
    cands = sorted(cands, key=lambda b: -(b[0] / max(1, b[1]) if length_norm else b[0]))[:width]
    ids, logps = trail.walk([c[3] for c in cands])
    beams = []
    for (s, _n, finished, (step, _), tail), row_ids, row_lps in zip(cands, ids, logps):
        text_ids, lps = row_ids[: step + 1].tolist(), row_lps[: step + 1].tolist()
        if tail is not None:
            text_ids.append(tail[0])
            lps.append(tail[1])
        beams.append(Beam("".join([vocab.chars[i] for i in text_ids]), s, finished, tuple(lps)))
    return beams
