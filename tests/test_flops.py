"""Throughput and MFU: the FLOP count of each cell against a hand count and against torch's own FLOP counter,
the measured matmul peak and its cache, and the MFU a real short run reports."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from dataclasses import replace

import pytest
import torch

from rnntui.core import events as ev
from rnntui.core.config import GATES, ModelConfig, TrainConfig
from rnntui.core.model import peak as pk
from rnntui.core.model.flops import (
    describe_peak,
    flops_per_char,
    format_flops,
    format_share,
    forward_flops_per_char,
    mfu,
)

# -----------------------------------------------------------------------------
# the count, by hand: a 1-layer model with embed E=3, hidden H=4, vocabulary V=5, per character
#
# A (1 x k) @ (k x n) product is 2*k*n FLOPs. Each gate block has an input matmul x_t @ W^T, (1x3)@(3x4):
# 2*3*4 = 24, and a recurrent one h_{t-1} @ U^T, (1x4)@(4x4): 2*4*4 = 32. The head h_t @ W^T, (1x4)@(4x5):
# 2*4*5 = 40. The embedding lookup: 0. A training character is forward + backward = 3 x forward.
#
#   lstm  gates i, f, g, o:  4 x 24 (input) = 96   4 x 32 (recurrent) = 128   head 40   forward 264   train 792
#   gru   gates r, z, n:     3 x 24         = 72   3 x 32             =  96   head 40   forward 208   train 624
#   rnn   one tanh block:    1 x 24         = 24   1 x 32             =  32   head 40   forward  96   train 288
#
# A second layer takes h (width 4) as its input: per gate block 2*4*4 = 32 input + 32 recurrent, so the
# 2-layer lstm adds 4 x 64 = 256: forward 520, train 1560.
HAND = {"lstm": (264, 792), "gru": (208, 624), "rnn": (96, 288)}


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_flops_per_char_matches_the_hand_count(kind):
    cfg = ModelConfig(kind=kind, embed=3, hidden=4, layers=1, vocab_size=5)
    forward, train = HAND[kind]
    assert forward_flops_per_char(cfg) == forward
    assert flops_per_char(cfg) == train


def test_a_second_layer_takes_the_hidden_width_as_input():
    cfg = ModelConfig(kind="lstm", embed=3, hidden=4, layers=2, vocab_size=5)
    assert (forward_flops_per_char(cfg), flops_per_char(cfg)) == (520, 1560)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_the_count_is_six_per_matmul_weight_of_the_real_module(kind):
    """The convention restated on the module torch builds: 6 FLOPs per weight of a matmul (2 forward,
    4 backward), biases and the embedding table excluded."""
    from rnntui.core.model.cells import CharModel

    cfg = ModelConfig(kind=kind, embed=24, hidden=40, layers=3, vocab_size=67)
    model = CharModel(cfg)
    weights = sum(p.numel() for n, p in model.named_parameters() if n.startswith(("rnn.weight_", "head.weight")))
    assert flops_per_char(cfg) == 6 * weights


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_torch_flop_counter_on_the_unrolled_twin_agrees(kind):
    """torch.utils.flop_counter counts every matmul the step-by-step twin runs, forward and backward. It
    agrees exactly but for one term the count includes and autograd skips: the gradient into h_0 (the
    zero initial state needs none), one recurrent input-gradient matmul per layer and stream."""
    from torch.utils.flop_counter import FlopCounterMode

    from rnntui.core.model.cells import CharModel, unroll

    cfg = ModelConfig(kind=kind, embed=5, hidden=6, layers=2, vocab_size=7)
    model = CharModel(cfg)
    B, T = 3, 8
    x = torch.randint(0, 7, (B, T))
    with FlopCounterMode(display=False) as counter:
        unroll(model, x).logits.sum().backward()
    h0_grads = cfg.layers * B * 2 * cfg.hidden * GATES[kind] * cfg.hidden
    assert counter.get_total_flops() == flops_per_char(cfg) * B * T - h0_grads


def test_mfu_and_its_wording():
    assert mfu(1000.0, 2_000_000, 4e9) == pytest.approx(0.5)
    assert mfu(1000.0, 10, 0.0) is None and mfu(math.nan, 10, 1e9) is None
    assert [format_share(x) for x in (0.42, 0.035, 0.0004, 1e-7, None, 11.9)] == [
        "42%",
        "3.5%",
        "0.04%",
        "<0.01%",
        "?",
        ">100%",
    ]
    assert format_flops(189e9) == "189 GFLOP/s" and format_flops(2_360_000, "FLOP") == "2.36 MFLOP"
    assert format_flops(312e12) == "312 TFLOP/s"


# -----------------------------------------------------------------------------
# the peak: measured, cached, described


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty peak cache, and a machine taken to be quiet (a busy CI box must not make the cache tests
    read an untrusted measurement; the busy case has its own test, with real competing processes)."""
    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path))
    monkeypatch.setattr(pk.OtherLoad, "share", lambda self: 0.0)
    return tmp_path


