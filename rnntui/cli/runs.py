"""The run commands: `rnntui runs`, `rnntui compare` and `rnntui watch` (runs that last, and comparing them).

They share the train command's options (rnntui/cli/options.py), its config (rnntui/cli/train.py) and its
signal handling (rnntui/cli/signals.py); errors are one line on stderr and exit status 2, as everywhere on
the command line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rnntui.cli.options import (
    Parser,
    add_budget_options,
    add_model_options,
    add_optimiser_options,
    add_run_options,
    fail,
)
from rnntui.cli.signals import StopOnSignal
from rnntui.cli.train import train_config
from rnntui.core.config import describe
from rnntui.core.textsafe import visible

if TYPE_CHECKING:
    from rnntui.core.analysis.compare import CompareRow
    from rnntui.core.data.corpus import Corpus
    from rnntui.core.runs.folder import RunDir

# -----------------------------------------------------------------------------
# argument parsers


def _compare_parser() -> Parser:
    p = Parser(
        prog="rnntui compare",
        description="Train several cells with identical settings, budget, seed "
        "and data, one after the other, and print how they compare (validation loss, speed, how "
        "much of the gradient each keeps 16 and 32 steps back, and how far back each looks: reach90).",
    )
    p.add_argument("corpus", help="built-in corpus name or a text file")
    add_model_options(p, cells=True)
    add_optimiser_options(p)
    add_budget_options(p, epochs=False, required=True)
    add_run_options(p)
    a = p.add_argument
    a("--run-name", help="prefix of the run folders: PREFIX-<cell> (default compare-<cell>-<corpus>)")
    a("--out-dir", help="where run folders go (default ./checkpoints)")
    a("--val-chars", type=int, help=describe("val_chars"))
    a("--overwrite", action="store_true", help="replace earlier runs of the same names (default: fresh names)")
    a("--no-samples", action="store_true", help="do not print samples while training")
    return p


def _runs_parser() -> Parser:
    p = Parser(prog="rnntui runs", description="List the runs under a folder, newest first.")
    p.add_argument("dir", nargs="?", default=None, metavar="DIR", help="folder of run folders (default checkpoints)")
    p.add_argument("--json", action="store_true", help="print a JSON array, one object per run")
    return p


def _watch_parser() -> Parser:
    p = Parser(
        prog="rnntui watch",
        description="Open the dashboard of a run another process is training "
        "(or has trained), following its metrics.jsonl and run.json; never writes to the run.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="the run's folder, e.g. checkpoints/gru-2x256-tiny")
    return p


# -----------------------------------------------------------------------------
# the commands


def cmd_runs(argv: Sequence[str]) -> int:
    args = _runs_parser().parse_args(argv)
    import json

    from rnntui.core.runs.listing import list_runs
    from rnntui.core.runs.summary import runs_table

    root = Path(args.dir or "checkpoints")
    if args.dir is not None and not root.exists():
        return fail(f"{root}: no such folder")
    if root.exists() and not root.is_dir():
        return fail(f"{root}: not a folder (give the folder that holds run folders, e.g. checkpoints)")
    runs = list_runs(root)
    if args.json:  # json escapes every control character (and an undecodable byte) in a string
        print(json.dumps([r.to_json() for r in runs], indent=1))
    elif not runs:
        print(f"no runs under {visible(str(root))} (train one: rnntui train tiny --steps 200)")
    else:
        print(runs_table(runs))  # `rnntui runs | head`: a closed pipe is cli/output.py's (exit 141)
        for r in runs:  # a folder rnntui cannot read: the table says "bad", this line says why
            if r.state == "bad":
                print(f"rnntui: warning: {visible(r.message)}", file=sys.stderr)
    return 0


def _cells(spec: str) -> list[str]:
    from rnntui.core.config import MODEL_KINDS, ConfigError

    cells = [c.strip().lower() for c in spec.split(",") if c.strip()]
    for c in cells:
        if c not in MODEL_KINDS:
            raise ConfigError(f"--models: unknown cell {c!r} (choose among {', '.join(MODEL_KINDS)})")
    if len(set(cells)) != len(cells):
        raise ConfigError(f"--models names a cell twice ({spec})")
    if len(cells) < 2:
        raise ConfigError("--models needs at least two cells to compare, e.g. --models rnn,lstm")
    return cells


def cmd_compare(argv: Sequence[str]) -> int:
    """Each cell in turn, with the whole machine to itself: same settings, seed, data and budget."""
    args = _compare_parser().parse_args(argv)
    from rnntui.core.config import RnntuiError

    signals = StopOnSignal()
    try:
        from rnntui.cli.progress import TrainProgress
        from rnntui.core import events as ev
        from rnntui.core.analysis.compare import compare_row, format_table, sentence
        from rnntui.core.data.corpus import load_corpus
        from rnntui.core.runs.folder import RunDir, check_name
        from rnntui.core.runs.runlog import read_log
        from rnntui.core.train.engine import Trainer
        from rnntui.core.train.experiments import COMPARE_PROBE_BUDGET

        cells = _cells(args.models)
        stem = Path(args.corpus).stem or "corpus"
        configs = []
        for cell in cells:
            name = f"{args.run_name}-{cell}" if args.run_name else f"compare-{cell}-{stem}"
            check_name(name)
            ns = argparse.Namespace(**{k: v for k, v in vars(args).items() if k != "models"}, kind=cell, resume=None)
            ns.run_name = name
            cfg = replace(train_config(ns), probe_budget=COMPARE_PROBE_BUDGET)
            cfg.validate()  # every run's settings checked before the first one trains
            configs.append((cell, cfg))
        corpus = load_corpus(configs[0][1].corpus, configs[0][1].val_frac)  # once: the same data for each
        done: list[tuple[str, str]] = []  # (cell, run folder)
        exit_code = 0
        for i, (cell, cfg) in enumerate(configs):
            print(f"[{i + 1}/{len(configs)}] {cell}", file=sys.stderr, flush=True)
            trainer = Trainer(cfg, corpus=corpus, overwrite=args.overwrite)
            signals.trainer = trainer
            run_dir = ""
            with TrainProgress(show_samples=not args.no_samples) as progress:
                for event in trainer.run(stop=signals.stop):
                    progress.update(event)
                    if isinstance(event, ev.RunStarted):
                        run_dir = event.run_dir
            if run_dir:
                done.append((cell, run_dir))
            if progress.reason == "stopped" or signals.closing:
                signals.close(progress.latest_path)
                exit_code = signals.exit_code
                break
            exit_code = exit_code or progress.exit_code
        from rnntui.cli.train import BASELINE_WAIT_S
        from rnntui.core.analysis.ngram.baselines import baselines_line, baselines_within

        base = baselines_within(corpus, BASELINE_WAIT_S, signals.stop) if done else None  # same split as the runs
        ngram = base.best[1] if base is not None else None
        rows = [compare_row(cell, read_log(RunDir(Path(d)).metrics), ngram=ngram) for cell, d in done]
        if not signals.closing:  # stopped: the table without the extra seconds
            rows = [_with_reach(row, RunDir(Path(d)), corpus) for row, (_, d) in zip(rows, done)]
        if rows:
            print()
            print(format_table(rows))
            print(sentence(rows))
            if base is not None:
                print(f"vs n-gram: the final val loss minus the best n-gram's ({base.label}), nats/char")
                print(baselines_line(base))
            print("runs: " + "  ".join(visible(d) for _, d in done))
        if len(done) < len(configs):
            print(f"rnntui: compare stopped after {len(done)} of {len(configs)} runs", file=sys.stderr)
        return exit_code
    except RnntuiError as e:
        return fail(str(e))
    except OSError as e:
        return fail(f"{e.filename or ''}: {e.strerror or e}".lstrip(": "))


def _with_reach(row: CompareRow, run: RunDir, corpus: Corpus) -> CompareRow:
    """The row with its reach90 column: the run's checkpoint's effective context on the validation split
    every run shared (a few seconds for a 2x256 model; "-" when the run saved no checkpoint)."""
    import dataclasses

    from rnntui.core.analysis.context import effective_context
    from rnntui.core.config import RnntuiError
    from rnntui.core.runs.checkpoints import load_checkpoint, model_from_checkpoint

    path = run.checkpoint()
    if path is None:
        return row
    try:
        model, _, _ = model_from_checkpoint(load_checkpoint(path))
        ec = effective_context(model, corpus.val)
    except RnntuiError as e:  # the table is still worth printing
        print(f"rnntui: warning: reach90 of {visible(str(run.path))}: {visible(str(e))}", file=sys.stderr)
        return row
    if ec is None:  # no stop given: not reached, but the table is printed either way
        return row
    return dataclasses.replace(row, reach90=ec.median_reach)


def watched_folder(run_dir: str) -> Path:
    """The folder `watch RUN_DIR` follows: RUN_DIR, or the folder of a run's file given instead
    (metrics.jsonl, latest.pt)."""
    from rnntui.core.runs.folder import RunDir

    path = Path(run_dir)
    if path.is_file() and RunDir(path.parent).is_run():
        path = path.parent
    return path


def watch_problem(path: Path) -> str | None:
    """Why the folder cannot be watched (one line), or None: `watch` and `serve --watch` ask before the
    app opens."""
    from rnntui.core.runs.files import RunDirError, unusable
    from rnntui.core.runs.folder import RunDir

    run = RunDir(path)
    if not path.exists():
        return f"{path}: no such run folder"
    if not path.is_dir():
        return f"{path}: not a run folder (give the folder that holds run.json and metrics.jsonl)"
    if run.holds_runs():  # a folder of runs, even one with a stray metrics.jsonl of its own
        return f"{path}: holds run folders, not one run: give one of them (rnntui runs {path} lists them)"
    try:  # a file that lies (a FIFO, a device, run.json that is not a run's): one line, before the TUI opens
        run.load_info()
    except RunDirError as e:
        return str(e)
    if not run.metrics.is_file() and (problem := unusable(run.metrics)):  # watch only reads: a link may stay
        return problem
    if not (run.info_path.is_file() or run.metrics.is_file()):
        if run.checkpoint() is not None:
            return (
                f"{path}: has no run log to follow (a run from before run logs); "
                f"open it with: rnntui --checkpoint {run.checkpoint()}"
            )
        return f"{path}: not a run folder (no run.json or metrics.jsonl; rnntui runs lists the runs)"
    return None


def cmd_watch(argv: Sequence[str]) -> int:
    args = _watch_parser().parse_args(argv)
    path = watched_folder(args.run_dir)
    if problem := watch_problem(path):
        return fail(problem)
    from rnntui.ui.app import run_tui

    return run_tui(watch=str(path))
