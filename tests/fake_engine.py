"""A stand-in for the engine with the same surface (run/snapshot/request_save, Sampler.stream), no torch.

UI tests drive the app with it so they exercise event routing, not training. It yields the real event
dataclasses at a controlled pace and honours stop/pause like the real trainer.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from rnntui.core.config import ConfigError, TrainConfig
from rnntui.core.events import (
    CheckpointSaved,
    EvalMetrics,
    Event,
    Paused,
    ProbeSnapshot,
    RunFinished,
    RunStarted,
    Sample,
    StepMetrics,
)
from rnntui.core.units import unknown_chars

VOCAB = "\n abcdefghijklmnopqrstuvwxyz.,"


class FakeTrainer:
    """Yields `steps` StepMetrics (with evals, probes, samples sprinkled in), `delay` seconds apart."""

    steps = 400
    delay = 0.005
    fail_with: BaseException | None = None  # raised from run() before the first event

    def __init__(self, cfg: TrainConfig, resume: str | None = None):
        self.cfg, self.resume = cfg, resume
        self.step = 0
        self.saves = 0
        self._save = threading.Event()

    def snapshot(self) -> dict | None:
        return {"format": "rnntui-checkpoint", "vocab": VOCAB, "step": self.step, "model": {}, "config": {}}

    def request_save(self) -> None:
        self._save.set()

    def run(self, stop: threading.Event, pause: threading.Event) -> Iterator[Event]:
        if self.fail_with is not None:
            raise self.fail_with
        L, T, H = self.cfg.model.layers, self.cfg.seq_len, self.cfg.model.hidden
        run_dir = self.cfg.out_dir + "/fake"
        yield RunStarted(
            config=self.cfg,
            vocab=VOCAB,
            n_params=12345,
            device="cpu",
            run_dir=run_dir,
            start_step=0,
            total_steps=self.steps,
            steps_per_epoch=100,
            train_chars=9000,
            val_chars=1000,
            initial_loss=float(np.log(len(VOCAB))),
        )
        t0 = time.perf_counter()
        reason = "completed"
        while self.step < self.steps:
            if stop.is_set():
                reason = "stopped"
                break
            if pause.is_set():
                yield Paused(self.step, True)
                while pause.is_set() and not stop.is_set():
                    time.sleep(0.01)
                yield Paused(self.step, False)
                continue
            time.sleep(self.delay)
            self.step += 1
            loss = 3.4 * np.exp(-self.step / 150) + 1.2
            yield StepMetrics(
                step=self.step,
                epoch=self.step / 100,
                loss=float(loss),
                lr=1e-3,
                grad_norm=0.5 + 0.1 * np.sin(self.step),
                chars_per_s=5000.0,
                elapsed_s=time.perf_counter() - t0,
                progress=self.step / self.steps,
                eta_s=(self.steps - self.step) * self.delay,
            )
            if self.step % 50 == 0:
                yield EvalMetrics(
                    self.step, float(loss) + 0.1, (float(loss) + 0.1) / np.log(2), float(loss) + 0.1, False
                )
            if self.step % 20 == 0:
                text = "the quick brown fox"[: max(4, T)]
                yield ProbeSnapshot(
                    step=self.step,
                    grad_total=np.abs(np.linspace(1e-3, 1, T, dtype=np.float32))[None].repeat(L, 0),
                    grad_last=np.abs(np.logspace(-4, 0, T, dtype=np.float32))[None].repeat(L, 0),
                    text=text,
                    hidden=np.tanh(np.random.default_rng(self.step).normal(size=(L, len(text), H))).astype(np.float32),
                    cell=None,
                    clip=self.cfg.clip,
                )
            if self.step % 30 == 0:
                yield Sample(self.step, "\n", f"sample text at step {self.step}", 0.8)
            if self._save.is_set():
                self._save.clear()
                self.saves += 1
                yield CheckpointSaved(self.step, run_dir + "/latest.pt", "latest", time.time())
        if reason == "stopped":
            self.saves += 1
            yield CheckpointSaved(self.step, run_dir + "/latest.pt", "latest", time.time())
        yield RunFinished(
            self.step, reason, f"{reason} at step {self.step}", 1.5, None, 1.6, latest_path=run_dir + "/latest.pt"
        )


class LongTrainer(FakeTrainer):
    """Runs until stopped: for tests about the controls and screens around a run, not its end."""

    steps = 100_000
    delay = 0.01


class FakeSampler:
    """Streams a fixed pattern one character at a time, slowly enough to cancel mid-way."""

    delay = 0.002

    def __init__(self, vocab: str = VOCAB):
        self.vocab = vocab

    @classmethod
    def from_checkpoint(cls, ckpt: dict) -> FakeSampler:
        return cls(ckpt["vocab"])

    def unknown_chars(self, prime: str) -> str:
        return unknown_chars(self.vocab, prime)

    def stream(
        self,
        prime: str = "",
        temperature: float = 1.0,
        top_k: int = 0,
        length: int = 200,
        seed: int | None = None,
        argmax: bool = False,
        stop: threading.Event | None = None,
    ):
        if not temperature > 0:
            raise ConfigError("temperature must be > 0")
        for i in range(length):
            if stop is not None and stop.is_set():
                return
            time.sleep(self.delay)
            yield "ab"[i % 2] if temperature < 1 else "xy"[i % 2]

    def stream_scored(self, *args, **kwargs):
        """As stream, with a made-up probability per character (the generation panel colours by it)."""
        for i, ch in enumerate(self.stream(*args, **kwargs)):
            yield ch, (0.95, 0.05)[i % 2]


# -----------------------------------------------------------------------------
# notifications, recorded through App.notify (public) instead of Textual's private app._notifications


@dataclass(frozen=True)
class Note:
    message: str
    title: str
    severity: str


_NOTES: weakref.WeakKeyDictionary[object, list[Note]] = weakref.WeakKeyDictionary()


def record_notifications(monkeypatch) -> None:
    """Wrap App.notify so each app's notifications are kept, in order, for notifications(app)."""
    from textual.app import App

    original = App.notify

    def notify(self, message, *, title="", severity="information", **kw):
        _NOTES.setdefault(self, []).append(Note(str(message), str(title), str(severity)))
        return original(self, message, title=title, severity=severity, **kw)

    monkeypatch.setattr(App, "notify", notify)


def notifications(app) -> list[Note]:
    """Every notification the app has shown so far (widgets' and screens' notify() go through App.notify)."""
    return _NOTES.get(app, [])


async def wait_for(pilot, condition, timeout: float = 10.0, step: float = 0.05) -> None:
    """Let the app run until condition() holds; fail the test after timeout seconds."""
    waited = 0.0
    while not condition():
        if waited >= timeout:
            raise AssertionError("condition not reached in time")
        await pilot.pause(step)
        waited += step
