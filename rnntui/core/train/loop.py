"""The training loop: one optimiser step, logging, checkpoints, validation (probes and samples: observe.py).

`Trainer.run` (engine.py) reads as the loop itself; a TrainLoop is the run's state (state.py: model,
optimiser, streams, step, histories, carried hidden state, clocks, and the checkpoint they make) plus the
steps that change it, one method per concern. The hot path does no host sync: loss and gradient norm
accumulate as device tensors and are read every cfg.log_every steps.

Nothing outside TrainLoop and TrainState writes their attributes: the engine drives the methods here,
calls `credit_pause()` for time the run was held still, and reads `progress()`, `at_start` and the events
the methods return. When to save is decided here, what is saved is `state_dict()`, and
rnntui.core.runs.checkpoints writes the file.

Distributed (rnntui.core.train.distributed): the model is wrapped in DistributedDataParallel, each rank walks
its own slice of the streams, and whatever the ranks must agree on (stop, save, the clock of a time
budget) is settled in the one all-reduce of each log interval. Only rank 0 validates, probes, samples
and saves.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Generator

import torch

from rnntui.core import events as ev
from rnntui.core.config import TrainConfig
from rnntui.core.data.corpus import Corpus
from rnntui.core.model.cells import State, detach_state, loss_fn
from rnntui.core.runs.checkpoints import Checkpoint, save_checkpoint
from rnntui.core.runs.folder import RunDir
from rnntui.core.train.distributed import Dist
from rnntui.core.train.evaluation import iter_evaluate, total_windows, windows_for
from rnntui.core.train.schedule import lr_at
from rnntui.core.train.state import Progress, TrainState
from rnntui.core.units import bits_per_char

__all__ = ["TrainLoop", "Diverged", "Progress"]

DIVERGE_FACTOR = 1.5  # a loss above 1.5x ln(V), worse than a uniform guess, counts as diverged
VALIDATING_EVERY_S = 0.5  # progress events of a long validation pass


class Diverged(Exception):
    """The loss left the finite range or got worse than a uniform guess."""


class TrainLoop(TrainState):
    def __init__(
        self,
        cfg: TrainConfig,
        corpus: Corpus,
        device: torch.device,
        run: RunDir | None,
        lock: threading.Lock,
        dist: Dist = Dist(),
        fingerprint: str = "",
        ckpt: Checkpoint | None = None,
    ):
        super().__init__(cfg, corpus, device, dist, fingerprint, ckpt)
        self.run, self.lock = run, lock  # lock: held around weight updates (the app copies weights under it)
        self.initial_loss = math.log(len(corpus.vocab))
        self.clip = cfg.clip if cfg.clip > 0 else math.inf
        # accumulators between log intervals (device tensors: no sync per step)
        self.loss_acc = torch.zeros((), device=device)
        self.gn_acc = torch.zeros((), device=device)
        self.n_acc = 0
        self.train_loss: float | None = None
        self.x: torch.Tensor | None = None  # the last window (B, T) and the state it began with, for the probes
        self.y: torch.Tensor | None = None
        self.state_in: State | None = None
        self.last_save = self.elapsed()  # on the run's clock: see _save_time

    # ---- the run's first and last events ------------------------------------------------------------

    def run_started(self, notice: str, resumed: bool) -> ev.RunStarted:
        """What the run is and where this invocation begins (a resume: the checkpoint's histories)."""
        return ev.RunStarted(
            config=self.cfg,
            vocab=self.corpus.vocab.chars,
            n_params=self.model.n_params(),
            device=str(self.device),
            run_dir=str(self.run.path) if self.run is not None else "",
            start_step=self.start_step,
            total_steps=self.budget.total_steps,
            steps_per_epoch=self.train.windows,
            train_chars=len(self.corpus.train),
            val_chars=len(self.corpus.val),
            history_steps=tuple(self.losses.steps),
            history_loss=tuple(self.losses.values),
            val_history=tuple(self.val_hist),
            initial_loss=self.initial_loss,
            wall_s=self.at_start.wall_s,
            chars_seen=self.at_start.chars_seen,
            notice=notice,
            grad_norm_history=tuple(zip(self.grad_norms.steps, self.grad_norms.values)),
            best_val_loss=self.at_start.best_val_loss,
            last_saved_step=self.start_step if resumed else None,
        )

    def run_finished(self, reason: str, message: str, val_loss: float | None) -> ev.RunFinished:
        run = self.run
        latest = str(run.latest) if run is not None and run.latest.exists() else None
        best = str(run.best) if run is not None and run.best.exists() else None
        return ev.RunFinished(
            self.step,
            reason,
            message,
            self.train_loss,
            val_loss,
            self.progress().best_val_loss,
            latest,
            best,
            self.elapsed(),
        )

    # ---- budget ------------------------------------------------------------------------------------

    def clock(self) -> float:
        """The training time budgets and schedules read: distributed, the one the ranks agreed on at the
        last log interval, so every rank stops at the same step and uses the same learning rate."""
        return self.agreed_s if self.dist.enabled else self.elapsed()

    def done(self) -> bool:
        return self.budget.done(self.step, self.clock())

    def stop_now(self, stop: threading.Event) -> bool:
        """Distributed: a stop request counts once every rank knows of it (the next log interval)."""
        return self.agreed_stop if self.dist.enabled else stop.is_set()

    def plan_done(self) -> float:
        """Fraction of the current plan done: a resume that extends the budget plans from where it resumed."""
        b = self.budget
        if b.total_steps is not None:
            span = max(1, b.total_steps - self.plan_start)
            return min(1.0, max(0.0, (self.step - self.plan_start) / span))
        return b.progress(self.step, self.clock())

    # ---- one optimiser step ----------------------------------------------------------------------

    def optimise(self) -> None:
        k = self.step % self.train.windows
        if k == 0:
            self.state = None  # a new epoch starts each stream over: no carried state across the wrap
        self.x, self.y = self.train.window(k)  # (B, T) each
        self.state_in = self.state
        lr = lr_at(self.cfg, self.step, self.plan_done())
        for g in self.opt.param_groups:
            g["lr"] = lr
        self.lr = lr
        with self.autocast():
            logits, state = self.net(self.x, self.state)  # (B, T, V)
            loss = loss_fn(logits, self.y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()  # distributed: DDP averages the gradients over all ranks here
        gn = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
        with self.lock:
            self.opt.step()
            self.step += 1
        self.state = detach_state(state)
        self.loss_acc += loss.detach()
        self.gn_acc += gn.detach()
        self.n_acc += 1

    # ---- metrics, at log intervals only (each .item() is a device sync) --------------------------

    def log_due(self, stopping: bool) -> bool:
        # distributed, every rank must log at the same steps: a stop waits for the next interval
        return self.step % self.cfg.log_every == 0 or (stopping and not self.dist.enabled) or self.done()

    def log(self, stopping: bool = False, save_requested: bool = False) -> ev.StepMetrics:
        # one host sync; distributed, one all-reduce that also settles stop, save and the clock
        stats = torch.stack([self.loss_acc / self.n_acc, self.gn_acc / self.n_acc])
        if self.dist.enabled:
            flags = torch.tensor(
                [float(stopping), float(save_requested or self._save_time()), self.elapsed()], device=self.device
            )
            stats = self.dist.all_reduce_mean(torch.cat([stats, flags]))
        train_loss, grad_norm, *agreed = stats.tolist()
        if agreed:
            self.agreed_stop, self.agreed_save, self.agreed_s = agreed[0] > 0, agreed[1] > 0, agreed[2]
        self.loss_acc.zero_()
        self.gn_acc.zero_()
        self.n_acc = 0
        if (
            not math.isfinite(train_loss)
            or not math.isfinite(grad_norm)
            or train_loss > DIVERGE_FACTOR * self.initial_loss
        ):
            raise Diverged(
                f"loss {train_loss:.3g} at step {self.step}: training diverged; lower --lr "
                f"(now {self.cfg.lr:g}) or --clip (now {self.cfg.clip:g}). The last good checkpoint is kept."
            )
        self.train_loss = train_loss
        self.losses.add(self.step, train_loss)
        self.grad_norms.add(self.step, grad_norm)
        now = time.perf_counter()
        chars = (self.step - self.last_log_step) * self.global_batch * self.cfg.seq_len
        cps = chars / max(now - self.last_log_t, 1e-9)
        self.last_log_t, self.last_log_step = now, self.step
        el = self.elapsed()
        b = self.budget
        if b.total_steps is not None:
            eta: float | None = (b.total_steps - self.step) * self.global_batch * self.cfg.seq_len / max(cps, 1e-9)
        else:
            eta = max(0.0, b.seconds - el) if b.seconds is not None else None
        return ev.StepMetrics(
            self.step,
            self.step / self.train.windows,
            train_loss,
            self.lr,
            grad_norm,
            cps,
            el,
            b.progress(self.step, el),
            eta,
            self.chars_seen(),
            self.wall0 + el,
        )

    # ---- checkpoints: when (here), what (state_dict), how (checkpoints.save_checkpoint) ------------

    def save(self, kind: str) -> ev.CheckpointSaved | None:
        """Rank 0 writes; distributed, every rank calls it for latest.pt (it gathers their state first)."""
        if kind == "latest":
            self.last_save = self.elapsed()  # on every rank: each one's clock of the next periodic save
        self.share()
        if self.run is None or not self.dist.is_main:
            return None
        path = self.run.latest if kind == "latest" else self.run.best
        save_checkpoint(path, self.state_dict())
        return ev.CheckpointSaved(self.step, str(path), kind, time.time())

    def save_due(self, requested: bool = False) -> bool:
        """Time for latest.pt (or the app asked). Distributed: what the ranks agreed at this log interval."""
        if self.dist.enabled:
            return self.agreed_save
        return requested or self._save_time()

    def _save_time(self) -> bool:
        # On the run's own clock (elapsed(): a pause and the time an experiment holds the run suspended
        # while the others train are left out), as the probes and samples are (observe.py): what a crash
        # can lose is the training done since latest.pt, and a run among three side by side would
        # otherwise save three times as often per minute of its own training as one alone.
        return self.elapsed() - self.last_save >= self.cfg.checkpoint_minutes * 60

    # ---- validation ------------------------------------------------------------------------------

    def validate(
        self, max_windows: int | None, stop: threading.Event | None = None
    ) -> Generator[ev.Event, None, float | None]:
        """One validation pass; keeps the result, reports it, writes best.pt when it improved, and returns
        the loss (None when no window was scored, or on a rank other than 0).

        A set `stop` cuts the pass short: the windows done so far are scored. Distributed: every rank
        calls it at the same step; rank 0 alone validates (the others go on to the next step and wait)."""
        self.share()  # a best.pt written below needs every rank's state
        if not self.dist.is_main:
            return None
        gen = iter_evaluate(self.model, self.val, max_windows, self.autocast, stop)
        last, done = time.perf_counter(), 0
        while True:
            try:
                done, total = next(gen)
            except StopIteration as end:
                v = end.value
                break
            if time.perf_counter() - last >= VALIDATING_EVERY_S:
                last = time.perf_counter()
                yield ev.Validating(self.step, done, total)
        if v is None:
            return None
        full = done == total_windows(self.val, None)  # the whole split was scored
        self.val_hist.append((self.step, v))
        improved = v < self.best
        self.best = min(self.best, v)
        yield ev.EvalMetrics(self.step, v, bits_per_char(v), self.best, full=full)
        if improved and (e := self.save("best")):
            yield e
        return v

    def final_windows(self) -> int | None:
        return windows_for(self.val, self.cfg.val_chars)
