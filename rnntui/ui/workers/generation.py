"""Thread-worker bodies of the generation panel, and the messages they post back.

Sampling, beam search, building a step-mode stepper and the copy check run in Textual thread workers
(torch and the weights copy stay off the UI thread); results come back only through post_message, as
plain strings, floats and frozen dataclasses. Every loop checks a stop Event: threads cannot be killed.

While a text streams in, the sampling worker also measures its novelty curve (core/generate/novelty.py)
at most every NOVELTY_UPDATE_S and once more when the pane is done, each time searching only what arrived
since (RunningNovelty). The corpus index it needs loads in a thread of its own, so the text never waits
for a first build; one index per corpus is kept for the process and shared with the copy check.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.message import Message

from rnntui.core.generate.settings import GenerationSettings

GEN_UPDATE_S = 0.05  # generated text reaches the screen in chunks at most every 50 ms per pane
BEAM_PROGRESS_S = 0.25  # a beam search's "n of N characters" is posted at most this often
NOVELTY_UPDATE_S = 0.5  # a streaming pane's novelty curve is measured at most this often (and when it is done)

SamplerFactory = Callable[[dict], Any]  # checkpoint dict -> object with .stream_scored(...)


def real_sampler(ckpt: dict) -> Any:
    from rnntui.core.generate.sampling import Sampler  # NumPy only, but keep the import off the UI's start-up

    return Sampler.from_checkpoint(ckpt)


# -----------------------------------------------------------------------------
# requests and messages


@dataclass(frozen=True)
class GenRequest:
    settings: GenerationSettings  # prime, top-k, length, seed, argmax (its temperature: see temperatures)
    temperatures: tuple[float, ...]  # one output pane per temperature, all from the same seed


@dataclass(frozen=True)
class Origin:
    step: int  # training step of the weights that generated
    corpus: str  # the training corpus (built-in name or path), "" when the checkpoint does not say
    val_frac: float  # its validation fraction: the copy check reads only the training split


@dataclass(frozen=True)
class BeamResult:
    text: str  # one beam's continuation
    probs: tuple[float, ...]  # the model's probability of each of its characters
    logprob: float  # total natural-log probability
    bits_per_char: float  # -logprob / ln 2 / length


class GenStarted(Message):
    def __init__(self, run: int, origin: Origin) -> None:
        super().__init__()
        self.run, self.origin = run, origin  # which generation; where its weights came from


class GenChunk(Message):
    """Generated text for one output pane, batched to bound the update rate."""

    def __init__(self, pane: int, run: int, text: str, probs: tuple[float, ...], done: bool = False) -> None:
        super().__init__()
        self.pane = pane  # which side-by-side pane the text belongs to
        self.run = run  # generation id, so chunks of a cancelled run are ignored
        self.text = text  # new characters since the previous chunk
        self.probs = probs  # the model's probability of each of them
        self.done = done  # True on the last chunk of the stream


class BeamDone(Message):
    def __init__(self, run: int, beams: tuple[BeamResult, ...]) -> None:
        super().__init__()
        self.run, self.beams = run, beams  # best first


class BeamProgress(Message):
    def __init__(self, run: int, width: int, done: int, total: int) -> None:
        super().__init__()
        self.run, self.width = run, width  # which generation; its beam width
        self.done, self.total = done, total  # characters searched so far, of the length asked for


class StepperReady(Message):
    def __init__(self, run: int, stepper: Any) -> None:
        super().__init__()
        self.run, self.stepper = run, stepper  # a core Stepper: NumPy state, no tensors


class NoveltyMeasured(Message):
    """A pane's novelty curve so far: plain floats, one per substring length."""

    def __init__(self, run: int, pane: int, fractions: tuple[float, ...], chars: int) -> None:
        super().__init__()
        self.run, self.pane = run, pane  # which generation (chunks' run id); which pane
        self.fractions = fractions  # [L-1]: share of the text's length-L substrings found nowhere in the corpus
        self.chars = chars  # characters measured (the pane's text so far)


