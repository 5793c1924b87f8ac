"""The suffix array of a training text, and the longest match of every position of a generated text in it.

The suffix array lists the start positions of the text's suffixes in lexicographic order (a suffix that
ends sooner sorts first); every occurrence of a string is then one contiguous interval of it, found by
binary search. Only the first DEPTH characters of each suffix decide its place: the questions asked
(copied n-grams, novel substrings) stop at DEPTH characters, and longer copied spans are followed up in
the text itself (copycheck.py).

Two builders give the same answers:
- libdivsufsort (through `pydivsufsort`, the optional extra `rnntui[index]`): the standard fast
  construction, in C, of the complete suffix array; 4 bytes per character beside the text (a 100 MB
  corpus: seconds). Used when installed and the ids are bytes (at most 256 distinct characters).
- prefix doubling in numpy (Manber-Myers with Larsson-Sadakane's in-place ranks), to DEPTH only: one sort
  of the first few characters packed into 64-bit keys, then rounds that each double the sorted depth for
  the positions still tied, in windows of a few million. Peak ~17 bytes per character (the packed keys of
  the first round), ~10 beyond it.

The index itself is int32 positions (int64 from 2**31 characters): 4 bytes per training character.
"""

from __future__ import annotations

import numpy as np

from rnntui.core.generate.settings import MATCH_DEPTH

DEPTH = MATCH_DEPTH  # characters of each suffix that decide its order, and the longest match measured directly
WINDOW = 1 << 22  # positions refined at a time by a doubling round: bounds its temporaries to ~200 MB
PAST_END = -1  # what a suffix reads beyond the text's end: less than every character
PAD = -2  # what a query reads beyond its own end: matches nothing, not even the end of the text


def libdivsufsort():
    """libdivsufsort's builder when the optional extra is installed, else None."""
    try:
        from pydivsufsort import divsufsort
    except ImportError:
        return None
    return divsufsort


def suffix_array(ids: np.ndarray, depth: int = DEPTH) -> np.ndarray:
    """(N,) positions of the suffixes of ids in the order of their first `depth` characters (at least)."""
    fast = libdivsufsort()
    if fast is not None and len(ids) and ids.dtype == np.uint8:  # its bindings take bytes; ctypes, writable
        return fast(ids if ids.flags.writeable and ids.flags.c_contiguous else np.array(ids))
    return prefix_doubling(ids, depth)


def build_bytes(ids: np.ndarray) -> int:
    """About the peak memory suffix_array(ids) takes beyond ids themselves."""
    n = len(ids)
    if libdivsufsort() is not None and ids.dtype == np.uint8:
        return (4 if n < 2**31 else 8) * n + (0 if ids.flags.writeable else n)
    return (17 if n < 2**31 else 25) * n + 64 * WINDOW  # packed keys, positions, ranks, flags; a window


# -----------------------------------------------------------------------------
# the numpy builder


