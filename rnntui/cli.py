"""The command line: `rnntui [CORPUS]` opens the TUI; train, sample, inspect and corpora run headless.

Errors caused by input are one line on stderr and exit status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from dataclasses import fields, replace
from typing import Sequence

from rnntui import version
from rnntui.core.config import DEVICES, MODEL_KINDS, SCHEDULES, describe, flag

COMMANDS = ("train", "sample", "inspect", "corpora", "runs", "compare", "watch")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage + message
        self.exit(2, f"{self.prog}: error: {message}\n")


def _fail(message: str) -> int:
    print(f"rnntui: error: {message}", file=sys.stderr)
    return 2


# -----------------------------------------------------------------------------
# argument parsers


def _add_model_options(p: argparse.ArgumentParser, cells: bool = False) -> None:
    """The network's shape. `cells`: --models rnn,lstm,gru (compare) instead of --model."""
    a = p.add_argument
    if cells:
        a("--models", required=True, metavar="CELLS", help="comma-separated cells to train in turn, e.g. rnn,lstm,gru")
    else:
        a("--model", dest="kind", choices=MODEL_KINDS, help=describe("kind"))
    for name, kind in (("hidden", int), ("layers", int), ("embed", int), ("dropout", float)):
        a(f"--{flag(name)}", type=kind, help=describe(name))