class CopyChecked(Message):
    def __init__(self, run: int, pane: int, report: Any) -> None:
        super().__init__()
        self.run, self.pane = run, pane  # which check (the caller's count: an older one's report is dropped)
        self.report = report  # core CopyReport, or a line saying why the check could not run


# -----------------------------------------------------------------------------
# bodies


def _origin(ckpt) -> Origin:
    """Where the weights come from: a checkpoint dict, or a WeightsSnapshot of a live or finished run."""
    if isinstance(ckpt, dict):  # a checkpoint file's dict (a stand-in engine's may hold no config)
        cfg = ckpt.get("config") or {}
        return Origin(int(ckpt.get("step", 0) or 0), str(cfg.get("corpus") or ""), float(cfg.get("val_frac", 0.1)))
    return Origin(ckpt.step, ckpt.config.corpus, ckpt.config.val_frac)  # a WeightsSnapshot


def _weights(source: Callable[[], dict | None]) -> dict:
    ckpt = source()
    if ckpt is None:
        raise RuntimeError("no weights yet: wait for the first training step")
    return ckpt


def generate(
    post: Callable[[Message], object],
    source: Callable[[], dict | None],
    req: GenRequest,
    run: int,
    stop: threading.Event,
    factory: SamplerFactory | None = None,
) -> None:
    """Build a sampler from a fresh snapshot and stream each pane in turn, in bounded chunks; measure each
    pane's novelty as it grows."""
    ckpt = _weights(source)
    origin = _origin(ckpt)
    post(GenStarted(run, origin))
    index = _IndexLoader(origin)
    sampler = (factory or real_sampler)(ckpt)
    s = req.settings
    for pane, temperature in enumerate(req.temperatures):
        chars: list[str] = []
        probs: list[float] = []
        novelty = _PaneNovelty(index, post, run, pane)
        last = time.monotonic()
        for ch, p in sampler.stream_scored(
            prime=s.prime,
            temperature=temperature,
            top_k=s.top_k,
            length=s.length,
            seed=s.seed,
            argmax=s.argmax,
            stop=stop,
        ):
            chars.append(ch)
            probs.append(p)
            if time.monotonic() - last >= GEN_UPDATE_S:
                text = "".join(chars)
                post(GenChunk(pane, run, text, tuple(probs)))
                novelty.add(text)
                chars.clear()
                probs.clear()
                last = time.monotonic()
        text = "".join(chars)
        post(GenChunk(pane, run, text, tuple(probs), done=True))
        novelty.add(text, done=True)
        if stop.is_set():
            return


# -----------------------------------------------------------------------------
# the live novelty curve


_INDEX_LOCK = threading.Lock()  # one build at a time: the copy check and the live curve wait for the same one
_INDEX: dict[tuple, Any] = {}  # the last corpus index, by (corpus, validation fraction, file version)


def shared_index(origin: Origin) -> Any:
    """The copy-check index (CopyIndex) of origin's training split: built or loaded from the cache once,
    then kept for the process (the last corpus only) for every generation after it."""
    from rnntui.core.config import RnntuiError
    from rnntui.core.data.builtin import resolve_corpus
    from rnntui.core.data.read import file_key
    from rnntui.core.generate.copycheck import CopyIndex

    with _INDEX_LOCK:
        try:  # the file's version: an edited corpus is a new key (the disk cache keys it the same way)
            key = (origin.corpus, origin.val_frac, file_key(resolve_corpus(origin.corpus)))
        except (RnntuiError, OSError, ValueError):
            key = None  # a missing or unknown corpus: for_corpus says so in one line
        if key is not None and key in _INDEX:
            return _INDEX[key]
        index = CopyIndex.for_corpus(origin.corpus, origin.val_frac)
        _INDEX.clear()
        if key is not None:
            _INDEX[key] = index
        return index