def test_the_measured_peak_is_positive_and_says_how(cache):
    p = pk.measure_peak("cpu", "fp32", 256, repeats=3)
    assert p.flops > 0 and math.isfinite(p.flops)
    assert 1 <= p.repeats <= 3 and p.size == 256 and p.threads == torch.get_num_threads() and not p.cached
    said = describe_peak(p.event(1000))
    assert said.startswith("peak ") and "fp32, measured: 256x256 matmul" in said
    assert f"{p.threads} thread" in p.how() and f"best of {p.repeats}" in p.how()


def test_matmul_size_is_the_gate_block_rounded_up():
    assert pk.matmul_size(ModelConfig(kind="lstm", hidden=256)) == 1024  # 4 x 256
    assert pk.matmul_size(ModelConfig(kind="gru", hidden=256)) == 1024  # 3 x 256 = 768, rounded up
    assert pk.matmul_size(ModelConfig(kind="rnn", hidden=32, embed=8)) == 256  # the smallest measured
    assert pk.matmul_size(ModelConfig(kind="lstm", hidden=8192)) == 4096  # the largest


def test_the_peak_cache_round_trip(cache):
    first = pk.device_peak("cpu", False, 256)
    assert not first.cached and first.seconds > 0
    entry = json.loads((cache / "peak.json").read_text())["entries"]
    (key,) = entry
    assert key == pk.cache_key("cpu", "fp32", 256)
    assert pk.machine_name("cpu") in key and torch.__version__ in key and f"{torch.get_num_threads()} threads" in key
    again = pk.device_peak("cpu", False, 256)
    assert again.cached and again.seconds == 0
    assert (again.flops, again.repeats, again.size) == (first.flops, first.repeats, first.size)
    assert "(cached)" in again.how()
    assert pk.cached_peak("cpu", True, 256) is None  # another dtype: not this entry
    assert pk.cached_peak("cpu", False, 512) is None  # another size


def test_the_peak_cache_is_keyed_by_thread_count(cache):
    pk.device_peak("cpu", False, 256)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(threads + 1)
        assert pk.cached_peak("cpu", False, 256) is None
    finally:
        torch.set_num_threads(threads)
    assert pk.cached_peak("cpu", False, 256) is not None


@pytest.mark.parametrize(
    "content", [b"not json", b"[1, 2]", b'{"format": 1, "entries": []}', b'{"format": 99, "entries": {}}', b"\xff\xfe"]
)
def test_a_foreign_cache_file_is_measured_again(cache, content):
    (cache / "peak.json").write_bytes(content)
    p = pk.device_peak("cpu", False, 256)
    assert not p.cached and p.flops > 0
    assert pk.cached_peak("cpu", False, 256) is not None  # and the cache is whole again


@pytest.mark.parametrize(
    "entry",
    [
        {"flops": -1, "repeats": 5, "size": 256},
        {"flops": "fast", "repeats": 5, "size": 256},
        {"flops": 1e9, "repeats": True, "size": 256},
        {"flops": 1e9, "repeats": 5, "size": 999},
        {"flops": 1e9, "repeats": 5},
        "1e9",
    ],
)
def test_a_lying_cache_entry_is_not_used(cache, entry):
    key = pk.cache_key("cpu", "fp32", 256)
    (cache / "peak.json").write_text(json.dumps({"format": pk.FORMAT, "entries": {key: entry}}))
    assert pk.cached_peak("cpu", False, 256) is None


def test_a_peak_measured_beside_other_work_is_used_but_not_cached(tmp_path, monkeypatch):
    """Spinning processes, one per CPU, compete with the matmul threads: the measurement sees their share
    of the CPUs, says it is likely low and leaves the cache alone, so the next run measures again."""
    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path))
    spin = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 1)]
    try:
        time.sleep(0.2)  # let them start spinning
        p = pk.device_peak("cpu", False, 256)
    finally:
        for s in spin:
            s.kill()
            s.wait()
    assert p.busy > pk.BUSY_SHARE and p.low and p.flops > 0
    assert "beside other processes" in p.how() and "measured again next run" in p.how() and "busy" in p.short()
    assert pk.cached_peak("cpu", False, 256) is None and not (tmp_path / "peak.json").exists()


