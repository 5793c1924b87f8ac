"""The training engine: events, stop, pause, exact resume, divergence, budgets."""

import math
import os
import sys
import threading

import pytest
import torch
from helpers import TEXT, tiny_config

from rnntui.core import events as ev
from rnntui.core.config import ConfigError, ModelConfig, TrainConfig
from rnntui.core.data.corpus import corpus_from_text
from rnntui.core.runs.checkpoints import load_checkpoint, model_from_checkpoint
from rnntui.core.train.engine import Trainer
from rnntui.core.train.history import History
from rnntui.core.train.schedule import Budget, lr_at


def run(cfg, resume=None, stop=None, pause=None, stop_after=None):
    stop = stop or threading.Event()
    events = []
    for e in Trainer(cfg, resume=resume, corpus=corpus_from_text("mem", TEXT, cfg.val_frac)).run(stop, pause):
        events.append(e)
        if stop_after is not None and isinstance(e, ev.StepMetrics) and e.step >= stop_after:
            stop.set()
    return events


def of(events, cls):
    return [e for e in events if isinstance(e, cls)]


def test_event_stream_shape(tmp_path):
    events = run(tiny_config(tmp_path))
    assert isinstance(events[0], ev.RunStarted) and isinstance(events[-1], ev.RunFinished)
    start = events[0]
    assert start.n_params > 0 and start.device == "cpu" and start.vocab == "".join(sorted(set(TEXT)))
    assert math.isclose(start.initial_loss, math.log(len(start.vocab)))
    steps = [e.step for e in of(events, ev.StepMetrics)]
    assert steps == [5, 10, 15, 20]  # every log_every steps, and always the last
    evals = of(events, ev.EvalMetrics)
    assert [e.full for e in evals] == [False, True] and evals[-1].step == 20
    assert math.isclose(evals[-1].val_bpc, evals[-1].val_loss / math.log(2))
    fin = events[-1]
    assert fin.reason == "completed" and fin.step == 20 and fin.val_loss == evals[-1].val_loss
    assert (tmp_path / "run" / "latest.pt").exists() and (tmp_path / "run" / "best.pt").exists()


def test_loss_goes_down(tmp_path):
    events = run(tiny_config(tmp_path, steps=80, lr=2e-2, log_every=10, save=False))
    losses = [e.loss for e in of(events, ev.StepMetrics)]
    assert losses[-1] < losses[0] - 0.5


def test_probes_and_samples_are_emitted(tmp_path):
    events = run(tiny_config(tmp_path, probe_hz=1000, probe_budget=1.0, sample_every_s=0.001, save=False, steps=6))
    probes = of(events, ev.ProbeSnapshot)
    assert probes, "no probe snapshot"
    p = probes[0]
    assert p.grad_total.shape == (2, 16) and p.grad_last.shape == (2, 16)
    assert p.hidden.shape == (2, len(p.text), 16) and p.cell is not None
    assert p.hidden.dtype.name == "float32" and not isinstance(p.hidden, torch.Tensor)
    samples = of(events, ev.Sample)
    assert samples and len(samples[0].text) == 160


def test_a_run_ends_with_a_probe_of_its_last_weights(tmp_path):
    """However few probes the budget allowed (here: the one at step 1, then none), the last is of the
    trained model, at the run's last step: what compare's table and a finished run's horizon read."""
    events = run(tiny_config(tmp_path, probe_hz=1000, probe_budget=1e-9, save=False, steps=40))
    steps = [p.step for p in of(events, ev.ProbeSnapshot)]
    assert steps == [1, 40]
    events = run(tiny_config(tmp_path, probe_hz=0, save=False, steps=10))  # probes off: none at the end either
    assert not of(events, ev.ProbeSnapshot)


def test_probes_come_every_5_s_in_the_first_minute_then_by_the_budget(tmp_path):
    """The floor: 5 s while the run is young (a user watches the picture form), 30 s after; in between
    the budget decides (0.5% of training time, here long spent). All on the run's own clock."""
    from types import SimpleNamespace

    from rnntui.core.train.distributed import Dist
    from rnntui.core.train.observe import EARLY_FLOOR_S, EARLY_S, PROBE_FLOOR_S, Observer

    cfg = tiny_config(tmp_path, probe_hz=2)
    obs = Observer(cfg, corpus_from_text("mem", TEXT), torch.device("cpu"), Dist())
    clock = SimpleNamespace(t=0.0)
    loop = SimpleNamespace(step=20, elapsed=lambda: clock.t)  # the run's clock: loop.elapsed()
    obs.last_probe, obs.last_probe_step, obs.probe_s = EARLY_S / 4, 10, 1e9  # the budget spent
    clock.t = EARLY_S / 4 + EARLY_FLOOR_S - 0.1
    assert not obs.probe_due(loop)
    clock.t = EARLY_S / 4 + EARLY_FLOOR_S  # young
    assert obs.probe_due(loop)
    obs.last_probe = 10 * EARLY_S
    clock.t = 10 * EARLY_S + EARLY_FLOOR_S  # old: the 5-s floor is over
    assert not obs.probe_due(loop)
    clock.t = 10 * EARLY_S + PROBE_FLOOR_S
    assert obs.probe_due(loop)


