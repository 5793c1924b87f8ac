"""The training engine: truncated BPTT as a generator of events.

    for event in Trainer(cfg).run(stop, pause):
        ...  # RunStarted, StepMetrics, EvalMetrics, ProbeSnapshot, Sample, CheckpointSaved, Paused, RunFinished

The Trainer prepares a run (corpus, device, resumed checkpoint, its run folder: rundir.py), then drives a
TrainLoop (loop.py) and its Observer (observe.py: probes and samples), and writes every event they yield
to the run folder's metrics.jsonl and run.json.

Under torchrun every rank runs the same generator (distributed.py); rank 0 alone owns the run folder.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import replace

import torch

from rnntui.core import events as ev
from rnntui.core.config import ConfigError, RnntuiError, TrainConfig, config_to_dict
from rnntui.core.data.corpus import Corpus, Vocab, check_windows, corpus_fingerprint, load_with_progress
from rnntui.core.model.devices import native_bf16, resolve_device
from rnntui.core.model.heap import keep_heap
from rnntui.core.model.memory import check_fits
from rnntui.core.model.throughput import PeakCheck
from rnntui.core.runs.checkpoints import Checkpoint, CheckpointError, WeightsSnapshot
from rnntui.core.runs.folder import RunDir, run_name_for
from rnntui.core.runs.lock import RunLock
from rnntui.core.runs.placement import file_id
from rnntui.core.runs.writer import RunWriter
from rnntui.core.train.distributed import Dist, DistError, is_dist_failure, lost_rank
from rnntui.core.train.loop import Diverged, TrainLoop
from rnntui.core.train.observe import Observer
from rnntui.core.train.rundir import claim_run_dir

# -----------------------------------------------------------------------------
# the trainer


class Trainer:
    def __init__(
        self,
        cfg: TrainConfig,
        resume: str | None = None,
        corpus: Corpus | None = None,
        overwrite: bool = False,
        force_corpus: bool = False,
        dist: Dist | None = None,
    ):
        keep_heap()  # no page faults per step from malloc's mmap and trim (model/heap.py: why)
        self.cfg = cfg
        self.dist = dist or Dist()  # this process's rank (torchrun); Dist(): a single process
        self.resume = resume  # checkpoint path to continue from
        self.overwrite = overwrite  # replace a run already in the target folder
        self.force_corpus = force_corpus  # resume on a corpus other than the checkpoint's
        self._corpus = corpus  # tests pass an in-memory corpus; normally loaded in run()
        self._lock = threading.Lock()  # held around weight updates; snapshot() takes it to copy
        self._loop: TrainLoop | None = None
        self._save_requested = threading.Event()
        self._hurry = threading.Event()  # set: cut the closing validation short and save now
        self._run_lock: RunLock | None = None  # this process owns the run folder while it holds this (rank 0)
        self._resume_id: tuple[int, ...] | None = None  # placement.file_id of the checkpoint, before loading it
        self.notice = ""

    @property
    def corpus(self) -> Corpus | None:
        """The text the run trains on, once run() has loaded it (the n-gram baselines are fitted on it)."""
        return self._loop.corpus if self._loop is not None else self._corpus

    # ---- called from other threads ---------------------------------------------------------------

    def snapshot(self) -> WeightsSnapshot | None:
        """The current weights, copied between two optimiser steps (no optimiser state)."""
        loop = self._loop
        if loop is None:
            return None
        with self._lock:
            weights = {k: v.detach().to("cpu", copy=True) for k, v in loop.model.state_dict().items()}
            step = loop.step
        return WeightsSnapshot(weights, self.cfg, loop.corpus.vocab.chars, step)

    def request_save(self) -> None:
        self._save_requested.set()

    def credit_idle(self, seconds: float) -> None:
        """Time the caller held this run's generator suspended (an experiment stepping other runs): not
        training time, so the budget, chars/s and wall time leave it out, as they leave out a pause.
        Call from the thread that iterates run(), between two next() calls."""
        loop = self._loop
        if loop is not None:
            loop.credit_pause(seconds)

    def hurry(self) -> None:
        """A second stop request: end any validation now; latest.pt is still written."""
        self._hurry.set()

    # ---- preparing a run ---------------------------------------------------------------------------

    def _prepare(self) -> Generator[ev.Event, None, tuple[Checkpoint | None, Corpus]]:
        self._resume_id = file_id(self.resume) if self.resume else None  # before loading: a later save shows
        ckpt = Checkpoint.load(self.resume) if self.resume else None
        cfg = self.cfg
        if ckpt is not None:  # the architecture is the checkpoint's; the run settings are the caller's
            cfg = replace(cfg, model=ckpt.config.model)
        cfg.validate()
        device = resolve_device(cfg.device)
        bf16 = native_bf16(device) if cfg.bf16 is None else cfg.bf16
        if bf16 and device.type == "mps":
            raise ConfigError("bf16 autocast is not supported on mps; use --no-bf16")
        if bf16 and device.type == "cpu" and cfg.model.kind == "lstm" and not native_bf16(device):
            raise ConfigError(
                "bf16 autocast of an LSTM needs a CPU with AVX512-BF16 or AMX (this one has "
                "neither, and emulated bf16 is slower than fp32); use --no-bf16"
            )
        vocab = Vocab(ckpt.snapshot.vocab) if ckpt is not None else None
        corpus = self._corpus or (yield from load_with_progress(cfg.corpus, cfg.val_frac, vocab))
        if vocab is not None and corpus.vocab.chars != vocab.chars:
            raise CheckpointError("corpus vocabulary differs from the checkpoint's")
        check_windows(corpus, cfg.seq_len, cfg.batch_size)
        check_fits(cfg.model, len(corpus.vocab), cfg.batch_size, cfg.seq_len, str(device))
        model_cfg = replace(cfg.model, vocab_size=len(corpus.vocab))
        self.cfg = replace(cfg, model=model_cfg, bf16=bf16, run_name=cfg.run_name or run_name_for(cfg))
        self.device = self.dist.device(device)
        return ckpt, corpus

    def _run_dir(self, ckpt: Checkpoint | None, fingerprint: str) -> RunDir | None:
        """The folder this run writes (rundir.py), claimed under its lock and prepared; None when not saving."""
        if not self.cfg.save:
            return None
        claimed = claim_run_dir(
            self.cfg, ckpt, self.resume, self._resume_id, fingerprint, self.overwrite, self.force_corpus
        )
        self._run_lock, self.cfg, self.notice = claimed.lock, claimed.cfg, claimed.notice
        claimed.run.prepare()
        return claimed.run

    # ---- the run -----------------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None, pause: threading.Event | None = None) -> Iterator[ev.Event]:
        stop = stop or threading.Event()
        pause = pause or threading.Event()
        ckpt, corpus = yield from self._prepare()
        fingerprint = corpus_fingerprint(corpus)
        self._agree(ckpt, fingerprint)
        try:  # the run folder's lock is held from here to the last write
            run = self._main_run_dir(ckpt, fingerprint)
            yield from self._train(run, ckpt, corpus, fingerprint, stop, pause)
        finally:
            if self._run_lock is not None:
                self._run_lock.release()

    def _train(
        self,
        run: RunDir | None,
        ckpt: Checkpoint | None,
        corpus: Corpus,
        fingerprint: str,
        stop: threading.Event,
        pause: threading.Event,
    ) -> Iterator[ev.Event]:
        forced = ckpt is not None and ckpt.corpus_fingerprint not in ("", fingerprint)
        if forced and ckpt is not None:  # other text: its losses are not comparable with the old best
            ckpt = replace(ckpt, best_val_loss=None, val_history=[])
        loop = TrainLoop(self.cfg, corpus, self.device, run, self._lock, self.dist, fingerprint, ckpt)
        self.notice = "; ".join(n for n in [self.notice, *loop.notes] if n)
        self._loop = loop
        obs = Observer(loop.cfg, corpus, self.device, self.dist)
        writer = RunWriter(run, loop, resumed=ckpt is not None) if run is not None else None
        try:
            for event in self._events(loop, obs, stop, pause):
                if writer is not None:
                    writer.write(event)
                yield event
        except BaseException as e:
            if self.dist.enabled and not isinstance(e, DistError) and is_dist_failure(e):
                e = lost_rank(self.dist, e)  # a rank died inside DDP's all-reduce: one line, not a traceback
            if writer is not None:
                writer.fail(str(e).splitlines()[0] if str(e) else type(e).__name__)
            if isinstance(e, DistError):
                raise e from None
            raise
        finally:
            if writer is not None:
                writer.close()

    def _agree(self, ckpt: Checkpoint | None, fingerprint: str) -> None:
        """Distributed: every rank must train on the same text with the same settings (the paths may differ
        from machine to machine: only the content and the settings are compared)."""
        settings = {k: v for k, v in config_to_dict(self.cfg).items() if k not in ("corpus", "out_dir", "run_name")}
        self.dist.agree(
            {"corpus": fingerprint, "settings": settings, "checkpoint to resume": None if ckpt is None else ckpt.step},
            self.device,
        )

    def _main_run_dir(self, ckpt: Checkpoint | None, fingerprint: str) -> RunDir | None:
        """Rank 0 prepares the run folder; distributed, the other ranks learn whether it could."""
        if not self.dist.enabled:
            return self._run_dir(ckpt, fingerprint)
        run, err = None, None
        if self.dist.is_main:
            try:
                run = self._run_dir(ckpt, fingerprint)
            except RnntuiError as e:
                err = e
        failed = self.dist.all_reduce_mean(torch.tensor([float(err is not None)], device=self.device))
        if err is not None:
            raise err
        if failed.item() > 0:
            raise DistError(f"rank {self.dist.rank}: rank 0 could not prepare the run folder (its error says why)")
        return run

    def _events(
        self, loop: TrainLoop, obs: Observer, stop: threading.Event, pause: threading.Event
    ) -> Iterator[ev.Event]:
        cfg = self.cfg
        yield loop.run_started(self.notice, resumed=bool(self.resume))
        peak = PeakCheck(cfg.model, self.device, bool(cfg.bf16), self.dist.world_size) if self.dist.is_main else None
        if peak is not None:  # the peak for MFU: cached, or measured now (its time is not training time)
            yield from peak.events(loop.credit_pause)
        reason, message = "completed", ""
        try:
            while not loop.done():
                if loop.stop_now(stop):
                    reason, message = "stopped", f"stopped at step {loop.step}"
                    break
                if pause.is_set():
                    yield from self._idle(loop, pause, stop)
                    continue
                loop.optimise()
                if loop.log_due(stop.is_set()):
                    yield (logged := loop.log(stop.is_set(), self._save_requested.is_set()))
                    if peak is not None and peak.doubts(logged.chars_per_s):  # beat the peak: measured low
                        yield from peak.events(loop.credit_pause)
                    # periodic save, right after a finite-loss check so no diverged weights are written
                    if loop.save_due(self._save_requested.is_set()):
                        self._save_requested.clear()
                        if saved := loop.save("latest"):
                            yield saved
                if cfg.eval_every and loop.step % cfg.eval_every == 0 and not loop.done():
                    yield from loop.validate(cfg.eval_windows, stop=stop)
                if obs.probe_due(loop):
                    yield obs.probe(loop)
                if obs.sample_due(loop):
                    yield obs.sample(loop)
            if obs.last_probe_due(loop):
                yield obs.probe(loop)
        except Diverged as d:
            reason, message = "diverged", str(d)
        yield from self._finish(loop, reason, message, stop)

    def _idle(self, loop: TrainLoop, pause: threading.Event, stop: threading.Event) -> Iterator[ev.Event]:
        yield ev.Paused(loop.step, True)
        p0 = time.perf_counter()
        while pause.is_set() and not stop.is_set():
            if self._save_requested.is_set():
                self._save_requested.clear()
                if e := loop.save("latest"):
                    yield e
            stop.wait(0.05)
        loop.credit_pause(time.perf_counter() - p0)
        yield ev.Paused(loop.step, False)

    def _finish(self, loop: TrainLoop, reason: str, message: str, stop: threading.Event) -> Iterator[ev.Event]:
        """A bounded validation pass (a stop request cuts it short), then latest.pt.

        A completed run is scored on cfg.val_chars characters spread over the split (0: all of it); a
        stopped one gets the short intermediate pass, which a second stop request ends at once."""
        val_loss = None
        if reason == "stopped" and loop.step == loop.start_step:
            pass  # stopped before its first step: nothing new to score or save
        elif reason != "diverged":
            if reason == "completed":
                val_loss = yield from loop.validate(loop.final_windows(), stop=_either(stop, self._hurry))
            else:
                val_loss = yield from loop.validate(self.cfg.eval_windows, stop=self._hurry)
            if e := loop.save("latest"):
                yield e
        if reason == "completed":
            message = f"finished at step {loop.step}"
        yield loop.run_finished(reason, message, val_loss)


class _either(threading.Event):
    """An Event that reads as set when either of two is set (the stop request or the hurry request)."""

    def __init__(self, a: threading.Event, b: threading.Event):
        super().__init__()
        self.a, self.b = a, b

    def is_set(self) -> bool:
        return self.a.is_set() or self.b.is_set()
