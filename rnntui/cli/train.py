"""`rnntui train`: train a character model without the TUI, printing progress (cli/progress.py).

Before the first step the engine reads the device's matmul peak from the cache, or measures it (a second or
two, the first time on a machine; not counted as training time), for the MFU the progress line shows.
--tensorboard writes each event as it comes (core/runs/tensorboard.py's LiveBoard).

Ctrl+C, SIGTERM and SIGHUP stop at the next step and save latest.pt; the exit status then says which
signal it was. An output that fails (a closed pipe, a full disk under --metrics; see cli/output.py) stops
the run the same way, with its own status. Under torchrun every rank runs this command
(rnntui.core.train.distributed). The option groups it shares with `rnntui compare` are in cli/options.py, the
signal handling in cli/signals.py; compare also uses this module's config.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import stat
import threading
from collections.abc import Sequence
from dataclasses import fields, replace

from rnntui.cli.options import (
    Parser,
    add_budget_options,
    add_model_options,
    add_optimiser_options,
    add_run_options,
    fail,
)
from rnntui.cli.signals import StopOnSignal
from rnntui.core.config import describe
from rnntui.core.textsafe import visible

# -----------------------------------------------------------------------------
# options and the config they make


def train_parser() -> Parser:
    p = Parser(prog="rnntui train", description="Train a character model without the TUI.")
    p.add_argument(
        "corpus", nargs="?", help="built-in corpus name or a text file (default with --resume: the checkpoint's)"
    )
    add_model_options(p)
    add_optimiser_options(p)
    add_budget_options(p)
    add_run_options(p)
    a = p.add_argument
    a("--run-name", help="folder name under --out-dir (default: model and corpus)")
    a("--out-dir", help="where run folders go (default ./checkpoints)")
    a("--resume", metavar="CHECKPOINT", help="continue a run from its latest.pt or best.pt")
    a(
        "--metrics",
        metavar="FILE.jsonl",
        help="also append the step and eval records to this file (the run folder's metrics.jsonl has them all)",
    )
    a("--val-chars", type=int, help=describe("val_chars"))
    a("--overwrite", action="store_true", help="replace a run already in the run folder (default: pick a fresh name)")
    a("--force-corpus", action="store_true", help="with --resume: continue on a corpus other than the checkpoint's")
    a("--no-samples", action="store_true", help="do not print samples while training")
    a(
        "--tensorboard",
        metavar="OUT_DIR",
        help="also write TensorBoard event files to OUT_DIR/<run name>/ as it "
        "trains (needs: pip install 'rnntui[tensorboard]'); view with tensorboard --logdir OUT_DIR",
    )
    return p


def train_config(args: argparse.Namespace):
    from rnntui.core.config import ModelConfig, TrainConfig
    from rnntui.core.runs.checkpoints import config_of, load_checkpoint

    base = config_of(load_checkpoint(args.resume)) if args.resume else TrainConfig(model=ModelConfig())
    given = {k: v for k, v in vars(args).items() if v is not None}
    model_names = {f.name for f in fields(ModelConfig)}
    model = replace(base.model, **{k: v for k, v in given.items() if k in model_names})
    run = {
        k.replace("-", "_"): v for k, v in given.items() if k in {f.name for f in fields(TrainConfig)} and k != "model"
    }
    if any(k in given for k in ("steps", "epochs", "minutes")):  # a new budget replaces the old one
        base = replace(base, steps=None, epochs=None, minutes=None)
    elif not args.resume:
        run["epochs"] = 1.0  # default budget: one pass over the training split
    if args.resume and "bf16" not in given:
        run["bf16"] = None  # the checkpoint holds the old machine's resolved choice; follow this one's hardware
    if args.resume and "run_name" not in given:  # continue in the checkpoint's own run folder
        from rnntui.core.runs.folder import continue_in

        own = continue_in(base, args.resume)
        run.setdefault("run_name", own.run_name)
        run.setdefault("out_dir", own.out_dir)
    return replace(base, model=model, **run)


# -----------------------------------------------------------------------------
# --metrics


def _open_metrics(path: str):
    """The --metrics log. A pipe or FIFO works (its reader gets the records as they come; one that goes
    away stops the run like a closed stdout), but one with no reader yet is refused: opening it would
    wait for a reader forever."""
    from rnntui.core.runs.records import LogError, MetricsLog

    probe = None
    try:
        if stat.S_ISFIFO(os.stat(path).st_mode):
            probe = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO: nobody reads it
    except FileNotFoundError:
        pass
    except OSError as e:
        if e.errno == errno.ENXIO:
            raise LogError(f"{path}: a pipe with no reader (start its reader first)") from None
        raise LogError(f"{path}: cannot write metrics ({e.strerror or e})") from None
    try:
        return MetricsLog(path, kinds=("step", "eval"))
    finally:
        if probe is not None:
            os.close(probe)  # held until then: closing it first would give the reader an end of file


# -----------------------------------------------------------------------------
# the TensorBoard writer


def _close_board(board) -> None:
    """Close a TensorBoard writer whose failure was already reported (or that an error cut short)."""
    if board is not None:
        try:
            board.writer.close()
        except Exception:
            pass


def _open_board(out_dir: str, run_name: str):
    from rnntui.core.runs.tensorboard import BoardWriter, LiveBoard

    return LiveBoard(BoardWriter(os.path.join(out_dir, run_name)))


# the n-gram baselines under the summary


BASELINE_WAIT_S = 10.0  # how long a finished run waits for its baselines (1.4 s CPU at the 4M-char bound)


def print_baselines(
    corpus, val_loss: float | None, stop: threading.Event | None = None, wait_s: float | None = None
) -> None:
    """The line that reads the network's validation loss against counting (core/analysis/ngram), and the
    baselines themselves: from the cache, else computed here (cached for next time) unless that takes
    longer than BASELINE_WAIT_S or a signal comes first, which is then said."""
    from rnntui.core.analysis.ngram.baselines import baselines_line, baselines_within, gain_line

    if corpus is None or val_loss is None or not math.isfinite(val_loss):
        return
    wait_s = BASELINE_WAIT_S if wait_s is None else wait_s
    b = baselines_within(corpus, wait_s, stop)
    if b is None:
        why = "interrupted" if stop is not None and stop.is_set() else f"the n-gram baselines took over {wait_s:g} s"
        print(f"vs best n-gram: skipped ({why})", flush=True)
        return
    print(gain_line(b, val_loss) + "\n" + baselines_line(b), flush=True)


# -----------------------------------------------------------------------------
# the command


def cmd_train(argv: Sequence[str]) -> int:
    args = train_parser().parse_args(argv)
    if not args.corpus and not args.resume:
        return fail("train needs a CORPUS (a built-in name or a text file); see rnntui corpora")
    signals = StopOnSignal()
    if "RANK" in os.environ:  # under torchrun: torch's C++ logs would add a stack dump to our one line
        os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "FATAL")  # (set before torch is imported)
    from rnntui.core.config import RnntuiError

    metrics = dist = board = None
    try:
        cfg = train_config(args)
        from rnntui.cli.progress import TrainProgress
        from rnntui.core import events as ev
        from rnntui.core.runs.records import LogError
        from rnntui.core.runs.tensorboard import BoardError, require_tensorboard
        from rnntui.core.train.distributed import init_from_env
        from rnntui.core.train.engine import Trainer

        if args.tensorboard:
            require_tensorboard()  # missing: one line saying what to install, before anything starts

        dist = init_from_env(cfg.device)  # under torchrun: join the ranks (one line and exit 2 if it cannot)
        signals.quiet = not dist.is_main
        metrics = _open_metrics(args.metrics) if args.metrics and dist.is_main else None
        trainer = Trainer(cfg, resume=args.resume, overwrite=args.overwrite, force_corpus=args.force_corpus, dist=dist)
        signals.trainer = trainer
        with TrainProgress(show_samples=not args.no_samples, quiet=not dist.is_main) as progress:
            for event in trainer.run(stop=signals.stop):
                progress.update(event)  # never raises on a failed output: cli/output.py stops the run instead
                if isinstance(event, ev.RunStarted) and dist.is_main:
                    if args.tensorboard:
                        try:
                            board = _open_board(args.tensorboard, event.config.run_name)
                        except BoardError as e:
                            signals.stop_for(2, f"rnntui: error: {visible(str(e))}: training stopped")
                if metrics is not None:
                    try:
                        metrics.write(event)
                    except LogError as e:  # a full disk, a closed pipe: stop and save, as a signal does
                        metrics = None
                        signals.metrics_failed(e)
                if board is not None:
                    try:
                        board.write(event)
                    except BoardError as e:  # as --metrics: stop and save
                        _close_board(board)
                        board = None
                        signals.stop_for(2, f"rnntui: error: {visible(str(e))}: training stopped")
        if board is not None:
            try:
                board.writer.close()
            except BoardError as e:
                signals.stop_for(2, f"rnntui: error: {visible(str(e))}")
            board = None
        signals.close(progress.latest_path)
        if progress.reason == "stopped" or signals.closing:
            return signals.exit_code
        if dist.is_main and progress.reason == "completed":
            print_baselines(trainer.corpus, progress.val_loss, signals.stop)
            if signals.stop.is_set():  # a signal while waiting for them: the run is saved, the status says so
                return signals.exit_code
        return progress.exit_code
    except RnntuiError as e:
        return fail(str(e))
    except OSError as e:
        return fail(f"{e.filename or ''}: {e.strerror or e}".lstrip(": "))
    except RuntimeError as e:  # a rank lost while the model was being set up (DDP's first broadcast)
        from rnntui.core.train.distributed import is_dist_failure, lost_rank

        if dist is None or not dist.enabled or not is_dist_failure(e):
            raise
        return fail(str(lost_rank(dist, e)))
    finally:
        if metrics is not None:
            metrics.close()
        _close_board(board)
        if dist is not None:
            dist.close()