def test_a_quiet_measurement_is_trusted_and_can_be_forgotten(cache):
    p = pk.device_peak("cpu", False, 256)
    assert not p.low and "likely low" not in p.how()
    assert pk.cached_peak("cpu", False, 256) is not None
    pk.forget_peak("cpu", True, 256)  # another dtype's entry: nothing to drop, this one stays
    assert pk.cached_peak("cpu", False, 256) is not None
    pk.forget_peak("cpu", False, 256)
    assert pk.cached_peak("cpu", False, 256) is None


def test_an_unwritable_cache_costs_a_warning_not_the_peak(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("RNNTUI_CACHE", str(blocker / "cache"))  # below a regular file: cannot be created
    monkeypatch.setattr(pk.OtherLoad, "share", lambda self: 0.0)  # a trusted measurement: it would be cached
    p = pk.device_peak("cpu", False, 256)
    assert p.flops > 0
    err = capsys.readouterr().err
    assert "warning: cannot cache the measured matmul peak" in err and err.count("\n") == 1


# -----------------------------------------------------------------------------
# a real short run


def test_the_engine_sends_the_throughput_after_run_started_measured_once_then_cached(cache):
    from rnntui.core.train.engine import Trainer

    cfg = TrainConfig(
        corpus="tiny",
        model=ModelConfig(kind="lstm", hidden=16, embed=8, layers=1),
        steps=2,
        seq_len=16,
        batch_size=4,
        eval_every=0,
        save=False,
        device="cpu",
        sample_every_s=0,
        probe_hz=0,
    )
    for first_run in (True, False):
        events = list(Trainer(cfg).run())
        kinds = [type(e).__name__ for e in events]
        start = kinds.index("RunStarted")
        told = [e for e in events if isinstance(e, ev.Throughput)]
        assert kinds[start + 1 : start + 1 + len(told)] == ["Throughput"] * len(told)  # before the first step
        assert [t.measuring for t in told] == ([True, False] if first_run else [False])
        t = told[-1]
        assert t.flops_per_char == flops_per_char(events[start].config.model) and t.peak_flops > 0
        assert (
            t.peak_dtype == "fp32"
            and ("(cached)" in t.peak_how) != first_run
            and t.peak_short.startswith("256² matmul ×")
        )


def test_a_run_that_beats_its_cached_peak_measures_it_again_once(cache):
    """A cached peak far below what the run achieves (measured beside other work, before the busy check or
    on another day): the first logged step proves it low, the engine forgets it and sends a fresh one."""
    from rnntui.core.train.engine import Trainer

    model = ModelConfig(kind="gru", hidden=16, embed=8, layers=1)
    cfg = TrainConfig(corpus="tiny", model=model, steps=40, seq_len=16, batch_size=4, eval_every=0, save=False)
    cfg = replace(cfg, device="cpu", sample_every_s=0, probe_hz=0)
    key = pk.cache_key("cpu", "fp32", 256)
    low = {"flops": 1000.0, "repeats": 5, "size": 256}  # 1 kFLOP/s: any run beats it
    (cache / "peak.json").write_text(json.dumps({"format": pk.FORMAT, "entries": {key: low}}))
    events = list(Trainer(cfg).run())
    told = [e for e in events if isinstance(e, ev.Throughput)]
    assert told[0].peak_flops == 1000.0 and "(cached)" in told[0].peak_how
    assert [t.measuring for t in told[1:]] == [True, False]  # measured again, once, and said so
    assert told[-1].peak_flops > 1e6 and "(cached)" not in told[-1].peak_how
    first_step = next(i for i, e in enumerate(events) if isinstance(e, ev.StepMetrics))
    assert events.index(told[1]) > first_step  # after a logged step proved it low, not before
    assert pk.cached_peak("cpu", False, 256).flops == told[-1].peak_flops  # the cache holds the new one


def test_a_real_run_reports_an_mfu_between_0_and_1(tmp_path, capsys):
    from rnntui.cli import main

    code = main(
        [
            "train",
            "tiny",
            "--steps",
            "30",
            "--hidden",
            "32",
            "--embed",
            "8",
            "--layers",
            "1",
            "--out-dir",
            str(tmp_path),
            "--no-samples",
            "--device",
            "cpu",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert re.search(
        r"kFLOP/char \(matmuls, forward \+ backward\); peak [\d.]+ [kMGT]?FLOP/s fp32, measured: "
        r"256x256 matmul, \d+ threads?, best of \d+",
        err,
    )
    from rnntui.core.data.corpus import load_corpus

    vocab = len(load_corpus("tiny").vocab)
    flops = flops_per_char(ModelConfig(kind="gru", hidden=32, embed=8, layers=1, vocab_size=vocab))
    line = next(x for x in out.splitlines() if x.startswith("throughput "))
    assert f"x {format_flops(flops, 'FLOP')}/char = " in line and " of peak " in line
    share = float(re.search(r"MFU ([\d.]+)%", line).group(1)) / 100
    assert 0 < share < 1


# -----------------------------------------------------------------------------
# the progress line and the summary


def _progress(width: int):
    import io

    from rich.console import Console

    from rnntui.cli.progress import TrainProgress

    progress = TrainProgress()
    progress.console = Console(file=io.StringIO(), width=width)
    return progress


def _metrics(chars_per_s: float = 12_345.0):
    from rnntui.core import events as ev

    return ev.StepMetrics(
        step=1230,
        epoch=0.45,
        loss=1.234,
        lr=1e-3,
        grad_norm=0.5,
        chars_per_s=chars_per_s,
        elapsed_s=10.0,
        progress=0.4,
        eta_s=20.0,
        chars_seen=123_450,
        wall_s=10.0,
    )


def test_the_progress_line_keeps_mfu_and_fits_the_terminal():
    peak = pk.Peak(flops=1e9, dtype="fp32", device="cpu", machine="x", size=256, threads=2, repeats=10)
    for width, shown, dropped in (
        (200, ["step 1230", "ep 0.45", "loss 1.234", "val 1.456", "12.3k chars/s", "MFU 49%"], []),
        (80, ["step 1230", "loss 1.234", "val 1.456", "MFU 49%"], ["ep 0.45", "chars/s"]),
        (70, ["step 1230", "loss 1.234", "MFU 49%"], ["ep 0.45", "chars/s", "val"]),
    ):
        progress = _progress(width)
        progress.set_throughput(peak.event(40_000))
        progress.last_val = 1.456
        info = progress.info(_metrics())
        assert all(x in info for x in shown) and not any(x in info for x in dropped), (width, info)
        assert len(info) <= width - 38
    progress = _progress(200)
    progress.set_throughput(ev.Throughput(40_000, note="no peak"))
    assert "MFU" not in progress.info(_metrics())
    progress.last = _metrics()  # no peak: the summary still says the achieved FLOP/s
    assert progress._throughput_line() == "throughput 12.3k chars/s x 40 kFLOP/char = 494 MFLOP/s"


def test_the_summary_says_flops_achieved_and_peak_and_doubts_a_share_over_1():
    peak = pk.Peak(flops=1e9, dtype="fp32", device="cpu", machine="x", size=256, threads=2, repeats=10, cached=True)
    progress = _progress(200)
    progress.set_throughput(peak.event(40_000))
    progress.last = _metrics()  # 123,450 chars in 10 s: 12.3k chars/s x 40 kFLOP = 494 MFLOP/s
    assert progress._throughput_line() == (
        "throughput 12.3k chars/s x 40 kFLOP/char = 494 MFLOP/s: MFU 49% of peak "
        "1 GFLOP/s fp32, measured: 256x256 matmul, 2 threads, best of 10 (cached)"
    )
    progress.set_throughput(peak.event(400_000))  # 4.9 GFLOP/s achieved of a 1 GFLOP/s peak
    first, second = progress._throughput_line().split("\n")
    assert (
        "MFU >100% of peak" in first
        and second.startswith("MFU over 100%: the peak was measured while")
        and "measured again" in second
    )


def test_the_progress_says_why_the_peak_is_measured_again():
    peak = pk.Peak(flops=1e9, dtype="fp32", device="cpu", machine="x", size=256, threads=2, repeats=10, cached=True)
    progress = _progress(200)
    progress.set_throughput(ev.Throughput(40_000, peak_dtype="fp32", measuring=True))
    progress.set_throughput(peak.event(40_000))
    progress.set_throughput(ev.Throughput(40_000, peak_dtype="fp32", measuring=True))  # beaten: measured again
    first, _, again = progress.console.file.getvalue().splitlines()
    assert first == "measuring the fp32 matmul peak for MFU (once per machine, unless the machine is busy)"
    assert again == "measuring the fp32 matmul peak again: this run beat the cached one, so it was measured low"
