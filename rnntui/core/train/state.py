"""A training run's state: what a TrainLoop carries from step to step and from one invocation to the next,
built once, saved as one checkpoint dict and put back from one.

    state_dict()          the checkpoint: every field it holds, in one literal (as nanoGPT's checkpoint dict)
    load_state_dict(ck)   continue from a checkpoint (the constructor calls it, before the first step)
    credit_pause(s)       take time the run was held still out of its clocks
    progress(), at_start  where the run stands now, and where this invocation began (frozen Progress)

TrainLoop (loop.py) is this state plus the steps that change it; nothing else writes it. The checkpoint
keeps the carried state of all streams as one process holding every rank's streams would, (layers, N*B, H),
and every rank's generators, so a distributed run resumes exactly, or on another world size with the
streams started afresh; rnntui.core.runs.checkpoints writes the dict atomically and checks it on load.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import torch

from rnntui.core.config import TrainConfig, config_to_dict
from rnntui.core.data.corpus import Corpus
from rnntui.core.data.streams import Streams
from rnntui.core.model.cells import CharModel, State, map_state
from rnntui.core.runs.checkpoints import FORMAT, VERSION, Checkpoint
from rnntui.core.train.distributed import Dist
from rnntui.core.train.history import History
from rnntui.core.train.optimizer import adamw, as_built
from rnntui.core.train.ranks import gather_rngs, gather_streams, rank_rng, rank_slice, rank_streams
from rnntui.core.train.schedule import Budget


@dataclass(frozen=True)
class Progress:
    """Where a run stands, over all its invocations: what run.json and the run's events report."""

    step: int  # optimiser steps taken
    chars_seen: int  # training characters consumed
    wall_s: float  # training time, pauses left out
    best_val_loss: float | None  # nats per char; None before the first validation