def test_probes_and_samples_keep_time_on_the_runs_clock_not_the_wall(tmp_path):
    """Time a run is held suspended (paused, or an experiment training the others: credit_pause) is not
    its training time, for the probe floor and the sample interval as for the budget: three runs side by
    side are each probed and sampled per minute of their own training, as one run alone."""
    from types import SimpleNamespace

    from rnntui.core.train.distributed import Dist
    from rnntui.core.train.observe import EARLY_S, PROBE_FLOOR_S, Observer

    cfg = tiny_config(tmp_path, probe_hz=2, sample_every_s=15.0)
    obs = Observer(cfg, corpus_from_text("mem", TEXT), torch.device("cpu"), Dist())
    wall = SimpleNamespace(t=10 * EARLY_S, held=0.0)
    loop = SimpleNamespace(step=20, elapsed=lambda: wall.t - wall.held)  # as TrainState.elapsed()
    obs.last_probe, obs.last_probe_step, obs.probe_s = loop.elapsed(), 10, 1e9  # the budget spent
    obs.last_sample = loop.elapsed()
    wall.t += 10 * PROBE_FLOOR_S  # ten floors of wall time pass, all of it suspended and credited
    wall.held += 10 * PROBE_FLOOR_S
    assert not obs.probe_due(loop) and not obs.sample_due(loop)
    wall.t += cfg.sample_every_s  # then 15 s of its own training
    assert obs.sample_due(loop) and not obs.probe_due(loop)
    wall.t += PROBE_FLOOR_S - cfg.sample_every_s  # 30 s of its own training
    assert obs.probe_due(loop)


def test_periodic_saves_keep_time_on_the_runs_clock_not_the_wall(tmp_path):
    """latest.pt comes every checkpoint_minutes of the run's own training: the time it is held suspended
    (credit_idle: an experiment training the others, or bench_train's bare loop) does not count, so a run
    among three does not save three times as often per minute of its training as one alone."""
    stop = threading.Event()
    trainer = Trainer(tiny_config(tmp_path, checkpoint_minutes=1.0), corpus=corpus_from_text("mem", TEXT))
    events = trainer.run(stop)
    next(e for e in events if isinstance(e, ev.StepMetrics))
    loop = trainer._loop
    loop.last_save = loop.elapsed()
    loop.t0 -= 600.0  # ten minutes of wall time pass...
    trainer.credit_idle(600.0)  # ...all of it held suspended
    assert not loop.save_due()
    loop.t0 -= 60.0  # then a minute of its own training
    assert loop.save_due()
    stop.set()
    for _ in events:
        pass


def test_stop_event_ends_run_and_saves_latest(tmp_path):
    events = run(tiny_config(tmp_path, steps=1000), stop_after=5)
    fin = events[-1]
    assert fin.reason == "stopped" and fin.step < 1000
    ckpt = load_checkpoint(fin.latest_path)
    assert ckpt["step"] == fin.step


def test_pause_blocks_until_cleared(tmp_path):
    pause, stop = threading.Event(), threading.Event()
    pause.set()
    got = []
    paused, saved_while_paused = threading.Event(), threading.Event()
    trainer = Trainer(tiny_config(tmp_path), corpus=corpus_from_text("mem", TEXT))

    def consume():
        for e in trainer.run(stop, pause):
            got.append(e)
            if isinstance(e, ev.Paused) and e.paused:
                paused.set()
            if isinstance(e, ev.CheckpointSaved) and pause.is_set():
                saved_while_paused.set()

    t = threading.Thread(target=consume)
    t.start()
    assert paused.wait(30)
    # Handshake: a save asked for while paused is served by the paused loop itself, so once it arrives
    # the trainer has been idling in the pause, and no step can have run before it.
    trainer.request_save()
    assert saved_while_paused.wait(30)
    assert not of(got, ev.StepMetrics)  # no training while paused
    assert of(got, ev.CheckpointSaved)[0].step == 0
    pause.clear()
    t.join(30)
    assert not t.is_alive() and isinstance(got[-1], ev.RunFinished) and got[-1].reason == "completed"
    assert any(isinstance(e, ev.Paused) and not e.paused for e in got)


