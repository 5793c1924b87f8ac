"""Test set-up that is a plain value or function, shared by several test files (fixtures: conftest.py).

Imported as `from helpers import ...`: pytest puts tests/ on sys.path, as for fake_engine and numpy_bptt.
"""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

from rnntui.core.config import ModelConfig, TrainConfig

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "corpora" / "tiny.txt")  # the checkout's copy, by path: no built-in corpus lookup
TEXT = ("the quick brown fox jumps over the lazy dog. " * 40 + "\n") * 3  # an in-memory corpus (corpus "mem")


# -----------------------------------------------------------------------------
# a model small enough to train in a second on two loaded cores


def tiny_args(model: str | None = None, *, layers: int = 1, seq_len: int = 16, samples: bool = False) -> list[str]:
    """`rnntui train` options for a 16-unit model on the CPU; model=None keeps the CLI's default cell (and
    leaves --model free for `compare`'s --models). Samples are off unless asked for: they cost time."""
    cell = ["--model", model] if model else []
    size = ["--hidden", "16", "--layers", str(layers), "--embed", "8", "--seq-len", str(seq_len)]
    return [*cell, *size, "--batch-size", "4", "--device", "cpu", *([] if samples else ["--no-samples"])]


def tiny_config(out_dir: str | Path, **kw) -> TrainConfig:
    """An engine config for TEXT (corpus "mem"): a 2x16 LSTM, 20 steps, an eval every 10; kw replaces any
    field. Probes and timed samples are off, so the events depend only on the steps."""
    base: dict = dict(
        corpus="mem",
        model=ModelConfig(kind="lstm", hidden=16, layers=2, embed=8),
        seq_len=16,
        batch_size=4,
        lr=1e-2,
        steps=20,
        eval_every=10,
        eval_windows=2,
        log_every=5,
        probe_hz=0,
        sample_every_s=0,
        out_dir=str(out_dir),
        run_name="run",
        device="cpu",
        warmup=3,
    )
    base.update(kw)
    return TrainConfig(**base)


def rnntui_env(one_thread: bool = True, **extra: str) -> dict[str, str]:
    """The environment for `python -m rnntui` in a subprocess: this checkout's package first, and one
    torch thread (the child trains or samples a 16-unit model: a second thread only spins, which on a
    loaded 2-core machine makes each step many times slower; conftest's _one_torch_thread, for a child)."""
    threads = {"OMP_NUM_THREADS": "1"} if one_thread else {}
    return {**os.environ, "PYTHONPATH": str(ROOT), **threads, **extra}


# -----------------------------------------------------------------------------
# the app in a real terminal (test_hangup's pty, test_serve's browser tab): bounds and keys

GONE_WITHIN_S = 20.0  # after the terminal closes; a hang check (the fix exits in about a second)
UP_WITHIN_S = 90.0  # for the app to show a screen or start a run on a loaded machine
HANGUP = 128 + signal.SIGHUP  # 129: the exit status after a closed terminal, signal or not
ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=$ ]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78cM]")
CTRL_S, CTRL_R, TAB, ENTER = b"\x13", b"\x12", b"\t", b"\r"


# -----------------------------------------------------------------------------
# a run folder, as the app and the CLI leave it


def runs_in(cwd: Path) -> list[Path]:
    """The run folders under cwd/checkpoints (where the app puts runs started in cwd)."""
    root = cwd / "checkpoints"
    return sorted(p.parent for p in root.glob("*/run.json")) if root.is_dir() else []


def has_trained(cwd: Path) -> bool:
    """A run is going and has taken a step: a record of step 1 or later (its first probe or sample comes
    before the first step record). Stopped before its first step, a run has nothing to save."""
    for run in runs_in(cwd):
        metrics = run / "metrics.jsonl"
        for line in metrics.read_text(errors="replace").splitlines() if metrics.exists() else []:
            try:
                if json.loads(line).get("step", 0) >= 1:
                    return True
            except (ValueError, AttributeError):
                pass  # a line being written
    return False


def assert_saved_and_stopped(cwd: Path) -> None:
    """The one run under cwd is marked stopped and its latest.pt loads, past step 0."""
    from rnntui.core.runs.checkpoints import load_checkpoint

    (run,) = runs_in(cwd)
    state = json.loads((run / "run.json").read_text())["state"]
    assert state == "stopped", state
    ckpt = load_checkpoint(str(run / "latest.pt"))
    assert ckpt["step"] > 0