def prefix_doubling(ids: np.ndarray, depth: int = DEPTH) -> np.ndarray:
    """(N,) int32/int64: suffix positions sorted by their first `depth` characters (suffixes equal that far
    in no defined order)."""
    n = len(ids)
    itype = np.int32 if n < 2**31 else np.int64
    if n == 0:
        return np.zeros(0, itype)
    # round 0: the first k characters (id + 1; 0 past the end) in the high bits, the position in the low
    pbits = max(1, (n - 1).bit_length())
    cbits = (int(ids.max()) + 1).bit_length()
    k = max(1, min(depth, (64 - pbits) // cbits))
    key = np.zeros(n, np.uint64)  # (N,)
    for s in range(0, n, WINDOW):  # in slices: the uint64 copies of ids stay small
        e = min(n, s + WINDOW)
        for j in range(k):
            c = np.zeros(e - s, np.uint64)
            got = ids[s + j : e + j].astype(np.uint64)  # shorter near the end: 0 there, past the end
            c[: len(got)] = got + np.uint64(1)
            key[s:e] = (key[s:e] << np.uint64(cbits)) | c
        key[s:e] = (key[s:e] << np.uint64(pbits)) | np.arange(s, e, dtype=np.uint64)
    key.sort()  # in place: no index array beside it
    sa, rank = np.empty(n, itype), np.empty(n, itype)  # sorted positions; each position's group start
    first = np.empty(n + 1, bool)  # first[j]: sa[j] starts a group of equal prefixes (first[n]: the end)
    first[n] = True
    mask = np.uint64((1 << pbits) - 1)
    for s in range(0, n, WINDOW):
        e = min(n, s + WINDOW)
        sa[s:e] = key[s:e] & mask
        head = key[max(0, s - 1) : e] >> np.uint64(pbits)
        first[s:e] = np.r_[True, head[1:] != head[:-1]] if s == 0 else head[1:] != head[:-1]
    del key
    start = 0
    for s in range(0, n, WINDOW):  # rank = the index where the position's group starts in sa
        e = min(n, s + WINDOW)
        g = np.maximum.accumulate(np.where(first[s:e], np.arange(s, e), start))
        rank[sa[s:e]] = g
        start = int(g[-1])
    h = k
    while h < depth and not first.all():
        _double(sa, rank, first, h)
        h *= 2
    return sa


def _double(sa: np.ndarray, rank: np.ndarray, first: np.ndarray, h: int) -> None:
    """One round: within each group of positions sharing their first h characters, sort by the rank of the
    position h further on, so groups then share 2h. Ranks are updated in place as windows finish; a later
    window may read a refined rank, which only orders more finely (Larsson & Sadakane, 2007)."""
    n = len(sa)
    a = 0
    while a < n:
        b = _group_end(first, min(n, a + WINDOW))
        u = np.flatnonzero(~(first[a:b] & first[a + 1 : b + 1])) + a  # indices in groups of two or more
        a = b
        if not u.size:
            continue
        pos = sa[u].astype(np.int64)  # (U,)
        after = pos + h
        r2 = np.where(after < n, rank[np.minimum(after, n - 1)].astype(np.int64) + 1, 0)  # 0: past the end
        if n < 2**31:  # both ranks in one 64-bit key
            order = np.argsort((rank[pos].astype(np.uint64) << np.uint64(32)) | r2.astype(np.uint64), kind="stable")
        else:
            order = np.lexsort((r2, rank[pos]))
        r1, r2, pos = rank[pos][order], r2[order], pos[order]
        sa[u] = pos
        new = np.r_[True, (r1[1:] != r1[:-1]) | (r2[1:] != r2[:-1])]  # (U,) a new group starts here
        first[u] = new
        rank[pos] = np.maximum.accumulate(np.where(new, u, 0))


def _group_end(first: np.ndarray, e: int) -> int:
    """The first group start at or after e (len(first) - 1 at the end)."""
    n = len(first) - 1
    while e < n:
        hit = np.flatnonzero(first[e : e + 65536])
        if hit.size:
            return e + int(hit[0])
        e += 65536
    return n


# -----------------------------------------------------------------------------
# queries


def rows(ids: np.ndarray, starts: np.ndarray, width: int, beyond: int) -> np.ndarray:
    """(Q, width) int32: the characters from each start, `beyond` past the end of ids."""
    inside = starts <= len(ids) - width  # almost all: whole rows copied from a sliding view, no index array
    if inside.all():
        return np.lib.stride_tricks.sliding_window_view(ids, width)[starts].astype(np.int32)
    out = np.full((len(starts), width), beyond, np.int32)
    if len(ids) >= width:
        out[inside] = np.lib.stride_tricks.sliding_window_view(ids, width)[starts[inside]]
    for q in np.flatnonzero(~inside):  # the few starts within `width` of the end
        tail = ids[starts[q] :]
        out[q, : len(tail)] = tail
    return out


def compare(train: np.ndarray, starts: np.ndarray, pat: np.ndarray, upto: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each suffix at starts against its row of pat over the first upto characters: (lcp, sign), (Q,) each;
    sign -1 / 0 / 1 as the suffix sorts before / equal to / after the pattern. The first 8 characters
    settle most comparisons (a binary search's early steps land far from the pattern): only the rows
    still equal there read the rest."""
    lcp, sign = np.zeros(len(starts), np.int64), np.zeros(len(starts), np.int64)
    todo = np.arange(len(starts))
    for a, b in ((0, min(8, pat.shape[1])), (min(8, pat.shape[1]), pat.shape[1])):
        if not todo.size or a == b:
            break
        row, want = rows(train, starts[todo] + a, b - a, PAST_END), pat[todo, a:b]  # (R, b - a) each
        limit = upto[todo]
        diff = (row != want) & (np.arange(a, b) < limit[:, None])
        found, k = diff.any(axis=1), diff.argmax(axis=1)
        lcp[todo] = np.where(found, a + k, np.minimum(limit, b))
        r = np.flatnonzero(found)
        sign[todo[r]] = np.sign(row[r, k[r]] - want[r, k[r]])
        todo = todo[~found & (limit > b)]
    return lcp, sign


def bound(train: np.ndarray, sa: np.ndarray, pat: np.ndarray, upto: np.ndarray, right: bool = False) -> np.ndarray:
    """(Q,) per row of pat: the first index of sa whose suffix's first upto characters sort at or after
    (right: after) the pattern's. All rows at once: one binary search step per iteration for each."""
    lo, hi = np.zeros(len(pat), np.int64), np.full(len(pat), len(sa), np.int64)
    while True:
        live = np.flatnonzero(lo < hi)
        if not live.size:
            return lo
        mid = (lo[live] + hi[live]) // 2
        _, sign = compare(train, sa[mid].astype(np.int64), pat[live], upto[live])
        below = (sign <= 0) if right else (sign < 0)
        lo[live] = np.where(below, mid + 1, lo[live])
        hi[live] = np.where(below, hi[live], mid)


def match_lengths(
    train: np.ndarray, sa: np.ndarray, g: np.ndarray, depth: int = DEPTH
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every start i of g: the length of the longest prefix of g[i:] that occurs in train, at most
    depth; one training position where it occurs; and the index of sa where g[i:i+depth] would be
    inserted (where its occurrences begin when it occurs): (m, at, p), (T,) int64 each.

    The suffixes nearest the place where g[i:] would be inserted share the longest prefix with it (the
    sorted order keeps strings with a longer common prefix closer together), so one lower-bound search
    and two comparisons per start answer it."""
    if not len(g) or not len(sa):
        return (np.zeros(len(g), np.int64),) * 3
    starts = np.arange(len(g))
    pat = rows(g, starts, depth, PAD)  # (T, depth)
    upto = np.full(len(g), depth)
    p = bound(train, sa, pat, upto)  # (T,) insertion points
    before = sa[np.maximum(p - 1, 0)].astype(np.int64)
    after = sa[np.minimum(p, len(sa) - 1)].astype(np.int64)
    m1, _ = compare(train, before, pat, upto)
    m2, _ = compare(train, after, pat, upto)
    m1 = np.where(p > 0, m1, 0)
    m2 = np.where(p < len(sa), m2, 0)
    return np.maximum(m1, m2), np.where(m1 >= m2, before, after), p