def _weights(path):
    return load_checkpoint(path)["model"]


@pytest.mark.parametrize("kind,dropout", [("lstm", 0.0), ("gru", 0.3)])
def test_resume_is_exact(tmp_path, kind, dropout):
    """N steps, save, resume for M more == N+M steps in one go, bit for bit (dropout RNG included)."""
    m = ModelConfig(kind=kind, hidden=16, layers=2, embed=8, dropout=dropout)
    kw = dict(model=m, schedule="constant", log_every=1)
    one = run(tiny_config(tmp_path / "one", steps=24, **kw))
    run(tiny_config(tmp_path / "two", steps=12, **kw))
    two = run(tiny_config(tmp_path / "two", steps=24, **kw), resume=str(tmp_path / "two" / "run" / "latest.pt"))
    assert two[0].start_step == 12
    a, b = _weights(one[-1].latest_path), _weights(two[-1].latest_path)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [e.loss for e in of(one, ev.StepMetrics) if e.step > 12] == [e.loss for e in of(two, ev.StepMetrics)]
    assert one[-1].val_loss == two[-1].val_loss


def test_resume_after_stop_with_cosine_schedule(tmp_path):
    """Stopped mid-run (Ctrl+C) and resumed to the same total: identical to the uninterrupted run."""
    one = run(tiny_config(tmp_path / "one", steps=20, log_every=1))
    middle = run(tiny_config(tmp_path / "two", steps=20, log_every=1), stop_after=7)
    # the stop took: the first invocation ended early, so the resume below has steps left to train
    assert middle[-1].reason == "stopped" and 7 <= middle[-1].step < 20
    two = run(tiny_config(tmp_path / "two", steps=20, log_every=1), resume=str(tmp_path / "two" / "run" / "latest.pt"))
    assert two[0].start_step == middle[-1].step and two[-1].reason == "completed" and two[-1].step == 20
    a, b = _weights(one[-1].latest_path), _weights(two[-1].latest_path)
    assert a and a.keys() == b.keys()  # not vacuous: the same, non-empty set of tensors on both sides
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_carries_history(tmp_path):
    run(tiny_config(tmp_path, steps=10))
    events = run(tiny_config(tmp_path, steps=20), resume=str(tmp_path / "run" / "latest.pt"))
    start = events[0]
    assert start.history_steps and start.history_steps[-1] == 10 and start.val_history


def test_divergence_stops_and_keeps_last_good_checkpoint(tmp_path):
    cfg = tiny_config(tmp_path, steps=10)
    run(cfg)
    good = _weights(tmp_path / "run" / "latest.pt")
    events = run(
        tiny_config(tmp_path, steps=40, lr=5.0, clip=0.0, warmup=0, log_every=1),
        resume=str(tmp_path / "run" / "latest.pt"),
    )
    fin = events[-1]
    assert fin.reason == "diverged" and "--lr" in fin.message
    after = _weights(tmp_path / "run" / "latest.pt")
    assert all(torch.equal(good[k], after[k]) for k in good)


def test_request_save_and_snapshot(tmp_path):
    trainer = Trainer(tiny_config(tmp_path, steps=30, log_every=1), corpus=corpus_from_text("mem", TEXT))
    assert trainer.snapshot() is None
    saved = []
    for e in trainer.run():
        if isinstance(e, ev.StepMetrics) and e.step == 3:
            trainer.request_save()
            snap = trainer.snapshot()
            model, vocab, cfg = model_from_checkpoint(snap)
            assert snap.step == 3 and cfg.model.hidden == 16 and snap.vocab == vocab.chars
        if isinstance(e, ev.CheckpointSaved):
            saved.append(e)
    assert saved[0].step == 3 and saved[0].kind == "latest"


def test_bad_config_raises_before_first_event(tmp_path):
    with pytest.raises(ConfigError):
        next(iter(Trainer(tiny_config(tmp_path, lr=-1.0), corpus=corpus_from_text("mem", TEXT)).run()))


def test_history_is_bounded():
    h = History(cap=64)
    for i in range(100_000):
        h.add(i, float(i))
    assert len(h.steps) < 64 and h.steps == sorted(h.steps)
    assert abs(h.values[-1] - h.steps[-1]) < h.stride  # means of recent points


