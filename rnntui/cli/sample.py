"""`rnntui sample`: generate text from a checkpoint, by sampling or beam search.

stdout is the generated text alone (it pipes cleanly); warnings, beam scores and the copy check (how much
of the text occurs verbatim in the training corpus, and its novelty curve: the share of its substrings
of each length found nowhere in the training text) go to stderr. Bad flag values are refused in one line
before the checkpoint is loaded.

To a pipe or a file the text is byte-exact (a --prime byte that is not UTF-8 goes out as that byte; see
cli/output.py); to a terminal its control characters are shown, not obeyed (textsafe.visible). A reader
that closes the pipe early ends the generation (exit 141).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Sequence

from rnntui.cli.options import Parser, fail
from rnntui.cli.output import on_output_failure
from rnntui.core.config import ConfigError
from rnntui.core.generate.settings import MATCH_DEPTH, MAX_BEAM_WIDTH, MAX_SEED, GenerationSettings
from rnntui.core.textsafe import visible

# -----------------------------------------------------------------------------
# options


def _sample_parser() -> Parser:
    p = Parser(
        prog="rnntui sample",
        description="Generate text from a checkpoint. stdout is the text alone; notes and the copy check go to stderr.",
    )
    p.add_argument("checkpoint")
    p.add_argument("--prime", default="", help="text to start from")
    p.add_argument("--temperature", type=float, default=None, help="> 0; lower is more conservative (default 1)")
    p.add_argument("--top-k", type=int, default=None, help="sample among the k likeliest characters (default 0: all)")
    p.add_argument("--length", type=int, default=500, help="characters to generate")
    p.add_argument("--seed", type=int, default=None, help=f"random seed 0-{MAX_SEED:,} for reproducible samples")
    p.add_argument("--argmax", action="store_true", help="always take the likeliest character (greedy)")
    p.add_argument(
        "--beam",
        type=int,
        metavar="N",
        help=f"beam search of width N (1-{MAX_BEAM_WIDTH}) instead of "
        "sampling; prints the best beam; scores on stderr. Not with --argmax, --temperature or --top-k",
    )
    p.add_argument("--length-norm", action="store_true", help="with --beam: rank ended beams by log-prob per char")
    p.add_argument("--beam-stop", metavar="TEXT", help="with --beam: a beam ends when it writes TEXT (\\n: a newline)")
    p.add_argument(
        "--copy-check",
        action="store_true",
        help="report on stderr how much of the text occurs verbatim in the training text, and the "
        "share of its substrings of each length that occur nowhere in it (novelty)",
    )
    p.add_argument(
        "--ngram", type=int, metavar="N", help=f"n-gram length of the copy check, 1-{MATCH_DEPTH} (default 8)"
    )
    return p


def _settings(args: argparse.Namespace) -> GenerationSettings:
    """The flags as core GenerationSettings (a --beam-stop typed as \\n or \\t made a newline or a tab)."""
    given = {"temperature": args.temperature, "top_k": args.top_k, "seed": args.seed, "beam_width": args.beam}
    return GenerationSettings(
        prime=args.prime,
        length=args.length,
        argmax=args.argmax,
        length_norm=args.length_norm,
        beam_stop=(args.beam_stop or "").replace("\\n", "\n").replace("\\t", "\t"),
        **{k: v for k, v in given.items() if v is not None},
    )  # flags not given: the defaults


def _sample_errors(args: argparse.Namespace) -> str | None:
    """Values the sampler would reject or that make no sense together: one line, before loading anything."""
    try:
        _settings(args).validate()  # the ranges: temperature, top-k, length, seed, beam width
    except ConfigError as e:
        return f"--{e}"  # its messages name the setting as the flag is spelt
    t = args.temperature
    if args.beam is not None:
        if args.argmax:
            return "--beam and --argmax are two decoders: choose one (--beam 1 is greedy, like --argmax)"
        if t is not None or args.top_k is not None:
            return "--beam ranks continuations by the model's own probabilities: --temperature and --top-k do not apply"
        if args.beam_stop == "":
            return "--beam-stop needs a non-empty TEXT"
    elif args.length_norm or args.beam_stop is not None:
        return "--length-norm and --beam-stop apply only with --beam N"
    if args.ngram is not None:
        if not args.copy_check:
            return "--ngram applies only with --copy-check"
        if not 1 <= args.ngram <= MATCH_DEPTH:
            return f"--ngram must be 1-{MATCH_DEPTH} (the copy check measures matches up to that), not {args.ngram}"
    return None


# -----------------------------------------------------------------------------
# beam search progress

PROGRESS_AFTER_S = 1.0  # a search shorter than this shows no progress line at all


class _BeamProgress:
    """`rnntui: beam search, width 32: 12,345 of 32,000 characters` on stderr while a search runs: only when
    stderr is a terminal, only once the search has taken PROGRESS_AFTER_S, redrawn at most 4 times a
    second, and erased when the search ends (the text then prints as if it had not been there)."""

    def __init__(self, width: int) -> None:
        self.clock, self.width, self.shown = time.monotonic, width, False
        self.on = sys.stderr.isatty()
        self.next = self.clock() + PROGRESS_AFTER_S

    def __call__(self, done: int, total: int) -> None:
        if not self.on or self.clock() < self.next:
            return
        self.next, self.shown = self.clock() + 0.25, True
        self._write(f"\rrnntui: beam search, width {self.width}: {done:,} of {total:,} characters\x1b[K")

    def close(self) -> None:
        if self.shown:
            self._write("\r\x1b[K")

    def _write(self, s: str) -> None:
        try:
            sys.stderr.write(s)
            sys.stderr.flush()
        except (OSError, ValueError):  # the terminal went away (EIO) or stderr was closed: stop drawing
            self.on = self.shown = False


# -----------------------------------------------------------------------------
# the command


def cmd_sample(argv: Sequence[str]) -> int:
    args = _sample_parser().parse_args(argv)
    problem = _sample_errors(args)
    if problem:
        return fail(problem)
    s = _settings(args)
    from rnntui.core.config import RnntuiError

    try:
        from rnntui.core.generate.sampling import Sampler
        from rnntui.core.runs.checkpoints import load_checkpoint

        ckpt = load_checkpoint(args.checkpoint)
        sampler = Sampler.from_checkpoint(ckpt)
        corpus = None
        if args.copy_check:  # before generating: a missing corpus is said at once, not after the text
            from rnntui.core.data.builtin import resolve_corpus

            corpus = str((ckpt.get("config") or {}).get("corpus") or "")
            if not corpus:
                return fail("--copy-check: the checkpoint does not record its training corpus")
            if not resolve_corpus(corpus).is_file():
                return fail(f"--copy-check: the training corpus {corpus} is missing")
        unknown = sampler.unknown_chars(s.prime)
        if unknown:
            print(
                f"rnntui: warning: prime characters not in the vocabulary, skipped: {visible(repr(unknown))}",
                file=sys.stderr,
            )
        closed = threading.Event()  # the reader went away: generating the rest would be for nobody
        on_output_failure(lambda e: closed.set())
        tty = sys.stdout.isatty()
        write = (lambda t: sys.stdout.write(visible(t, multiline=True))) if tty else sys.stdout.write
        if args.beam is not None:
            from rnntui.core.generate.beam import beam_search

            progress = _BeamProgress(s.beam_width)
            try:
                beams = beam_search(
                    sampler, s.prime, s.beam_width, s.length, s.length_norm, s.beam_stop, progress=progress
                )
            finally:
                progress.close()
            text = beams[0].text
            write(s.prime)  # after the search: a prime on the terminal's line would be under the progress
            write(text)
            scores = ", ".join(f"{b.logprob:.2f}" for b in beams[1:])
            print(
                f"rnntui: beam {args.beam}: best log-prob {beams[0].logprob:.2f} nats, "
                f"{beams[0].bits_per_char:.3f} bits/char" + (f"; the others: {scores}" if scores else ""),
                file=sys.stderr,
            )
        else:
            write(s.prime)
            pieces = []
            for ch in sampler.stream(
                s.prime, temperature=s.temperature, top_k=s.top_k, length=s.length, seed=s.seed, argmax=s.argmax
            ):
                write(ch)
                pieces.append(ch)
                if closed.is_set():
                    break
            text = "".join(pieces)
        write("\n")
        sys.stdout.flush()
        if corpus is not None and not closed.is_set():
            from rnntui.core.generate.copycheck import DEFAULT_N, CopyIndex

            val_frac = float(ckpt["config"].get("val_frac", 0.1))
            index = CopyIndex.for_corpus(corpus, val_frac, args.ngram or DEFAULT_N)
            report = index.check(text)
            print(f"rnntui: copy check against {visible(corpus)}: {report.summary()}", file=sys.stderr)
            if report.novelty is not None:
                print(f"rnntui: {report.novelty.summary()}", file=sys.stderr)
        return 0
    except RnntuiError as e:
        return fail(str(e))
    except KeyboardInterrupt:
        return 130
