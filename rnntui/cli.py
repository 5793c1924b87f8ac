"""The command line: `rnntui [CORPUS]` opens the TUI; train, sample, inspect and corpora run headless.

This module is the entry point (`main`, the `rnntui` script and `python -m rnntui`) and holds what the
commands share: the one-line error, the option groups of train and compare, and the small commands
(inspect, corpora). The larger commands live beside it, each imported only when it runs:
cli_train.py (train), cli_sample.py (sample), cli_runs.py (runs, compare, watch).

Errors caused by input are one line on stderr and exit status 2, never a traceback. The headless
commands run with guarded stdout and stderr (cli_output.py): an output that fails (a closed pipe, a full
disk) is an exit status, never a traceback, and a training run saves first.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable, Sequence

from rnntui import version
from rnntui.core.config import DEVICES, MODEL_KINDS, SCHEDULES, describe, flag
from rnntui.terminal import silence_terminal as _silence_terminal  # noqa: F401  (cli_train's SIGHUP handler)
from rnntui.core.textsafe import visible

# command -> the module under rnntui/ with its cmd_<command> ("": this one); a command's module is imported
# only when that command runs, so `rnntui --help` and the TUI's first frame stay quick
COMMANDS = {"train": "cli_train", "sample": "cli_sample", "inspect": "", "corpora": "",
            "runs": "cli_runs", "compare": "cli_runs", "watch": "cli_runs"}
HEADLESS = {"train", "sample", "corpora", "runs", "compare"}  # print, and get guarded output (the app owns its terminal)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage + message
        self.exit(2, f"{self.prog}: error: {visible(message)}\n")  # it may quote an argument


def _fail(message: str) -> int:
    """One error line (a name or a path it quotes is shown, its control characters not obeyed); status 2."""
    print(f"rnntui: error: {visible(message)}", file=sys.stderr)
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
# inspect, corpora


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
            print(f"{name:<10} {info.chars:>10,} {info.vocab:>6}  {visible(str(path))}")
        except RnntuiError as e:
            print(f"{name:<10} {'-':>10} {'-':>6}  unavailable: {visible(str(e))}")
    print("Any UTF-8 text file works too: rnntui train PATH")
    return 0


# -----------------------------------------------------------------------------
# entry point


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in HEADLESS:
        from rnntui.cli_output import guarded_output

        with guarded_output() as output:
            status = _main(argv)
        return output.exit_status(status)
    return _main(argv)


def _main(argv: list[str]) -> int:
    try:
        if argv and argv[0] in COMMANDS:
            return _command(argv[0])(argv[1:])
        return _tui(argv)
    except KeyboardInterrupt:
        print("rnntui: interrupted", file=sys.stderr)
        return 130


def _command(name: str) -> Callable[[Sequence[str]], int]:
    module = importlib.import_module(f"rnntui.{COMMANDS[name]}") if COMMANDS[name] else sys.modules[__name__]
    return getattr(module, f"cmd_{name}")


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
