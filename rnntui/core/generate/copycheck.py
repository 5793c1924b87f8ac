"""Memorisation check: how much of a generated text occurs verbatim in the training text.

The index holds one 64-bit key per n-gram position of the training text, sorted: the high bits are a
hash of the n-gram, the low bits its position. A lookup is one np.searchsorted per generated n-gram
(all at once); every hit is verified against the text, so hash collisions never count as copies. The
longest copied span is found by comparing against the text only the occurrences of the rarest n-gram
of each candidate window, so common n-grams (in a 100 MB corpus, thousands of occurrences) stay cheap.

Built once per corpus and n, vectorised (n passes of a polynomial hash over the whole text, one
in-place sort), and cached in the cache directory keyed by the corpus file's version as the corpus cache
keys it (data/read.py file_key: path, size, mtime, ctime, inode), the validation fraction and n. A cache
that cannot be written (read-only, not a folder, full) costs one warning line, never the check. Memory:
8 bytes per training character (a 100 MB corpus: ~800 MB).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import astuple, dataclass
from pathlib import Path

import numpy as np

from rnntui.core.config import ConfigError
from rnntui.core.data.corpus import Corpus, Vocab, load_corpus
from rnntui.core.data.cache import warn_uncached
from rnntui.core.data.read import file_key

DEFAULT_N = 8
BASE = np.uint64(0x100000001B3)  # FNV prime: odd, so the polynomial hash mixes every character
CHUNK = 1 << 22  # positions hashed per pass: bounds the temporaries to a few tens of MB
FORMAT = 1  # bumped when the index layout changes, so old cache files are not read


# -----------------------------------------------------------------------------
# the result


@dataclass(frozen=True)
class CopyReport:
    n: int  # n-gram length used
    ngrams: int  # n-grams in the generated text
    copied: int  # of them, how many occur verbatim in the training text
    longest: int  # length in characters of the longest copied span (0: none of n or more)
    longest_at: int  # where it starts in the generated text
    corpus_at: int  # where it occurs in the training text (character offset)
    corpus_line: int  # the line of the training text it starts on (1-based)
    spans: tuple[tuple[int, int], ...]  # [start, end) stretches of the generated text made of copied n-grams

    @property
    def share(self) -> float:
        return self.copied / self.ngrams if self.ngrams else 0.0

    def summary(self) -> str:
        head = f"copied {self.share:.0%} of {self.ngrams:,} {self.n}-grams"
        if not self.longest:
            return head + "; no span of the training text"
        return (f"{head}; longest copied span {self.longest:,} chars at {self.longest_at:,} "
                f"(training text line {self.corpus_line:,}, offset {self.corpus_at:,})")


# -----------------------------------------------------------------------------
# hashing


def _mix(h: np.ndarray) -> np.ndarray:
    """A 64-bit finaliser (splitmix64's), in place: spreads every input bit into the high bits we keep."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


def ngram_hashes(ids: np.ndarray, n: int, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Hashes of the n-grams starting at start..stop-1: (stop - start,) uint64."""
    stop = len(ids) - n + 1 if stop is None else stop
    h = np.zeros(max(0, stop - start), dtype=np.uint64)
    for j in range(n):  # array arithmetic wraps modulo 2**64 silently, as a hash should
        h *= BASE
        h += ids[start + j : stop + j].astype(np.uint64) + np.uint64(1)
    return _mix(h)


def _pos_bits(count: int) -> int:
    return max(1, int(count - 1).bit_length())


def build_keys(ids: np.ndarray, n: int) -> np.ndarray:
    """The sorted keys: (hash >> b << b) | position, b bits for positions. (N - n + 1,) uint64."""
    count = len(ids) - n + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    bits = np.uint64(_pos_bits(count))
    keys = np.empty(count, dtype=np.uint64)
    for s in range(0, count, CHUNK):
        e = min(count, s + CHUNK)
        h = ngram_hashes(ids, n, s, e)
        h >>= bits
        h <<= bits
        h |= np.arange(s, e, dtype=np.uint64)
        keys[s:e] = h
    keys.sort()  # in place: no second 8-byte-per-position array
    return keys


# -----------------------------------------------------------------------------
# the index


class CopyIndex:
    def __init__(self, train: np.ndarray, vocab: Vocab, n: int = DEFAULT_N, keys: np.ndarray | None = None,
                 newlines: np.ndarray | None = None) -> None:
        if n < 1:
            raise ConfigError(f"n-gram length must be >= 1, not {n}")
        self.train, self.vocab, self.n = train, vocab, n  # (N,) character ids of the training text
        self.keys = build_keys(train, n) if keys is None else keys
        self.bits = np.uint64(_pos_bits(len(train) - n + 1))
        nl = vocab.index.get("\n")
        self.newlines = (np.flatnonzero(train == nl) if nl is not None else np.zeros(0, np.int64)) \
            if newlines is None else newlines  # offsets of the line breaks, for line numbers

    @classmethod
    def from_text(cls, text: str, n: int = DEFAULT_N) -> "CopyIndex":
        vocab = Vocab.from_text(text)
        return cls(vocab.encode(text), vocab, n)

    @classmethod
    def for_corpus(cls, name: str, val_frac: float = 0.1, n: int = DEFAULT_N, cache: Path | None = None) -> "CopyIndex":
        """The index over a corpus's training split, from the cache when it is up to date."""
        from rnntui.core.data.builtin import cache_dir, resolve_corpus

        path = resolve_corpus(name)
        if not path.is_file():
            raise ConfigError(f"{name}: the training corpus file is missing (needed for the copy check)")
        version = file_key(path)  # before reading: a file edited during the build misses this key next time
        corpus = load_corpus(name, val_frac)
        fields = (*astuple(version), val_frac, n, FORMAT)  # path, size, mtime, ctime, inode; split; n; layout
        key = hashlib.sha1("|".join(map(str, fields)).encode("utf-8", "surrogatepass"))
        folder = (cache or cache_dir()) / "copycheck"
        base = folder / f"{path.stem[:40]}-n{n}-{key.hexdigest()[:16]}"
        kf, nf = base.with_suffix(".keys.npy"), base.with_suffix(".lines.npy")
        index = cls._cached(corpus, n, kf, nf)
        if index is None:
            index = cls(corpus.train, corpus.vocab, n)
            _save(folder, ((kf, index.keys), (nf, index.newlines)))
        return index

    @classmethod
    def _cached(cls, corpus: Corpus, n: int, kf: Path, nf: Path) -> "CopyIndex | None":
        """The index from its cache files when both are there and have the shapes this corpus needs."""
        if not (kf.is_file() and nf.is_file()):  # regular files only: a FIFO or folder there is not a cache
            return None
        try:
            keys = np.load(kf, mmap_mode="r", allow_pickle=False)
            lines = np.load(nf, allow_pickle=False)
        except (OSError, ValueError):
            return None  # a damaged cache file: rebuild it
        if keys.dtype != np.uint64 or keys.shape != (max(0, len(corpus.train) - n + 1),):
            return None
        if lines.ndim != 1 or lines.dtype.kind not in "iu":
            return None
        return cls(corpus.train, corpus.vocab, n, keys, lines)

    def encode(self, text: str) -> np.ndarray:
        """Generated text -> ids; characters the corpus lacks get an id that matches nothing."""
        if not hasattr(self, "_codes"):  # the vocabulary's code points, sorted, and their ids
            codes = np.array([ord(c) for c in self.vocab.chars], dtype=np.uint32)
            self._order = np.argsort(codes)
            self._codes = codes[self._order]
        q = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)  # (T,) code points
        at = np.minimum(np.searchsorted(self._codes, q), len(self._codes) - 1)
        return np.where(self._codes[at] == q, self._order[at], len(self.vocab)).astype(np.int64)

    # ---- the check

    def check(self, text: str) -> CopyReport:
        n, g = self.n, self.encode(text)
        count = len(g) - n + 1
        if count <= 0 or len(self.keys) == 0:
            return CopyReport(n, max(0, count), 0, 0, 0, 0, 0, ())
        mask = (np.uint64(1) << self.bits) - np.uint64(1)
        h = ngram_hashes(g, n)  # (count,)
        h >>= self.bits
        h <<= self.bits
        order = np.argsort(h)  # sorted needles walk the index in order: far fewer cache misses
        lo, hi = np.empty(count, np.int64), np.empty(count, np.int64)
        lo[order] = np.searchsorted(self.keys, h[order], side="left")  # (count,) the range of equal hashes
        hi[order] = np.searchsorted(self.keys, h[order] | mask, side="right")
        hit = hi > lo
        # verify the first occurrence of every hit against the text (vectorised), then the rare rest
        first = (np.asarray(self.keys[np.minimum(lo, len(self.keys) - 1)]) & mask).astype(np.int64)
        cols = np.arange(n)
        same = (self.train[first[:, None] + cols] == g[np.arange(count)[:, None] + cols]).all(axis=1) & hit
        for i in np.flatnonzero(hit & ~same).tolist():  # a hash collision took the first slot: look at the others
            same[i] = bool(self._occurrences(g, i, lo[i], hi[i]).size)
        starts = np.flatnonzero(same)
        spans = _runs(starts, n)
        longest, at, where = 0, 0, 0
        counts = hi - lo  # (count,) occurrences of each n-gram's hash range: an upper bound
        for a, end in sorted(spans, key=lambda s: s[0] - s[1]):  # a copied span lies inside one run
            if end - a <= longest:
                break  # runs come longest first: no later one can hold a longer span
            for i in range(a, end - n + 1):
                T = max(n, longest + 1)  # only a span of T or more characters from i can be longer
                if i + T > end:
                    break
                # any occurrence of g[i:i+T] holds one of its rarest n-gram at a fixed offset: only
                # those few positions need comparing (exact, and cheap where common n-grams abound)
                j = i + int(np.argmin(counts[i : i + T - n + 1]))
                cand = self._occurrences(g, j, lo[j], hi[j]) - (j - i)
                cand = cand[(cand >= 0) & (cand + T <= len(self.train))]
                if not cand.size:
                    continue
                cand = cand[(self.train[cand[:, None] + np.arange(T)] == g[i : i + T]).all(axis=1)]
                if cand.size:
                    length, p = self._extend(g, i, end, cand, T)
                    longest, at, where = length, i, p
        line = int(np.searchsorted(self.newlines, where)) + 1 if longest else 0
        return CopyReport(n, count, int(starts.size), longest, at, where, line, tuple(spans))

    def _occurrences(self, g: np.ndarray, i: int, lo: int, hi: int) -> np.ndarray:
        """Positions in the training text where the n-gram at g[i] really occurs (verified)."""
        pos = (np.asarray(self.keys[lo:hi]) & ((np.uint64(1) << self.bits) - np.uint64(1))).astype(np.int64)
        win = self.train[pos[:, None] + np.arange(self.n)]  # (K, n)
        return pos[(win == g[i : i + self.n]).all(axis=1)]

    def _extend(self, g: np.ndarray, i: int, end: int, occ: np.ndarray, length: int) -> tuple[int, int]:
        """The longest match of g[i:end] at any of occ, all known to match `length` characters:
        (length, position), compared in blocks that double from 16 characters."""
        best, where = length, int(occ[0])
        alive, block = occ, 16
        N = len(self.train)
        while alive.size and i + length < end:
            w = min(block, end - i - length)
            block = min(2 * block, 1024)
            idx = alive[:, None] + length + np.arange(w)  # (K, w)
            ok = idx < N
            eq = (self.train[np.minimum(idx, N - 1)] == g[i + length : i + length + w]) & ok
            run = np.where(eq.all(axis=1), w, np.argmin(eq, axis=1))  # matched chars per occurrence
            k = int(np.argmax(run))
            if length + run[k] > best:
                best, where = length + int(run[k]), int(alive[k])
            alive = alive[run == w]
            length += w
        return best, where


def _save(folder: Path, arrays: tuple[tuple[Path, np.ndarray], ...]) -> None:
    """Write each array atomically (a temp file, then a rename: a killed build leaves no half file); on an
    OS error (a cache path that is not a folder, read-only, full) remove the temp file and warn once."""
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for f, arr in arrays:
            tmp = f.with_name(f"{f.name}.tmp{os.getpid()}.npy")
            np.save(tmp, arr)
            os.replace(tmp, f)
    except OSError as e:
        if tmp is not None:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
        warn_uncached(folder, "the copy-check index", "built again", e)


def _runs(starts: np.ndarray, n: int) -> list[tuple[int, int]]:
    """Consecutive copied n-gram starts -> merged [start, end) character spans."""
    if starts.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(starts) > 1)
    firsts = np.concatenate([[starts[0]], starts[breaks + 1]])
    lasts = np.concatenate([starts[breaks], [starts[-1]]])
    return [(int(a), int(b) + n) for a, b in zip(firsts, lasts)]
