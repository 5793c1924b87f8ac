"""`rnntui inspect CHECKPOINT [--text TEXT | --file PATH]`: the inspector, opened on a checkpoint."""
from __future__ import annotations

from typing import Sequence

from rnntui.cli.options import Parser, fail


def inspect_parser() -> Parser:
    p = Parser(prog="rnntui inspect", description="Explore a model's hidden states over a text.")
    p.add_argument("checkpoint")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--text", help="text to run the model over")
    g.add_argument("--file", help="file whose text to run the model over")
    return p



def cmd_inspect(argv: Sequence[str]) -> int:
    args = inspect_parser().parse_args(argv)
    from rnntui.core.config import RnntuiError

    text = args.text
    try:
        from rnntui.core.runs.checkpoints import load_checkpoint

        load_checkpoint(args.checkpoint)  # fail fast with a one-line message, before the TUI opens
        if args.file:
            from rnntui.core.data.corpus import read_text

            text = read_text(args.file)
    except RnntuiError as e:
        return fail(str(e))
    from rnntui.ui.app import run_tui

    return run_tui(inspect_checkpoint=args.checkpoint, inspect_text=text)
