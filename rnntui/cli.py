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
from typing import Any, Sequence

from rnntui.core.config import SCHEDULES

COMMANDS = ("train", "sample", "inspect", "corpora")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage + message
        self.exit(2, f"{self.prog}: error: {message}\n")


def _fail(message: str) -> int:
    print(f"rnntui: error: {message}", file=sys.stderr)
    return 2


# -----------------------------------------------------------------------------
# argument parsers


def _train_parser() -> _Parser:
    p = _Parser(prog="rnntui train", description="Train a character model without the TUI.")
    p.add_argument("corpus", nargs="?", help="built-in corpus name or a text file (default with --resume: the checkpoint's)")
    a = p.add_argument
    a("--model", dest="kind", choices=("rnn", "lstm", "gru"), help="recurrent cell (default gru)")
    a("--hidden", type=int, help="units per layer (default 256)")
    a("--layers", type=int, help="stacked layers (default 2)")
    a("--embed", type=int, help="embedding size (default 64)")
    a("--dropout", type=float, help="dropout (default 0)")
    a("--seq-len", type=int, help="BPTT window (default 64)")
    a("--batch-size", type=int, help="parallel streams (default 32; per process under torchrun)")
    a("--lr", type=float, help="peak learning rate (default 5e-3)")
    a("--weight-decay", type=float, help="AdamW weight decay (default 0.1)")
    a("--clip", type=float, help="gradient clipping by global norm (default 1.0; 0 disables)")
    a("--val-frac", type=float, help="validation fraction at the end of the text (default 0.1)")
    a("--seed", type=int, help="random seed (default 1337)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, help="total optimiser steps of the run")
    budget.add_argument("--epochs", type=float, help="total passes over the training split")
    budget.add_argument("--minutes", type=float, help="wall-clock minutes for this invocation")
    a("--eval-every", type=int, help="steps between validation passes (default 250)")
    a("--schedule", choices=SCHEDULES, help="lr schedule after warm-up (default wsd: constant, then a linear decay over the last 30%%)")
    a("--device", choices=("auto", "cpu", "cuda", "mps"), help="default auto: cuda, then mps, then cpu")
    a("--bf16", action=argparse.BooleanOptionalAction, default=None,
      help="bf16 autocast (default: on where the GPU or CPU computes bf16 natively)")
    a("--run-name", help="folder name under --out-dir (default: model and corpus)")
    a("--out-dir", help="where run folders go (default ./checkpoints)")
    a("--resume", metavar="CHECKPOINT", help="continue a run from its latest.pt or best.pt")
    a("--metrics", metavar="FILE.jsonl", help="also append the step and eval records to this file (the run "
      "folder's metrics.jsonl has them all)")
    a("--val-chars", type=int, help="characters of the closing validation, spread over the split (default "
      "500000; 0: the whole split)")
    a("--overwrite", action="store_true", help="replace a run already in the run folder (default: pick a fresh name)")
    a("--force-corpus", action="store_true", help="with --resume: continue on a corpus other than the checkpoint's")
    a("--no-samples", action="store_true", help="do not print samples while training")
    return p


def _sample_parser() -> _Parser:
    p = _Parser(prog="rnntui sample", description="Generate text from a checkpoint.")
    p.add_argument("checkpoint")
    p.add_argument("--prime", default="", help="text to start from")
    p.add_argument("--temperature", type=float, default=1.0, help="> 0; lower is more conservative")
    p.add_argument("--top-k", type=int, default=0, help="sample among the k likeliest characters (0: all)")
    p.add_argument("--length", type=int, default=500, help="characters to generate")
    p.add_argument("--seed", type=int, default=None, help="random seed for reproducible samples")
    p.add_argument("--argmax", action="store_true", help="always take the likeliest character")
    return p


def _inspect_parser() -> _Parser:
    p = _Parser(prog="rnntui inspect", description="Explore a model's hidden states over a text.")
    p.add_argument("checkpoint")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--text", help="text to run the model over")
    g.add_argument("--file", help="file whose text to run the model over")
    return p


def _tui_parser() -> _Parser:
    p = _Parser(prog="rnntui", description="Watch a character-level RNN, LSTM or GRU learn. Commands: "
                "train, sample, inspect, corpora (rnntui COMMAND -h).")
    p.add_argument("corpus", nargs="?", default=None, help="built-in corpus or text file (default: python)")
    p.add_argument("--checkpoint", help="open a checkpoint to continue training or generate from it")
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
    if args.resume and "run_name" not in given:
        from pathlib import Path

        run.setdefault("run_name", Path(args.resume).resolve().parent.name)
        run.setdefault("out_dir", str(Path(args.resume).resolve().parent.parent))
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
    from rnntui.core.config import RnntuiError

    try:
        from rnntui.core.checkpoints import load_checkpoint
        from rnntui.core.sampling import Sampler

        sampler = Sampler.from_checkpoint(load_checkpoint(args.checkpoint))
        unknown = sampler.unknown_chars(args.prime)
        if unknown:
            print(f"rnntui: warning: prime characters not in the vocabulary, skipped: {unknown!r}", file=sys.stderr)
        stream = sampler.stream(args.prime, temperature=args.temperature, top_k=args.top_k,
                                length=args.length, seed=args.seed, argmax=args.argmax)
        out = sys.stdout
        out.write(args.prime)
        for ch in stream:
            out.write(ch)
        out.write("\n")
        out.flush()
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
    from rnntui.core.corpus import read_text

    print(f"{'name':<10} {'chars':>10} {'vocab':>6}  file")
    for name in BUILTIN:
        try:
            if name == "python" and not (cache_dir() / "python.txt").exists():
                print("(building the python corpus from the standard library on first use...)", file=sys.stderr)
            path = resolve_corpus(name)
            text = read_text(path)
            print(f"{name:<10} {len(text):>10,} {len(set(text)):>6}  {path}")
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
