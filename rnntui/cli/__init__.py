"""The command line: `rnntui [CORPUS]` opens the TUI; train, sample, inspect and corpora run headless.

This module is the entry point (`main`, the `rnntui` script and `python -m rnntui`): it picks the command's
module and runs it. One module per command beside it, each imported only when its command runs: tui.py
(the app), train.py, sample.py, inspect.py, corpora.py, runs.py (runs, compare, watch), serve.py (the app
in a browser), export.py (a run as TensorBoard event files); options.py holds what they share (the one-line
error, the option groups), output.py the guarded stdout and stderr, progress.py train's progress line.

Errors caused by input are one line on stderr and exit status 2, never a traceback. The headless
commands run with guarded stdout and stderr (cli/output.py): an output that fails (a closed pipe, a full
disk) is an exit status, never a traceback, and a training run saves first.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

# command -> the module under rnntui/cli/ with its cmd_<command>; a command's module is imported only when
# that command runs, so `rnntui --help` and the TUI's first frame stay quick ("": no command, the app)
COMMANDS = {
    "train": "train",
    "sample": "sample",
    "inspect": "inspect",
    "corpora": "corpora",
    "runs": "runs",
    "compare": "runs",
    "watch": "runs",
    "serve": "serve",
    "export": "export",
}
# print, and get guarded output (the app owns its terminal). serve: its log is all it writes (each tab's app
# writes to a pipe of the server), and a server whose log fails (`rnntui serve | head -1`) serves on quietly
HEADLESS = {"train", "sample", "corpora", "runs", "compare", "serve", "export"}
# (inspect opens the app, except with --json or --effective-context: it guards its own output then, after
# parsing, so that an abbreviated --js counts too)


# -----------------------------------------------------------------------------
# entry point


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in HEADLESS:
        from rnntui.cli.output import guarded_output

        with guarded_output() as output:
            status = _main(argv)
        return output.exit_status(status)
    return _main(argv)


def _main(argv: list[str]) -> int:
    try:
        if argv and argv[0] in COMMANDS:
            return _command(argv[0])(argv[1:])
        return _command("")(argv)
    except KeyboardInterrupt:
        print("rnntui: interrupted", file=sys.stderr)
        return 130


def _command(name: str) -> Callable[[Sequence[str]], int]:
    module = importlib.import_module(f"rnntui.cli.{COMMANDS[name] if name else 'tui'}")
    return getattr(module, f"cmd_{name or 'tui'}")


if __name__ == "__main__":
    raise SystemExit(main())