class _IndexLoader:
    """shared_index in a daemon thread of its own, started at once: the stream goes on meanwhile, and the
    curve is measured from the first update after the index is there (the whole text so far then)."""

    def __init__(self, origin: Origin) -> None:
        self.index: Any = None  # the CopyIndex, once loaded
        if origin.corpus:  # no corpus named: no curve (the copy check says why)
            threading.Thread(target=self._load, args=(origin,), name="novelty-index", daemon=True).start()

    def _load(self, origin: Origin) -> None:
        try:
            self.index = shared_index(origin)
        except Exception:
            pass


class _PaneNovelty:
    """One pane's running curve: text is kept until the index is there, then measured at most every
    NOVELTY_UPDATE_S (and always when the pane is done)."""

    def __init__(self, loader: _IndexLoader, post: Callable[[Message], object], run: int, pane: int) -> None:
        self.loader, self.post, self.run, self.pane = loader, post, run, pane
        self.meter: Any = None  # core RunningNovelty, once the index is loaded
        self.pending: list[str] = []  # text not measured yet
        self.last = 0.0  # monotonic time of the last measurement

    def add(self, text: str, done: bool = False) -> None:
        self.pending.append(text)
        if not done and time.monotonic() - self.last < NOVELTY_UPDATE_S:
            return
        if self.meter is None:
            if self.loader.index is None:
                return
            self.meter = self.loader.index.running_novelty()
        curve = self.meter.extend("".join(self.pending))
        self.pending.clear()
        self.last = time.monotonic()
        self.post(NoveltyMeasured(self.run, self.pane, tuple(f for _, f in curve.points()), len(self.meter.text)))


def beam(
    post: Callable[[Message], object],
    source: Callable[[], dict | None],
    s: GenerationSettings,
    run: int,
    stop: threading.Event,
) -> None:
    """Beam search on a fresh snapshot (the real sampler: a fake one has no batched step)."""
    import math

    from rnntui.core.generate.beam import beam_search

    ckpt = _weights(source)
    post(GenStarted(run, _origin(ckpt)))
    next_at = time.monotonic() + BEAM_PROGRESS_S

    def progress(done: int, total: int) -> None:  # called after every character: a clock read, rarely a post
        nonlocal next_at
        if time.monotonic() >= next_at:
            next_at = time.monotonic() + BEAM_PROGRESS_S
            post(BeamProgress(run, s.beam_width, done, total))

    beams = beam_search(
        real_sampler(ckpt), s.prime, s.beam_width, s.length, s.length_norm, s.beam_stop, cancel=stop, progress=progress
    )
    if not stop.is_set():
        post(
            BeamDone(
                run,
                tuple(
                    BeamResult(b.text, tuple(math.exp(x) for x in b.char_logprobs), b.logprob, b.bits_per_char)
                    for b in beams
                ),
            )
        )


def stepper(
    post: Callable[[Message], object], source: Callable[[], dict | None], s: GenerationSettings, run: int
) -> None:
    from rnntui.core.generate.stepping import Stepper

    ckpt = _weights(source)
    post(GenStarted(run, _origin(ckpt)))
    post(StepperReady(run, Stepper(real_sampler(ckpt), s.prime, s.temperature, s.top_k, s.seed)))


def copy_check(post: Callable[[Message], object], origin: Origin, n: int, texts: list[str], run: int) -> None:
    """Build or load the corpus index (cached), then check each pane's text."""
    from rnntui.core.config import RnntuiError
    from rnntui.core.generate.copycheck import CopyIndex

    if not origin.corpus:
        for pane in range(len(texts)):
            post(CopyChecked(run, pane, "copy check: the weights do not say which corpus they learned"))
        return
    try:
        shared = shared_index(origin)  # the live novelty curve's index, when it was loaded for this corpus
        index = CopyIndex(shared.train, shared.vocab, n, shared.sa, shared.newlines)
    except (RnntuiError, OSError) as e:
        for pane in range(len(texts)):
            post(CopyChecked(run, pane, f"copy check: {e}"))
        return
    for pane, text in enumerate(texts):
        post(CopyChecked(run, pane, index.check(text)))
