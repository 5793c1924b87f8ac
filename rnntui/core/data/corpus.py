"""Corpus loading, the character vocabulary, the train/val split, and the fingerprint that identifies a text.

A corpus file is streamed (read.py) in two bounded passes, one for the vocabulary and one for the
ids, so loading a file of N bytes needs about N bytes of ids (4N beyond 256 distinct characters) and a
few MB more; the ids are then cached as a memory-mapped .npy (cache.py) so the next start reads none
of the text. This module does not import torch: the batch streams live in `streams`.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnntui.core import events as ev
from rnntui.core.data import cache as corpus_cache
from rnntui.core.data.builtin import resolve_corpus
from rnntui.core.data.read import CorpusError, Progress, changed, check_memory, codes, decode, file_key, pieces

__all__ = [
    "CorpusError",
    "Vocab",
    "Corpus",
    "CorpusInfo",
    "read_text",
    "corpus_from_text",
    "corpus_fingerprint",
    "load_corpus",
    "load_with_progress",
    "corpus_info",
    "check_windows",
    "bits_per_char",
]
from rnntui.core.units import bits_per_char, unknown_chars  # bits_per_char: re-exported

# -----------------------------------------------------------------------------
# reading text


def read_text(path: str | os.PathLike) -> str:
    """Read a UTF-8 text file (BOM accepted, CRLF normalised) or raise CorpusError. For short texts."""
    p = Path(path)
    key = file_key(p)
    return "".join(decode(p, piece, offset) for piece, offset in pieces(p, key))


# -----------------------------------------------------------------------------
# vocabulary and encoding


class Vocab:
    """The sorted set of characters; ids are positions in that string."""

    def __init__(self, chars: str):
        self.chars = chars
        self.index = {c: i for i, c in enumerate(chars)}
        self._codes = np.array([ord(c) for c in chars], dtype=np.uint32)

    @classmethod
    def from_text(cls, text: str) -> Vocab:
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, ch: str) -> bool:
        return ch in self.index

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8 if len(self.chars) <= 256 else np.int32)

    def encode(self, text: str) -> np.ndarray:
        """Vectorised: one utf-32 view of the text, one searchsorted. Raises KeyError on unknown chars."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        ids = np.searchsorted(self._codes, codes)
        ids = np.minimum(ids, len(self._codes) - 1)
        if not np.array_equal(self._codes[ids], codes):
            bad = next(c for c in text if c not in self.index)
            raise KeyError(bad)
        return ids.astype(self.dtype)

    def encode_known(self, text: str) -> tuple[list[int], str]:
        """Encode, skipping characters outside the vocabulary; returns (ids, skipped characters)."""
        return [self.index[c] for c in text if c in self.index], unknown_chars(self.index, text)

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


# -----------------------------------------------------------------------------
# a corpus: encoded once into a compact array, split contiguously


@dataclass
class Corpus:
    name: str  # what the user typed: a built-in name or a path
    vocab: Vocab
    data: np.ndarray  # (N,) uint8/int32 character ids of the whole text
    val_frac: float

    @property
    def n_val(self) -> int:
        return max(1, int(len(self.data) * self.val_frac))

    @property
    def train(self) -> np.ndarray:
        return self.data[: len(self.data) - self.n_val]

    @property
    def val(self) -> np.ndarray:
        return self.data[len(self.data) - self.n_val :]

    def preview(self, n: int = 400) -> str:
        return self.vocab.decode(self.data[:n])


def corpus_from_text(name: str, text: str, val_frac: float = 0.1, vocab: Vocab | None = None) -> Corpus:
    """Encode text. With a fixed vocab (a resumed run), unknown characters are an error."""
    if not text:
        raise CorpusError(f"{name}: file is empty")
    vocab = vocab or Vocab.from_text(text)
    try:
        data = vocab.encode(text)
    except KeyError as e:
        raise CorpusError(f"{name}: character {e.args[0]!r} is not in the checkpoint's vocabulary") from None
    return Corpus(name=name, vocab=vocab, data=data, val_frac=val_frac)


def corpus_fingerprint(corpus: Corpus) -> str:
    """A content hash of the encoded corpus: its vocabulary, its length and 64 blocks spread over it.

    Cheap at any size (at most 256 KB are read), and it tells apart two texts that share a vocabulary."""
    ids = corpus.data
    h = hashlib.sha256(corpus.vocab.chars.encode("utf-8"))
    h.update(str(len(ids)).encode())
    for start in np.linspace(0, max(0, len(ids) - 4096), num=64, dtype=np.int64):
        h.update(np.ascontiguousarray(ids[start : start + 4096]).tobytes())
    return h.hexdigest()[:16]


# -----------------------------------------------------------------------------
# loading a file: two streamed passes, then the cache


