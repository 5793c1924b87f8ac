"""Corpus loading, the character vocabulary, the train/val split and the batch streams."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rnntui.core.config import RnntuiError
from rnntui.core.units import bits_per_char  # noqa: F401 (re-exported: the engine imports it from here)


class CorpusError(RnntuiError):
    """The text cannot be used; the message is one line naming the file and the reason."""


# -----------------------------------------------------------------------------
# reading text


def read_text(path: str | os.PathLike) -> str:
    """Read a UTF-8 text file (BOM accepted, CRLF normalised) or raise CorpusError."""
    p = Path(path)
    if not p.exists():
        raise CorpusError(f"{p}: no such file")
    if p.is_dir():
        raise CorpusError(f"{p}: is a directory, not a text file")
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise CorpusError(f"{p}: cannot read ({e.strerror or e})") from None
    if not raw:
        raise CorpusError(f"{p}: file is empty")
    if b"\x00" in raw:
        raise CorpusError(f"{p}: not a text file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CorpusError(f"{p}: not UTF-8 text (undecodable byte at offset {e.start})") from None
    del raw
    return text.replace("\r\n", "\n").replace("\r", "\n")


# -----------------------------------------------------------------------------
# vocabulary and encoding


class Vocab:
    """The sorted set of characters; ids are positions in that string."""

    def __init__(self, chars: str):
        self.chars = chars
        self.index = {c: i for i, c in enumerate(chars)}
        self._codes = np.array([ord(c) for c in chars], dtype=np.uint32)

    @classmethod
    def from_text(cls, text: str) -> "Vocab":
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
        ids, skipped = [], []
        for c in text:
            if c in self.index:
                ids.append(self.index[c])
            else:
                skipped.append(c)
        return ids, "".join(dict.fromkeys(skipped))

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


def load_corpus(name: str, val_frac: float = 0.1, vocab: Vocab | None = None) -> Corpus:
    """A built-in corpus by name, or any text file by path."""
    from rnntui.core.builtin import resolve_corpus  # builtin imports this module

    path = resolve_corpus(name)
    return corpus_from_text(str(path) if path.name != name else name, read_text(path), val_frac, vocab)


def check_windows(corpus: Corpus, seq_len: int, batch_size: int) -> None:
    """Both splits must hold at least one training window per stream."""
    need = seq_len + 1
    if len(corpus.train) < need or len(corpus.val) < need:
        raise CorpusError(
            f"{corpus.name}: too short ({len(corpus.data)} chars) for one training window of "
            f"{seq_len} chars with val-frac {corpus.val_frac}; use a longer text or a smaller --seq-len"
        )


# -----------------------------------------------------------------------------
# batch streams for truncated BPTT


class Streams:
    """The split cut into B contiguous streams, walked T steps at a time.

    Window k of every stream follows window k-1 directly, so the hidden state at the end of one window is
    the right initial state for the next one (truncated BPTT with carried state).
    """

    def __init__(self, data: np.ndarray, batch: int, seq_len: int, device: torch.device):
        batch = max(1, min(batch, len(data) // (seq_len + 1)))  # every stream holds >= one window
        length = len(data) // batch
        # kept in the corpus's compact dtype (uint8 for most texts); each window is widened on use
        cols = torch.from_numpy(np.ascontiguousarray(data[: batch * length]))
        self.streams = cols.view(batch, length).to(device)  # (B, L)
        self.batch, self.seq_len = batch, seq_len
        self.windows = (length - 1) // seq_len  # windows per epoch

    def window(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets of window k (mod one epoch): (B, T) each."""
        s = (k % self.windows) * self.seq_len
        chunk = self.streams[:, s : s + self.seq_len + 1].long()  # (B, T+1)
        return chunk[:, :-1], chunk[:, 1:]


