"""Shared test set-up.

The engine's default turns bf16 autocast on where the CPU computes bf16 natively (AVX512-BF16 or AMX).
Tests pin fp32 instead, so they compute the same on every CPU, the CI machine's included; the bf16 path
has its own tests that ask for it explicitly. (CLI tests run in a subprocess keep the real default.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TINY, tiny_args


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Built corpora and cached ids go to a folder of the test session (CI sets its own), never ~/.cache."""
    if "RNNTUI_CACHE" not in os.environ:
        os.environ["RNNTUI_CACHE"] = str(tmp_path_factory.mktemp("rnntui-cache"))
    yield


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """One intra-op thread for the models trained and run inside the test process. They are tiny (16
    units, batches of 4): a second thread has no work to share and only waits at each op's barrier, and on
    a loaded 2-core machine the two spin against each other (a 20-step engine run: 0.27 s on one thread,
    1.7-17 s on two). Tiny ops run on one thread either way, so the numbers are the same. Tests that set
    threads themselves (flops, distributed) save and restore around this."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True, scope="session")
def _fp32_by_default():
    with pytest.MonkeyPatch.context() as mp:  # session-wide, so module-scoped fixtures see it too
        mp.setattr("rnntui.core.train.engine.native_bf16", lambda device: False)
        yield


@pytest.fixture(autouse=True)
def _record_notifications(monkeypatch):
    """Pilot tests read what the app told the user through fake_engine.notifications(app)."""
    from fake_engine import record_notifications

    record_notifications(monkeypatch)


@pytest.fixture(scope="module")
def ckpt() -> dict:
    """An untrained, seeded 2-layer GRU on the tiny corpus, as the dict the app holds: generation tests."""
    import torch

    from rnntui.core.config import ModelConfig, TrainConfig, config_to_dict
    from rnntui.core.data.corpus import load_corpus
    from rnntui.core.model.cells import CharModel

    vocab = load_corpus("tiny").vocab
    cfg = TrainConfig(corpus="tiny", model=ModelConfig(kind="gru", hidden=16, layers=2, embed=8, vocab_size=len(vocab)))
    torch.manual_seed(0)
    return {"model": CharModel(cfg.model).state_dict(), "config": config_to_dict(cfg), "vocab": vocab.chars, "step": 5}


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A 5-step 1x16 GRU on the tiny corpus, trained by `rnntui train` in a subprocess: the run folder
    (latest.pt, run.json, metrics.jsonl). Shared by the session: tests open or copy it, never change it."""
    cwd = tmp_path_factory.mktemp("tiny-run")
    subprocess.run(
        [sys.executable, "-m", "rnntui", "train", "tiny", "--steps", "5", *tiny_args("gru")],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=120,
    )
    (run,) = (cwd / "checkpoints").iterdir()
    return run


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory) -> Path:
    """A 3-step 1x16 LSTM trained on corpora/tiny.txt by `rnntui train` in-process: its latest.pt, for
    `rnntui sample` (beam, copy check, novelty). Shared by the session: tests read it, never change it."""
    from rnntui.cli import main

    out = tmp_path_factory.mktemp("beam-ck")
    assert main(["train", TINY, "--steps", "3", "--out-dir", str(out), *tiny_args("lstm")]) == 0
    (path,) = out.glob("*/latest.pt")
    return path
