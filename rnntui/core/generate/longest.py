"""The longest span of a generated text copied verbatim from the training text, however long it is.

The copy index (copycheck.py) measures, for every start of the generated text, the longest match up to
DEPTH (64) characters, all starts at once. A copied span longer than DEPTH is followed up in the text: only
the occurrences of the rarest 64-gram of each candidate window are compared, so common 64-grams
(boilerplate repeated thousands of times) stay cheap.
"""

from __future__ import annotations

import numpy as np

from rnntui.core.generate.suffixes import DEPTH, PAD, bound, rows


def copied_spans(starts: np.ndarray, n: int) -> list[tuple[int, int]]:
    """Consecutive copied n-gram starts -> merged [start, end) character spans."""
    if starts.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(starts) > 1)
    firsts = np.concatenate([[starts[0]], starts[breaks + 1]])
    lasts = np.concatenate([starts[breaks], [starts[-1]]])
    return [(int(a), int(b) + n) for a, b in zip(firsts, lasts)]


def longest_copy(
    train: np.ndarray, sa: np.ndarray, g: np.ndarray, m: np.ndarray, p: np.ndarray
) -> tuple[int, int, int]:
    """(length, start in g, first offset in the training text) of the longest copied span.

    train (N,) and sa (N,): the training text's ids and its suffix array; g (T,): the generated text's ids;
    m, p (T,): the longest match from each start (<= DEPTH) and where its interval of sa begins, as
    suffixes.match_lengths returns them."""
    if not len(m) or int(m.max()) == 0:
        return 0, 0, 0
    if int(m.max()) < DEPTH:  # the matches measured are the whole answer
        i = int(np.argmax(m))
        return int(m[i]), i, first_occurrence(train, sa, g, i, int(m[i]))
    # spans of DEPTH or more lie in runs of starts whose match reached DEPTH: follow them in the text
    full = np.flatnonzero(m == DEPTH)
    pat, upto = rows(g, full, DEPTH, PAD), np.full(len(full), DEPTH)
    lo, hi = p, np.zeros(len(g), np.int64)  # the suffix array's interval of each 64-gram: from p
    hi[full] = bound(train, sa, pat, upto, right=True)
    counts = hi - lo  # occurrences of the 64-gram at each start
    longest, at, where = 0, 0, 0
    for a, end in sorted(copied_spans(full, DEPTH), key=lambda s: s[0] - s[1]):  # a copied span lies inside one
        if end - a <= longest:
            break  # runs come longest first: no later one can hold a longer span
        for i in range(a, end - DEPTH + 1):
            T = max(DEPTH, longest + 1)  # only a span of T or more characters from i can be longer
            if i + T > end:
                break
            # any occurrence of g[i:i+T] holds its rarest 64-gram at a fixed offset: only those few
            # positions need comparing (exact, and cheap where common 64-grams abound)
            j = i + int(np.argmin(counts[i : i + T - DEPTH + 1]))
            cand = np.asarray(sa[lo[j] : hi[j]], dtype=np.int64) - (j - i)
            cand = cand[(cand >= 0) & (cand + T <= len(train))]
            if cand.size:
                cand = cand[(train[cand[:, None] + np.arange(T)] == g[i : i + T]).all(axis=1)]
            if cand.size:
                longest, where = _extend(train, g, i, end, cand, T)
                at = i
    return longest, at, where


def first_occurrence(train: np.ndarray, sa: np.ndarray, g: np.ndarray, i: int, length: int) -> int:
    """The first offset in the training text where g[i:i+length] occurs (length <= DEPTH, known to occur)."""
    pat, upto = rows(g, np.array([i]), DEPTH, PAD), np.array([length])
    lo = int(bound(train, sa, pat, upto)[0])
    hi = int(bound(train, sa, pat, upto, right=True)[0])
    return int(np.min(sa[lo:hi]))


def _extend(train: np.ndarray, g: np.ndarray, i: int, end: int, occ: np.ndarray, length: int) -> tuple[int, int]:
    """The longest match of g[i:end] at any of occ, all known to match `length` characters:
    (length, its first position), compared in blocks that double from 16 characters."""
    best, where = length, int(occ.min())
    alive, block = occ, 16
    N = len(train)
    while alive.size and i + length < end:
        w = min(block, end - i - length)
        block = min(2 * block, 1024)
        idx = alive[:, None] + length + np.arange(w)  # (K, w)
        ok = idx < N
        eq = (train[np.minimum(idx, N - 1)] == g[i + length : i + length + w]) & ok
        run = np.where(eq.all(axis=1), w, np.argmin(eq, axis=1))  # matched chars per occurrence
        top = int(run.max())
        if top:
            best, where = length + top, int(alive[run == top].min())
        alive = alive[run == w]
        length += w
    return best, where