class TrainState:
    """The model, optimiser, streams, step, histories, carried hidden state and clocks of one run.

    A base of TrainLoop that owns every attribute it uses (no method here reaches for one of the loop's):
    this class is what is saved and restored, the loop is how it moves."""

    def __init__(
        self,
        cfg: TrainConfig,
        corpus: Corpus,
        device: torch.device,
        dist: Dist,
        fingerprint: str,
        ckpt: Checkpoint | None,
    ):
        self.cfg, self.corpus, self.device, self.dist = cfg, corpus, device, dist
        self.fingerprint = fingerprint  # the corpus's content hash (corpus.py), recorded in each checkpoint
        torch.manual_seed(cfg.seed)
        self.model = CharModel(cfg.model).to(device)
        if dist.enabled:  # the same initial weights everywhere; each rank its own dropout masks
            torch.manual_seed(cfg.seed + dist.rank)
        self.opt = adamw(self.model.parameters(), cfg)  # fused where the device has it (optimizer.py)
        self.train = Streams(
            rank_slice(corpus.train, cfg.batch_size, cfg.seq_len, dist), cfg.batch_size, cfg.seq_len, device
        )  # (B, L): this rank's streams
        self.global_batch = self.train.batch * dist.world_size  # streams of all ranks together
        self.val = Streams(corpus.val, min(self.global_batch, 16), cfg.seq_len, device)
        self.notes: list[str] = []  # one-line notices for the start of the run
        if dist.enabled:
            self.notes.append(
                f"data-parallel over {dist.world_size} processes ({dist.backend}): {dist.world_size} "
                f"x {self.train.batch} = {self.global_batch} streams per step"
            )
        self.budget = Budget.of(cfg, self.train.windows)
        self.plan_start = 0  # step where this learning-rate plan began
        # weights, optimiser state and the loss stay fp32; autocast runs the matmuls in bf16
        self.autocast: Callable[[], Any] = (
            (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if cfg.bf16 else nullcontext
        )
        self.losses, self.grad_norms = History(), History()
        self.val_hist: list[tuple[int, float]] = []
        self.step, self.best = 0, math.inf
        self.state: State | None = None  # the streams' carried hidden state
        self.chars0, self.wall0 = 0, 0.0  # earlier invocations' totals
        self.start_step, self.at_start = 0, Progress(0, 0, 0.0, None)  # where this invocation began
        if ckpt is not None:
            self.load_state_dict(ckpt)
        self.net = (
            self.model
            if not dist.enabled
            else torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[device.index] if device.type == "cuda" else None, gradient_as_bucket_view=True
            )
        )
        # what the ranks agreed on at the last log interval (single process: read live instead)
        self.agreed_s, self.agreed_stop, self.agreed_save = 0.0, False, False
        self.shared_step = -1  # all ranks' state and generators, gathered for a save:
        self.shared_state: State | None = None
        self.shared_rngs: list[dict[str, Any]] = []
        # clocks: the budget counts training time only, not pauses
        self.t0 = time.perf_counter()
        self.paused_s = 0.0
        self.last_log_t, self.last_log_step = self.t0, self.step

    # ---- the checkpoint, both ways ----------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The checkpoint: everything a resume needs, plain types and tensors only (it loads with
        weights_only=True, and checkpoint_check.py checks each field). Distributed: share() first."""
        weights = {k: v.detach().cpu() for k, v in self.model.state_dict().items()}
        state, rng = self.state, _rng_state(self.device)
        if self.dist.enabled:  # the streams of all ranks, as one process with their total batch holds them
            state, rng = self.shared_state, {**rng, "ranks": self.shared_rngs}
        return {
            "format": FORMAT,
            "version": VERSION,  # self-describing: load_checkpoint refuses anything else
            "model": weights,  # the CharModel's state_dict, on the CPU
            "config": config_to_dict(self.cfg),  # the run's settings; its model field builds the network
            "vocab": self.corpus.vocab.chars,  # the model's characters, sorted
            "step": self.step,  # optimiser steps taken
            "optimizer": self.opt.state_dict(),  # AdamW's moments and step counts
            # carried hidden state, [h] or [h, c], each (layers, all streams, H); None at an epoch's start
            "state": None if state is None else list(map_state(lambda s: s.detach().cpu(), state, as_list=True)),
            "rng": rng,  # {"torch", "cuda"} generator states; distributed, "ranks": every rank's
            "history": self.losses.to_dict(),
            "grad_history": self.grad_norms.to_dict(),  # History.to_dict()
            "val_history": [list(p) for p in self.val_hist],  # [step, val_loss] pairs
            "best_val_loss": None if math.isinf(self.best) else self.best,  # nats per char
            "corpus": self.cfg.corpus,
            "corpus_fingerprint": self.fingerprint,  # a resume on other text is refused
            "plan_start": self.plan_start,  # step where the learning-rate plan began...
            "plan_steps": self.budget.total_steps,  # ...and the step budget it decays to (None: a time budget)
            "chars_seen": self.chars_seen(),
            "wall_s": self.wall0 + self.elapsed(),  # over all invocations
            "world_size": self.dist.world_size,  # processes that trained it
            "n_params": sum(v.numel() for v in weights.values()),
        }

    def load_state_dict(self, ckpt: Checkpoint | dict[str, Any]) -> None:
        """Continue from a checkpoint (a checked dict, or its Checkpoint view) before the first step."""
        ck = ckpt if isinstance(ckpt, Checkpoint) else Checkpoint.from_dict(ckpt)
        self.model.load_state_dict(ck.snapshot.weights)
        if ck.optimizer is not None:
            self.opt.load_state_dict(as_built(ck.optimizer, self.opt))  # this run's kernel, not the saved one
        self.step = self.start_step = self.last_log_step = ck.step
        self.losses, self.grad_norms = History.from_dict(ck.history), History.from_dict(ck.grad_history)
        self.val_hist = list(ck.val_history)
        self.best = ck.best_val_loss if ck.best_val_loss is not None else math.inf
        self.chars0, self.wall0 = ck.chars_seen, ck.wall_s
        self.at_start = Progress(ck.step, ck.chars_seen, ck.wall_s, ck.best_val_loss)
        # the same step budget continues the same plan exactly; a new one re-plans the decay from here
        same = ck.plan_steps is not None and ck.plan_steps == self.budget.total_steps
        self.plan_start = ck.plan_start if same else ck.step
        self._load_rng(ck.rng)
        if ck.state is not None and ck.step % self.train.windows != 0:  # at an epoch's start, none is carried
            saved = [s.to(self.device) for s in ck.state]  # each (layers, streams of all ranks, H)
            if saved[0].size(1) == self.global_batch:  # same streams: take this rank's slice of them
                mine = rank_streams(self.dist, saved, self.train.batch)
                self.state = (mine[0], mine[1]) if len(mine) == 2 else mine[0]
            else:  # other streams (another --batch-size or world size): they start afresh
                self.notes.append(
                    f"the checkpoint carried the state of {saved[0].size(1)} streams and this run has "
                    f"{self.global_batch} (processes x --batch-size): the streams start afresh at step {ck.step}"
                )

    def _load_rng(self, rng: dict[str, Any]) -> None:
        mine = rank_rng(self.dist, rng)
        if mine is None:  # a rank the checkpoint's run did not have: a seed of its own
            torch.manual_seed(self.cfg.seed + self.dist.rank + self.step)
            return
        if mine.get("torch") is not None:
            torch.set_rng_state(mine["torch"])
        if self.device.type == "cuda" and mine.get("cuda") is not None:
            torch.cuda.set_rng_state(mine["cuda"], self.device)

    def share(self) -> None:
        """Distributed: gather every rank's carried state and generators for rank 0's next save.

        A collective: every rank calls it at the same step (saves are decided at log intervals, validation
        at fixed steps); a second call at the same step is a no-op, so a save after a validation costs
        nothing more and rank 0 can then validate and write alone while the others go on."""
        if not self.dist.enabled or not self.cfg.save or self.shared_step == self.step:
            return
        self.shared_step = self.step
        self.shared_state = gather_streams(self.dist, self.state)  # (layers, N*B, H) each
        self.shared_rngs = gather_rngs(self.dist, _rng_state(self.device), self.device)

    # ---- where the run stands, read by others ------------------------------------------------------

    def chars_seen(self) -> int:
        return self.chars0 + (self.step - self.start_step) * self.global_batch * self.cfg.seq_len

    def progress(self) -> Progress:
        return Progress(
            self.step, self.chars_seen(), self.wall0 + self.elapsed(), None if math.isinf(self.best) else self.best
        )

    # ---- clocks ------------------------------------------------------------------------------------

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0 - self.paused_s

    def credit_pause(self, seconds: float) -> None:
        """Time the run was held still (paused, or suspended while an experiment stepped other runs): not
        training time, so the budget, chars/s and wall time leave it out."""
        if seconds > 0:
            self.paused_s += seconds
            self.last_log_t += seconds


def _rng_state(device: torch.device) -> dict[str, Any]:
    return {"torch": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None}
