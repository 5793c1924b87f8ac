"""`rnntui export RUN_DIR --tensorboard OUT_DIR`: a run folder's metrics.jsonl in another tool's format.

One format so far, TensorBoard (core/runs/tensorboard.py has the mapping): the run's event files go to
OUT_DIR/<run name>/, so `tensorboard --logdir OUT_DIR` shows every run exported there side by side. Each
format is one flag of one required group: another (--csv FILE, ...) joins as a flag beside it. The app
exports a chart's SVG and the records' JSONL and CSV from the dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rnntui.cli.options import Parser, fail
from rnntui.core.textsafe import visible


def export_parser() -> Parser:
    p = Parser(prog="rnntui export", description="Write a run folder's metrics in another tool's format.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="the run's folder, e.g. checkpoints/gru-2x256-tiny")
    formats = p.add_mutually_exclusive_group(required=True)
    formats.add_argument(
        "--tensorboard",
        metavar="OUT_DIR",
        help="TensorBoard event files in OUT_DIR/<run name>/ "
        "(needs: pip install 'rnntui[tensorboard]'); view with tensorboard --logdir OUT_DIR",
    )
    p.add_argument("--overwrite", action="store_true", help="replace the events an earlier export wrote there")
    return p


def cmd_export(argv: Sequence[str]) -> int:
    args = export_parser().parse_args(argv)
    from rnntui.core.config import RnntuiError
    from rnntui.core.runs.files import unusable
    from rnntui.core.runs.folder import RunDir
    from rnntui.core.runs.tensorboard import Scalar, export_log, require_tensorboard

    path = Path(args.run_dir)
    if path.is_file() and RunDir(path.parent).is_run():
        path = path.parent  # a file of the run (metrics.jsonl, latest.pt): its folder
    run = RunDir(path)
    if not path.is_dir():
        return fail(f"{path}: {'not a' if path.exists() else 'no such'} run folder")
    if run.holds_runs():
        return fail(f"{path}: holds run folders, not one run: give one of them (rnntui runs {path} lists them)")
    if problem := unusable(run.metrics):
        return fail(problem)
    if not run.metrics.is_file():
        return fail(f"{path}: has no metrics.jsonl to export (not a run folder, or a run from before run logs)")
    try:
        require_tensorboard()  # before anything is written: one line saying what to install
        out = Path(args.tensorboard) / (run.path.resolve().name or "run")  # `export .` inside a run: its name
        items = export_log(run.metrics, out, overwrite=args.overwrite)
    except RnntuiError as e:
        return fail(str(e))
    scalars = [it for it in items if isinstance(it, Scalar)]
    steps = sorted({it.step for it in items})
    span = f", steps {steps[0]}-{steps[-1]}" if steps else " (the log holds no records yet)"
    print(
        f"wrote {len(scalars)} scalars ({len({it.tag for it in scalars})} tags) and "
        f"{len(items) - len(scalars)} samples to {visible(str(out))}{span}; "
        f"view with: tensorboard --logdir {visible(args.tensorboard)}"
    )
    return 0
