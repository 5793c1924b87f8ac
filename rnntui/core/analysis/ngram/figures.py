"""A corpus's n-gram baselines as one frozen record (Baselines): the figures, what follows from them
(the best order, a chart's label, a network's gain), and their JSON form, every field checked on reading.

    b.best -> (5, 1.93)   b.label -> "5-gram 1.93"   b.gain(1.52) -> -0.41 (the network's loss minus it)

baselines.py computes, caches and prints them. Stdlib only: `rnntui runs` reads them without numpy.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

METHOD = "interpolated modified Kneser-Ney"


@dataclass(frozen=True)
class Baselines:
    fingerprint: str  # corpus_fingerprint of the text (vocabulary, length, 64 blocks of ids)
    val_frac: float  # the validation split the figures are for
    fit_bound: int  # FIT_CHARS when computed: part of the cache key
    eval_bound: int  # EVAL_CHARS when computed: part of the cache key
    vocab: int  # V, characters in the vocabulary
    uniform: float  # ln V, nats/char
    unigram: float  # add-one unigram, nats/char
    ngram: tuple[tuple[int, float], ...]  # (order, validation loss) for orders 2..6, nats/char
    train_chars: int  # characters in the training split
    fit_chars: int  # of them, how many the models were fitted on
    val_chars: int  # characters in the validation split
    eval_chars: int  # of them, how many were scored
    seconds: float  # time the computation took
    method: str = METHOD  # the n-grams' smoothing

    @property
    def sampled(self) -> bool:
        """Fitted or scored on a sample of a split rather than all of it."""
        return self.fit_chars < self.train_chars or self.eval_chars < self.val_chars

    @property
    def best(self) -> tuple[int, float]:
        """(order, loss) of the n-gram with the lowest validation loss."""
        return min(self.ngram, key=lambda ol: (ol[1], ol[0]))

    @property
    def label(self) -> str:
        """What a reference line on a loss chart says: "5-gram 1.93"."""
        order, loss = self.best
        return f"{order}-gram {loss:.2f}"

    def gain(self, loss: float) -> float:
        """A network's loss minus the best n-gram's: negative when the network predicts better."""
        return loss - self.best[1]

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["ngram"] = [list(p) for p in self.ngram]
        return d

    @classmethod
    def from_json(cls, d: Any) -> Baselines:
        """Every field checked: ValueError naming the first that does not hold."""
        if not isinstance(d, dict) or set(d) != {f.name for f in fields(cls)}:
            raise ValueError("not a baselines object")
        for name in ("fit_bound", "eval_bound", "vocab", "train_chars", "fit_chars", "val_chars", "eval_chars"):
            if type(d[name]) is not int or d[name] < 0:
                raise ValueError(f"{name} is not a count")
        for name in ("val_frac", "uniform", "unigram", "seconds"):
            if type(d[name]) not in (int, float) or not math.isfinite(d[name]) or d[name] < 0:
                raise ValueError(f"{name} is not a number")
        pairs = d["ngram"]
        if not (
            isinstance(pairs, list)
            and pairs
            and all(
                isinstance(p, list)
                and len(p) == 2
                and type(p[0]) is int
                and type(p[1]) in (int, float)
                and math.isfinite(p[1])
                and p[1] > 0
                for p in pairs
            )
        ):
            raise ValueError("ngram is not a list of (order, loss)")
        if not (isinstance(d["fingerprint"], str) and isinstance(d["method"], str)) or d["vocab"] < 1:
            raise ValueError("fingerprint, method or vocab")
        return cls(
            **{
                **d,
                "ngram": tuple((p[0], float(p[1])) for p in pairs),
                **{k: float(d[k]) for k in ("val_frac", "uniform", "unigram", "seconds")},
            }
        )
