"""What the commands share: the one-line error, the parser that says it, and the option groups of
train and compare (each option's help text comes from core.config's field comments)."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from rnntui.core.config import DEVICES, MODEL_KINDS, SCHEDULES, describe, flag
from rnntui.core.textsafe import visible


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage + message
        self.exit(2, f"{self.prog}: error: {visible(message)}\n")  # it may quote an argument


def fail(message: str) -> int:
    """One error line (a name or a path it quotes is shown, its control characters not obeyed); status 2."""
    print(f"rnntui: error: {visible(message)}", file=sys.stderr)
    return 2


# -----------------------------------------------------------------------------
# option groups


def add_model_options(p: argparse.ArgumentParser, cells: bool = False) -> None:
    """The network's shape. `cells`: --models rnn,lstm,gru (compare) instead of --model."""
    a = p.add_argument
    if cells:
        a("--models", required=True, metavar="CELLS", help="comma-separated cells to train in turn, e.g. rnn,lstm,gru")
    else:
        a("--model", dest="kind", choices=MODEL_KINDS, help=describe("kind"))
    for name, kind in (("hidden", int), ("layers", int), ("embed", int), ("dropout", float)):
        a(f"--{flag(name)}", type=kind, help=describe(name))


def add_optimiser_options(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    for name, kind in (
        ("seq_len", int),
        ("batch_size", int),
        ("lr", float),
        ("weight_decay", float),
        ("clip", float),
        ("val_frac", float),
        ("seed", int),
    ):
        a(f"--{flag(name)}", type=kind, help=describe(name))


def add_budget_options(p: argparse.ArgumentParser, epochs: bool = True, required: bool = False) -> None:
    budget = p.add_mutually_exclusive_group(required=required)
    budget.add_argument("--steps", type=int, help=describe("steps"))
    if epochs:
        budget.add_argument("--epochs", type=float, help=describe("epochs"))
    budget.add_argument("--minutes", type=float, help=describe("minutes"))


def add_run_options(p: argparse.ArgumentParser) -> None:
    """How a run is scored, where it runs and where it is written."""
    a = p.add_argument
    a("--eval-every", type=int, help=describe("eval_every"))
    a(
        "--schedule",
        choices=SCHEDULES,
        help=describe("schedule") + " (wsd: constant, then a linear decay over the last 30%%)",
    )
    a("--device", choices=DEVICES, help=describe("device"))
    a(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bf16 autocast (default: on where the GPU or CPU computes bf16 natively)",
    )
