"""Thread-worker bodies of the generation panel, and the messages they post back.

Sampling, beam search, building a step-mode stepper and the copy check run in Textual thread workers
(torch and the weights copy stay off the UI thread); results come back only through post_message, as
plain strings, floats and frozen dataclasses. Every loop checks a stop Event: threads cannot be killed.

While a text streams in, the sampling worker also measures its novelty curve (novelty.py); the copy check
uses the same corpus index.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.message import Message

from rnntui.core.generate.settings import GenerationSettings
from rnntui.ui.workers.novelty import IndexLoader, PaneNovelty, shared_index

GEN_UPDATE_S = 0.05  # generated text reaches the screen in chunks at most every 50 ms per pane
BEAM_PROGRESS_S = 0.25  # a beam search's "n of N characters" is posted at most this often

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
    index = IndexLoader(origin.corpus, origin.val_frac)
    sampler = (factory or real_sampler)(ckpt)
    s = req.settings
    for pane, temperature in enumerate(req.temperatures):
        chars: list[str] = []
        probs: list[float] = []
        novelty = PaneNovelty(index, post, run, pane)
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
        shared = shared_index(
            origin.corpus, origin.val_frac
        )  # the live novelty curve's index, when it was loaded for this corpus
        index = CopyIndex(shared.train, shared.vocab, n, shared.sa, shared.newlines)
    except (RnntuiError, OSError) as e:
        for pane in range(len(texts)):
            post(CopyChecked(run, pane, f"copy check: {e}"))
        return
    for pane, text in enumerate(texts):
        post(CopyChecked(run, pane, index.check(text)))
