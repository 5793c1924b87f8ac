"""A corpus's baselines: the validation loss of models that only count, to read a network's loss against.

    b = baselines_for(corpus)            from the cache, else computed (seconds) and cached: the function
                                         the app runs in a worker thread
    b = baselines_within(corpus, 10.0)   the same, given up after 10 s (None): for the command line
    b = cached(fingerprint, val_frac)    the cache only (json, no fitting): what `rnntui runs` reads
    gain_line(b, 1.52)                   "vs best n-gram (5-gram 1.93): -0.41 nats/char"
    b.best -> (5, 1.93)   b.label -> "5-gram 1.93"   b.gain(1.52) -> -0.41   (b: a Baselines, figures.py)

Each figure is a mean cross-entropy in nats per character on the corpus's validation split, the split the
network is validated on (core/data/corpus.py with the run's val_frac): uniform (ln V), unigram (add-one
smoothing) and n-grams of orders 2 to 6 (interpolated modified Kneser-Ney, model.py), fitted on the
training split.

Bounded at any corpus size: the models are fitted on at most FIT_CHARS characters of the training split
(64 evenly spaced chunks when it is longer; no n-gram is counted across a chunk's edge) and scored on at
most EVAL_CHARS of the validation split (64 evenly spaced chunks, each with the 5 characters before it as
context). The result says so: fit_chars against train_chars, eval_chars against val_chars, `sampled`.

The cache: one small JSON file per corpus, split and bound, beside the encoded corpus (<cache dir>/corpora/
ngram-<corpus fingerprint>-<hash of val_frac, bounds and FORMAT>.json). The corpus fingerprint is the one
run.json records, so `runs` finds a run's baselines without reading its text. An entry is used only when it
is a regular file whose every field checks out and whose CRC-32 matches; anything else is ignored (and
rebuilt by baselines_for). A cache that cannot be written costs one warning line, never the figures.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnntui.core.analysis.ngram.figures import Baselines
from rnntui.core.data.builtin import cache_dir
from rnntui.core.data.cache import warn_uncached
from rnntui.core.runs.files import RunDirError, read_regular

if TYPE_CHECKING:  # numpy and the fitting code are imported only where the figures are computed
    import numpy as np

    from rnntui.core.analysis.ngram.model import NGramModel
    from rnntui.core.data.corpus import Corpus

FIT_CHARS = 4_000_000  # training characters the n-grams are fitted on, at most
EVAL_CHARS = 500_000  # validation characters they are scored on, at most (the closing validation's default)
CHUNKS = 64  # evenly spaced pieces a longer split is sampled in
FORMAT = 1  # bump when the entry's meaning or layout changes: older entries are then ignored
_FINGERPRINT = re.compile(r"[0-9a-f]{8,64}")  # corpus_fingerprint's form: anything else names no entry
_MAX_BYTES = 1 << 16


# -----------------------------------------------------------------------------
# the figures in a line (Baselines itself: figures.py)


def gain_line(b: Baselines, loss: float) -> str:
    """What `rnntui train` prints under the validation loss: "vs best n-gram (5-gram 1.93): -0.41 nats/char",
    saying when the n-grams saw a sample of the text only."""
    from rnntui.core.units import format_count

    order, best = b.best
    line = f"vs best n-gram ({order}-gram {best:.2f}): {loss - best:+.2f} nats/char"
    if b.sampled:
        line += (
            f" (n-grams fitted on {format_count(b.fit_chars)} of {format_count(b.train_chars)} training "
            f"chars, scored on {format_count(b.eval_chars)} of {format_count(b.val_chars)} validation chars)"
        )
    return line


def baselines_line(b: Baselines) -> str:
    """All the figures in one line: "baselines (nats/char): uniform 4.17, unigram 3.35, 2-gram 2.48, ..."."""
    grams = ", ".join(f"{order}-gram {loss:.2f}" for order, loss in b.ngram)
    return f"baselines (nats/char): uniform {b.uniform:.2f}, unigram {b.unigram:.2f}, {grams}"


# -----------------------------------------------------------------------------
# the cache: one JSON file per corpus, split and bound


def entry(fingerprint: str, val_frac: float, fit_bound: int = FIT_CHARS, eval_bound: int = EVAL_CHARS) -> Path | None:
    """The cache file of these baselines; None for a fingerprint that is not one (a run.json edited by hand)."""
    if not isinstance(fingerprint, str) or not _FINGERPRINT.fullmatch(fingerprint):
        return None
    split = hashlib.sha256(repr((float(val_frac), fit_bound, eval_bound, FORMAT)).encode()).hexdigest()[:12]
    return cache_dir() / "corpora" / f"ngram-{fingerprint}-{split}.json"


def _crc(d: dict[str, Any]) -> int:
    return zlib.crc32(json.dumps(d, sort_keys=True).encode("utf-8"))


def cached(
    fingerprint: str, val_frac: float, fit_bound: int = FIT_CHARS, eval_bound: int = EVAL_CHARS
) -> Baselines | None:
    """The cached baselines of a corpus's split, or None (none yet, or an entry that does not check out).
    Never computes, never raises, never blocks on a FIFO: cheap enough for every row of `rnntui runs`."""
    try:
        path = entry(fingerprint, val_frac, fit_bound, eval_bound)
        if path is None or not path.exists():
            return None
        d = json.loads(read_regular(path, _MAX_BYTES).decode("utf-8"))
        if not isinstance(d, dict) or d.pop("format", None) != FORMAT or d.pop("crc32", None) != _crc(d):
            return None
        b = Baselines.from_json(d)
        same = (b.fingerprint, b.val_frac, b.fit_bound, b.eval_bound) == (
            fingerprint,
            float(val_frac),
            fit_bound,
            eval_bound,
        )
    except (OSError, RunDirError, ValueError, TypeError, KeyError):  # unreadable, not JSON, a field wrong
        return None
    return b if same else None


def save(b: Baselines) -> bool:
    """Write the entry atomically; on an OS error (read-only, full, not a folder) warn once and go on."""
    path = entry(b.fingerprint, b.val_frac, b.fit_bound, b.eval_bound)
    if path is None:
        return False
    from rnntui.core.runs.files import remove_stale_temps

    d = b.to_json()
    body = json.dumps({"format": FORMAT, **d, "crc32": _crc(d)}, indent=1)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}-{threading.get_ident()}")  # the app and a CLI at once
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(path.parent, f".{path.name}.tmp*")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(body)
        os.replace(tmp, path)
        return True
    except OSError as e:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        warn_uncached(path.parent, "the n-gram baselines", "computed again", e)
        return False


# -----------------------------------------------------------------------------
# computing them


def spread(n: int, bound: int, pieces: int = CHUNKS) -> list[tuple[int, int]]:
    """[start, stop) spans covering all of n characters, or `pieces` evenly spaced ones totalling ~bound."""
    if n <= bound:
        return [(0, n)]
    size = max(1, bound // pieces)
    starts = [round(i * (n - size) / (pieces - 1)) for i in range(pieces)] if pieces > 1 else [0]
    return [(s, s + size) for s in starts]


def _gather(ids: np.ndarray, spans: list[tuple[int, int]], context: int = 0):
    """(ids (M,), bounds (S+1,), scored (M,) bool): the spans one after another, each with up to
    `context` characters before it that give context but are not scored."""
    import numpy as np

    parts, bounds, scored = [], [0], []
    for s, e in spans:
        c = max(0, s - context)
        parts.append(np.asarray(ids[c:e]))  # the corpus's dtype: uint8 for <= 256 characters
        bounds.append(bounds[-1] + e - c)
        scored.append(np.arange(e - c) >= s - c)
    return np.concatenate(parts), np.array(bounds, np.int64), np.concatenate(scored)


def fit_corpus(corpus: Corpus, fit_bound: int = FIT_CHARS) -> NGramModel:
    """The n-gram models of a corpus's training split (orders 2..6, on the bounded sample): for scoring a
    text character by character (model.log_probs), as the inspector's comparison does."""
    from rnntui.core.analysis.ngram.model import MAX_ORDER, fit

    ids, bounds, _ = _gather(corpus.train, spread(len(corpus.train), fit_bound))  # (M,), (S+1,)
    return fit(ids, len(corpus.vocab), MAX_ORDER, bounds)


