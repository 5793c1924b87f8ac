"""Character n-gram models with interpolated modified Kneser-Ney smoothing, counted and scored with numpy.

    model = fit(ids, V, order=6)              ids: (N,) training character ids (bounds: where pieces join)
    model.log_probs(ids, order=5)             (T,) ln P(ids[t] | ids[:t]) under the order-5 model
    model.text_log_probs(vocab.chars, text)   the same for a text (NaN at a character outside the vocabulary)
    model.cross_entropies(ids, bounds, scored) {2: loss, ..., 6: loss} in nats per character

The order-n model predicts a character w from the n-1 characters h before it (Chen & Goodman, "An
Empirical Study of Smoothing Techniques for Language Modeling", 1998, interpolated modified Kneser-Ney):

    P_n(w | h) = (c(hw) - D(c(hw))) / c(h.) + gamma(h) P_{n-1}(w | h')      gamma(h) = sum_w D(c(hw)) / c(h.)

h' is h without its oldest character. At the highest order c counts occurrences; at the lower orders it
counts continuations (how many distinct characters precede hw in the training text: a character that
follows many contexts is likelier after an unseen one than its raw count says). D(c) is D1, D2 or D3+ for
c = 1, 2, >= 3, estimated per order and per kind of count from the counts of counts (n_r k-grams seen
exactly r times: Y = n1/(n1 + 2 n2), D_r = r - (r+1) Y n_{r+1}/n_r), clipped to [0.05, r] so that every
seen context keeps some probability for characters it never preceded.

What is never infinite: a context never seen in training (c(h.) = 0) backs off entirely to P_{n-1}; the
chain ends in the uniform distribution over the vocabulary, so every character of the vocabulary, one
absent from the training text included, gets a probability above zero. A character outside the
vocabulary (a text typed in the inspector) gets NaN, and contexts holding it count as unseen.

Counting never spells a k-gram out. A k-gram's id is its rank among the distinct k-grams of the training
text; the (k+1)-gram at position p is keyed exactly, without hashing, as id_k(p) * V + x[p+k] (an int64
below 2^52: ids under 2^31, V under 2^21), and ranked with one sort per order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_ORDER, MAX_ORDER = 2, 6  # the orders fitted: 1 to 5 characters of context (order 1: unigram_loss)
D_MIN = 0.05  # the smallest discount: a seen context always leaves some mass to the lower order


# -----------------------------------------------------------------------------
# one order's counts


@dataclass(frozen=True)
class Table:
    """The counts of one order and one kind (raw or continuation) and what smoothing derives from them."""

    count: np.ndarray  # (G,) int32: count of each distinct k-gram (id = rank), raw or continuation
    total: np.ndarray  # (H,) float64: c(h.), the counts of each context's k-grams summed
    gamma: np.ndarray  # (H,) float64: sum of the discounts taken from each context's k-grams
    discount: np.ndarray  # (4,) float64: [0, D1, D2, D3+], indexed by min(count, 3)

    @classmethod
    def of(cls, count: np.ndarray, ctx: np.ndarray, n_ctx: int) -> Table:
        """count (G,) and ctx (G,), the id of each k-gram's context (the (k-1)-gram before its last
        character), among n_ctx contexts."""
        d = discounts(count)
        taken = d[np.minimum(count, 3)]  # (G,) 0 for a k-gram with no count of this kind
        return cls(
            count=count.astype(np.int32),
            total=np.bincount(ctx, weights=count, minlength=n_ctx),
            gamma=np.bincount(ctx, weights=taken, minlength=n_ctx),
            discount=d,
        )

    def step(self, ctx: np.ndarray, gram: np.ndarray, lower: np.ndarray) -> np.ndarray:
        """P at this order for S predictions: ctx (S,) and gram (S,) ids (-1: unseen), lower (S,) P_{k-1}."""
        tot, c, gamma = _take(self.total, ctx), _take(self.count, gram), _take(self.gamma, ctx)  # (S,) each
        d = self.discount[np.minimum(c, 3).astype(np.int64)]
        with np.errstate(divide="ignore", invalid="ignore"):
            here = (c - d + gamma * lower) / tot
        return np.where(tot > 0, here, lower)  # an unseen context: back off entirely


def _take(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """values[ids] as float64, 0 where an id is -1 (unseen); an empty table (a text shorter than the order)
    gives 0 everywhere."""
    if len(values) == 0:
        return np.zeros(len(ids))
    return np.where(ids >= 0, values[np.maximum(ids, 0)], 0.0)


def discounts(c: np.ndarray) -> np.ndarray:
    """[0, D1, D2, D3+] from the counts of counts (Chen & Goodman's estimate), each in [D_MIN, r]; where a
    count of counts is zero (a tiny or very regular text) the estimate is undefined and D_r = r / 2."""
    n = np.array([np.count_nonzero(c == r) for r in (1, 2, 3, 4)], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = n[0] / (n[0] + 2 * n[1])
        d = np.array([r - (r + 1) * y * n[r] / n[r - 1] for r in (1, 2, 3)])
    d = np.where(np.isfinite(d), d, np.array([0.5, 1.0, 1.5]))
    return np.concatenate([[0.0], np.clip(d, D_MIN, [1.0, 2.0, 3.0])])


def _group(key: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """np.unique with what fitting needs, from one sort: (distinct keys sorted (G,), each key's rank (K,),
    each distinct key's count (G,), the index in `key` of one occurrence of each (G,)). Keys lie in
    [0, bound). Consumes `key` (sorted in place)."""
    n = len(key)
    if n == 0:
        z = np.zeros(0, np.int64)
        return z, z, z, z
    bits = max(1, (n - 1).bit_length())
    if (bound - 1).bit_length() + bits <= 63:  # key and position in one int64: a plain sort, ~10x an argsort's speed
        key <<= bits
        key |= np.arange(n, dtype=np.int64)
        key.sort()
        s = key >> bits  # (K,) the keys in order
        key &= (1 << bits) - 1
        perm = key  # (K,) where each came from
    else:
        perm = np.argsort(key)
        s = key[perm]
    new = np.empty(n, dtype=bool)  # (K,) True where a new key starts in sorted order
    new[0], new[1:] = True, s[1:] != s[:-1]
    starts = np.flatnonzero(new)
    uniq = s[starts]
    np.cumsum(new, out=s)  # s's buffer reused: the rank of each key in sorted order, plus one
    s -= 1
    rank = np.empty(n, dtype=np.int64)
    rank[perm] = s
    return uniq, rank, np.diff(np.append(starts, n)), perm[starts]


def _crossing(n: int, k: int, bounds: np.ndarray | None) -> np.ndarray:
    """(n - k + 1,) bool: the k-gram starting at each position fits inside its piece (one slice per piece
    edge, never a loop over characters)."""
    ok = np.ones(max(0, n - k + 1), dtype=bool)
    for e in [] if bounds is None else np.asarray(bounds)[1:-1]:
        ok[max(0, int(e) - k + 1) : int(e)] = False
    return ok


def _segment_of(n: int, bounds: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) of each position's segment, (n,) each; bounds (S+1,) are the segments' edges."""
    if bounds is None:
        return np.zeros(n, np.int64), np.full(n, n, np.int64)
    b = np.asarray(bounds, dtype=np.int64)
    seg = np.searchsorted(b, np.arange(n), side="right") - 1  # (n,)
    return b[seg], b[seg + 1]


# -----------------------------------------------------------------------------
# the model


@dataclass(frozen=True)
class NGramModel:
    vocab_size: int  # V: ids are 0..V-1
    order: int  # the highest order fitted (orders 2..order can be scored)
    keys: dict[int, np.ndarray]  # k -> (G_k,) sorted int64 keys of the distinct k-grams, k >= 2
    raw: dict[int, Table]  # k -> occurrence counts, the highest order's (k >= 2)
    cont: dict[int, Table]  # k -> continuation counts, the lower orders' (k < order)
    chars: int  # training characters counted

    # ---- scoring

    def _ids(self, x: np.ndarray, start: np.ndarray, end: np.ndarray, upto: int) -> list[np.ndarray]:
        """g[k] (M,) for k = 1..upto: the id of the k-gram starting at each position, -1 where it runs past
        its segment, holds a character outside the vocabulary, or never occurs in the training text."""
        m, V = len(x), self.vocab_size
        known = (x >= 0) & (x < V)
        g = [np.zeros(0, np.int64), np.where(known, x, -1)]
        for k in range(2, upto + 1):
            prev, q = g[k - 1], np.arange(max(0, m - k + 1))
            ok = (prev[q] >= 0) & (q + k <= end[q]) & known[q + k - 1]
            key = prev[q] * V + x[q + k - 1]
            table = self.keys[k]
            j = np.minimum(np.searchsorted(table, key), max(0, len(table) - 1))
            found = ok & (table[j] == key) if len(table) else np.zeros(len(q), bool)
            gk = np.full(m, -1, np.int64)
            gk[q] = np.where(found, j, -1)
            g.append(gk)
        return g

    def _probs(
        self, x: np.ndarray, bounds: np.ndarray | None, where: np.ndarray, orders: list[int]
    ) -> dict[int, np.ndarray]:
        """order -> (S,) P(x[i] | the order-1 characters before i within its segment) at positions `where`."""
        x = np.asarray(x, dtype=np.int64)
        start, end = _segment_of(len(x), bounds)
        top = max(orders)
        g = self._ids(x, start, end, top)
        lower = np.full(len(where), 1.0 / self.vocab_size)  # (S,) P_0: uniform
        out: dict[int, np.ndarray] = {}
        for k in range(1, top + 1):
            q = where - k + 1
            has = q >= start[where]  # the k-1 characters of context lie within the segment
            qc = np.where(has, q, 0)
            ctx = np.where(has, g[k - 1][qc], -1) if k > 1 else np.zeros(len(where), np.int64)
            gram = np.where(has, g[k][qc], -1)
            if k in orders:  # the order-k model: occurrence counts at its own order, over the lower chain
                out[k] = self.raw[k].step(ctx, gram, lower)
            if k < top:
                lower = self.cont[k].step(ctx, gram, lower)
        known = (x[where] >= 0) & (x[where] < self.vocab_size)
        return {k: np.where(known, p, np.nan) for k, p in out.items()}

    def log_probs(self, ids: np.ndarray, order: int | None = None) -> np.ndarray:
        """(T,) ln P(ids[t] | ids[:t]) under the order-n model (default: the highest fitted), the first
        characters with as much context as they have; NaN where ids[t] is outside the vocabulary."""
        order = order or self.order
        self._check(order)
        p = self._probs(ids, None, np.arange(len(ids)), [order])[order]
        with np.errstate(divide="ignore"):
            return np.log(p)

    def text_log_probs(self, chars: str, text: str, order: int | None = None) -> np.ndarray:
        """log_probs of a text under the vocabulary `chars` (sorted, as Vocab holds it): (T,), NaN at a
        character outside it. What the inspector sets against the network's p_char, character by character."""
        codes = np.array([ord(c) for c in chars], dtype=np.int64)  # (V,) sorted code points
        q = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)  # (T,)
        at = np.minimum(np.searchsorted(codes, q), len(codes) - 1)
        return self.log_probs(np.where(codes[at] == q, at, -1), order)

    def cross_entropies(
        self,
        ids: np.ndarray,
        bounds: np.ndarray | None = None,
        scored: np.ndarray | None = None,
        orders: list[int] | None = None,
    ) -> dict[int, float]:
        """order -> mean -ln P over the scored positions (default: all), in nats per character. bounds:
        (S+1,) edges of the pieces `ids` is made of (context never crosses one); scored: (T,) bool."""
        orders = orders or list(range(MIN_ORDER, self.order + 1))
        for k in orders:
            self._check(k)
        where = np.flatnonzero(scored) if scored is not None else np.arange(len(ids))
        probs = self._probs(ids, bounds, where, orders)
        return {k: float(-np.log(p[np.isfinite(p)]).mean()) for k, p in sorted(probs.items())}

    def _check(self, order: int) -> None:
        if not MIN_ORDER <= order <= self.order:
            raise ValueError(f"order {order}: this model has orders {MIN_ORDER} to {self.order}")


def fit(ids: np.ndarray, vocab_size: int, order: int = MAX_ORDER, bounds: np.ndarray | None = None) -> NGramModel:
    """Count a training text's k-grams for k = 1..order (2 <= order). ids: (N,) in [0, V); bounds: (S+1,)
    edges of the pieces it is made of (a sample of evenly spaced chunks): no k-gram is counted across one."""
    if order < MIN_ORDER:
        raise ValueError(f"order {order}: the n-gram models start at order {MIN_ORDER} (unigram_loss is order 1)")
    x = np.asarray(ids)  # (N,) in the corpus's own dtype (uint8 for <= 256 characters): no int64 copy
    m, V = len(x), vocab_size
    g, n_prev = x, V  # ids of the (k-1)-grams at each position (-1: none) and how many distinct there are
    keys, raw, cont = {}, {}, {}
    for k in range(2, order + 1):
        pos = np.flatnonzero((g[: max(0, m - k + 1)] >= 0) & _crossing(m, k, bounds))  # (K,) k-grams to count
        key = g[pos].astype(np.int64)  # (K,) id_{k-1}(p) * V + x[p+k-1], built in place
        key *= V
        key += x[pos + k - 1]
        uniq, rank, counts, one = _group(key, n_prev * V)
        ctx = uniq // V  # (G,) the context's id: keys sort by context first, so this is sorted too
        keys[k], raw[k] = uniq, Table.of(counts, ctx, n_prev)
        # continuation counts of order k-1: each distinct k-gram counts once for the (k-1)-gram it ends in
        suffix = g[pos[one] + 1]  # (G,) the (k-1)-gram one position on: inside the piece, so counted
        below = np.bincount(suffix, minlength=n_prev)
        below_ctx = keys[k - 1] // V if k > 2 else np.zeros(V, np.int64)  # order 1: one, empty, context
        cont[k - 1] = Table.of(below, below_ctx, len(raw[k - 1].total) if k > 2 else 1)
        g = np.full(m, -1, np.int64)
        g[pos] = rank
        n_prev = len(uniq)
        del pos, rank, suffix, key
    return NGramModel(vocab_size=V, order=order, keys=keys, raw=raw, cont=cont, chars=m)


# -----------------------------------------------------------------------------
# the two simplest baselines


def uniform_loss(vocab_size: int) -> float:
    """ln V: the loss of guessing every character of the vocabulary equally."""
    return float(np.log(vocab_size))


def unigram_log_probs(train: np.ndarray, vocab_size: int) -> np.ndarray:
    """(V,) ln P(w) by add-one (Laplace) smoothing: (count(w) + 1) / (N + V), finite for every character."""
    counts = np.bincount(np.asarray(train, dtype=np.int64), minlength=vocab_size).astype(np.float64)
    return np.log((counts + 1.0) / (counts.sum() + vocab_size))


def unigram_loss(train: np.ndarray, val: np.ndarray, vocab_size: int) -> float:
    """Mean -ln P(w) over `val` under the add-one unigram of `train`, nats per character."""
    return float(-unigram_log_probs(train, vocab_size)[np.asarray(val, dtype=np.int64)].mean())
