"""`rnntui [CORPUS] [--checkpoint CKPT]`: the app itself."""

from __future__ import annotations

from collections.abc import Sequence

from rnntui import version
from rnntui.cli import COMMANDS
from rnntui.cli.options import Parser, fail


def tui_parser() -> Parser:
    p = Parser(
        prog="rnntui",
        description="Watch a character-level RNN, LSTM or GRU learn. Commands: "
        f"{', '.join(COMMANDS)} (rnntui COMMAND -h).",
    )
    p.add_argument("corpus", nargs="?", default=None, help="built-in corpus or text file (default: python)")
    p.add_argument("--checkpoint", help="open a checkpoint to continue training or generate from it")
    p.add_argument("--version", action="version", version=f"rnntui {version()}")
    return p


def checkpoint_problem(path: str) -> str | None:
    """Why the checkpoint cannot be opened (one line), or None: asked before the app opens (`serve` too)."""
    from rnntui.core.config import RnntuiError
    from rnntui.core.runs.checkpoints import load_checkpoint

    try:
        load_checkpoint(path)
    except RnntuiError as e:
        return str(e)
    return None


def cmd_tui(argv: Sequence[str]) -> int:
    args = tui_parser().parse_args(argv)
    if args.checkpoint and (problem := checkpoint_problem(args.checkpoint)):
        return fail(problem)
    from rnntui.ui.app import run_tui

    return run_tui(corpus=args.corpus, checkpoint=args.checkpoint)
