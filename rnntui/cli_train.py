"""`rnntui train`: train a character model without the TUI, printing progress (cli_progress.py).

Ctrl+C, SIGTERM and SIGHUP stop at the next step and save latest.pt; the exit status then says which
signal it was. Under torchrun every rank runs this command (rnntui.core.distributed). The option groups
it shares with `rnntui compare` are in cli.py; compare also uses this module's config and signal handling.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from dataclasses import fields, replace
from typing import Sequence

from rnntui.cli import (_add_budget_options, _add_model_options, _add_optimiser_options, _add_run_options, _fail,
                        _Parser, _silence_terminal)
from rnntui.core.config import describe

# -----------------------------------------------------------------------------
# options and the config they make


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


# -----------------------------------------------------------------------------
# stopping on a signal


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


# -----------------------------------------------------------------------------
# the command


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
