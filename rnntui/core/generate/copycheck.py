"""Memorisation check: how much of a generated text occurs verbatim in the training text, and how novel
its substrings are by length.

Both questions are answered by one index, the suffix array of the training text (suffixes.py): for every
start i of the generated text, m[i] is the longest prefix of text[i:] that occurs in the training text,
up to DEPTH (64) characters, from one binary search per start (all starts at once). The n-gram at i is
copied when m[i] >= n; the novelty curve (novelty.py) counts m[i] < L for every length L. A copied span
longer than DEPTH is followed up in the text (longest.py).

Built once per corpus (n is a parameter of the check, not of the index) and cached in the cache
directory keyed by the corpus file's version as the corpus cache keys it (data/read.py file_key: path,
size, mtime, ctime, inode) and the validation fraction. A cache that cannot be written (read-only, not a
folder, full) costs one warning line, never the check; a cache file that is damaged (unreadable, the
wrong shape, out of order where sampled) is rebuilt. Memory: 4 bytes per training character (int32
positions, memory-mapped from the cache), beside the training text's ids.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import astuple, dataclass
from pathlib import Path

import numpy as np

from rnntui.core.config import ConfigError
from rnntui.core.data.cache import warn_uncached
from rnntui.core.data.corpus import Corpus, Vocab, load_corpus
from rnntui.core.data.read import file_key
from rnntui.core.generate.longest import copied_spans, longest_copy
from rnntui.core.generate.novelty import NoveltyCurve, RunningNovelty, novelty_curve
from rnntui.core.generate.suffixes import (
    DEPTH,
    build_bytes,
    compare,
    libdivsufsort,
    match_lengths,
    rows,
    suffix_array,
)
from rnntui.core.model.memory import host_available_bytes

DEFAULT_N = 8
FORMAT = 2  # bumped when the index layout changes, so old cache files are not read (1: hashed n-grams)
SAMPLED = 1024  # adjacent pairs of a cached suffix array checked for order before it is trusted


# -----------------------------------------------------------------------------
# the result


@dataclass(frozen=True)
class CopyReport:
    n: int  # n-gram length used
    ngrams: int  # n-grams in the generated text
    copied: int  # of them, how many occur verbatim in the training text
    longest: int  # length in characters of the longest copied span (0: none of n or more)
    longest_at: int  # where it starts in the generated text
    corpus_at: int  # where it first occurs in the training text (character offset)
    corpus_line: int  # the line of the training text it starts on (1-based)
    spans: tuple[tuple[int, int], ...]  # [start, end) stretches of the generated text made of copied n-grams
    novelty: NoveltyCurve | None = None  # share of novel substrings by length (None: not measured)

    @property
    def share(self) -> float:
        return self.copied / self.ngrams if self.ngrams else 0.0

    def summary(self) -> str:
        head = f"copied {self.share:.0%} of {self.ngrams:,} {self.n}-grams"
        if not self.longest:
            return head + "; no span of the training text"
        return (
            f"{head}; longest copied span {self.longest:,} chars at {self.longest_at:,} "
            f"(training text line {self.corpus_line:,}, offset {self.corpus_at:,})"
        )


# -----------------------------------------------------------------------------
# the index


class CopyIndex:
    def __init__(
        self,
        train: np.ndarray,
        vocab: Vocab,
        n: int = DEFAULT_N,
        sa: np.ndarray | None = None,
        newlines: np.ndarray | None = None,
    ) -> None:
        self.train, self.vocab, self.n = train, vocab, _checked(n)  # (N,) character ids of the training text
        self.sa = suffix_array(train) if sa is None else sa  # (N,) int32/int64 suffix positions, sorted
        nl = vocab.index.get("\n")
        self.newlines = (
            (np.flatnonzero(train == nl) if nl is not None else np.zeros(0, np.int64)) if newlines is None else newlines
        )  # offsets of the line breaks, for line numbers

    @classmethod
    def from_text(cls, text: str, n: int = DEFAULT_N) -> CopyIndex:
        vocab = Vocab.from_text(text)
        return cls(vocab.encode(text), vocab, n)

    @classmethod
    def for_corpus(cls, name: str, val_frac: float = 0.1, n: int = DEFAULT_N, cache: Path | None = None) -> CopyIndex:
        """The index over a corpus's training split, from the cache when it is up to date."""
        from rnntui.core.data.builtin import cache_dir, resolve_corpus

        _checked(n)  # before reading the corpus
        path = resolve_corpus(name)
        if not path.is_file():
            raise ConfigError(f"{name}: the training corpus file is missing (needed for the copy check)")
        version = file_key(path)  # before reading: a file edited during the build misses this key next time
        corpus = load_corpus(name, val_frac)
        fields = (*astuple(version), val_frac, FORMAT)  # path, size, mtime, ctime, inode; split; layout
        key = hashlib.sha1("|".join(map(str, fields)).encode("utf-8", "surrogatepass"))
        folder = (cache or cache_dir()) / "copycheck"
        base = f"{path.stem[:40]}-{key.hexdigest()[:16]}"
        sf, nf = folder / f"{base}.sa.npy", folder / f"{base}.lines.npy"  # not with_suffix: a stem may hold dots
        index = cls._cached(corpus, n, sf, nf)
        if index is None:
            need, avail = build_bytes(corpus.train), host_available_bytes()
            if avail is not None and need > avail:
                raise ConfigError(
                    f"{name}: building the copy-check index needs about {need / 1e9:.1f} GB of memory "
                    f"and {avail / 1e9:.1f} GB is available" + _faster_builder(corpus.train)
                )
            index = cls(corpus.train, corpus.vocab, n)
            _save(folder, ((sf, index.sa), (nf, index.newlines)))
        return index

    @classmethod
    def _cached(cls, corpus: Corpus, n: int, sf: Path, nf: Path) -> CopyIndex | None:
        """The index from its cache files when both are there and plausible for this corpus."""
        if not (sf.is_file() and nf.is_file()):  # regular files only: a FIFO or folder there is not a cache
            return None
        try:
            sa = np.load(sf, mmap_mode="r", allow_pickle=False)
            lines = np.load(nf, allow_pickle=False)
        except (OSError, ValueError):
            return None  # a damaged cache file: rebuild it
        if sa.dtype not in (np.int32, np.int64) or sa.shape != (len(corpus.train),):
            return None
        if lines.ndim != 1 or lines.dtype.kind not in "iu" or not _looks_sorted(corpus.train, sa):
            return None
        return cls(corpus.train, corpus.vocab, n, sa, lines)

    def encode(self, text: str) -> np.ndarray:
        """Generated text -> ids; characters the corpus lacks get an id that matches nothing."""
        if not hasattr(self, "_codes"):  # the vocabulary's code points, sorted, and their ids
            codes = np.array([ord(c) for c in self.vocab.chars], dtype=np.uint32)
            self._order = np.argsort(codes)
            self._codes = codes[self._order]
        q = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)  # (T,) code points
        if not len(self._codes):
            return np.full(len(q), len(self.vocab), np.int64)
        at = np.minimum(np.searchsorted(self._codes, q), len(self._codes) - 1)
        return np.where(self._codes[at] == q, self._order[at], len(self.vocab)).astype(np.int64)

    # ---- the checks

    def match(self, text: str) -> np.ndarray:
        """(T,) for every start i of text: the longest prefix of text[i:] found in the training text (<= 64)."""
        return match_lengths(self.train, self.sa, self.encode(text))[0]

    def novelty(self, text: str) -> NoveltyCurve:
        """The share of text's substrings of each length 1..64 that occur nowhere in the training text."""
        return novelty_curve(self.match(text))

    def running_novelty(self) -> RunningNovelty:
        """The curve of a text that grows, measured as it grows (novelty.RunningNovelty)."""
        return RunningNovelty(self.match)

    def check(self, text: str) -> CopyReport:
        """Copied n-grams, the longest copied span, and the novelty curve, from one search per start."""
        n, g = self.n, self.encode(text)
        m, _, p = match_lengths(self.train, self.sa, g)  # (T,) longest match from each start, <= DEPTH
        curve = novelty_curve(m)
        count = len(g) - n + 1
        if count <= 0:
            return CopyReport(n, max(0, count), 0, 0, 0, 0, 0, (), curve)
        starts = np.flatnonzero(m[:count] >= n)  # the n-gram at i occurs iff the match from i is n or more
        spans = copied_spans(starts, n)
        longest, at, where = longest_copy(self.train, self.sa, g, m, p)
        if longest < n:
            longest, at, where = 0, 0, 0
        line = int(np.searchsorted(self.newlines, where)) + 1 if longest else 0
        return CopyReport(n, count, int(starts.size), longest, at, where, line, tuple(spans), curve)