def compute(corpus: Corpus, fingerprint: str, fit_bound: int = FIT_CHARS, eval_bound: int = EVAL_CHARS) -> Baselines:
    """The figures, computed now (a few seconds for the default bounds; nothing cached)."""
    from rnntui.core.analysis.ngram.model import MAX_ORDER, fit, uniform_loss, unigram_loss

    t0 = time.perf_counter()
    train, val, V = corpus.train, corpus.val, len(corpus.vocab)
    fit_ids, fit_bounds, _ = _gather(train, spread(len(train), fit_bound))  # (M,), (S+1,)
    model = fit(fit_ids, V, MAX_ORDER, fit_bounds)
    ids, bounds, scored = _gather(val, spread(len(val), eval_bound), context=MAX_ORDER - 1)  # (E,) ...
    losses = model.cross_entropies(ids, bounds, scored)
    return Baselines(
        fingerprint=fingerprint,
        val_frac=float(corpus.val_frac),
        fit_bound=fit_bound,
        eval_bound=eval_bound,
        vocab=V,
        uniform=uniform_loss(V),
        unigram=unigram_loss(fit_ids, ids[scored], V),
        ngram=tuple(losses.items()),
        train_chars=len(train),
        fit_chars=model.chars,
        val_chars=len(val),
        eval_chars=int(scored.sum()),
        seconds=round(time.perf_counter() - t0, 3),
    )