def encode_file(p: Path, progress: Progress | None = None) -> tuple[str, np.ndarray]:
    """(vocabulary chars, ids) of a text file: from the cache when it holds this version of the file,
    else streamed in two passes and cached. `progress(done, total)` counts bytes over both passes
    (total = twice the file's size) and is not called on a cache hit, which reads no text."""
    key = file_key(p)
    hit = corpus_cache.load(key)
    if hit is not None:
        return hit
    check_memory(p, key.size, key.size, 1)  # up front: one byte of ids per byte of text (checked again below)
    # pass 1: which characters occur, and how many characters there are
    seen, n = np.zeros(0x110000, dtype=bool), 0  # one flag per Unicode code point
    for piece, offset in pieces(p, key, progress, 0, 2 * key.size):
        c = codes(p, piece, offset)  # (n,) code points
        counts = np.bincount(c)  # (max code + 1,): faster than seen[c] = True, and as small
        seen[: len(counts)] |= counts > 0
        n += len(c)
    chars = "".join(map(chr, np.flatnonzero(seen)))
    if n == 0:
        raise CorpusError(f"{p}: file is empty")
    vocab = Vocab(chars)
    check_memory(p, key.size, n, vocab.dtype.itemsize)
    # pass 2: code point -> id through one lookup table, written straight into the ids
    lut = np.zeros(0x110000, dtype=vocab.dtype)  # (0x110000,)
    lut[vocab._codes] = np.arange(len(vocab), dtype=vocab.dtype)
    ids, at = np.empty(n, dtype=vocab.dtype), 0  # (N,)
    for piece, offset in pieces(p, key, progress, key.size, 2 * key.size):
        c = codes(p, piece, offset)
        if at + len(c) > n:
            raise changed(p, key.size, file_key(p).size)
        np.take(lut, c, out=ids[at : at + len(c)], mode="clip")  # clip: no bounds pass (codes < 0x110000)
        at += len(c)
    after = file_key(p)
    if at != n or after != key:  # a rewrite of the same size still moves the mtime and ctime
        raise changed(p, key.size, after.size)
    corpus_cache.save(key, chars, ids)
    return chars, ids


def _recode(name: str, ids: np.ndarray, own: Vocab, target: Vocab) -> np.ndarray:
    """Ids under the file's own vocabulary -> ids under a checkpoint's; unknown characters are an error."""
    missing = np.array([ch not in target for ch in own.chars])  # (V_own,)
    if missing.any():
        step = 1 << 24
        for s in range(0, len(ids), step):  # the first unknown one in text order, as the message says
            hits = np.flatnonzero(missing[ids[s : s + step]])
            if len(hits):
                bad = own.chars[int(ids[s + hits[0]])]
                raise CorpusError(f"{name}: character {bad!r} is not in the checkpoint's vocabulary")
    lut = np.array([target.index[ch] for ch in own.chars], dtype=target.dtype)  # (V_own,)
    check_memory(Path(name), len(ids), len(ids), target.dtype.itemsize)
    return lut[ids]


def load_corpus(
    name: str, val_frac: float = 0.1, vocab: Vocab | None = None, progress: Progress | None = None
) -> Corpus:
    """A built-in corpus by name, or any text file by path, encoded in bounded memory (see encode_file).

    With a fixed vocab (a resumed run), characters outside it are an error. `progress(bytes_done,
    bytes_total)` is called after every chunk read (both passes: total is twice the file's size).
    """
    path = resolve_corpus(name)
    label = str(path) if path.name != name else name
    chars, ids = encode_file(path, progress)
    if vocab is None:
        vocab = Vocab(chars)
    elif vocab.chars != chars:
        ids = _recode(label, ids, Vocab(chars), vocab)
    return Corpus(name=label, vocab=vocab, data=ids, val_frac=val_frac)


LOADING_EVERY_S = 0.25  # progress events of a long corpus load


def load_with_progress(name: str, val_frac: float, vocab: Vocab | None) -> Generator[ev.Event, None, Corpus]:
    """load_corpus in a helper thread, yielding Loading(bytes done, bytes total) while it reads: a first
    load of a large file takes a while, a cached one none."""
    box: dict = {}
    seen = [0, 0]

    def body() -> None:
        try:
            box["corpus"] = load_corpus(
                name, val_frac, vocab=vocab, progress=lambda d, t: seen.__setitem__(slice(None), [d, t])
            )
        except BaseException as e:  # re-raised in the generator's thread
            box["error"] = e

    t = threading.Thread(target=body, name="rnntui-load", daemon=True)
    t.start()
    while t.is_alive():
        t.join(LOADING_EVERY_S)
        if t.is_alive() and seen[1]:
            yield ev.Loading(seen[0], seen[1])
    if "error" in box:
        raise box["error"]
    return box["corpus"]


@dataclass(frozen=True)
class CorpusInfo:
    """What the setup screen and `rnntui corpora` show about a corpus, without keeping its ids."""

    name: str  # as load_corpus names it
    path: Path  # the file
    chars: int  # characters in the whole text
    vocab: int  # distinct characters
    n_train: int  # characters in the training split
    n_val: int  # characters in the validation split
    preview: str  # the first characters of the text


def corpus_info(
    name: str, val_frac: float = 0.1, progress: Progress | None = None, preview_chars: int = 600
) -> CorpusInfo:
    """Statistics of a corpus through the cache: a first call encodes it (bounded), later ones are instant."""
    c = load_corpus(name, val_frac, progress=progress)
    return CorpusInfo(
        c.name, resolve_corpus(name), len(c.data), len(c.vocab), len(c.train), len(c.val), c.preview(preview_chars)
    )


def check_windows(corpus: Corpus, seq_len: int, batch_size: int) -> None:
    """Both splits must hold at least one training window per stream."""
    need = seq_len + 1
    if len(corpus.train) < need or len(corpus.val) < need:
        raise CorpusError(
            f"{corpus.name}: too short ({len(corpus.data)} chars) for one training window of "
            f"{seq_len} chars with val-frac {corpus.val_frac}; use a longer text or a smaller --seq-len"
        )