def test_schedule_warmup_and_decay(tmp_path):
    cfg = tiny_config(tmp_path, lr=1.0, warmup=10, min_lr_frac=0.1, schedule="cosine")
    assert lr_at(cfg, 0, 0.0) == pytest.approx(0.1)
    assert lr_at(cfg, 10, 0.0) == pytest.approx(1.0)
    assert lr_at(cfg, 50, 0.5) == pytest.approx(0.55)
    assert lr_at(cfg, 99, 1.0) == pytest.approx(0.1)
    wsd = tiny_config(tmp_path, lr=1.0, warmup=10, min_lr_frac=0.1, schedule="wsd")
    assert lr_at(wsd, 50, 0.6) == pytest.approx(1.0)  # flat until 70% of the budget
    assert lr_at(wsd, 90, 0.85) == pytest.approx(0.55)  # then linear down to min_lr_frac
    assert lr_at(wsd, 99, 1.0) == pytest.approx(0.1)
    step = tiny_config(tmp_path, lr=1.0, warmup=0, schedule="step")
    assert [lr_at(step, 0, p) for p in (0.1, 0.6, 0.8, 0.95)] == [1.0, 0.5, 0.25, 0.125]
    assert Budget.of(TrainConfig(epochs=2.5), steps_per_epoch=10).total_steps == 25
    assert Budget.of(TrainConfig(minutes=1), 10).done(5, 61.0)


@pytest.mark.parametrize("bf16", [True, False])
def test_bf16_autocast_on_cpu_with_probes(tmp_path, bf16):
    # a GRU: oneDNN runs it under bf16 autocast on every x86 CPU (its LSTM kernel needs native bf16)
    gru = ModelConfig(kind="gru", hidden=16, layers=2, embed=8)
    events = run(tiny_config(tmp_path, model=gru, bf16=bf16, steps=6, probe_hz=1000, probe_budget=1.0, save=False))
    assert events[0].config.bf16 is bf16
    probe = of(events, ev.ProbeSnapshot)[0]
    assert probe.hidden.dtype.name == "float32" and math.isfinite(events[-1].val_loss)


def test_bf16_default_follows_the_hardware(monkeypatch):
    from rnntui.core.model import devices

    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"avx512_bf16": True})
    assert devices.native_bf16(torch.device("cpu"))  # native bf16 instructions: autocast on
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"avx512_bf16": False, "avx2": True})
    assert not devices.native_bf16(torch.device("cpu"))  # emulated bf16 is slower than fp32: off
    assert not devices.native_bf16(torch.device("mps"))


def test_forced_bf16_lstm_on_a_cpu_without_native_bf16_is_one_line(tmp_path):
    # conftest makes every CPU read as non-native: the oneDNN LSTM kernel would fail mid-run
    with pytest.raises(ConfigError, match="--no-bf16"):
        run(tiny_config(tmp_path, bf16=True, steps=2, save=False))


# -----------------------------------------------------------------------------
# the hot loop reads nothing back from the device between log intervals (on a GPU each read is a sync)

HOST_READS = ("item", "tolist", "numpy", "cpu", "__bool__", "__float__", "__int__", "__index__")


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_no_host_reads_between_log_intervals(tmp_path, monkeypatch, kind):
    """Every tensor read rnntui's own code makes between two StepMetrics comes from the one log() that
    makes the second: optimiser steps, budget checks and probe/sample scheduling read nothing back.

    On the CPU a read costs nothing, so this is checked by where reads are made: a spy on the Tensor
    methods that copy to the host records each call made from a frame in rnntui."""
    calls: list[tuple[str, str, str]] = []

    def spy(name: str) -> None:
        inner = getattr(torch.Tensor, name)

        def read(self, *args, **kwargs):
            caller = sys._getframe(1).f_code
            if f"{os.sep}rnntui{os.sep}" in caller.co_filename:
                calls.append((name, os.path.basename(caller.co_filename), caller.co_name))
            return inner(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, read)

    for name in HOST_READS:
        spy(name)
    cfg = tiny_config(
        tmp_path,
        model=ModelConfig(kind=kind, hidden=16, layers=2, embed=8),
        steps=40,
        log_every=10,
        eval_every=0,
        save=False,
        probe_hz=0,
        sample_every_s=0,
    )
    events = Trainer(cfg, corpus=corpus_from_text("mem", TEXT, cfg.val_frac)).run()
    seen: list[list[tuple[str, str, str]]] = []
    for e in events:
        if isinstance(e, ev.StepMetrics):
            seen.append(list(calls))  # the reads since the previous StepMetrics, this one's log() included
            calls.clear()
    between = seen[1:]  # the first interval also holds the run's set-up
    assert len(between) == 3
    for reads in between:
        assert reads, "the spy saw no read at all: it is not watching"
        assert {(f, fn) for _, f, fn in reads} == {("loop.py", "log")}, reads