def _checked(n: int) -> int:
    if not 1 <= n <= DEPTH:  # the index measures matches up to DEPTH characters
        raise ConfigError(f"n-gram length must be 1-{DEPTH}, not {n}")
    return n


def _looks_sorted(train: np.ndarray, sa: np.ndarray) -> bool:
    """A cached suffix array, sampled: SAMPLED adjacent pairs of distinct positions in the text, in order."""
    if len(sa) < 2:
        return len(sa) == 0 or int(sa[0]) == 0
    j = np.unique(np.linspace(0, len(sa) - 2, num=min(SAMPLED, len(sa) - 1)).astype(np.int64))
    x, y = np.asarray(sa[j], np.int64), np.asarray(sa[j + 1], np.int64)
    if not ((x >= 0) & (x < len(train)) & (y >= 0) & (y < len(train)) & (x != y)).all():
        return False
    _, sign = compare(train, x, rows(train, y, DEPTH, -1), np.full(len(j), DEPTH))
    return bool((sign <= 0).all())


def _faster_builder(train: np.ndarray) -> str:
    """The hint after a refusal for memory: libdivsufsort needs a quarter of numpy's."""
    if train.dtype != np.uint8 or libdivsufsort() is not None:
        return ""
    return "; pip install 'rnntui[index]' (libdivsufsort) builds it in about 5 bytes per character"


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