def baselines_for(corpus: Corpus, fit_bound: int = FIT_CHARS, eval_bound: int = EVAL_CHARS) -> Baselines:
    """A corpus's baselines from the cache, else computed and cached: once per corpus, split and bound.
    Safe to run in a worker thread (numpy only; the corpus is only read)."""
    from rnntui.core.data.corpus import corpus_fingerprint

    fp = corpus_fingerprint(corpus)
    hit = cached(fp, corpus.val_frac, fit_bound, eval_bound)
    if hit is not None:
        return hit
    b = compute(corpus, fp, fit_bound, eval_bound)
    save(b)
    return b


def cached_for(corpus: Corpus, fit_bound: int = FIT_CHARS, eval_bound: int = EVAL_CHARS) -> Baselines | None:
    """A loaded corpus's baselines from the cache only."""
    from rnntui.core.data.corpus import corpus_fingerprint

    return cached(corpus_fingerprint(corpus), corpus.val_frac, fit_bound, eval_bound)


def baselines_within(
    corpus: Corpus,
    seconds: float,
    stop: threading.Event | None = None,
    fit_bound: int = FIT_CHARS,
    eval_bound: int = EVAL_CHARS,
) -> Baselines | None:
    """baselines_for, waited on for at most `seconds` or until `stop` is set: None then, or when it fails
    (the computation goes on in a daemon thread and caches its figures if the process lives long enough)."""
    hit = cached_for(corpus, fit_bound, eval_bound)
    if hit is not None:
        return hit
    box: dict[str, Baselines] = {}

    def body() -> None:
        try:
            box["b"] = baselines_for(corpus, fit_bound, eval_bound)
        except (MemoryError, ValueError, OSError):  # never worth a traceback after a finished run
            pass

    t = threading.Thread(target=body, name="rnntui-ngram", daemon=True)
    t.start()
    deadline = time.monotonic() + seconds
    while t.is_alive() and time.monotonic() < deadline and not (stop is not None and stop.is_set()):
        t.join(min(0.1, max(0.0, deadline - time.monotonic())))
    return box.get("b")