def _add_optimiser_options(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    for name, kind in (("seq_len", int), ("batch_size", int), ("lr", float), ("weight_decay", float),
                       ("clip", float), ("val_frac", float), ("seed", int)):
        a(f"--{flag(name)}", type=kind, help=describe(name))


def _add_budget_options(p: argparse.ArgumentParser, epochs: bool = True, required: bool = False) -> None:
    budget = p.add_mutually_exclusive_group(required=required)
    budget.add_argument("--steps", type=int, help=describe("steps"))
    if epochs:
        budget.add_argument("--epochs", type=float, help=describe("epochs"))
    budget.add_argument("--minutes", type=float, help=describe("minutes"))


def _add_run_options(p: argparse.ArgumentParser) -> None:
    """How a run is scored, where it runs and where it is written."""
    a = p.add_argument
    a("--eval-every", type=int, help=describe("eval_every"))
    a("--schedule", choices=SCHEDULES, help=describe("schedule") + " (wsd: constant, then a linear decay over "
      "the last 30%%)")
    a("--device", choices=DEVICES, help=describe("device"))
    a("--bf16", action=argparse.BooleanOptionalAction, default=None,
      help="bf16 autocast (default: on where the GPU or CPU computes bf16 natively)")


def _train_parser() -> _Parser:
    p = _Parser(prog="rnntui train", description="Train a character model without the TUI.")
    p.add_argument("corpus", nargs="?", help="built-in corpus name or a text file (default with --resume: the checkpoint's)")
    _add_model_options(p)
    _add_optimiser_options(p)
    _add_budget_options(p)
    _add_run_options(p)
    a = p.add_argument
    a("--run-name", help="folder name under --out-dir (default: model and corpus)")
    a("--out-dir", help="where run folders go (default ./checkpoints)")
    a("--resume", metavar="CHECKPOINT", help="continue a run from its latest.pt or best.pt")
    a("--metrics", metavar="FILE.jsonl", help="also append the step and eval records to this file (the run "
      "folder's metrics.jsonl has them all)")
    a("--val-chars", type=int, help=describe("val_chars"))
    a("--overwrite", action="store_true", help="replace a run already in the run folder (default: pick a fresh name)")
    a("--force-corpus", action="store_true", help="with --resume: continue on a corpus other than the checkpoint's")
    a("--no-samples", action="store_true", help="do not print samples while training")
    return p


def _sample_parser() -> _Parser:
    p = _Parser(prog="rnntui sample", description="Generate text from a checkpoint. stdout is the text alone; "
                "notes and the copy check go to stderr.")
    p.add_argument("checkpoint")
    p.add_argument("--prime", default="", help="text to start from")
    p.add_argument("--temperature", type=float, default=None, help="> 0; lower is more conservative (default 1)")
    p.add_argument("--top-k", type=int, default=None, help="sample among the k likeliest characters (default 0: all)")
    p.add_argument("--length", type=int, default=500, help="characters to generate")
    p.add_argument("--seed", type=int, default=None, help=f"random seed 0-{2**63:,} for reproducible samples")
    p.add_argument("--argmax", action="store_true", help="always take the likeliest character (greedy)")
    p.add_argument("--beam", type=int, metavar="N", help="beam search of width N (1-32) instead of sampling; "
                   "prints the best beam; scores on stderr. Not with --argmax, --temperature or --top-k")
    p.add_argument("--length-norm", action="store_true", help="with --beam: rank ended beams by log-prob per char")
    p.add_argument("--beam-stop", metavar="TEXT", help="with --beam: a beam ends when it writes TEXT (\\n: a newline)")
    p.add_argument("--copy-check", action="store_true",
                   help="report on stderr how much of the text occurs verbatim in the training text")
    p.add_argument("--ngram", type=int, metavar="N", help="n-gram length of the copy check (default 8)")
    return p


def _sample_errors(args: argparse.Namespace) -> str | None:
    """Values the sampler would reject or that make no sense together: one line, before loading anything."""
    import math

    t = args.temperature
    if t is not None and not (t > 0 and math.isfinite(t)):
        return f"--temperature must be a finite number > 0, not {t}"
    if args.top_k is not None and args.top_k < 0:
        return f"--top-k must be >= 0 (0: all characters), not {args.top_k}"
    if args.length < 0:
        return f"--length must be >= 0, not {args.length}"
    if args.seed is not None and not 0 <= args.seed <= 2**63:
        return f"--seed must be 0 to 2**63, not {args.seed}"
    if args.beam is not None:
        if not 1 <= args.beam <= 32:
            return f"--beam must be 1 to 32, not {args.beam}"
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
        if args.ngram < 1:
            return f"--ngram must be >= 1, not {args.ngram}"
    return None


def _inspect_parser() -> _Parser:
    p = _Parser(prog="rnntui inspect", description="Explore a model's hidden states over a text.")
    p.add_argument("checkpoint")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--text", help="text to run the model over")
    g.add_argument("--file", help="file whose text to run the model over")
    return p


def _tui_parser() -> _Parser:
    p = _Parser(prog="rnntui", description="Watch a character-level RNN, LSTM or GRU learn. Commands: "
                "train, sample, inspect, corpora, runs, compare, watch (rnntui COMMAND -h).")
    p.add_argument("corpus", nargs="?", default=None, help="built-in corpus or text file (default: python)")
    p.add_argument("--checkpoint", help="open a checkpoint to continue training or generate from it")
    p.add_argument("--version", action="version", version=f"rnntui {version()}")
    return p


# -----------------------------------------------------------------------------
# train


def _train_config(args: argparse.Namespace):
    from rnntui.core.checkpoints import config_of, load_checkpoint
    from rnntui.core.config import ModelConfig, TrainConfig

    base = config_of(load_checkpoint(args.resume)) if args.resume else TrainConfig(model=ModelConfig())
    given = {k: v for k, v in vars(args).items() if v is not None}
    model_names = {f.name for f in fields(ModelConfig)}
    model = replace(base.model, **{k: v for k, v in given.items() if k in model_names})
    run = {k.replace("-", "_"): v for k, v in given.items() if k in {f.name for f in fields(TrainConfig)} and k != "model"}
    if any(k in given for k in ("steps", "epochs", "minutes")):  # a new budget replaces the old one
        base = replace(base, steps=None, epochs=None, minutes=None)
    elif not args.resume:
        run["epochs"] = 1.0  # default budget: one pass over the training split
    if args.resume and "bf16" not in given:
        run["bf16"] = None  # the checkpoint holds the old machine's resolved choice; follow this one's hardware
    if args.resume and "run_name" not in given:  # continue in the checkpoint's own run folder
        from rnntui.core.runs import continue_in

        own = continue_in(base, args.resume)
        run.setdefault("run_name", own.run_name)
        run.setdefault("out_dir", own.out_dir)
    return replace(base, model=model, **run)


STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")  # Ctrl+C, timeout/docker stop/schedulers, a closed terminal


class _StopOnSignal:
    """The first Ctrl+C, SIGTERM or SIGHUP stops training at the next step boundary (latest.pt is saved);
    a second one cuts the closing validation short, and the save still happens. The exit status of a
    stopped run is 128 + the signal's number (130 for Ctrl+C, 143 for SIGTERM, 129 for SIGHUP)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.signum = 0
        self.trainer = None
        self.quiet = False  # ranks other than 0 of a distributed run print nothing
        for name in STOP_SIGNALS:
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        if signum == getattr(signal, "SIGHUP", None):
            _silence_terminal()  # the terminal is gone: writing to it would fail mid-save
        if not self.stop.is_set():
            self.signum = signum
            self.stop.set()
            return
        if self.trainer is not None:
            self.trainer.hurry()
        if not self.quiet:
            print("rnntui: stopping: saving latest.pt before exiting", file=sys.stderr, flush=True)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum if self.signum else 130


def _silence_terminal() -> None:
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
    except OSError:
        pass


def cmd_train(argv: Sequence[str]) -> int:
    args = _train_parser().parse_args(argv)
    if not args.corpus and not args.resume:
        return _fail("train needs a CORPUS (a built-in name or a text file); see rnntui corpora")
    signals = _StopOnSignal()
    if "RANK" in os.environ:  # under torchrun: torch's C++ logs would add a stack dump to our one line
        os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "FATAL")  # (set before torch is imported)
    from rnntui.core.config import RnntuiError

    metrics = dist = None
    try:
        cfg = _train_config(args)
        from rnntui.cli_progress import TrainProgress
        from rnntui.core.distributed import init_from_env
        from rnntui.core.engine import Trainer
        from rnntui.core.records import MetricsLog

        dist = init_from_env(cfg.device)  # under torchrun: join the ranks (one line and exit 2 if it cannot)
        signals.quiet = not dist.is_main
        metrics = MetricsLog(args.metrics, kinds=("step", "eval")) if args.metrics and dist.is_main else None
        trainer = Trainer(cfg, resume=args.resume, overwrite=args.overwrite, force_corpus=args.force_corpus,
                          dist=dist)
        signals.trainer = trainer
        with TrainProgress(show_samples=not args.no_samples, quiet=not dist.is_main) as progress:
            for event in trainer.run(stop=signals.stop):
                progress.update(event)
                if metrics is not None:
                    metrics.write(event)
        if progress.reason == "stopped":
            return signals.exit_code
        return progress.exit_code
    except RnntuiError as e:
        return _fail(str(e))
    except OSError as e:
        return _fail(f"{e.filename or ''}: {e.strerror or e}".lstrip(": "))
    except RuntimeError as e:  # a rank lost while the model was being set up (DDP's first broadcast)
        from rnntui.core.distributed import is_dist_failure, lost_rank

        if dist is None or not dist.enabled or not is_dist_failure(e):
            raise
        return _fail(str(lost_rank(dist, e)))
    finally:
        if metrics is not None:
            metrics.close()
        if dist is not None:
            dist.close()


# -----------------------------------------------------------------------------
# sample, inspect, corpora


def cmd_sample(argv: Sequence[str]) -> int:
    args = _sample_parser().parse_args(argv)
    problem = _sample_errors(args)
    if problem:
        return _fail(problem)
    from rnntui.core.config import RnntuiError

    try:
        from rnntui.core.checkpoints import load_checkpoint
        from rnntui.core.sampling import Sampler

        ckpt = load_checkpoint(args.checkpoint)
        sampler = Sampler.from_checkpoint(ckpt)
        corpus = None
        if args.copy_check:  # before generating: a missing corpus is said at once, not after the text
            from rnntui.core.builtin import resolve_corpus

            corpus = str((ckpt.get("config") or {}).get("corpus") or "")
            if not corpus:
                return _fail("--copy-check: the checkpoint does not record its training corpus")
            if not resolve_corpus(corpus).is_file():
                return _fail(f"--copy-check: the training corpus {corpus} is missing")
        unknown = sampler.unknown_chars(args.prime)
        if unknown:
            print(f"rnntui: warning: prime characters not in the vocabulary, skipped: {unknown!r}", file=sys.stderr)
        out = sys.stdout
        out.write(args.prime)
        if args.beam is not None:
            from rnntui.core.beam import beam_search

            stop = (args.beam_stop or "").replace("\\n", "\n").replace("\\t", "\t")  # typed escapes
            beams = beam_search(sampler, args.prime, args.beam, args.length, args.length_norm, stop)
            text = beams[0].text
            out.write(text)
            scores = ", ".join(f"{b.logprob:.2f}" for b in beams[1:])
            print(f"rnntui: beam {args.beam}: best log-prob {beams[0].logprob:.2f} nats, "
                  f"{beams[0].bits_per_char:.3f} bits/char" + (f"; the others: {scores}" if scores else ""),
                  file=sys.stderr)
        else:
            pieces = []
            for ch in sampler.stream(args.prime, temperature=args.temperature or 1.0, top_k=args.top_k or 0,
                                     length=args.length, seed=args.seed, argmax=args.argmax):
                out.write(ch)
                pieces.append(ch)
            text = "".join(pieces)
        out.write("\n")
        out.flush()
        if corpus is not None:
            from rnntui.core.copycheck import DEFAULT_N, CopyIndex

            val_frac = float(ckpt["config"].get("val_frac", 0.1))
            index = CopyIndex.for_corpus(corpus, val_frac, args.ngram or DEFAULT_N)
            print(f"rnntui: copy check against {corpus}: {index.check(text).summary()}", file=sys.stderr)
        return 0
    except RnntuiError as e:
        return _fail(str(e))
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


def cmd_inspect(argv: Sequence[str]) -> int:
    args = _inspect_parser().parse_args(argv)
    from rnntui.core.config import RnntuiError

    text = args.text
    try:
        from rnntui.core.checkpoints import load_checkpoint

        load_checkpoint(args.checkpoint)  # fail fast with a one-line message, before the TUI opens
        if args.file:
            from rnntui.core.corpus import read_text

            text = read_text(args.file)
    except RnntuiError as e:
        return _fail(str(e))
    from rnntui.ui.app import run_tui

    return run_tui(inspect_checkpoint=args.checkpoint, inspect_text=text)


def cmd_corpora(argv: Sequence[str]) -> int:
    _Parser(prog="rnntui corpora", description="List the built-in corpora.").parse_args(argv)
    from rnntui.core.builtin import BUILTIN, cache_dir, resolve_corpus
    from rnntui.core.config import RnntuiError
    from rnntui.core.corpus import corpus_info

    print(f"{'name':<10} {'chars':>10} {'vocab':>6}  file")
    for name in BUILTIN:
        try:
            if name == "python" and not (cache_dir() / "python.txt").exists():
                print("(building the python corpus from the standard library on first use...)", file=sys.stderr)
            path = resolve_corpus(name)
            info = corpus_info(str(path))  # streamed and cached: no whole text held in Python
            print(f"{name:<10} {info.chars:>10,} {info.vocab:>6}  {path}")
        except RnntuiError as e:
            print(f"{name:<10} {'-':>10} {'-':>6}  unavailable: {e}")
    print("Any UTF-8 text file works too: rnntui train PATH")
    return 0


# -----------------------------------------------------------------------------
# entry point


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in COMMANDS:
            if argv[0] in ("runs", "compare", "watch"):
                from rnntui import cli_runs

                cmd = {"runs": cli_runs.cmd_runs, "compare": cli_runs.cmd_compare, "watch": cli_runs.cmd_watch}[argv[0]]
            else:
                cmd = {"train": cmd_train, "sample": cmd_sample, "inspect": cmd_inspect, "corpora": cmd_corpora}[argv[0]]
            return cmd(argv[1:])
        return _tui(argv)
    except KeyboardInterrupt:
        print("rnntui: interrupted", file=sys.stderr)
        return 130


def _tui(argv: list[str]) -> int:
    args = _tui_parser().parse_args(argv)
    if args.checkpoint:
        from rnntui.core.checkpoints import load_checkpoint
        from rnntui.core.config import RnntuiError

        try:
            load_checkpoint(args.checkpoint)
        except RnntuiError as e:
            return _fail(str(e))
    from rnntui.ui.app import run_tui

    return run_tui(corpus=args.corpus, checkpoint=args.checkpoint)


if __name__ == "__main__":
    raise SystemExit(main())
